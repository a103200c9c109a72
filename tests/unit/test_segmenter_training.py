"""``nfe-train segmenter``: region shares from the renderer, a tiny training run that learns,
and the command that puts the segmenter into a bundle."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nfe_core.bundle import load_bundle, resave_bundle
from nfe_core.facebox import FaceBox, crop_face
from nfe_core.jobs import Cancelled
from nfe_core.models.segmenter import SegmenterConfig, barred_below_eyes
from tests.tiny import save_editing_bundle, segmenter_sure_of
from training.cli import main
from training.segmenter import (
    SegmenterOptions,
    augment,
    class_palettes,
    flip,
    picture_palettes,
    picture_record,
    reconfigured,
    render_regions,
    soft_cross_entropy,
    train_segmenter,
    trusted_owners,
)
from training.synth.params import face_rng, sample_face
from training.synth.render import REGION_NAMES, Region, render_face
from training.synth.schema import (
    ATTRIBUTE_BY_NAME,
    ATTRIBUTE_REGIONS,
    ATTRIBUTE_SPILLS,
    FIGURE_CLASSES,
    STROKE_HOLDS,
    STROKE_REGIONS,
)

# a run that learns in about a second at 32 px on 2 cores
TINY = SegmenterOptions(
    count=64, epochs=8, batch_size=16, lr=2e-2, channels=(8, 16), test_count=32, workers=0
)
METRICS = {"region_iou", "region_accuracy", "pixel_accuracy", "soft_error", "attribute_iou"}


def test_region_names_are_the_regions_in_value_order():
    assert REGION_NAMES == (
        "background",
        "hair",
        "skin",
        "eye_white",
        "iris",
        "pupil",
        "highlight",
        "line",
        "mouth",
        "clothes",
        "accessory",
        "glasses",
        "blush",
    )
    assert all(Region[name.upper()] == i for i, name in enumerate(REGION_NAMES))


@pytest.mark.parametrize(("size", "index"), [(32, 0), (64, 1), (64, 2)])
def test_fractions_sum_to_one_and_agree_with_the_region_map(size: int, index: int):
    params = sample_face(face_rng(4, index), glasses="true", blush="true", mouth="open")
    face = render_face(params, size, regions=True, fractions=True)
    shares = face.fractions
    assert shares is not None and face.regions is not None
    assert shares.shape == (size, size, len(REGION_NAMES)) and shares.dtype == np.float32
    np.testing.assert_allclose(shares.sum(-1), 1.0, atol=1e-6)
    pure = face.regions != Region.EDGE
    assert (shares[pure].max(-1) == 1.0).all()
    assert (shares[pure].argmax(-1) == face.regions[pure]).all()
    assert (shares[~pure].max(-1) < 1.0).all() and (~pure).any()
    # the same pixels as without, and no region map unless asked for
    alone = render_face(params, size, fractions=True)
    assert alone.regions is None and np.array_equal(alone.fractions, shares)
    assert np.array_equal(np.asarray(alone.image), np.asarray(render_face(params, size).image))
    assert render_face(params, size).fractions is None


def test_every_attribute_owns_real_regions():
    assert set(ATTRIBUTE_REGIONS) == set(ATTRIBUTE_BY_NAME)
    for regions in ATTRIBUTE_REGIONS.values():
        assert regions and set(regions) <= set(REGION_NAMES)
    config = SegmenterConfig(32, REGION_NAMES, tuple(ATTRIBUTE_REGIONS.items()))
    assert config.owned["eye_color"] == ("eye_white", "iris", "pupil", "highlight")


def test_hair_length_changes_the_procedural_faces_hair_only_where_it_may():
    """The segmenter keeps hair length's edits on a picture below its eyes, tapering in from
    its outline (``below_eyes``, :func:`barred_below_eyes`): on the procedural faces, from
    the shortest hair to the longest and back, few of the pixels that turn hair or not hair
    are barred (the side locks beside the eyes curl a pixel further in or out), while most
    of the hair over the forehead is."""
    config = SegmenterOptions().network_config(64)
    assert config.below_eyes == ("hair_length",)
    hair = REGION_NAMES.index("hair")
    changed = barred = fringe = fringe_barred = 0
    for index in range(40):
        shares = [
            torch.from_numpy(
                render_face(sample_face(face_rng(3, index), hair_length_value=v), 64,
                            fractions=True).fractions
            ).permute(2, 0, 1)[None]
            for v in (0.02, 0.98)
        ]  # fmt: skip
        for a, b in ((0, 1), (1, 0)):
            no_growth, no_removal = (
                m[0] for m in barred_below_eyes(config, shares[a], ["hair_length"])
            )
            was, now = shares[a][0, hair] > 0.5, shares[b][0, hair] > 0.5
            changed += int((was != now).sum())
            barred += int(((now & ~was) * no_growth + (was & ~now) * no_removal).gt(0.5).sum())
            top = was.clone()
            top[24:] = False  # the hair above the eyes (rows 27 to 36 at 64 px)
            fringe += int(top.sum())
            fringe_barred += int((no_removal[top] > 0.5).sum())
    assert changed > 1000
    assert barred <= 0.03 * changed, (barred, changed)  # 883 of 38,550
    assert fringe_barred >= 0.9 * fringe, (fringe_barred, fringe)


def test_compact_renders_give_back_the_renderer_s_shares():
    renders = render_regions(3, 32, 9, workers=0)
    assert renders.images.shape == (3, 3, 32, 32) and renders.images.dtype == torch.uint8
    targets = renders.targets(torch.tensor([2, 0]))
    for row, i in enumerate((2, 0)):
        face = render_face(sample_face(face_rng(9, i)), 32, fractions=True)
        expected = torch.from_numpy(face.fractions).permute(2, 0, 1)
        torch.testing.assert_close(targets[row], expected)
        image = torch.from_numpy(np.array(face.image)).permute(2, 0, 1)
        assert torch.equal(renders.images[i], image)


def test_flips_move_images_and_targets_together_and_augmenting_stays_in_range():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(16, 3, 8, 8) * 2 - 1
    targets = torch.rand(16, 4, 8, 8).softmax(1)
    flipped, moved = flip(images, targets, g)
    mirrored = [not torch.equal(a, b) for a, b in zip(flipped, images, strict=True)]
    assert 0 < sum(mirrored) < 16
    for i, m in enumerate(mirrored):
        assert torch.equal(moved[i], targets[i].flip(-1) if m else targets[i])
        assert torch.equal(flipped[i], images[i].flip(-1) if m else images[i])
    out = augment(images, g, max_blur=0.6, max_noise=0.03)
    assert out.shape == images.shape and out.min() >= -1 and out.max() <= 1
    assert torch.equal(augment(images, g, 0.0, 0.0), images)
    # the loss of a perfect, certain guess is the targets' entropy: zero for one-hot ones
    one_hot = torch.nn.functional.one_hot(torch.randint(4, (2, 8, 8)), 4).permute(0, 3, 1, 2)
    assert float(soft_cross_entropy(one_hot.float() * 50, one_hot.float())) < 1e-6


def test_a_tiny_run_learns_the_large_regions():
    torch.manual_seed(123)
    before = torch.rand(1)
    lines: list[str] = []
    net, metrics = train_segmenter(32, TINY, device="cpu", log=lines.append)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), before)  # the global generator is left alone
    assert net.config.regions == REGION_NAMES
    # edits are kept only to the areas it finds: the others are left whole
    trusted = {
        a: r for a, r in ATTRIBUTE_REGIONS.items() if (metrics["attribute_iou"][a] or 0.0) >= 0.5
    }
    assert net.config.owned == trusted and metrics["confined"] == list(trusted)
    assert net.config.channels == (8, 16)
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert set(metrics) >= METRICS | {"epoch_losses", "train_seconds", "parameters"}
    assert set(metrics["region_iou"]) == set(REGION_NAMES)
    assert set(metrics["attribute_iou"]) == set(ATTRIBUTE_REGIONS)
    assert len(metrics["epoch_losses"]) == 8
    assert metrics["epoch_losses"][-1] < metrics["epoch_losses"][0]
    assert sum(line.startswith("epoch ") for line in lines) == 8
    # held-out faces: a network that says "background" everywhere has a background IoU of
    # the background's share (about 0.4) and no hair at all
    assert metrics["region_iou"]["background"] > 0.75
    assert metrics["region_iou"]["hair"] > 0.35
    assert metrics["pixel_accuracy"] > 0.75
    assert 0 <= metrics["soft_error"] < 1
    json.dumps(metrics)  # JSON-safe
    _, again = train_segmenter(32, TINY, device="cpu")
    assert again["region_iou"] == metrics["region_iou"]  # seeded: the same run


def test_only_the_areas_it_finds_keep_their_edits():
    everything = dataclasses.replace(TINY, epochs=1, min_area_iou=0.0)
    net, _ = train_segmenter(32, everything, device="cpu")
    assert net.config.owned == ATTRIBUTE_REGIONS
    found = {name: 0.9 for name in ATTRIBUTE_REGIONS} | {"mouth": 0.2, "blush": None}
    trusted = trusted_owners(net, found, 0.5)
    assert set(trusted.config.owned) == set(ATTRIBUTE_REGIONS) - {"mouth", "blush"}
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(trusted(images), net(images))  # the same weights
    assert trusted.channels(["mouth"]) is None  # a mouth edit is left whole
    assert trusted.channels(["hair_color"]) is not None
    assert trusted_owners(net, found, 0.0).config.owned == net.config.owned
    # attributes asked to stay whole do, however well their area is found
    kept = trusted_owners(net, found, 0.0, whole=("blush", "glasses"))
    assert set(kept.config.owned) == set(ATTRIBUTE_REGIONS) - {"blush", "glasses"}
    assert kept.channels(["glasses"]) is None and kept.channels(["mouth"]) is not None
    # the skin blush and glasses spill over goes with them
    assert dict(net.config.spills) == ATTRIBUTE_SPILLS
    assert dict(kept.config.spills) == {}
    assert dict(trusted.config.spills) == {"glasses": ("skin",)}
    # and the frames drawn as lines with glasses
    assert net.config.strokes == trusted.config.strokes == STROKE_REGIONS
    assert kept.config.strokes == ()
    # and the accessories (and blush) drawn as figures, placed from the eyes, with them
    assert {a: c for a, c, _ in net.config.figures} == FIGURE_CLASSES
    assert trusted.config.figures == tuple(f for f in net.config.figures if f[0] != "blush")
    assert [f[0] for f in kept.config.figures] == ["accessory"]
    assert net.config.holds == kept.config.holds == STROKE_HOLDS  # kept: for the figures
    alone = trusted_owners(net, found, 0.0, whole=("glasses", "accessory", "blush"))
    assert alone.config.figures == () and alone.config.holds == STROKE_HOLDS  # hair length's
    assert net.config.below_eyes == alone.config.below_eyes == ("hair_length",)
    bare = trusted_owners(net, found, 0.0, whole=("glasses", "accessory", "blush", "hair_length"))
    assert bare.config.below_eyes == () and bare.config.holds == ()


def test_whole_names_attributes_with_regions():
    assert dataclasses.replace(TINY, whole=["blush"]).whole == ("blush",)
    with pytest.raises(ValueError, match="whole: nose is not an attribute with regions"):
        dataclasses.replace(TINY, whole=("nose",))


def test_a_run_can_be_cancelled():
    with pytest.raises(Cancelled):
        train_segmenter(32, TINY, device="cpu", should_stop=lambda: True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"count": 0}, "count must be"), ({"lr": -1.0}, "lr must be"), ({"seed": -2}, "seed must")],
)
def test_bad_options_are_refused(changes: dict, message: str):
    with pytest.raises(ValueError, match=message):
        SegmenterOptions(**changes)


def test_the_command_puts_a_segmenter_into_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    model = save_editing_bundle(tmp_path / "model", encoder=False)
    resave_bundle(load_bundle(model), report={"frechet_distance": 1.0})
    threads = torch.get_num_threads()
    argv = ["segmenter", "--model", str(model), "--count", "24", "--test-count", "8"]
    argv += ["--epochs", "1", "--batch", "8", "--threads", "1", "--whole", "hair_color"]
    status = main([*argv, "--quiet"])
    assert status == 0, capsys.readouterr().err
    assert torch.get_num_threads() == threads
    assert "trained the segmenter" in capsys.readouterr().err
    bundle = load_bundle(model)
    assert bundle.segmenter is not None and bundle.encoder is None
    assert bundle.segmenter.config.regions == REGION_NAMES
    owned = bundle.segmenter.config.owned
    assert all(ATTRIBUTE_REGIONS[a] == r for a, r in owned.items())
    assert bundle.report is None  # its edit figures depend on the segmenter
    record = json.loads((tmp_path / "model-segmenter" / "metrics.json").read_text())
    assert record["options"]["count"] == 24 and set(record["metrics"]) >= METRICS
    assert bundle.training["segmenter"] == record
    assert record["metrics"]["confined"] == list(owned)
    assert "hair_color" not in owned and record["options"]["whole"] == ["hair_color"]


def test_a_bad_model_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    status = main(["segmenter", "--model", str(tmp_path / "missing"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert main(["segmenter", "--model", str(tmp_path), "--count", "0"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["segmenter", "--model", str(tmp_path), "--whole", "nose"]) == 2
    assert "nose is not an attribute with regions" in capsys.readouterr().err


class TwoColourFaces(torch.nn.Module):
    """A 'generator' whose faces are red (z[0] > 0) or blue, the red ones shaded down the
    rows in their red channel."""

    def __init__(self) -> None:
        super().__init__()
        self.config = SimpleNamespace(z_dim=4)
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # where it runs

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def synthesis(self, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        assert noise_mode == "const"
        red = (w[:, 0] > 0)[:, None, None, None]
        images = torch.where(
            red,
            torch.tensor([0.6, -0.6, -0.6])[None, :, None, None],
            torch.tensor([-0.6, -0.2, 0.8])[None, :, None, None],
        ).expand(len(w), 3, 32, 32)
        shade = torch.zeros(1, 3, 32, 32)
        shade[0, 0] = torch.linspace(-0.2, 0.2, 32)[:, None]
        return images + red * shade


class ReadsRedAsPink:
    """A classifier that reads red faces as pink hair and others as blue, surely."""

    config = SimpleNamespace(classes={"hair_color": ("black", "blue", "pink")})

    def predict(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        pink = images[:, 0].mean(dim=(1, 2)) > 0
        probs = torch.full((len(images), 3), 0.025)
        probs[pink, 2] = probs[~pink, 1] = 0.95
        return {"hair_color": probs}


def test_palettes_are_the_colours_the_model_draws_each_class_with():
    hair = reconfigured(segmenter_sure_of("hair"), recolours=(("hair_color", 0),))
    bundle = SimpleNamespace(generator=TwoColourFaces(), classifier=ReadsRedAsPink())
    options = SegmenterOptions(palette_faces=40, palette_min_faces=1, batch_size=16)
    wanted = {"hair_color": "hair"}
    palettes = class_palettes(bundle, hair, options, wanted=wanted)
    assert [(a, r, [c for c, _, _ in swatches]) for a, r, swatches in palettes] == [
        ("hair_color", "hair", ["blue", "pink"])  # no face reads black: no swatch
    ]
    swatches = {c: (mean, spread) for c, mean, spread in palettes[0][2]}
    assert np.allclose(swatches["pink"][0], (204.0, 51.0, 51.0), atol=0.01)
    assert np.allclose(swatches["blue"][0], (51.0, 102.0, 229.5), atol=0.01)
    shading = float(torch.linspace(-0.2, 0.2, 32).std(unbiased=False)) * 127.5
    assert np.allclose(swatches["pink"][1], (shading, 0.0, 0.0), atol=0.01)
    assert swatches["blue"][1] == (0.0, 0.0, 0.0)
    # it goes into the segmenter's config as it is
    assert reconfigured(hair, palettes=palettes).config.palette("hair_color") == (
        "hair",
        swatches,
    )
    assert class_palettes(bundle, hair, options, wanted=wanted) == palettes  # seeded
    # no region, too few faces, an attribute not recoloured or not read: no palette
    nowhere = reconfigured(segmenter_sure_of("background"), recolours=(("hair_color", 0),))
    assert class_palettes(bundle, nowhere, options, wanted=wanted) == ()
    few = dataclasses.replace(options, palette_min_faces=41)
    assert class_palettes(bundle, hair, few, wanted=wanted) == ()
    assert class_palettes(bundle, segmenter_sure_of("hair"), options, wanted=wanted) == ()
    assert class_palettes(bundle, hair, options, wanted={"eye_color": "iris"}) == ()
    unread = SimpleNamespace(generator=bundle.generator, classifier=None)
    assert class_palettes(unread, hair, options, wanted=wanted) == ()


def test_picture_palettes_are_the_colours_drawn_faces_show_at_the_models_size():
    """Per class, the mean over that class's procedural faces (drawn at 4 times the size,
    brought down as the app crops a picture) of each face's colours in the region, weighted
    by the squared probabilities; seeded; none without the region or with too few faces."""
    hair = reconfigured(segmenter_sure_of("hair"), recolours=(("hair_color", 0),))
    options = SegmenterOptions(picture_faces=12, palette_min_faces=1, batch_size=5)
    wanted = {"hair_color": "hair"}
    found = picture_palettes(hair, options, wanted=wanted)
    seed = picture_record(options, found)["seed"]
    faces = [sample_face(face_rng(seed, i)) for i in range(12)]
    expected: dict[str, list[np.ndarray]] = {}
    for face in faces:  # the segmenter is sure of hair everywhere: the whole crop's mean
        crop = crop_face(np.asarray(render_face(face, 128).image), FaceBox(0, 0, 128, 128), 32)
        expected.setdefault(face.hair_color, []).append(crop.reshape(-1, 3).mean(axis=0))
    ((attribute, region, swatches),) = found
    assert (attribute, region) == ("hair_color", "hair")
    order = ATTRIBUTE_BY_NAME["hair_color"].classes
    assert [c for c, _, _ in swatches] == [c for c in order if c in expected]
    for name, mean, _ in swatches:
        np.testing.assert_allclose(mean, np.mean(expected[name], axis=0), atol=0.6)
    assert picture_palettes(hair, options, wanted=wanted) == found  # seeded
    assert reconfigured(hair, picture_palettes=found).config.palette("hair_color", True) == (
        "hair",
        {c: (m, sp) for c, m, sp in swatches},
    )
    nowhere = reconfigured(segmenter_sure_of("background"), recolours=(("hair_color", 0),))
    assert picture_palettes(nowhere, options, wanted=wanted) == ()
    few = dataclasses.replace(options, palette_min_faces=13)
    assert picture_palettes(hair, few, wanted=wanted) == ()
    assert picture_palettes(segmenter_sure_of("hair"), options, wanted=wanted) == ()


def test_palettes_only_measures_with_the_bundles_own_segmenter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    model = save_editing_bundle(tmp_path / "model", encoder=False)
    argv = ["segmenter", "--model", str(model), "--palettes-only", "--quiet"]
    assert main(argv) == 2
    assert "has no segmenter to measure palettes with" in capsys.readouterr().err
    segmenter = segmenter_sure_of("hair")
    resave_bundle(
        load_bundle(model),
        segmenter=segmenter,
        report={"frechet_distance": 1.0},
        training={"segmenter": {"metrics": {"pixel_accuracy": 0.9}}},
    )
    assert main(argv) == 0
    assert "measured the class palettes" in capsys.readouterr().err
    bundle = load_bundle(model)
    assert bundle.segmenter is not None and bundle.report is None
    for name, value in segmenter.state_dict().items():  # the same weights
        assert torch.equal(bundle.segmenter.state_dict()[name], value)
    # the tiny model's classifier reads no eye colour: nothing to measure
    assert bundle.segmenter.config.palettes == ()
    record = bundle.training["segmenter"]
    assert record["metrics"] == {"pixel_accuracy": 0.9}  # the training record is kept
    assert record["palettes"]["classes"] == {} and record["palettes"]["faces"] == 3000
    assert (
        record["picture_palettes"]["classes"] == {} and record["picture_palettes"]["faces"] == 800
    )
