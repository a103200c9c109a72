"""The segmenter and confined edits: an edit changes only the pixels of the regions its
attribute draws, in the core functions, the pipeline the CLI and batch use, and the app's
model; bundles hold the segmenter."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from nfe_core.bundle import Bundle, load_bundle, resave_bundle
from nfe_core.editing import LANDING_DISTANCES, LANDING_MARGIN, apply, parse_edits
from nfe_core.edits import Edit
from nfe_core.facebox import FIGURES, FaceBox, Recolour, paste_back_region
from nfe_core.imageio import Picture
from nfe_core.models import Generator
from nfe_core.models.segmenter import (
    PAIR_STRENGTH,
    REDRAWN_FROM,
    REDRAWN_TO,
    Segmenter,
    SegmenterConfig,
    colour_maps,
    confine,
    hue_turns,
    hue_turns_to,
    match_regions,
    redrawn,
    reshaped,
    to_palette,
)
from nfe_core.pipeline import (
    PALETTE_STRENGTH,
    Edited,
    Inverted,
    confine_render,
    draw_edits,
    edit_inverted,
    face_crop,
    face_generator,
    in_palettes,
    invert_picture,
    paste,
    recolour_map,
    redrawn_map,
    render,
    reshape_map,
    seer,
    shapes_render,
    unedited_regions,
)
from nfe_core.sampling import pixels_to_images
from nfe_core.service import EditorModel, compose
from nfe_core.session import Face
from tests.tiny import (
    TINY_REGIONS,
    save_editing_bundle,
    segmenter_sure_of,
    tiny_segmenter_config,
)

REGIONS = TINY_REGIONS


def config(resolution: int = 32, **changes: object) -> SegmenterConfig:
    return tiny_segmenter_config(resolution, **changes)


class LeftHalfIsHair(Segmenter):
    """Says: the left half of every image is hair, the right half background."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n, _, h, w = images.shape
        logits = torch.zeros(n, len(REGIONS), h, w)
        logits[:, 1, :, : w // 2] = 30.0
        logits[:, 0, :, w // 2 :] = 30.0
        return logits


def test_config_round_trips_and_refuses_what_it_cannot_use() -> None:
    c = config()
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    assert c.owned == {"hair_color": ("hair",), "glasses": ("skin",)}
    with pytest.raises(ValueError, match="unknown regions"):
        SegmenterConfig(32, REGIONS, (("hair_color", ("fur",)),))
    with pytest.raises(ValueError, match="multiples of 8"):
        SegmenterConfig(32, REGIONS, (), channels=(8, 12))
    with pytest.raises(ValueError, match="grow"):
        config(grow=-1)
    with pytest.raises(ValueError, match="repeats"):
        SegmenterConfig(32, ("hair", "hair"), ())
    with pytest.raises(ValueError, match="unknown keys"):
        SegmenterConfig.from_dict(c.to_dict() | {"colour": 1})


def test_segmenter_maps_pixels_to_regions() -> None:
    net = Segmenter(config()).eval()
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    assert net(images).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="32, 32"):
        net(torch.zeros(1, 3, 16, 16))
    regions = net.probabilities(images)
    assert regions.shape == (2, 3, 32, 32)
    assert torch.allclose(regions.sum(dim=1), torch.ones(2, 32, 32))
    channels = net.channels(["hair_color", "glasses"])
    assert channels == [1, 2]
    area = regions[:, channels].sum(dim=1)
    assert float(area.min()) >= 0 and float(area.max()) <= 1 + 1e-6
    assert net.channels(["hair_color", "mouth"]) is None  # mouth has no regions here


def test_confine_keeps_an_edit_to_its_regions() -> None:
    net = LeftHalfIsHair(config())
    before = torch.full((1, 3, 32, 32), -0.5)
    after = torch.full((1, 3, 32, 32), 0.5)
    kept = confine(net, before, after, ["hair_color"])
    # the hair (left half) takes the edit
    assert torch.allclose(kept[..., :15], after[..., :15])
    # the rest keeps its exact values
    assert torch.equal(kept[..., 18:], before[..., 18:])
    # the area is grown by one pixel and feathered by one more: there the background the
    # edit also recoloured takes its unedited colour back
    assert torch.allclose(kept[..., 16:18], before[..., 16:18], atol=1e-6)
    # what the edit draws there beyond the background's shift blends in
    after[..., 16:] = before[..., 16:] + 0.25
    after[..., 16:18] = 0.9
    kept = confine(net, before, after, ["hair_color"])
    assert bool((kept[..., 16:18] > before[..., 16:18] + 0.3).all())
    # an edit of an attribute the segmenter knows no regions of is left whole
    assert torch.equal(confine(net, before, after, ["mouth"]), after)
    # glasses own the skin, which this segmenter sees nowhere: nothing changes
    assert torch.equal(confine(net, before, after, ["glasses"]), before)
    with pytest.raises(ValueError, match="differ"):
        confine(net, before, after[..., :16], ["hair_color"])


class BrightIsHair(Segmenter):
    """Says: a pixel brighter than mid-grey is hair, a darker one background."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        bright = images.mean(dim=1) > 0
        logits = torch.zeros(images.shape[0], len(REGIONS), *images.shape[2:])
        logits[:, 1][bright] = 30.0
        logits[:, 0][~bright] = 30.0
        return logits


def test_redrawn_says_where_the_edit_drew_another_region() -> None:
    net = BrightIsHair(config())
    before = torch.full((1, 3, 32, 32), -0.5)
    before[..., :8] = 0.5  # hair on the left quarter
    longer = before.clone()
    longer[..., :16] = 0.7  # hair on the left half, recoloured
    found = redrawn(net, before, longer)
    assert found.shape == (1, 32, 32)
    assert torch.allclose(found[..., 8:16], torch.ones(1, 32, 8))  # hair over the background
    assert torch.equal(found[..., :8], torch.zeros(1, 32, 8))  # hair before and after
    assert torch.equal(found[..., 16:], torch.zeros(1, 32, 16))
    # a recolour keeps the regions: nothing redrawn
    assert not redrawn(net, before, before * 0.8).any()
    # soft regions: the share the two have not in common, through a smoothstep
    share = torch.tensor([1.0, 1 - REDRAWN_FROM, 1 - (REDRAWN_FROM + REDRAWN_TO) / 2, 0.0])
    soft = torch.zeros(1, len(REGIONS), 1, 4)
    soft[:, 1], soft[:, 0] = share, 1 - share
    hair = torch.full((1, 3, 1, 4), 0.5)  # hair everywhere after the edit
    np.testing.assert_allclose(
        redrawn(net, hair, hair, before_regions=soft)[0, 0].numpy(), [0, 0, 0.5, 1], atol=1e-3
    )
    with pytest.raises(ValueError, match="differ"):
        redrawn(net, before, before[..., :16])


def _lengths(hair_to: int, value: float) -> torch.Tensor:
    """A 32 px image of background (-0.5) with hair of ``value`` on its left ``hair_to``
    columns (BrightIsHair sees it)."""
    image = torch.full((1, 3, 32, 32), -0.5)
    image[..., :hair_to] = value
    return image


def test_reshaped_cuts_out_what_a_shape_edit_drew_in_the_pictures_colours() -> None:
    """Longer hair covers the picture where neither it nor the unedited render had hair, in
    the picture's hair colour (hair colour colours the hair, and is not edited); shorter hair
    uncovers the picture's hair and its outline, drawn in the picture's background colour; the
    picture's own hair keeps its pixels, unless the hair colour is edited too."""
    owners = (("hair_color", ("hair",)), ("hair_length", ("hair",)), ("glasses", ("skin",)))
    net = BrightIsHair(
        SegmenterConfig(32, REGIONS, owners, channels=(8, 8, 16), recolours=[["hair_color", 0]])
    )
    picture, before = _lengths(8, 0.6), _lengths(8, 0.5)  # the render's hair a little darker
    longer = _lengths(16, 0.9)
    found = reshaped(net, picture, before, longer, ["hair_length"])
    assert found is not None
    cover, drawn, kept = (x[0].numpy() for x in (found.cover, found.drawn, found.kept))
    assert cover.shape == kept.shape == (32, 32) and drawn.shape == (3, 32, 32)
    assert cover[:, 9:15].min() > 0.99  # the new hair
    assert cover[:, :7].max() < 0.01 and cover[:, 17:].max() < 0.01
    picture_hair = (0.6 + 1) * 127.5
    np.testing.assert_allclose(drawn[:, :, 8:16], picture_hair, atol=0.5)  # not the render's
    # and a few pixels beyond the cover, so that the enlarged cover cuts hair, not a blend
    np.testing.assert_allclose(drawn[:, :, 16:19], picture_hair, atol=0.5)
    assert not kept.any()  # the picture's hair stays as it was drawn
    # for the paste-back to continue the picture's strands: its hair, and the new hair
    np.testing.assert_allclose(found.strands[0].numpy(), (picture[0, 0] > 0).float().numpy())
    assert found.grown[0, :, 9:15].min() > 0.99
    assert found.grown[0, :, :8].max() == 0 and found.grown[0, :, 17:].max() == 0
    # edited together with hair colour: the hair keeps the render's colours, and the
    # difference is pasted on the picture's hair
    both = reshaped(net, picture, before, longer, ["hair_length", "hair_color"])
    assert both is not None
    assert not both.grown.any()  # new hair in the new colour: no strands of the old
    np.testing.assert_allclose(both.drawn[0, :, :, 9:15], (0.9 + 1) * 127.5, atol=0.5)
    np.testing.assert_array_equal(both.kept[0].numpy(), (picture[0, 0] > 0).float().numpy())
    # shorter: the removed hair and the pixel of outline beyond it are covered
    shorter = reshaped(net, picture, before, _lengths(4, 0.5), ["hair_length"])
    assert shorter is not None
    assert shorter.cover[0, :, 5:8].min() > 0.9 and shorter.cover[0, :, 8].min() > 0.5
    assert shorter.cover[0, :, :3].max() < 0.01
    assert shorter.cover[0, :, 11:].max() < 0.01
    np.testing.assert_allclose(shorter.drawn[0, :, :, 4:9], (-0.5 + 1) * 127.5, atol=0.5)
    # what it uncovers is the page (the background), for the paste-back to continue it
    # (blurred as the cover, for a smooth cut between the page and what lies beside it)
    assert shorter.uncovered[0, :, 5:8].min() > 0.95 and shorter.uncovered[0, :, 4:9].min() > 0.5
    assert shorter.uncovered[0, :, 11:].max() == 0
    np.testing.assert_allclose(
        shorter.page[0].numpy(), (picture[0, 0] < 0).float().numpy(), atol=1e-6
    )
    assert not found.uncovered.any()  # longer hair uncovers nothing
    # a thin strand of the picture's hanging from what is removed goes with it though the
    # unedited render missed it; hair of the picture's the render misses elsewhere stays
    stranded = picture.clone()
    stranded[..., 20, 8:14] = 0.6  # a strand off the removed hair, over the background
    stranded[..., 2:5, 22:25] = 0.6  # a lock apart from it
    strand = reshaped(net, stranded, before, _lengths(4, 0.5), ["hair_length"])
    assert strand is not None and strand.cover[0, 20, 8:14].min() > 0.5
    assert shorter.cover[0, 20, 11:14].max() < 0.5  # (without the strand: not cut there)
    assert strand.cover[0, 2:5, 22:25].max() < 0.01
    assert not shorter.grown.any()  # nor does shorter hair grow any
    # the unedited render's regions may be given (one segmenter pass fewer): the same
    given = reshaped(net, picture, before, longer, ["hair_length"], net.probabilities(before))
    assert given is not None and torch.allclose(given.cover, found.cover)
    # none: for edits that keep shapes, tint the skin, have no regions or too few pixels
    assert reshaped(net, picture, before, longer, ["hair_color"]) is None
    # an edit that tints the skin besides its regions: nothing cut, the difference kept to
    # its own regions (in the picture and both renders) and a pixel beyond, feathered
    spilling = SegmenterConfig(32, REGIONS, owners, spills=[["hair_length", ["skin"]]])
    tint = reshaped(BrightIsHair(spilling), picture, before, longer, ["hair_length"])
    assert tint is not None and not tint.cover.any() and not tint.grown.any()
    assert tint.kept[0, :, :14].min() > 0.99 and tint.kept[0, :, 16].min() > 0.3
    assert tint.kept[0, :, 20:].max() == 0
    np.testing.assert_allclose(tint.drawn[0].numpy(), ((longer[0] + 1) * 127.5).numpy())
    # edited with a shape edit, that is cut out as alone and the tint joins it; with a
    # recolour, the recoloured regions of the picture take the difference as well
    over = (*owners[:2], ("glasses", ("background",)))  # glasses drawn over the background
    tints = SegmenterConfig(
        32, REGIONS, over, recolours=[["hair_color", 0]], spills=[["glasses", ["skin"]]]
    )
    both_kinds = reshaped(BrightIsHair(tints), picture, before, longer, ["hair_length", "glasses"])
    assert both_kinds is not None and torch.equal(both_kinds.cover, found.cover)
    assert both_kinds.kept[0, :, 20:].min() > 0.99  # near the glasses, their difference
    recoloured = reshaped(BrightIsHair(tints), picture, before, longer, ["hair_color", "glasses"])
    assert recoloured is not None and not recoloured.cover.any()
    assert recoloured.kept[0, :, :8].min() > 0.99  # the picture's hair
    assert reshaped(net, picture, before, longer, ["mouth"]) is None
    assert reshaped(net, picture, before, longer, []) is None
    # regions too small to cut at half their probability are cut a pixel wider
    small = reshaped(net, picture, before, longer, ["hair_length"], minimum=32 * 17)
    assert small is not None and small.cover[0, :, 16].min() > 0.5 > found.cover[0, :, 16].max()
    # and what they grew drawn in one flat colour, their core's in the render (an open
    # mouth, not a blur); what they uncover in the colours behind them
    np.testing.assert_allclose(small.drawn[0, :, :, 8:17].numpy(), (0.9 + 1) * 127.5, atol=0.5)
    smaller = reshaped(net, picture, before, _lengths(4, 0.5), ["hair_length"], minimum=32 * 17)
    assert smaller is not None
    np.testing.assert_allclose(smaller.drawn[0, :, :, 4:9], (-0.5 + 1) * 127.5, atol=0.5)
    same = reshaped(net, picture, before, longer, ["hair_length"], minimum=32 * 15)
    assert same is not None and torch.equal(same.cover, found.cover)
    with pytest.raises(ValueError, match="differ"):
        reshaped(net, picture, before, longer[..., :16], ["hair_length"])


def test_recolours_are_read_back_and_checked() -> None:
    c = config(recolours=[["hair_color", 0]])
    assert c.recolours == (("hair_color", 0),)
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    # a bundle saved before recolours existed still loads, with none
    old = c.to_dict()
    del old["recolours"]
    assert SegmenterConfig.from_dict(old).recolours == ()
    for bad, message in (
        ([["mouth", 0]], "not one of the owners"),
        ([["hair_color", 9]], "0 to 8"),
        ([["hair_color", True]], "0 to 8"),
        ([["hair_color", 0], ["hair_color", 1]], "twice"),
        ([["hair_color"]], "pair"),
        ("hair_color", "pair"),
        (None, "list"),
    ):
        with pytest.raises(ValueError, match=message):
            config(recolours=bad)


def test_spills_are_read_back_checked_and_changed_but_not_kept() -> None:
    """A region an attribute spills over (glasses tint the skin) is part of its edits' area,
    and, unlike the regions it draws, not kept by other attributes' edits."""
    c = config(spills=[["glasses", ["background"]]])
    assert c.spills == (("glasses", ("background",)),)
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    old = c.to_dict()
    del old["spills"]
    assert SegmenterConfig.from_dict(old).spills == ()  # a bundle from before spills
    for bad, message in (
        ([["mouth", ["skin"]]], "not one of the owners"),
        ([["glasses", ["nose"]]], "unknown regions"),
        ([["glasses", ["skin"]], ["glasses", ["hair"]]], "twice"),
        ("glasses", "pair"),
    ):
        with pytest.raises(ValueError, match=message):
            config(spills=bad)
    net = LeftHalfIsHair(c)
    plain = LeftHalfIsHair(config())
    assert net.channels(["glasses"]) == [0, 2] and plain.channels(["glasses"]) == [2]
    assert net.kept_channels(["hair_color"]) == [2]  # the skin glasses draw; not the background
    assert net.kept_channels(["glasses"]) == [1]
    before = torch.full((1, 3, 32, 32), -0.5)
    after = torch.full((1, 3, 32, 32), 0.5)
    # glasses change the background (the right half) they spill over, and not the hair
    spilt = confine(net, before, after, ["glasses"])
    assert torch.equal(spilt[..., 17:], after[..., 17:])
    assert torch.equal(spilt[..., :15], before[..., :15])
    assert torch.equal(confine(plain, before, after, ["glasses"]), before)  # no skin here


BLUE, BLUE_SPREAD = (40.0, 60.0, 200.0), (10.0, 12.0, 20.0)
PALETTE = [
    [
        "hair_color",
        "hair",
        [["blue", list(BLUE), list(BLUE_SPREAD)], ["pink", [230, 120, 180], [8] * 3]],
    ]
]


def paletted(net: Segmenter) -> Segmenter:
    """``net``'s weights with hair colour recoloured and given :data:`PALETTE`."""
    again = type(net)(config(recolours=[["hair_color", 0]], palettes=PALETTE))
    again.load_state_dict(net.state_dict())
    return again.eval()


def test_palettes_are_read_back_and_checked() -> None:
    c = config(recolours=[["hair_color", 0]], palettes=PALETTE)
    assert c.palette("hair_color") == (
        "hair",
        {"blue": (BLUE, BLUE_SPREAD), "pink": ((230.0, 120.0, 180.0), (8.0, 8.0, 8.0))},
    )
    assert c.palette("glasses") is None
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    old = c.to_dict()
    del old["palettes"]
    assert SegmenterConfig.from_dict(old).palettes == ()  # a bundle from before palettes
    swatch = ["blue", [1, 2, 3], [1, 1, 1]]
    for bad, message in (
        ([["glasses", "skin", [swatch]]], "not one of the recolours"),
        ([["hair_color", "nose", [swatch]]], "unknown region"),
        ([["hair_color", "hair", []]], "swatches"),
        ([["hair_color", "hair", [["blue", [1, 2], [1, 1, 1]]]]], "three numbers"),
        ([["hair_color", "hair", [["blue", [1, 2, 300], [1, 1, 1]]]]], "0 to 255"),
        ([["hair_color", "hair", [["blue", [1, 2, 3], [1, -1, 1]]]]], "0 to 128"),
        ([["hair_color", "hair", [["blue", [1, 2, True], [1, 1, 1]]]]], "three numbers"),
        ([["hair_color", "hair", [swatch, swatch]]], "repeats"),
        ([["hair_color", "hair", [swatch]], ["hair_color", "hair", [swatch]]], "twice"),
        ([["hair_color", "hair"]], "expected"),
        ("hair_color", "list"),
    ):
        with pytest.raises(ValueError, match=message):
            config(recolours=[["hair_color", 0]], palettes=bad)


def test_picture_palettes_are_read_back_and_checked() -> None:
    c = config(recolours=[["hair_color", 0]], picture_palettes=PALETTE)
    assert c.palette("hair_color", pictures=True) == (
        "hair",
        {"blue": (BLUE, BLUE_SPREAD), "pink": ((230.0, 120.0, 180.0), (8.0, 8.0, 8.0))},
    )
    assert c.palette("hair_color") is None and c.palettes == ()
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    old = c.to_dict()
    del old["picture_palettes"]
    assert SegmenterConfig.from_dict(old).picture_palettes == ()  # from before them
    for bad, message in (
        ([["glasses", "skin", PALETTE[0][2]]], "picture_palettes: 'glasses' is not one of"),
        ([["hair_color", "nose", PALETTE[0][2]]], "picture_palettes: .* unknown region"),
        ("hair_color", "picture_palettes must be a list"),
    ):
        with pytest.raises(ValueError, match=message):
            config(recolours=[["hair_color", 0]], picture_palettes=bad)


def test_a_class_target_turns_a_pictures_region_to_its_picture_palette() -> None:
    """On a picture, a class target turns a region with a picture palette from the picture's
    own colours to the class's there (its shading kept), whatever the renders show (the
    model's own colour of the class can be far from a drawn one), unless it is nearest that
    class's already; a slider towards the class part of the way, all of it from
    PALETTE_STRENGTH spreads on (as the renders turn, sliders made brown hair black or silver
    on the way); one away from it as the renders turn (equal renders: not at all), and a class
    it lacks likewise."""
    brown = ["brown", [115.0, 70.0, 45.0], [8.0, 8.0, 8.0]]
    drawn = [["hair_color", "hair", [*PALETTE[0][2], brown]]]
    net = LeftHalfIsHair(config(recolours=[["hair_color", 0]], picture_palettes=drawn))
    bundle = SimpleNamespace(segmenter=net.eval(), device="cpu")
    crop = np.zeros((32, 32, 3), np.uint8)
    crop[:, :16] = np.linspace(90, 150, 32)[:, None, None] * np.array([1.0, 0.6, 0.4])  # brown
    crop[:, 16:] = (200, 220, 240)
    hair = crop[:, :16].reshape(-1, 3).astype(np.float64)

    def mean_after(edit: Edit) -> np.ndarray:
        found = recolour_map(bundle, crop, crop, crop, [edit])  # the renders alike
        assert found is not None
        (matrix,) = found.maps  # the hair's, the one region hair colour owns
        return (hair @ matrix[:, :3].T + matrix[:, 3]).mean(axis=0)

    np.testing.assert_allclose(mean_after(Edit("hair_color", target="blue")), BLUE, atol=3)
    # brown hair set to brown (nearest the palette's brown already) keeps its own colours
    np.testing.assert_allclose(
        mean_after(Edit("hair_color", target="brown")), hair.mean(0), atol=0.5
    )
    np.testing.assert_allclose(
        mean_after(Edit("hair_color", target="black")), hair.mean(0), atol=0.5
    )
    own = hair.mean(axis=0)
    for strength, share in ((1.0, 1.0 / PALETTE_STRENGTH), (PALETTE_STRENGTH, 1.0), (3.0, 1.0)):
        slider = Edit("hair_color", strength=strength, direction="blue")
        expected = own + share * (np.array(BLUE) - own)
        np.testing.assert_allclose(mean_after(slider), expected, atol=3)
    away = Edit("hair_color", strength=-1.0, direction="blue")
    np.testing.assert_allclose(mean_after(away), own, atol=0.5)


def test_a_class_target_takes_its_colours_in_the_palettes_region() -> None:
    """The hair (left half) of a face sent to blue takes blue's mean and spread, its shading
    kept; the background, a face with no target and a class the palette lacks stay."""
    net = paletted(LeftHalfIsHair(config()))
    images = torch.zeros(3, 3, 32, 32)
    images[:, 0] = torch.linspace(-0.6, 0.2, 32)[:, None]  # shaded down the rows
    images[:, 1], images[:, 2] = -0.3, 0.1
    out = to_palette(net, images, "hair_color", ["blue", None, "green"])
    hair = (out[0, :, :, :16] + 1) * 127.5
    assert torch.allclose(hair.mean(dim=(1, 2)), torch.tensor(BLUE), atol=0.5)
    # the red channel's shading is scaled to blue's spread, in the same order
    assert abs(float(hair[0].std(unbiased=False)) - BLUE_SPREAD[0]) < 0.5
    assert bool((hair[0, 1:, 0] > hair[0, :-1, 0]).all())
    assert torch.equal(out[0, :, :, 16:], images[0, :, :, 16:])
    assert torch.equal(out[1:], images[1:])
    assert to_palette(net, images, "glasses", ["true"] * 3) is images  # no palette
    with pytest.raises(ValueError, match="3 images but 2 targets"):
        to_palette(net, images, "hair_color", ["blue", "pink"])
    # a face without the region (background everywhere) stays as it is
    nowhere = paletted(segmenter_sure_of("background"))
    assert torch.equal(to_palette(nowhere, images, "hair_color", ["blue"] * 3), images)


def test_a_recolour_keeps_the_unedited_faces_shapes() -> None:
    """The GAN draws recoloured hair a little larger: a recolour keeps the hair where it was,
    an edit that may change shapes (or a config without recolours) takes the larger hair."""
    before = torch.full((1, 3, 32, 32), -0.5)
    before[..., :8] = 0.5  # hair on the left quarter
    after = before.clone()
    after[..., :12] = 0.9  # recoloured, and drawn 4 pixels wider
    shapes_kept = BrightIsHair(config(grow=1, recolours=[["hair_color", 0]]))
    kept = confine(shapes_kept, before, after, ["hair_color"])
    assert torch.equal(kept[..., :8], after[..., :8])  # the hair is recoloured
    assert torch.equal(kept[..., 8:], before[..., 8:])  # and no wider
    # grown by a pixel: one more column
    grown = BrightIsHair(config(grow=1, recolours=[["hair_color", 1]]))
    kept = confine(grown, before, after, ["hair_color"])
    assert torch.equal(kept[..., :9], after[..., :9])
    assert torch.equal(kept[..., 9:], before[..., 9:])
    # no recolours: the edit's area is the hair of both, grown by one and feathered by one
    plain = confine(BrightIsHair(config(grow=1)), before, after, ["hair_color"])
    assert torch.equal(plain[..., :12], after[..., :12])
    assert torch.equal(plain[..., 14:], before[..., 14:])
    # drawn shorter: where the hair was, the hair's own change (the hair keeps its length)
    longer = before.clone()
    longer[..., :12] = 0.5
    shorter = before.clone()
    shorter[..., :8] = 0.9
    kept = confine(shapes_kept, longer, shorter, ["hair_color"])
    assert torch.allclose(kept[..., :12], torch.full_like(kept[..., :12], 0.9))
    assert torch.equal(kept[..., 12:], longer[..., 12:])
    # an edit of a recolour together with one that is not: shapes may change
    both = BrightIsHair(config(grow=1, recolours=[["hair_color", 0]]))
    mixed = confine(both, before, after, ["hair_color", "glasses"])
    assert torch.equal(mixed[..., :12], after[..., :12])


class HairWithASkinPatch(LeftHalfIsHair):
    """The left half is hair but for a patch of skin (which glasses draw) where the image is
    bright in its first channel."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = super().forward(images)
        patch = images[:, 0] > 0.8
        logits[:, 1][patch] = 0.0
        logits[:, 2][patch] = 30.0
        return logits


def test_confine_keeps_what_other_attributes_draw_in_the_unedited_picture() -> None:
    net = HairWithASkinPatch(config())
    before = torch.full((1, 3, 32, 32), -0.5)
    before[:, 0, 4:8, 4:8] = 0.9  # the patch, inside the hair
    after = torch.full((1, 3, 32, 32), 0.5)
    kept = confine(net, before, after, ["hair_color"])
    assert torch.allclose(kept[..., 4:8, 4:8], before[..., 4:8, 4:8])
    assert torch.allclose(kept[..., 16:, :12], after[..., 16:, :12])
    # an edit of glasses may change it
    assert net.kept_channels(["glasses"]) == [1] and net.kept_channels(["hair_color"]) == [2]
    assert net.kept_channels(["hair_color", "glasses"]) == []
    # the unedited regions, given, give the same (a face edited step by step keeps them)
    again = confine(net, before, after, ["hair_color"], net.probabilities(before))
    assert torch.equal(again, kept)


def test_match_regions_moves_each_region_to_its_unedited_colour() -> None:
    before = torch.zeros(1, 3, 8, 8)
    before[..., :4] = -0.5  # region 0: the left half; region 1: the right half
    after = before.clone()
    after[..., :4] += torch.tensor([0.2, -0.1, 0.3]).view(1, 3, 1, 1)
    after[..., 4:] -= 0.4
    regions = torch.zeros(1, 3, 8, 8)
    regions[:, 0, :, :4] = 1
    regions[:, 1, :, 4:] = 1
    regions[:, 2, 0, 0] = 1  # region 2: one pixel, too few to match
    regions[:, 0, 0, 0] = 0
    reference = torch.ones(1, 1, 8, 8)
    reference[..., 6:] = 0  # not compared there, but moved all the same
    matched = match_regions(before, after, regions, regions, reference)
    assert torch.allclose(matched[..., 1:, :], before[..., 1:, :], atol=1e-6)
    assert torch.allclose(matched[..., 0, 1:], before[..., 0, 1:], atol=1e-6)
    assert torch.equal(matched[..., 0, 0], after[..., 0, 0])


def test_a_bundle_keeps_its_segmenter(tmp_path: Path) -> None:
    root = save_editing_bundle(tmp_path / "m")
    bundle = load_bundle(root, "cpu")
    assert bundle.segmenter is None
    net = Segmenter(config())
    resave_bundle(bundle, segmenter=net)
    again = load_bundle(root, "cpu")
    assert again.segmenter is not None and again.segmenter.config == net.config
    for name, value in net.state_dict().items():
        assert torch.equal(again.segmenter.state_dict()[name], value)
    assert "segmenter" in again.networks
    with pytest.raises(ValueError, match="Segmenter"):
        resave_bundle(again, segmenter=torch.nn.Linear(2, 2))


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Bundle]:
    """The tiny model with a segmenter that sees only background / only hair everywhere."""
    out = {}
    for region in ("background", "hair"):
        root = save_editing_bundle(tmp_path_factory.mktemp(region) / "m")
        resave_bundle(load_bundle(root, "cpu"), segmenter=segmenter_sure_of(region))
        out[region] = load_bundle(root, "cpu")
    return out


def test_confine_render_keeps_pixels_the_edit_does_not_own(bundles: dict[str, Bundle]) -> None:
    bundle = bundles["background"]
    latent = torch.zeros(bundle.generator.num_ws, 32)
    before = render(bundle, latent)
    after = render(bundle, latent + 1.0)
    assert not np.array_equal(before, after)
    hair = parse_edits(["hair_color:blue=+2"])
    # no hair anywhere: a hair colour edit changes no pixel
    assert np.array_equal(confine_render(bundle, before, after, hair), before)
    # hair everywhere: the whole edit shows
    assert np.array_equal(confine_render(bundles["hair"], before, after, hair), after)
    # no edits, or a model without a segmenter: the render as it is
    assert np.array_equal(confine_render(bundle, before, after, []), after)


def test_targets_are_landed_on_what_the_user_sees(
    bundles: dict[str, Bundle], monkeypatch: pytest.MonkeyPatch
) -> None:
    latent = torch.zeros(bundles["hair"].generator.num_ws, 32)
    moved = torch.stack([latent + d for d in (0.5, -1.0, 2.0)])
    for region in ("background", "hair"):
        bundle = bundles[region]
        assert bundle.classifier is not None
        shown: list[torch.Tensor] = []
        predict = bundle.classifier.predict
        monkeypatch.setattr(
            bundle.classifier,
            "predict",
            lambda images, p=predict, seen=shown: seen.append(images) or p(images),
        )
        see = seer(bundle, None, latent, parse_edits(["hair_color:blue=+1"]))
        assert see is not None
        readings = see(moved)
        assert len(readings) == 3 and set(readings[0]) == {"hair_color", "glasses"}
        unedited = pixels_to_images(render(bundle, latent))
        whole = pixels_to_images(np.stack([render(bundle, w) for w in moved]))
        if region == "hair":  # the whole render shows (up to rounding)
            assert torch.allclose(shown[-1], whole, atol=1.01 / 127.5)
        else:  # the edit shows nowhere: the classifier reads the unedited face three times
            assert torch.equal(shown[-1], unedited.expand(3, -1, -1, -1))
        assert not torch.equal(whole[0], unedited[0])


def test_an_inverted_picture_is_edited_only_where_the_attribute_is(
    bundles: dict[str, Bundle],
) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    picture = Picture(rgb=Image.fromarray(pixels))
    for region, changes in (("background", False), ("hair", True)):
        bundle = bundles[region]
        inverted = invert_picture(bundle, picture, FaceBox(0, 0, 40, 40), steps=2, tune_steps=0)
        edited = edit_inverted(bundle, inverted, parse_edits(["hair_color:blue=+3"]))
        assert (not np.array_equal(edited.render, inverted.reconstruction)) == changes
        # glasses own the skin, which neither segmenter sees: their edits change nothing
        glasses = edit_inverted(bundle, inverted, parse_edits(["glasses=+3"]))
        assert np.array_equal(glasses.render, inverted.reconstruction)


def still(generator: Generator, latent: torch.Tensor) -> Generator:
    """A copy of ``generator`` that draws ``latent`` whatever it is given: a face's tuned
    generator that shows no edit at all."""
    stuck = copy.deepcopy(generator)
    draw = stuck.synthesis

    def synthesis(ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return draw(latent.expand_as(ws).contiguous(), noise_mode)

    object.__setattr__(stuck, "synthesis", synthesis)  # the instance's, before the class's
    return stuck


def reads_blue_where_changed(
    bundle: Bundle, unedited: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundle's classifier reads blue hair on a picture unlike ``unedited``, else black."""
    assert bundle.classifier is not None
    still = pixels_to_images(unedited)

    def predict(images: torch.Tensor) -> dict[str, torch.Tensor]:
        changed = (images - still).abs().flatten(1).mean(dim=1) > 0.01
        hair = torch.zeros(len(images), 3)
        hair[:, 0], hair[:, 1] = (~changed).float(), changed.float()
        return {"hair_color": hair, "glasses": torch.tensor([[1.0, 0.0]] * len(images))}

    monkeypatch.setattr(bundle.classifier, "predict", predict)


def test_a_target_the_tuned_generator_never_shows_is_drawn_by_the_models(
    bundles: dict[str, Bundle], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = bundles["hair"]  # its segmenter sees hair everywhere
    latent = bundle.generator.mapping(
        torch.randn(1, 32, generator=torch.Generator().manual_seed(2))
    )
    latent = latent[0].detach().unsqueeze(0).expand(bundle.generator.num_ws, -1).clone()
    stuck = still(bundle.generator, latent)
    before = render(bundle, latent, stuck)
    assert np.array_equal(before, render(bundle, latent))
    reads_blue_where_changed(bundle, before, monkeypatch)
    blue = [Edit("hair_color", target="blue", preserve=("glasses",))]

    memo: dict[tuple[object, ...], tuple[Edit, ...]] = {}
    drawn = draw_edits(bundle, latent, blue, stuck, before=before, memo=memo)
    # the tuned generator shows blue nowhere; the model's shows it from the nearest distance,
    # and the landing goes its margin past that; the hair is the model's drawing
    assert drawn.model_drawn == ("hair_color",)
    assert drawn.edits[0].distance == LANDING_DISTANCES[LANDING_MARGIN]
    moved = apply(latent, drawn.edits, bundle.boundaries, num_ws=bundle.generator.num_ws)
    assert torch.equal(drawn.latent, moved)
    model = render(bundle, moved)
    assert np.abs(drawn.image.astype(int) - model).max() <= 1
    assert not np.array_equal(drawn.image, before)
    # the same face again: both landings come from the memo, nothing is rendered to land
    renders: list[int] = []
    predict = bundle.classifier.predict  # type: ignore[union-attr]
    monkeypatch.setattr(
        bundle.classifier, "predict", lambda images: renders.append(len(images)) or predict(images)
    )
    again = draw_edits(bundle, latent, blue, stuck, before=before, memo=memo)
    assert again.edits == drawn.edits and np.array_equal(again.image, drawn.image)
    assert renders == []
    assert any(key[0] == "model" for key in memo) and any(key[0] != "model" for key in memo)

    # drawn by the model's own generator: landed there, nothing more to try
    own = draw_edits(bundle, latent, blue)
    assert own.model_drawn == () and own.edits == drawn.edits
    # a strength edit is not landed: the tuned generator draws it, however little it shows
    slider = draw_edits(bundle, latent, parse_edits(["hair_color:blue=+2"]), stuck, before=before)
    assert slider.model_drawn == () and np.array_equal(slider.image, before)


def test_without_a_segmenter_the_tuned_generator_draws_every_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = load_bundle(save_editing_bundle(tmp_path / "m"), "cpu")
    latent = torch.zeros(bundle.generator.num_ws, 32)
    stuck = still(bundle.generator, latent)
    before = render(bundle, latent, stuck)
    reads_blue_where_changed(bundle, before, monkeypatch)
    drawn = draw_edits(bundle, latent, [Edit("hair_color", target="blue")], stuck, before=before)
    # the whole face would be the model's drawing, not the picture's: it stays unlanded
    assert drawn.model_drawn == () and drawn.edits[0].distance is None
    assert np.array_equal(drawn.image, before)


def test_the_apps_renders_are_kept_to_the_edited_regions(bundles: dict[str, Bundle]) -> None:
    for region, changes in (("background", False), ("hair", True)):
        model = EditorModel(bundles[region])
        face: Face = model.generate(seed=3)
        shown = model.render(face, parse_edits(["hair_color:pink=+2.5"])).image
        assert (not np.array_equal(shown, face.reconstruction)) == changes
        # the next step reuses the face's regions, and a new face gets its own
        again = model.render(face, parse_edits(["hair_color:pink=+2.5"])).image
        assert np.array_equal(again, shown)
        other = model.generate(seed=4)
        moved = model.render(other, parse_edits(["hair_color:pink=+2.5"])).image
        assert (not np.array_equal(moved, other.reconstruction)) == changes


def test_nfe_info_says_which_edits_are_kept_to_their_regions(
    bundles: dict[str, Bundle], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from nfe_core.cli.main import main

    assert main(["info", str(bundles["hair"].root)]) == 0
    out = capsys.readouterr().out
    assert "keeps edits of hair_color, glasses to their regions" in out
    spilt = dataclasses.replace(
        bundles["hair"].segmenter.config, spills=(("glasses", ("background",)),)
    )
    net = Segmenter(spilt)
    net.load_state_dict(bundles["hair"].segmenter.state_dict())
    root = tmp_path / "spilt"
    shutil.copytree(bundles["hair"].root, root)
    resave_bundle(load_bundle(root, "cpu"), segmenter=net)
    assert main(["info", str(root)]) == 0
    assert "(glasses also the background)" in capsys.readouterr().out


def test_class_targets_are_drawn_in_their_palettes(
    bundles: dict[str, Bundle], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What the user gets of hair_color=blue (the CLI, the app, the report's inverted faces:
    draw_edits) is painted in blue's colours; a strength edit is not."""
    from nfe_core.cli.main import main

    root = tmp_path / "paletted"
    shutil.copytree(bundles["hair"].root, root)
    segmenter = bundles["hair"].segmenter
    assert segmenter is not None
    resave_bundle(load_bundle(root, "cpu"), segmenter=paletted(segmenter))
    bundle = load_bundle(root, "cpu")
    latent = torch.zeros(bundle.generator.num_ws, 32)
    blue = draw_edits(bundle, latent, [Edit("hair_color", target="blue")])
    mean = blue.image.reshape(-1, 3).mean(axis=0)  # hair everywhere
    assert np.allclose(mean, BLUE, atol=1.5)  # a few dark pixels clip at 0
    plain = draw_edits(bundles["hair"], latent, [Edit("hair_color", target="blue")])
    assert np.array_equal(in_palettes(bundle, plain.image, blue.edits), blue.image)
    assert not np.allclose(plain.image.reshape(-1, 3).mean(axis=0), BLUE, atol=10.0)
    strength = parse_edits(["hair_color:blue=+2"])
    assert np.array_equal(
        draw_edits(bundle, latent, strength).image,
        draw_edits(bundles["hair"], latent, strength).image,
    )
    assert in_palettes(bundles["hair"], plain.image, blue.edits) is plain.image  # no palette
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "(hair_color targets in their class's colours in the hair)" in out
    assert "on pictures" not in out
    pictures = Segmenter(dataclasses.replace(paletted(segmenter).config, picture_palettes=PALETTE))
    pictures.load_state_dict(segmenter.state_dict())
    resave_bundle(load_bundle(root, "cpu"), segmenter=pictures)
    assert main(["info", str(root)]) == 0
    wanted = "(hair_color targets on pictures turned to drawn faces' colours in the hair)"
    assert wanted in capsys.readouterr().out


def _noise_edited(bundle: Bundle) -> tuple[Picture, FaceBox, Inverted, list[Edit], Edited]:
    """A 40 px picture of noise, its whole box, the face inverted from it (2 steps, no
    tuning), ``hair_color:blue=+3`` and that edit of the face."""
    pixels = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    picture = Picture(rgb=Image.fromarray(pixels))
    box = FaceBox(0, 0, 40, 40)
    inverted = invert_picture(bundle, picture, box, steps=2, tune_steps=0)
    edits = parse_edits(["hair_color:blue=+3"])
    return picture, box, inverted, edits, edit_inverted(bundle, inverted, edits)


def test_an_edit_that_redraws_regions_is_pasted_opaque(bundles: dict[str, Bundle]) -> None:
    """Without the picture's crop (the app's renders of a face it has no crop of), an edit
    is pasted with the map of what it drew anew; with it, an edit that spills over the skin
    keeps its difference near its regions (see the reshape test)."""
    spills = config(spills=[["hair_color", ["skin"]]])
    bundle = dataclasses.replace(bundles["hair"], segmenter=BrightIsHair(spills))
    picture, box, inverted, edits, edited = _noise_edited(bundle)
    assert edited.reshape is not None and edited.redrawn is None
    expected = redrawn_map(bundle, inverted.reconstruction, edited.render)
    assert expected is not None
    assert expected.max() == pytest.approx(1.0)
    opaque = np.asarray(paste(picture, inverted, edited.render, expected).rgb)
    assert not np.array_equal(opaque, np.asarray(paste(picture, inverted, edited.render).rgb))
    # nothing redrawn (no edit, or a segmenter that sees the same regions): no map
    assert edit_inverted(bundle, inverted, []).redrawn is None
    assert redrawn_map(bundles["hair"], inverted.reconstruction, edited.render) is None
    # the app: its render carries the map, and the saved picture is pasted with it
    model = EditorModel(bundle)
    face = model.invert(picture, box, steps=2, tune_steps=0)
    rendered = model.render(face, edits)
    assert rendered.redrawn is not None
    np.testing.assert_array_equal(
        rendered.redrawn, redrawn_map(bundle, face.reconstruction, rendered.image)
    )
    saved = compose(picture, face, rendered.image, rendered.redrawn)
    plain = compose(picture, face, rendered.image)
    assert not np.array_equal(np.asarray(saved.rgb), np.asarray(plain.rgb))


def test_a_shape_edit_is_cut_out_of_the_picture(bundles: dict[str, Bundle]) -> None:
    """Command line, batch and app paste an edit that changes shapes (here hair colour, which
    this segmenter's config does not call a recolour) as a reshape of the picture, not the
    redrawn map; the app's saved picture is the command line's."""
    bundle = dataclasses.replace(bundles["hair"], segmenter=BrightIsHair(config()))
    picture, box, inverted, edits, edited = _noise_edited(bundle)
    assert edited.reshape is not None and edited.redrawn is None and edited.recolour is None
    expected = reshape_map(bundle, inverted.crop, inverted.reconstruction, edited.render, edits)
    assert expected is not None
    np.testing.assert_allclose(edited.reshape.cover, expected.cover, atol=1e-6)
    np.testing.assert_allclose(edited.reshape.drawn, expected.drawn, atol=1e-4)
    cut = np.asarray(paste(picture, inverted, edited.render, reshape=edited.reshape).rgb)
    assert not np.array_equal(cut, np.asarray(paste(picture, inverted, edited.render).rgb))
    # the app: given the crop its render carries the reshape; without one (a generated
    # face), the redrawn map
    model = EditorModel(bundle)
    face = model.invert(picture, box, steps=2, tune_steps=0)
    rendered = model.render(face, edits, crop=inverted.crop)
    assert rendered.reshape is not None and rendered.redrawn is None
    saved = compose(picture, face, rendered.image, reshape=rendered.reshape)
    same = paste(picture, inverted, rendered.image, reshape=rendered.reshape)
    np.testing.assert_array_equal(np.asarray(saved.rgb), np.asarray(same.rgb))
    assert model.render(face, edits).reshape is None
    # no hair anywhere, in the picture or the renders: nothing to cut, nothing pasted
    bare = dataclasses.replace(bundle, segmenter=segmenter_sure_of("background"))
    found = reshape_map(bare, inverted.crop, inverted.reconstruction, edited.render, edits)
    assert found is not None and not found.cover.any() and not found.kept.any()
    # an edit that spills over the skin is not cut out: its difference is kept near its
    # regions
    spills = dataclasses.replace(
        bundle, segmenter=BrightIsHair(config(spills=[["hair_color", ["skin"]]]))
    )
    tint = reshape_map(spills, inverted.crop, inverted.reconstruction, edited.render, edits)
    assert tint is not None and not tint.cover.any() and tint.kept.any()


def test_colour_maps_fit_each_regions_change_of_colour() -> None:
    rng = torch.Generator().manual_seed(0)
    before = torch.rand(1, 3, 16, 16, generator=rng) * 255
    gain, offset = torch.tensor([1.5, 0.5, 1.0]), torch.tensor([-20.0, 60.0, 5.0])
    after = before * gain.view(1, 3, 1, 1) + offset.view(1, 3, 1, 1)
    after[..., 8:] = before[..., 8:] + 40  # the right half: another region, shifted
    regions = torch.zeros(1, 3, 16, 16)
    regions[:, 0, :, :8] = 1
    regions[:, 1, :, 8:] = 1
    regions[:, 2, 0, 0], regions[:, 0, 0, 0] = 1, 0  # one pixel: too few to fit on
    maps = colour_maps(before, after, regions, regions)
    assert maps.shape == (1, 3, 3, 4)  # per region a matrix (the gains on its diagonal), offsets
    torch.testing.assert_close(maps[0, 0, :, :3], torch.diag(gain), atol=1e-3, rtol=0)
    torch.testing.assert_close(maps[0, 0, :, 3], offset, atol=0.1, rtol=0)
    shifted = torch.cat([torch.eye(3), torch.full((3, 1), 40.0)], dim=1)
    torch.testing.assert_close(maps[0, 1], shifted, atol=0.1, rtol=0)
    assert torch.equal(maps[0, 2], torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1))
    # a steeper change than the largest gain is held to it
    steep = colour_maps(before, before * 5, regions, regions)
    assert torch.diagonal(steep[0, 0, :, :3]).max() == pytest.approx(2.0)


def test_hue_turns_take_a_regions_mean_colour_to_the_edited_ones() -> None:
    """A region's mean colour is turned onto the edited mean (its hue turned, its chroma
    scaled, its luma shifted), and each of its colours keeps its place: the grey pupil
    stays grey; a grey mean gets the edited chroma added; a region grey in both, or shown
    in neither, is left as it is."""
    brown, blue = torch.tensor([130.0, 80.0, 45.0]), torch.tensor([50.0, 100.0, 200.0])
    before = torch.full((1, 3, 8, 8), 128.0)  # grey: the top half
    after = torch.full((1, 3, 8, 8), 130.0)
    regions = torch.zeros(1, 4, 8, 8)
    regions[:, 0, 4:, :4] = 1.0  # the iris: brown, then blue
    before[..., 4:, :4], after[..., 4:, :4] = brown.view(3, 1, 1), blue.view(3, 1, 1)
    regions[:, 1, :4] = 1.0  # a region grey in both
    regions[:, 2, 4:, 4:] = 1.0  # grey, then blue
    before[..., 4:, 4:], after[..., 4:, 4:] = 120.0, blue.view(3, 1, 1)
    maps, hues = hue_turns(before, after, regions, regions)
    assert maps.shape == (1, 4, 3, 4) and hues.shape == (1, 4, 3)

    def mapped(k: int, colour: torch.Tensor) -> torch.Tensor:
        return maps[0, k, :, :3] @ colour + maps[0, k, :, 3]

    mean_b, mean_a = brown, blue
    torch.testing.assert_close(mapped(0, mean_b), mean_a, atol=0.5, rtol=0)
    grey = torch.full((3,), 40.0)
    assert float(mapped(0, grey).std()) < 1.0  # no chroma in, none out
    torch.testing.assert_close(hues[0, 0], mean_b, atol=1e-3, rtol=0)
    identity = torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1)
    torch.testing.assert_close(maps[0, 1], identity, atol=1e-5, rtol=0)  # grey in both
    assert hues[0, 1].abs().max() == 0
    assert float(mapped(2, grey).std()) > 20  # grey before: the blue's chroma added
    assert hues[0, 2].abs().max() == 0  # a shift, not a turn: no hue to gate by
    torch.testing.assert_close(maps[0, 3], identity)  # shown in neither
    # no change, no turn: a small move of a slider is a small change of the picture
    still, _ = hue_turns(before, before, regions, regions)
    torch.testing.assert_close(still[0], identity.expand(4, 3, 4), atol=1e-4, rtol=0)


class LeftHairWithASkinPatch(LeftHalfIsHair):
    """The left half is hair but for skin (which glasses draw) where the red channel is high."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = super().forward(images)
        patch = (images[:, 0] > 0.6) & (images[:, 1] < -0.6)
        logits[:, 1][patch] = 0.0
        logits[:, 0][patch] = 0.0
        logits[:, 2][patch] = 30.0
        return logits


def test_a_class_target_removes_a_small_part_the_render_never_drew(
    bundles: dict[str, Bundle],
) -> None:
    """A class target the render already shows (the latent does not move) still removes a
    small part of the picture's that the render never drew: the red patch (which glasses
    draw here) is filled from around it; a strength edit leaves it."""
    net = LeftHairWithASkinPatch(config())
    bundle = dataclasses.replace(bundles["hair"], segmenter=net)
    pixels = np.random.default_rng(0).integers(60, 200, (64, 64, 3), dtype=np.uint8)
    pixels[16:24, 8:16] = (255, 0, 0)  # 16 pixels of the 32 px crop
    picture = Picture(rgb=Image.fromarray(pixels))
    inverted = invert_picture(bundle, picture, FaceBox(0, 0, 64, 64), steps=2, tune_steps=0)
    see = seer(bundle)
    assert see is not None
    shown = see(inverted.latent[None])[0]["glasses"]
    edited = edit_inverted(bundle, inverted, parse_edits([f"glasses={shown}"]))
    assert torch.equal(edited.latent, inverted.latent)  # reached already: not moved
    assert edited.reshape is not None and edited.reshape.erased is not None
    pasted = np.asarray(
        paste(picture, inverted, edited.render, edited.redrawn, edited.recolour, edited.reshape).rgb
    )
    red = np.all(pasted == (255, 0, 0), axis=2)
    assert red[16:24, 8:16].mean() < 0.05 and not red.any()
    assert np.array_equal(pasted[:, 32:], pixels[:, 32:])  # far from it, as it was
    kept = edit_inverted(bundle, inverted, parse_edits(["glasses=+0"]))
    same = paste(picture, inverted, kept.render, kept.redrawn, kept.recolour, kept.reshape)
    assert np.array_equal(np.asarray(same.rgb), pixels)


def test_a_recolour_is_pasted_onto_the_pictures_own_regions(bundles: dict[str, Bundle]) -> None:
    """A hair colour edit is made on the hair the segmenter finds in the picture's crop, by the
    colour change the renders show there: the command line, batch and the app alike. A red
    patch in the hair (skin, which glasses draw) keeps its pixels, and so does everything the
    segmenter does not call hair; edits that change more than colours paste the difference."""
    net = LeftHairWithASkinPatch(config(recolours=[["hair_color", 0]]))
    bundle = dataclasses.replace(bundles["hair"], segmenter=net)
    pixels = np.random.default_rng(0).integers(60, 200, (64, 64, 3), dtype=np.uint8)
    pixels[16:28, 8:20] = (255, 0, 0)  # the patch
    picture = Picture(rgb=Image.fromarray(pixels))
    box = FaceBox(0, 0, 64, 64)
    inverted = invert_picture(bundle, picture, box, steps=2, tune_steps=0)
    edits = parse_edits(["hair_color:blue=+3"])
    edited = edit_inverted(bundle, inverted, edits)
    assert edited.recolour is not None and edited.redrawn is None
    crop = inverted.crop
    expected = recolour_map(bundle, crop, inverted.reconstruction, edited.render, edits)
    assert expected is not None
    np.testing.assert_allclose(edited.recolour.maps, expected.maps, atol=1e-4)
    shares = edited.recolour.regions[:, :, 0]
    assert shares[16:, :14].min() > 0.99 and shares[:, 18:].max() == 0  # hair: the left half
    assert shares[9:13, 5:9].max() < 0.01  # but the patch
    pasted = np.asarray(paste(picture, inverted, edited.render, None, edited.recolour).rgb)
    changed = np.any(pasted != pixels, axis=2)
    assert changed[30:56, 8:28].mean() > 0.9  # the hair, inside the feathered edge
    # beyond two crop pixels (the guided fits' reach) of the hair the picture is as it was
    assert not changed[:, 40:].any() and not changed[20:24, 12:16].any()
    # maps fitted on the renders' hair: the render's own change is what the hair takes
    left = slice(None), slice(0, 16)
    drawn = inverted.reconstruction[left].reshape(-1, 3).astype(np.float64)
    mapped = drawn @ edited.recolour.maps[0, :, :3].T + edited.recolour.maps[0, :, 3]
    assert (
        np.abs(mapped - edited.render[left].reshape(-1, 3)).mean()
        < np.abs(drawn - edited.render[left].reshape(-1, 3)).mean()
    )
    # an edit that changes more than colours, or none: no recolour
    assert edit_inverted(bundle, inverted, parse_edits(["glasses=+3"])).recolour is None
    assert edit_inverted(bundle, inverted, []).recolour is None
    # with one that changes shapes: the recolour of the hair, then the other's reshape made
    # on the recoloured crop (the hair keeps its colour map, not the renders' difference)
    # from the render of that edit alone (the GAN draws a pair as one face)
    both = parse_edits(["hair_color:blue=+3", "glasses=+3"])
    mixed = edit_inverted(bundle, inverted, both)
    assert mixed.recolour is not None and mixed.reshape is not None and mixed.redrawn is None
    alone = recolour_map(bundle, crop, inverted.reconstruction, mixed.render, both[:1])
    assert alone is not None
    np.testing.assert_allclose(mixed.recolour.maps, alone.maps, atol=1e-4)
    recoloured = paste_back_region(crop, inverted.reconstruction, mixed.render, 0.0, recolour=alone)
    generator = face_generator(bundle, inverted.tuned)
    before = inverted.reconstruction
    shaped = shapes_render(bundle, inverted.latent, both, generator, before)
    assert shaped is not None and not np.array_equal(shaped, mixed.render)
    np.testing.assert_array_equal(
        shaped, draw_edits(bundle, inverted.latent, both[1:], generator, before=before).image
    )
    as_drawn = unedited_regions(bundle, crop)  # the crop's regions, read before the recolour
    expected_shape = reshape_map(bundle, recoloured, before, shaped, both[1:], None, as_drawn)
    assert expected_shape is not None
    np.testing.assert_allclose(mixed.reshape.kept, expected_shape.kept, atol=1e-5)
    np.testing.assert_allclose(mixed.reshape.drawn, expected_shape.drawn, atol=1e-3)
    for one_kind in (both[:1], both[1:]):  # an edit of one kind is made from its render
        assert shapes_render(bundle, inverted.latent, one_kind, generator, before) is None
    assert not mixed.reshape.kept[16:, :14].any()  # nothing of the hair's difference
    # the app: given the picture's crop its render carries the recolour, and saves with it
    model = EditorModel(bundle)
    face = model.invert(picture, box, steps=2, tune_steps=0)
    _, app_crop = face_crop(picture, box, 32)
    np.testing.assert_array_equal(app_crop, crop)
    rendered = model.render(face, edits, crop=app_crop)
    assert rendered.recolour is not None and rendered.redrawn is None
    saved = compose(picture, face, rendered.image, rendered.redrawn, rendered.recolour)
    assert np.array_equal(
        np.asarray(saved.rgb), np.asarray(paste(picture, inverted, rendered.image, None,
                                                rendered.recolour).rgb)
    )  # fmt: skip
    assert model.render(face, edits).recolour is None  # no crop: a generated face's way
    paired = model.render(face, both, crop=app_crop)  # the shape edit from its render alone
    assert paired.recolour is not None and paired.reshape is not None
    assert face.tuned is None  # tune_steps=0: drawn by the model's own generator
    latent = torch.from_numpy(face.latent)
    shaped = shapes_render(bundle, latent, both, bundle.generator, face.reconstruction)
    assert shaped is not None
    recoloured = paste_back_region(
        app_crop, face.reconstruction, paired.image, 0.0, recolour=paired.recolour
    )
    as_drawn = unedited_regions(bundle, app_crop)
    expected = reshape_map(
        bundle, recoloured, face.reconstruction, shaped, both[1:], None, as_drawn
    )
    assert expected is not None
    np.testing.assert_allclose(paired.reshape.drawn, expected.drawn, atol=1e-3)


def test_a_recolour_holds_what_the_config_holds_unless_it_recolours_it() -> None:
    """What the config holds (the eyes; here the skin patch) and the edit keeps goes with a
    hair colour edit's recolour as its ``held`` shares, so that the hair's share cannot
    reach into it at the picture's size; nothing is held without holds."""
    pixels = np.random.default_rng(0).integers(60, 200, (32, 32, 3), dtype=np.uint8)
    pixels[8:14, 4:10] = (255, 0, 0)  # the patch (skin, which glasses draw)
    edits = parse_edits(["hair_color:blue=+3"])
    edited = pixels.copy()
    edited[:, :16] = 255 - edited[:, :16]

    def recolour(**holding: object) -> Recolour | None:
        net = LeftHairWithASkinPatch(config(recolours=[["hair_color", 0]], **holding)).eval()
        bundle = SimpleNamespace(segmenter=net, device="cpu")
        return recolour_map(bundle, pixels, pixels, edited, edits)

    held = recolour(holds=["skin"], strokes=["hair"])
    assert held is not None and held.held is not None and held.held.shape == (32, 32)
    assert held.held[8:14, 4:10].min() > 0.99  # the patch
    assert held.held[20:, :].max() < 0.01 and held.held[:, 16:].max() < 0.01
    free = recolour()
    assert free is not None and free.held is None
    np.testing.assert_allclose(held.maps, free.maps)
    np.testing.assert_allclose(held.regions, free.regions)


def test_shapes_are_cut_from_a_render_without_the_figures_edits(
    bundles: dict[str, Bundle],
) -> None:
    """A class target the paste-back draws as a figure (here glasses, set to be so) leaves the
    render the other shape edits are cut from: the GAN draws them as one face (a flower moved
    the bangs). Alone, or with only recolours, or as a strength edit, it changes nothing."""
    figures = [["glasses", ["bow"], [[0.0, 0.0, 0.0]]]]
    net = LeftHalfIsHair(config(holds=["skin"], figures=figures))
    bundle = dataclasses.replace(bundles["hair"], segmenter=net)
    generator, latent = bundle.generator, torch.zeros(bundle.generator.num_ws, 32)
    before = render(bundle, latent)
    both = parse_edits(["hair_color:blue=+3", "glasses=true"])
    alone = shapes_render(bundle, latent, both, generator, before)
    assert alone is not None
    drawn = draw_edits(bundle, latent, both[:1], generator, before=before).image
    np.testing.assert_array_equal(alone, drawn)
    together = draw_edits(bundle, latent, both, generator, before=before).image
    assert not np.array_equal(alone, together)
    assert shapes_render(bundle, latent, both[1:], generator, before) is None
    strength = parse_edits(["hair_color:blue=+3", "glasses=+2"])
    assert shapes_render(bundle, latent, strength, generator, before) is None
    recoloured = dataclasses.replace(
        bundle, segmenter=LeftHalfIsHair(config(recolours=[["hair_color", 0]], holds=["skin"],
                                                figures=figures))
    )  # fmt: skip
    assert shapes_render(recoloured, latent, both, generator, before) is None


GLASSES_REGIONS = ("background", "skin", "glasses")


class DarkIsGlasses(Segmenter):
    """Says: a dark pixel is glasses, a very light one background, the rest skin."""

    def __init__(self, strokes: tuple[str, ...] = ("glasses",)) -> None:
        super().__init__(
            SegmenterConfig(
                64,
                GLASSES_REGIONS,
                (("glasses", ("glasses",)),),
                channels=(8, 8, 16),
                spills=(("glasses", ("skin",)),),
                strokes=strokes,
            )
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        mean = images.mean(dim=1)
        logits = torch.zeros(images.shape[0], 3, *images.shape[2:])
        logits[:, 0][mean > 0.8] = 30.0
        logits[:, 2][mean < -0.5] = 30.0
        logits[:, 1][(mean <= 0.8) & (mean >= -0.5)] = 30.0
        return logits


def _face_with_rings(*centres: tuple[float, float], axes: tuple[float, float] = (6, 4)):
    """A 64 px face (skin from column 12 to 51, a light page beside it) and the same face
    with a dark ring of ``axes`` around each of ``centres`` (x, y)."""
    face = torch.full((1, 3, 64, 64), 0.2)
    face[..., :12] = 1.0
    face[..., 52:] = 1.0
    rings = face.clone()
    ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    for cx, cy in centres:
        reach = (((xs - cx) / axes[0]) ** 2 + ((ys - cy) / axes[1]) ** 2).sqrt()
        rings[..., (reach - 1).abs() < 0.12] = -1.0
    return face, rings


def test_glasses_on_a_picture_are_drawn_as_lines_fitted_to_them() -> None:
    """An edit that draws the config's strokes (glasses' frames) gets lines fitted to them
    for the paste-back to draw at the picture's size: an ellipse around each frame and a
    bridge; one frame is mirrored about the face's middle; frames too faint to fit are a
    tint near them, as without strokes."""
    net = DarkIsGlasses()
    face, rings = _face_with_rings((22, 30), (42, 30))
    found = reshaped(net, face, face, rings, ["glasses"])
    assert found is not None and found.lines is not None
    assert not found.cover.any() and not found.kept.any()  # the lines, no tint
    lines = found.lines[0]
    assert len(lines) == 3
    for line, centre in zip(lines, ((22, 30), (42, 30)), strict=False):
        np.testing.assert_allclose(line.points.mean(axis=0), centre, atol=0.7)
        extent = (line.points.max(axis=0) - line.points.min(axis=0)) / 2
        np.testing.assert_allclose(extent, (6, 4), atol=1.0)
        assert 0.5 <= line.width <= 1.0
        assert max(line.colour) < 5  # the rings' dark
    bridge = lines[2].points
    assert bridge.shape == (2, 2) and 27 <= bridge[0, 0] < bridge[1, 0] <= 37
    # one frame: its twin about the face's middle (column 31.5)
    _, one = _face_with_rings((22, 30))
    single = reshaped(net, face, face, one, ["glasses"])
    assert single is not None and single.lines is not None and len(single.lines[0]) == 3
    np.testing.assert_allclose(single.lines[0][1].points.mean(axis=0), (41, 30), atol=0.7)
    # without strokes in the config, or too faint: no lines, the difference near the frames
    plain = reshaped(DarkIsGlasses(strokes=()), face, face, rings, ["glasses"])
    assert plain is not None and plain.lines == [[]] and plain.kept[0, 30, 16] > 0.5


def test_fitted_frames_take_the_colour_of_their_darkest_pixels() -> None:
    """The GAN draws frames a pixel or less wide, mixed with what is under them (red irises
    tint them pink): the lines take the colour of the frames' darkest pixels, their own."""
    net = DarkIsGlasses()
    face, rings = _face_with_rings((22, 30), (42, 30))
    frame = (rings[0, 0] == -1.0).nonzero()
    tinted = rings.clone()
    for k, (y, x) in enumerate(frame.tolist()):
        if k % 4:  # three of four frame pixels mixed with red: still read as the frames
            tinted[0, :, y, x] = torch.tensor([0.1, -0.85, -0.85])
    found = reshaped(net, face, face, tinted, ["glasses"])
    assert found is not None and found.lines is not None and len(found.lines[0]) == 3
    for line in found.lines[0]:
        assert max(line.colour) < 5  # the dark pixels', not the mean's (40, 10, 10)
    faint = face.clone()
    faint[..., 28:32, 20:24] = -1.0  # a dot, not a frame
    dot = reshaped(net, face, face, faint, ["glasses"])
    assert dot is not None and dot.lines == [[]] and dot.kept[0, 30, 22] > 0.5


MOUTH_REGIONS = ("background", "skin", "mouth", "line")


class RedIsMouth(Segmenter):
    """Says: a red pixel is mouth, a dark one line work, the rest skin."""

    def __init__(self) -> None:
        super().__init__(
            SegmenterConfig(64, MOUTH_REGIONS, (("mouth", ("mouth",)),), channels=(8, 8, 16))
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        red = (images[:, 0] > 0.0) & (images[:, 1] < -0.4)
        dark = images.mean(dim=1) < -0.6
        logits = torch.zeros(images.shape[0], 4, *images.shape[2:])
        logits[:, 2][red] = 30.0
        logits[:, 3][dark & ~red] = 30.0
        logits[:, 1][~red & ~dark] = 30.0
        return logits


def test_a_small_part_the_edit_draws_a_line_over_closes_to_a_line() -> None:
    """An open mouth (a few pixels at the model's size) that the edited render closes to a
    line is neither cut nor kept: it is ``closed``, for the paste-back to fill and draw at
    the picture's size; closed to nothing (no line drawn over it), or not small, it is cut."""
    net = RedIsMouth()
    face = torch.full((1, 3, 64, 64), 0.4)  # skin
    open_mouth = face.clone()
    open_mouth[:, 0, 40:42, 30:34], open_mouth[:, 1:, 40:42, 30:34] = 0.5, -0.8
    line = face.clone()
    line[..., 40, 30:34] = -0.9  # the closed mouth's line
    found = reshaped(net, open_mouth, open_mouth, line, ["mouth"], minimum=32.0)
    assert found is not None and found.closed is not None
    closed = found.closed[0].numpy()
    assert closed[40:42, 30:34].min() > 0.99 and closed.sum() == pytest.approx(8, abs=0.1)
    assert not found.cover.any() and not found.kept.any()
    # closed to skin alone: cut out (covered with the skin around), as before
    plain = reshaped(net, open_mouth, open_mouth, face, ["mouth"], minimum=32.0)
    assert plain is not None and plain.closed is None and plain.cover[0, 40:42, 30:34].min() > 0.5
    assert plain.erased is None
    # a class target removes it whole, though the unedited render never drew it: erased, for
    # the paste-back to fill from around it (a hair clip for accessory=none)
    for before in (open_mouth, face):
        whole = reshaped(
            net, open_mouth, before, face, ["mouth"], minimum=32.0, whole={"mouth": "closed"}
        )
        assert whole is not None and whole.erased is not None and whole.closed is None
        np.testing.assert_allclose(whole.erased[0].numpy(), closed, atol=1e-6)
        assert not whole.cover.any() and not whole.kept.any()
    # a strength edit the render does not show removes nothing the render never drew
    missed = reshaped(net, open_mouth, face, face, ["mouth"], minimum=32.0)
    assert missed is not None and missed.erased is None and not missed.cover.any()
    # a part as large as the minimum is not small: cut at half its probability
    large = reshaped(net, open_mouth, open_mouth, line, ["mouth"], minimum=8.0)
    assert large is not None and large.closed is None
    # a small part drawn where the picture has line work opens from it (an open mouth from
    # a closed one's line), for the paste-back to draw: not cut; without the line, cut
    opens = reshaped(net, line, line, open_mouth, ["mouth"], minimum=32.0)
    assert opens is not None and opens.opened is not None and opens.closed is None
    assert opens.opened[0, 40, 30:34].min() > 0.99 and opens.opened[0, 44:].max() == 0
    assert not opens.cover.any()
    drawn = reshaped(net, face, face, open_mouth, ["mouth"], minimum=32.0)
    assert drawn is not None and drawn.opened is None and drawn.cover[0, 40:42, 30:34].min() > 0.5
    # an edit that keeps the mouth open closes nothing
    wider = open_mouth.clone()
    wider[:, 0, 40:43, 29:35], wider[:, 1:, 40:43, 29:35] = 0.5, -0.8
    opened = reshaped(net, open_mouth, open_mouth, wider, ["mouth"], minimum=32.0)
    assert opened is not None and opened.closed is None


EYED_REGIONS = ("background", "skin", "glasses", "eye", "line")


class EyesAndGlasses(Segmenter):
    """Says: a near-black pixel is glasses, a dark one line work, a blue one an eye, a very
    light one background, the rest skin; glasses' frames hold the eyes."""

    def __init__(self) -> None:
        super().__init__(
            SegmenterConfig(
                64,
                EYED_REGIONS,
                (("glasses", ("glasses",)), ("eye_color", ("eye",))),
                channels=(8, 8, 16),
                spills=(("glasses", ("skin",)),),
                strokes=("glasses",),
                holds=("eye",),
            )
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        mean = images.mean(dim=1)
        found = torch.full(mean.shape, 1, dtype=torch.long)  # skin
        found[mean > 0.8] = 0
        found[(images[:, 2] > 0.5) & (images[:, 0] < 0)] = 3
        found[mean < -0.5] = 4
        found[mean < -0.8] = 2
        return F.one_hot(found, 5).permute(0, 3, 1, 2).float() * 60.0 - 30.0


def test_a_glasses_target_the_render_drew_no_frames_for_gets_them_around_the_eyes() -> None:
    """glasses=true whose render drew a blob, not frames: with the config's ``holds``, frames
    are drawn around the picture's own eyes in the colour of its line work; a strength edit
    keeps the tint; an edit that draws no glasses (glasses=false) or a picture that wears
    its own gets none."""
    net = EyesAndGlasses()
    face = torch.full((1, 3, 64, 64), 0.2)
    face[..., :12], face[..., 52:] = 1.0, 1.0
    for x0 in (20, 38):  # the eyes
        face[:, 0, 28:32, x0 : x0 + 5], face[:, 1, 28:32, x0 : x0 + 5] = -0.5, -0.5
        face[:, 2, 28:32, x0 : x0 + 5] = 0.8
    face[:, :, 24, 20:25] = torch.tensor([-0.3, -0.7, -0.7])[:, None]  # a brow: line work
    blob = face.clone()
    blob[..., 30:32, 30:32] = -1.0  # what the GAN drew: a dot between the eyes
    found = reshaped(net, face, face, blob, ["glasses"], whole={"glasses": "true"})
    assert found is not None and found.lines is not None and len(found.lines[0]) == 3
    left, right, bridge = found.lines[0]
    np.testing.assert_allclose(left.points[:-1].mean(axis=0), (22, 29.5), atol=0.3)
    np.testing.assert_allclose(right.points[:-1].mean(axis=0), (40, 29.5), atol=0.3)
    extent = (left.points.max(axis=0) - left.points.min(axis=0)) / 2
    np.testing.assert_allclose(extent, (3.5, 3.0), atol=0.1)  # the eye's and a pixel more
    np.testing.assert_allclose(left.colour, ((-0.3 + 1) * 127.5, 0.3 * 127.5, 0.3 * 127.5), atol=1)
    assert bridge.points.shape == (2, 2)
    # frames the render drew off the eyes (a ring beside the face) go onto them, no bigger
    # than a little more than the eyes
    off = face.clone()
    ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    off[..., ((((xs - 50) / 6) ** 2 + ((ys - 30) / 5) ** 2).sqrt() - 1).abs() < 0.15] = -1.0
    moved = reshaped(net, face, face, off, ["glasses"])
    assert moved is not None and moved.lines is not None and len(moved.lines[0]) == 3
    for line, centre in zip(moved.lines[0][:2], ((22, 29.5), (40, 29.5)), strict=True):
        np.testing.assert_allclose(line.points[:-1].mean(axis=0), centre, atol=0.3)
        extent = (line.points.max(axis=0) - line.points.min(axis=0)) / 2
        assert (extent <= 1.5 * np.array([3.5, 3.0]) + 1e-3).all()
    # a lone small ring on one eye (glasses=+3 on a drawn picture): a pair, one on each eye,
    # as large as the eyes' own frames at least
    lone = face.clone()
    lone[..., ((((xs - 40) / 3.2) ** 2 + ((ys - 29.5) / 2.6) ** 2).sqrt() - 1).abs() < 0.2] = -1.0
    paired = reshaped(net, face, face, lone, ["glasses"])
    assert paired is not None and paired.lines is not None and len(paired.lines[0]) == 3
    for line, centre in zip(paired.lines[0][:2], ((22, 29.5), (40, 29.5)), strict=True):
        np.testing.assert_allclose(line.points[:-1].mean(axis=0), centre, atol=0.3)
        extent = (line.points.max(axis=0) - line.points.min(axis=0)) / 2
        assert (extent >= np.array([3.5, 3.0]) - 1e-3).all()
    # a strength edit of unknown strength: no frames, the tint near what it drew; a slider
    # towards glasses fades the eyes' frames in, whatever its render drew (PAIR_STRENGTH);
    # one away from them, the tint
    slider = reshaped(net, face, face, blob, ["glasses"])
    assert slider is not None and slider.lines == [[]] and slider.kept[0, 31, 31] > 0.5
    for strength, opacity in ((1.0, 1.0 / PAIR_STRENGTH), (3.0, 1.0)):
        faded = reshaped(net, face, face, face, ["glasses"], sliders={"glasses": (None, strength)})
        assert faded is not None and faded.lines is not None and len(faded.lines[0]) == 3
        assert [line.opacity for line in faded.lines[0]] == [pytest.approx(opacity)] * 3
        np.testing.assert_allclose(faded.lines[0][0].points[:-1].mean(axis=0), (22, 29.5), atol=0.3)
        assert not faded.kept.any()
    away = reshaped(net, face, face, blob, ["glasses"], sliders={"glasses": (None, -1.0)})
    assert away is not None and away.lines == [[]]
    # glasses=false (the render draws none) or a picture wearing its own: none drawn
    assert reshaped(net, face, face, face, ["glasses"], whole={"glasses": "true"}).lines == [[]]
    worn = blob.clone()
    worn[..., 26, 18:44] = -1.0
    own = reshaped(net, worn, worn, blob, ["glasses"], whole={"glasses": "true"})
    assert own is not None and own.lines == [[]]


def test_strokes_are_read_back_and_checked() -> None:
    c = config(strokes=["hair"])
    assert c.strokes == ("hair",)
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    old = c.to_dict()
    del old["strokes"]
    assert SegmenterConfig.from_dict(old).strokes == ()  # a bundle from before strokes
    held = config(strokes=["hair"], holds=["skin"])
    assert held.holds == ("skin",) and SegmenterConfig.from_dict(held.to_dict()) == held
    older = held.to_dict()
    del older["holds"]
    assert SegmenterConfig.from_dict(older).holds == ()  # a bundle from before holds
    for bad in (["eyes"], ["Skin"]):
        with pytest.raises(ValueError, match="holds"):
            config(strokes=["hair"], holds=bad)
    with pytest.raises(ValueError, match="held by strokes, placing figures or keeping edits"):
        config(holds=["skin"])
    placing = config(holds=["skin"], figures=[["glasses", ["bow"], [[0, 0, 0]]]])
    assert placing.holds == ("skin",)
    with pytest.raises(ValueError, match="not all regions an owner draws"):
        config(strokes=["background"])
    with pytest.raises(ValueError, match="strokes"):
        config(strokes=["Hair"])


def test_edits_kept_below_the_eyes_are_read_back_and_checked() -> None:
    owners = (("hair_length", ("hair",)), ("hair_color", ("hair",)))

    def made(**changes: Any) -> SegmenterConfig:
        return SegmenterConfig(32, REGIONS, owners, channels=(8, 8, 16), **changes)

    kept = made(holds=["skin"], below_eyes=["hair_length"])
    assert kept.below_eyes == ("hair_length",)
    assert SegmenterConfig.from_dict(kept.to_dict()) == kept
    # none: the key is left out, so that NFE before it still reads the bundle
    assert "below_eyes" not in made().to_dict()
    for bad in (["hair_colour"], ["mouth"]):
        with pytest.raises(ValueError, match="below_eyes"):
            made(holds=["skin"], below_eyes=bad)
    with pytest.raises(ValueError, match="below_eyes"):  # a recolour keeps shapes
        made(recolours=[["hair_color", 0]], holds=["skin"], below_eyes=["hair_color"])
    with pytest.raises(ValueError, match="below_eyes"):  # nothing to keep them below
        made(below_eyes=["hair_length"])


def test_nfe_info_says_which_regions_are_drawn_as_lines(
    bundles: dict[str, Bundle], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from nfe_core.cli.main import main

    segmenter = bundles["hair"].segmenter
    assert segmenter is not None
    net = Segmenter(dataclasses.replace(segmenter.config, strokes=("hair",)))
    net.load_state_dict(segmenter.state_dict())
    root = tmp_path / "lines"
    shutil.copytree(bundles["hair"].root, root)
    resave_bundle(load_bundle(root, "cpu"), segmenter=net)
    assert main(["info", str(root)]) == 0
    assert "(hair drawn as lines on pictures)" in capsys.readouterr().out
    around = Segmenter(dataclasses.replace(net.config, holds=("skin",)))
    around.load_state_dict(segmenter.state_dict())
    resave_bundle(load_bundle(root, "cpu"), segmenter=around)
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "(hair drawn as lines on pictures, around the skin where none fit)" in out
    figures = (("glasses", ("bow", "flower"), ((0.0, 0.0, 0.0),)),)
    drawing = Segmenter(dataclasses.replace(around.config, figures=figures))
    drawing.load_state_dict(segmenter.state_dict())
    resave_bundle(load_bundle(root, "cpu"), segmenter=drawing)
    assert main(["info", str(root)]) == 0
    assert "(glasses=bow/flower drawn whole on pictures)" in capsys.readouterr().out
    below = Segmenter(dataclasses.replace(drawing.config, below_eyes=("glasses",)))
    below.load_state_dict(segmenter.state_dict())
    resave_bundle(load_bundle(root, "cpu"), segmenter=below)
    assert main(["info", str(root)]) == 0
    assert "(glasses changed only below pictures' eyes)" in capsys.readouterr().out


def test_figures_are_read_back_and_checked() -> None:
    colours = [[220, 40, 60], [250, 250, 250]]
    c = config(figures=[["glasses", ["bow", "flower"], colours]])
    assert c.figures == (("glasses", ("bow", "flower"), ((220.0, 40.0, 60.0), (250.0,) * 3)),)
    assert SegmenterConfig.from_dict(c.to_dict()) == c
    old = c.to_dict()
    del old["figures"]
    assert SegmenterConfig.from_dict(old).figures == ()  # a bundle from before figures
    for bad, message in (
        ([["nose", ["bow"], colours]], "not one of the owners"),
        ([["glasses", ["hat"], colours]], "must be some of"),
        ([["glasses", [], colours]], "non-empty list of names"),
        ([["glasses", ["bow"], []]], "colours of 3 numbers"),
        ([["glasses", ["bow"], [[0, 0, 300]]]], "colours of 3 numbers"),
        ([["glasses", ["bow"], [[0, 0]]]], "colours of 3 numbers"),
        ([["glasses", ["bow"]]], r"\[attribute, classes, colours\]"),
        ([["glasses", ["bow"], colours], ["glasses", ["flower"], colours]], "twice"),
        ("bow", "must be a list"),
    ):
        with pytest.raises(ValueError, match=message):
            config(figures=bad)


class SkinEyesAnd(Segmenter):
    """Says: a very light pixel is background, a blue one an eye (held by frames or placing
    figures: the config's ``holds``), one :meth:`fourth` picks the region ``fourth`` (drawn
    by ``attribute``), the rest skin. ``changes``: more of the config's fields."""

    def __init__(self, fourth: str, attribute: str, **changes: Any) -> None:
        super().__init__(
            SegmenterConfig(
                64,
                ("background", "skin", "eye", fourth),
                ((attribute, (fourth,)), ("eye_color", ("eye",))),
                channels=(8, 8, 16),
                **{"holds": ("eye",), **changes},
            )
        )

    def fourth(self, images: torch.Tensor) -> torch.Tensor:
        """Where images (N, 3, H, W) show the fourth region: (N, H, W) bool."""
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        found = torch.full(images.shape[:1] + images.shape[2:], 1, dtype=torch.long)
        found[images.mean(dim=1) > 0.8] = 0
        found[(images[:, 2] > 0.5) & (images[:, 0] < 0)] = 2
        found[self.fourth(images)] = 3
        return F.one_hot(found, 4).permute(0, 3, 1, 2).float() * 60.0 - 30.0


def _red(images: torch.Tensor) -> torch.Tensor:
    """Where images show a magenta or red pixel."""
    return (images[:, 0] > 0.3) & (images[:, 1] < -0.3)


PURPLE, RED = (150.0, 90.0, 210.0), (220.0, 40.0, 60.0)


class EyesAndAccessory(SkinEyesAnd):
    """Says: a blue pixel is an eye, a magenta or red one an accessory, a very light one
    background, the rest skin; bows and flowers are drawn as figures (with ``holds``)."""

    def __init__(self, holds: tuple[str, ...] = ("eye",)) -> None:
        figures = (("accessory", ("bow", "flower"), (PURPLE, RED)),)
        super().__init__("accessory", "accessory", holds=holds, figures=figures)

    def fourth(self, images: torch.Tensor) -> torch.Tensor:
        return _red(images)


def _face_with_eyes() -> torch.Tensor:
    """A 64 px face: skin from column 12 to 51, a light page beside it, blue eyes whose
    middles are (22, 29.5) and (40, 29.5)."""
    face = torch.full((1, 3, 64, 64), 0.2)
    face[..., :12], face[..., 52:] = 1.0, 1.0
    for x0 in (20, 38):
        face[:, 0, 28:32, x0 : x0 + 5], face[:, 1, 28:32, x0 : x0 + 5] = -0.5, -0.5
        face[:, 2, 28:32, x0 : x0 + 5] = 0.8
    return face


BLUSH_PINK = (255.0, 105.0, 125.0)


class EyesAndBlush(SkinEyesAnd):
    """Says: a blue pixel is an eye, a red one blush, a very light one background, the rest
    skin; blush tints the skin and is drawn whole as a pair of blushes (with ``holds``)."""

    def __init__(self) -> None:
        super().__init__(
            "blush", "blush", spills=(("blush", ("skin",)),),
            figures=(("blush", ("blush",), (BLUSH_PINK,)),),
        )  # fmt: skip

    def fourth(self, images: torch.Tensor) -> torch.Tensor:
        return _red(images)


class EyesAndHair(SkinEyesAnd):
    """Says: a blue pixel is an eye, a dark one hair, a very light one background, the rest
    skin; hair length's edits are kept below the eyes (``below_eyes``)."""

    def __init__(self, below: tuple[str, ...] = ("hair_length",)) -> None:
        super().__init__("hair", "hair_length", below_eyes=below, holds=("eye",) if below else ())

    def fourth(self, images: torch.Tensor) -> torch.Tensor:
        return images.mean(dim=1) < -0.6


def _hair(face: torch.Tensor, fringe_to: int, side_to: int, side_from: int = 4) -> torch.Tensor:
    """``face`` with dark hair over its top (rows 12 to ``fringe_to`` - 1, columns 8 to 55)
    and hanging beside it, columns ``side_from`` to 11 and 52 to 59 down to row ``side_to``
    - 1; the eyes of :func:`_face_with_eyes` (rows 28 to 31) are below the fringe."""
    face = face.clone()
    face[..., 12:fringe_to, 8:56] = -0.8
    face[..., 12:side_to, side_from:12] = -0.8
    face[..., 12:side_to, 52 : 64 - side_from] = -0.8
    return face


def test_hair_length_is_kept_below_the_pictures_eyes() -> None:
    """Hair length changes the hair only below the picture's eyes (the line through their
    middles, moved down by their half-height: row 32.5 here), and there tapers in from the
    picture's outline by a pixel per row: a render whose shorter hair also raises the fringe
    and narrows the side hair all the way up leaves the fringe and the hair beside the eyes
    as drawn, and narrows it well below them; one whose longer hair also grows the top of
    the head grows it only below, and only joined to the head's. A picture without eyes is
    cut where the render changed."""
    face = _face_with_eyes()
    picture = _hair(face, 26, 50)
    shorter = _hair(face, 22, 40, side_from=8)  # the fringe raised, the side hair narrower
    longer = _hair(face, 26, 62)
    longer[..., 8:12, 12:52] = -0.8  # the head's top grown outwards
    net = EyesAndHair()
    cut = reshaped(net, picture, picture, shorter, ["hair_length"])
    assert cut is not None and cut.eyes == [None]  # nothing to stretch when shorter
    cover = cut.cover[0].numpy()
    assert cover[:30, 12:52].max() < 0.01  # the fringe keeps its pixels
    assert cover[:31, :12].max() < 0.01  # and so does the hair beside the eyes
    assert cover[41:50, 4:12].min() > 0.5  # far below them the side hair is cut
    # just below them it is narrowed only near its outer edge, further down by all four
    assert cover[34, 6:8].max() < 0.5 < cover[34, 4]
    assert cover[38, 4:8].min() > 0.5
    grown = reshaped(net, picture, picture, longer, ["hair_length"])
    assert grown is not None
    assert grown.cover[0, :12].max() < 0.01  # the head's outline stays as drawn
    # where the paste-back stretches the picture's hair from: below the eyes' middle
    assert grown.eyes is not None and grown.eyes[0] == pytest.approx((31.0, 32.5), abs=0.01)
    # hair made longer removes none of the picture's: a render that also thins a lock (the
    # GAN's longer hair drawn with an open mouth) leaves it; made shorter, it is cut
    thinned = longer.clone()
    thinned[..., 40:50, 56:60] = 1.0
    kept = reshaped(net, picture, picture, thinned, ["hair_length"])
    assert kept is not None and kept.cover[0, 41:49, 56:60].max() < 0.01
    assert kept.cover[0, 51:61, 4:12].min() > 0.5  # and it grows
    cut_too = shorter.clone()
    cut_too[..., 40:50, 56:60] = 1.0
    cut_short = reshaped(net, picture, picture, cut_too, ["hair_length"])
    assert cut_short is not None and cut_short.cover[0, 41:49, 56:60].min() > 0.5
    assert grown.cover[0, 51:61, 4:12].min() > 0.5  # the hair grows below the eyes
    # from the head's hair: an island the render draws apart from it (a dark neck read as
    # hair), touching only the picture's hair it removes, is not hair grown
    island = shorter.clone()
    island[..., 42:48, 12:20] = -0.8
    apart = reshaped(net, picture, picture, island, ["hair_length"])
    assert apart is not None and apart.cover[0, 43:47, 13:19].max() < 0.01
    free = reshaped(EyesAndHair(below=()), picture, picture, island, ["hair_length"])
    assert free is not None and free.cover[0, 43:47, 13:19].min() > 0.5
    # without the eyes (or a config that keeps nothing below them), cut where it changed
    for reader, seen in (
        (EyesAndHair(below=()), picture),
        (net, _hair(torch.full_like(face, 0.2), 26, 50)),
    ):
        free = reshaped(reader, seen, seen, shorter, ["hair_length"])
        assert free is not None
        assert free.eyes in (None, [None])  # none kept below (the config), or none found
        assert free.cover[0, 23:25, 16:48].min() > 0.5  # the raised fringe
        assert free.cover[0, 20:30, 4:8].min() > 0.5  # the side hair narrowed


def test_blush_set_on_is_drawn_on_both_cheeks_of_a_picture_without_it() -> None:
    """blush=true on a picture without blush: a blush on each cheek, where the procedural
    faces wear it from the eyes (their distance its unit), in the config's colour, and none of
    the render's difference (a faint blotch, at times on one cheek); none for a slider, for
    blush=false, on a picture with its own blush, or without eyes."""
    net = EyesAndBlush()
    face = _face_with_eyes()  # eyes at (22, 29.5) and (40, 29.5): a unit of 18
    flushed = face.clone()
    flushed[:, :, 36:40, 16:22] = torch.tensor([0.7, -0.7, -0.5])[:, None, None]  # one cheek
    found = reshaped(net, face, face, flushed, ["blush"], whole={"blush": "true"})
    assert found is not None and found.figures is not None
    left, right = found.figures[0]
    place = FIGURES["blush"].place
    for figure, way in ((left, -1), (right, 1)):
        assert figure.name == "blush" and figure.side == way and figure.colour == BLUSH_PINK
        assert figure.size == pytest.approx(18.0, abs=0.1)
        expected = (31 + way * place[0] * 18, 29.5 + place[1] * 18)
        np.testing.assert_allclose(figure.centre, expected, atol=0.3)
    assert not found.kept.any()
    slider = reshaped(net, face, face, flushed, ["blush"])
    assert slider is not None and slider.figures is None and slider.kept.any()
    # a slider towards it (its strength given) draws them part of the way, all from
    # PAIR_STRENGTH on; one away from it, none
    for strength, opacity in ((1.0, 1.0 / PAIR_STRENGTH), (3.0, 1.0)):
        part = reshaped(net, face, face, flushed, ["blush"], sliders={"blush": (None, strength)})
        assert part is not None and part.figures is not None and not part.kept.any()
        assert [f.opacity for f in part.figures[0]] == [pytest.approx(opacity)] * 2
    away = reshaped(net, face, face, flushed, ["blush"], sliders={"blush": (None, -1.0)})
    assert away is not None and away.figures is None
    off = reshaped(net, face, face, face, ["blush"], whole={"blush": "false"}, absent=["blush"])
    assert off is not None and off.figures is None
    own = reshaped(net, flushed, flushed, flushed, ["blush"], whole={"blush": "true"})
    assert own is not None and own.figures is None
    blind = torch.full((1, 3, 64, 64), 0.2)  # no eyes
    assert reshaped(net, blind, blind, flushed, ["blush"], whole={"blush": "true"}).figures is None
    # only on the skin: where a cheek's place shows the page (a face box off the face), none
    paged = face.clone()
    paged[..., 34:, :24] = 1.0  # below the left eye
    one = reshaped(net, paged, paged, paged, ["blush"], whole={"blush": "true"})
    assert one is not None and one.figures is not None
    assert [f.side for f in one.figures[0]] == [1]


class FramedEyes(SkinEyesAnd):
    """Says: a blue pixel is an eye, a very dark one glasses' frames (line work, holding the
    eyes), a very light one background, the rest skin."""

    def __init__(self) -> None:
        super().__init__(
            "glasses", "glasses", spills=(("glasses", ("skin",)),), strokes=("glasses",)
        )

    def fourth(self, images: torch.Tensor) -> torch.Tensor:
        return images.amax(dim=1) < -0.6


def test_glasses_set_off_remove_the_pictures_own_frames() -> None:
    """glasses=false on a picture wearing glasses: its frames are erased (filled from around
    by the paste-back), sparing the eyes they hold, and none of the render's difference is
    kept; a slider, glasses=true, or a picture without frames erase nothing."""
    net = FramedEyes()
    face = _face_with_eyes()
    framed = face.clone()
    for x0 in (17, 35):  # a ring a pixel beyond each eye
        framed[:, :, 26:36, x0 : x0 + 11] = -0.8
        framed[:, :, 27:35, x0 + 1 : x0 + 10] = face[:, :, 27:35, x0 + 1 : x0 + 10]
    off = {"whole": {"glasses": "false"}, "absent": ["glasses"]}
    found = reshaped(net, framed, framed, face, ["glasses"], **off)
    assert found is not None and found.erased is not None and found.spared is not None
    ring = net.probabilities(framed)[0, 3] > 0.5
    assert found.erased[0][ring].min() > 0.99 and not found.erased[0][~ring].any()
    eyes = net.probabilities(framed)[0, 2] > 0.5
    assert found.spared[0][eyes].min() > 0.99 and not found.kept.any()
    for whole, absent in (({}, []), ({"glasses": "true"}, [])):
        other = reshaped(net, framed, framed, face, ["glasses"], whole=whole, absent=absent)
        assert other is not None and other.erased is None and other.spared is None
    bare = reshaped(net, face, face, face, ["glasses"], **off)
    assert bare is not None and bare.erased is None
    # frames around no pair of eyes (a face box well off the face: its eyes read as frames)
    # are not erased; and glasses set off draw no frames, whatever the render shows
    eyeless = framed.clone()
    eyeless[:, :, 27:35, 18:27], eyeless[:, :, 27:35, 36:45] = -0.8, -0.8
    kept = reshaped(net, eyeless, eyeless, face, ["glasses"], **off)
    assert kept is not None and kept.erased is None
    drawn = reshaped(net, face, face, framed, ["glasses"], **off)
    assert drawn is not None and drawn.lines == [[]] and not drawn.kept.any()


def test_a_class_drawn_as_a_figure_is_drawn_whole_where_the_render_drew_it() -> None:
    """accessory=bow whose render drew a blob: a bow (not the blob cut out), its unit the
    distance between the eyes, on the blob's side where the faces wear one (there when the
    blob is near that), in the config's colour nearest the blob's; on a picture with an
    accessory of its own, likewise from it and in its colour (it is erased); where neither
    is, where the faces wear one, in the config's colour that stands out from the picture
    there; a strength edit, a class without a figure or a face without eyes and a blob get
    none."""
    net = EyesAndAccessory()
    face = _face_with_eyes()
    blob = face.clone()
    blob[:, :, 10:14, 14:18] = torch.tensor([0.5, -0.5, 0.4])[:, None, None]  # magenta
    found = reshaped(net, face, face, blob, ["accessory"], minimum=32.0, whole={"accessory": "bow"})
    assert found is not None and found.figures is not None
    (bow,) = found.figures[0]
    assert bow.name == "bow" and bow.side == -1 and bow.colour == PURPLE
    # where the faces wear a bow, on the blob's side: the blob is lower (a clip's place)
    np.testing.assert_allclose(bow.centre, (31 - 0.77 * 18, 29.5 - 1.36 * 18), atol=0.3)
    assert bow.size == pytest.approx(18.0, abs=0.1)
    high = face.clone()
    high[:, :, 4:8, 15:19] = torch.tensor([0.5, -0.5, 0.4])[:, None, None]  # near it: there
    there = reshaped(net, face, face, high, ["accessory"], minimum=32.0, whole={"accessory": "bow"})
    assert there is not None and there.figures is not None
    np.testing.assert_allclose(there.figures[0][0].centre, (16.5, 5.5), atol=0.3)
    # placed by another render than the one cut from (drawn without the accessory's edit)
    by = reshaped(
        net, face, face, face, ["accessory"], minimum=32.0, whole={"accessory": "bow"},
        figures_from=high,
    )  # fmt: skip
    assert by is not None and by.figures is not None
    np.testing.assert_allclose(by.figures[0][0].centre, (16.5, 5.5), atol=0.3)
    with pytest.raises(ValueError, match="figures_from"):
        reshaped(net, face, face, face, ["accessory"], figures_from=high[..., :32])
    assert not found.cover[0, 10:14, 14:18].any()  # the blob is not pasted
    # a slider towards the class: the same figure where the render drew a blob, none where
    # it drew none, and the picture's own accessory is not erased
    bow_slider = {"accessory": ("bow", 1.0)}
    slid = reshaped(net, face, face, blob, ["accessory"], minimum=32.0, sliders=bow_slider)
    assert slid is not None and slid.figures is not None and slid.erased is None
    np.testing.assert_allclose(slid.figures[0][0].centre, bow.centre, atol=1e-4)
    assert not slid.cover[0, 10:14, 14:18].any()
    none = reshaped(net, face, face, face, ["accessory"], minimum=32.0, sliders=bow_slider)
    assert none is None or none.figures is None
    # the picture's own accessory: in its place and colour (whatever the render drew), erased
    own = face.clone()
    own[:, :, 12:14, 44:47] = torch.tensor([0.7, -0.7, -0.5])[:, None, None]  # red
    worn = own.clone()
    worn[:, :, 12:14, 44:47] = 0.2  # the render lost it
    for after in (worn, blob):
        placed = reshaped(
            net, own, own, after, ["accessory"], minimum=32.0, whole={"accessory": "flower"}
        )
        assert placed is not None and placed.figures is not None and placed.erased is not None
        (flower,) = placed.figures[0]
        assert flower.name == "flower" and flower.side == 1
        np.testing.assert_allclose(flower.centre, (45, 12.5), atol=0.1)
        np.testing.assert_allclose(flower.colour, (216.75, 38.25, 63.75), atol=0.5)
        assert placed.erased[0, 12:14, 44:47].min() > 0.99
    # read on the picture as drawn (``picture_regions``) when the one given is recoloured: a
    # clip of the hair's new colour is read as hair there, but is the picture's all the same
    hidden = own.clone()
    hidden[:, :, 12:14, 44:47] = 0.2
    as_drawn = net.probabilities(own)
    seen = reshaped(
        net, hidden, own, worn, ["accessory"], minimum=32.0, whole={"accessory": "flower"},
        picture_regions=as_drawn,
    )  # fmt: skip
    assert seen is not None and seen.erased is not None and seen.figures is not None
    assert seen.erased[0, 12:14, 44:47].min() > 0.99 and seen.figures[0][0].side == 1
    blind = reshaped(
        net, hidden, own, worn, ["accessory"], minimum=32.0, whole={"accessory": "flower"}
    )
    assert blind is not None and blind.erased is None
    # far from where the faces wear the class (a hair clip's place, lower): moved there
    lower = face.clone()
    lower[:, :, 20:22, 44:47] = torch.tensor([0.7, -0.7, -0.5])[:, None, None]
    moved = reshaped(
        net, lower, lower, face, ["accessory"], minimum=32.0, whole={"accessory": "flower"}
    )
    assert moved is not None and moved.figures is not None and moved.erased is not None
    np.testing.assert_allclose(
        moved.figures[0][0].centre, (31 + 0.85 * 18, 29.5 - 1.13 * 18), atol=0.3
    )
    assert moved.figures[0][0].side == 1 and moved.erased[0, 20:22, 44:47].min() > 0.99
    # with no accessory of its own: on the left
    bare = reshaped(net, face, face, face, ["accessory"], minimum=32.0, whole={"accessory": "bow"})
    assert bare is not None and bare.figures is not None and bare.figures[0][0].side == -1
    assert bare.figures[0][0].colour in (PURPLE, RED)
    np.testing.assert_allclose(
        bare.figures[0][0].centre, (31 - 0.77 * 18, 29.5 - 1.36 * 18), atol=0.3
    )
    # none for a strength edit, a class not drawn as a figure, or without eyes and a blob
    assert reshaped(net, face, face, blob, ["accessory"], minimum=32.0).figures is None
    none = reshaped(net, face, face, blob, ["accessory"], minimum=32.0, whole={"accessory": "none"})
    assert none is not None and none.figures is None and none.erased is None
    # the class without one removes the picture's own, however large, though the render kept it
    big = face.clone()
    big[:, :, 8:16, 40:48] = torch.tensor([0.7, -0.7, -0.5])[:, None, None]  # 64 pixels
    gone = reshaped(net, big, big, big, ["accessory"], minimum=32.0, whole={"accessory": "none"})
    assert gone is not None and gone.figures is None and gone.erased is not None
    assert gone.erased[0, 8:16, 40:48].min() > 0.99 and not gone.cover.any()
    kept = reshaped(net, big, big, big, ["accessory"], minimum=32.0)
    assert kept is not None and kept.erased is None  # a strength edit removes nothing
    blind = EyesAndAccessory(holds=())
    unseen = reshaped(
        blind, face, face, face, ["accessory"], minimum=32.0, whole={"accessory": "bow"}
    )
    assert unseen is not None and unseen.figures is None
    sized = reshaped(
        blind, face, face, blob, ["accessory"], minimum=32.0, whole={"accessory": "bow"}
    )
    assert sized is not None and sized.figures is not None
    assert sized.figures[0][0].size == pytest.approx((16 / FIGURES["bow"].area) ** 0.5, rel=0.05)


class PinkIsBlush(Segmenter):
    """Says: a pink pixel is blush, a very light one background, the rest skin."""

    def __init__(self) -> None:
        super().__init__(
            SegmenterConfig(
                64,
                ("background", "skin", "blush"),
                (("blush", ("blush",)),),
                channels=(8, 8, 16),
                spills=(("blush", ("skin",)),),
            )
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        found = torch.full(images.shape[:1] + images.shape[2:], 1, dtype=torch.long)  # skin
        found[images.mean(dim=1) > 0.8] = 0
        found[(images[:, 0] > 0.6) & (images[:, 1] < 0.2)] = 2
        return F.one_hot(found, 3).permute(0, 3, 1, 2).float() * 60.0 - 30.0


def test_a_tint_set_to_be_without_is_cleared_from_the_picture() -> None:
    """blush=false (``absent``) on a picture with blush: its blush is cleared (for the
    paste-back to fill with the skin around it) and nothing of the renders' difference is
    kept, whatever the render shows; blush=true, a slider, or a picture without blush: the
    difference near the blush as before, nothing cleared."""
    net = PinkIsBlush()
    face = torch.full((1, 3, 64, 64), 0.4)
    face[..., :12] = 1.0
    blushed = face.clone()
    blushed[:, :, 36:39, 18:26] = torch.tensor([0.9, 0.0, 0.1])[:, None, None]
    for after in (face, blushed):  # the render without blush, or still with it
        gone = reshaped(
            net, blushed, blushed, after, ["blush"], whole={"blush": "false"}, absent=["blush"]
        )
        assert gone is not None and gone.cleared is not None
        assert gone.cleared[0, 36:39, 18:26].min() > 0.99 and gone.cleared[0, :30].max() == 0
        assert not gone.kept.any() and not gone.cover.any()
    kept = reshaped(net, blushed, blushed, face, ["blush"], whole={"blush": "true"})
    assert kept is not None and kept.cleared is None and kept.kept[0, 37, 20] > 0.5
    slider = reshaped(net, blushed, blushed, face, ["blush"])
    assert slider is not None and slider.cleared is None
    bare = reshaped(net, face, face, face, ["blush"], whole={"blush": "false"}, absent=["blush"])
    assert bare is not None and bare.cleared is None


def test_reshape_map_clears_a_tint_set_to_its_binary_negative() -> None:
    """The pipeline takes a binary attribute's target of its negative class (blush=false)
    as the attribute set to be without: the picture's blush is cleared; the positive class
    (blush=true) clears nothing."""
    from nfe_core.editing import Boundaries, Boundary

    normal = torch.zeros(8)
    normal[0] = 1.0
    blush = Boundary("blush", "blush", "binary", "true", "false", normal, 0.0, 1.0)
    bundle = SimpleNamespace(
        segmenter=PinkIsBlush().eval(), boundaries=Boundaries([blush]), device="cpu"
    )
    skin = np.full((64, 64, 3), 178, np.uint8)
    skin[..., :12, :] = 255
    blushed = skin.copy()
    blushed[36:39, 18:26] = (242, 127, 140)
    off = reshape_map(bundle, blushed, blushed, skin, [Edit("blush", target="false")])
    assert off is not None and off.cleared is not None and off.cleared[37, 20] > 0.99
    on = reshape_map(bundle, blushed, blushed, skin, [Edit("blush", target="true")])
    assert on is not None and on.cleared is None


def test_a_grey_region_is_turned_to_a_grey_target_by_its_luma() -> None:
    """hue_turns_to maps a region grey in the picture and in the target too (silver hair
    set to black): its luma shifted to the target's; hue_turns leaves such a region (an
    eye's white, grey in both renders) as it is."""
    images = torch.full((1, 3, 8, 8), 190.0)  # silver
    images[..., :4] = 200.0
    regions = torch.ones(1, 1, 8, 8)
    black = torch.tensor([[[40.0, 40.0, 45.0]]])
    maps, _ = hue_turns_to(images, regions, black)
    mean = images[0].reshape(3, -1).mean(dim=1)
    turned = maps[0, 0, :, :3] @ mean + maps[0, 0, :, 3]
    assert float(turned.mean()) == pytest.approx(float(black.mean()), abs=3.0)
    same, _ = hue_turns(images, images * 0.3, regions, regions)
    assert torch.equal(same[0, 0], torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1))


def test_hue_turns_to_scales_the_lumas_spread_to_the_targets() -> None:
    """With the target's spreads, the region's shading about its mean is scaled to theirs
    (black hair made blonde had black hair's few shades, offset): the mapped region's luma
    spread is the target's (within LUMA_GAIN); without, it stays."""
    images = torch.zeros(1, 3, 8, 8)
    images += torch.linspace(30.0, 50.0, 8)[None, None, :, None]  # dark, shaded down the rows
    regions = torch.ones(1, 1, 8, 8)
    blonde = torch.tensor([[[220.0, 200.0, 130.0]]])
    spreads = torch.tensor([[[20.0, 20.0, 20.0]]])
    luma = torch.tensor([0.299, 0.587, 0.114])

    def spread_after(maps: torch.Tensor) -> float:
        pixels = images[0].reshape(3, -1)
        mapped = maps[0, 0, :, :3] @ pixels + maps[0, 0, :, 3:]
        return float((luma @ mapped).std(unbiased=False))

    before = float((luma @ images[0].reshape(3, -1)).std(unbiased=False))
    assert spread_after(hue_turns_to(images, regions, blonde, spreads)[0]) == pytest.approx(
        min(20.0, 3.0 * before), rel=0.02
    )
    assert spread_after(hue_turns_to(images, regions, blonde)[0]) == pytest.approx(before, rel=0.02)
