"""The segmenter: a small U-Net that says which part of the face each pixel shows, so that an
edit changes only the pixels of the attribute it names.

InterFaceGAN edits move the whole latent, and a small generator draws colours and shapes with
shared layers: on the 64 px default model a hair colour edit also recoloured the shirt and the
background, and an eye colour edit tinted the whole picture. :func:`confine` keeps such an
edit to the regions its attribute draws (hair for hair colour and length, the eyes for eye
colour...): the edited render where those regions are - before or after the edit, grown by
``grow`` pixels and feathered - and the unedited render everywhere else. Within that area
what other attributes draw in the unedited face stays, and the other regions the edit draws
(the shoulders shorter hair uncovers) take the unedited face's colours. On the report's 500
sampled faces of the 64 px default model (judge, class edits with the rest preserved), the
share of faces whose other attributes all stayed went 0.44 -> 0.81 for eye colour, 0.22 ->
0.37 for hair colour and 0.48 -> 0.69 for hair length, at hair colour success 0.99 -> 0.99,
eye colour 0.64 -> 0.62 and hair length 0.96 -> 0.89 (the judge reads length partly from
around the hair). Attributes the segmenter cannot find are left out of ``owners`` at training
time, and their edits stay whole.

Trained by ``nfe-train segmenter`` on procedural renders, whose region maps are known exactly
(soft targets: the share of each region in a pixel). Which regions an attribute draws is part
of the config (``owners``), so the app needs nothing but the bundle. Rebuilt from its frozen
config alone: ``Segmenter(SegmenterConfig.from_dict(saved))``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nfe_core.facebox import FIGURES, Figure, grown
from nfe_core.models.config import check_resolution, config_from_dict, is_int

MIN_RESOLUTION = 16
MAX_RESOLUTION = 1024
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
UNSURE = 0.05  # a region probability below this is none: far pixels keep their exact values
_MIN_MATCH = 4.0  # pixels a region needs outside an edit for its colour to be matched
_MAX_GAIN = 2.0  # the steepest colour map :func:`colour_maps` fits, per channel
PALETTE_SURE = 0.5
"""A face's own colours in a palette's region (:func:`to_palette`) are measured on the pixels
it shows the region at with at least this probability (the blurred rim mixes in the eye's
white and lines)."""
PALETTE_REACH = 2.0
"""A pixel takes a palette's colours by its probability of showing the region times this (at
most 1): at 64 px the segmenter gives an iris's rim pixels 0.3-0.5. On 300 sampled faces of
the default model (judged, eye colour targets, the rest kept) 1 reached the target on 0.843,
2 on 0.887, others kept on 0.86 either way (0.713 and 0.863 without the palette)."""
_PALETTE_GAIN = (0.3, 2.0)  # the least and most a face's spread of colours is scaled by
RESHAPE_MOVED = (4.0, 12.0)
"""A pixel the edit changed in the render by less than the first (levels, in the most changed
channel) is not cut out by :func:`reshaped` however its regions changed, from the second on
it is (smoothstep between): on a dark-skinned drawn picture the segmenter read the neck as
hair after ``hair_length=short`` and a hair-brown patch was drawn over it."""
GONE_REACH = 16
"""A part the picture draws and the edited render surely does not is removed where it hangs
from what the edit removes (joined to it within this many render pixels), even where the
unedited render missed it: thin strands of long hair over the shirt stayed after
``hair_length=short``."""
SMALL_PEAK = 0.3
"""A small region's change is scaled to its peak when that is at least this (below, it is
the segmenter's doubt, not a drawn part)."""
PAGE_REGION = "background"
"""The region that is the page behind the face: what shorter hair uncovers of it,
:func:`reshaped` marks for the paste-back to fill with the picture's own page."""
LINE_REGION = "line"
"""The region of line work: where an edit removes a small part of the picture and draws line
work over it instead (a closed mouth), the part closes to a line (:func:`_closing`)."""
CLOSE_LINE = 0.25
"""The least probability of line work the edited render draws over a removed small part of the
picture for it to close to a line (the GAN's closed mouths at 64 px: 0.45 to 0.5)."""
OPEN_LINE = 0.15
"""The least probability of line work in the picture under a small part the edit draws for the
part to open from it (a closed mouth's line at 64 px: 0.2 to 0.56 on the 8 drawn pictures)."""
REDRAWN_FROM = 0.2
"""Below this share of a pixel drawn as another region, :func:`redrawn` says 0: the regions'
soft edges shift a little under any edit (a recolour), and there the picture keeps its own
outlines."""
COVER_BLUR = 0.7
""":func:`reshaped`'s cover is blurred by this many render pixels (a Gaussian's sigma) before
the paste-back enlarges it and cuts along its middle: edges that follow the shape rather
than the render's pixel grid."""
DRAWN_REACH = 0.05
"""The colours :func:`reshaped` draws a region in are the picture's near each pixel: within a
Gaussian of this share of the side (3.2 px at 64 px), so a gradient background stays one."""
DRAWN_MAIN_SPREAD = 24.0
"""...counting the picture's pixels there by how near their colour is to the mean near them
(a Gaussian of this many levels): the region's main colour, not a blend of its lines."""
DRAWN_SHADING = 0.7
"""The render's shading is drawn at this share of the picture's variation: the GAN's strands
at 64 px, enlarged, are mostly noise."""
DRAWN_SHADING_BLUR = 1.0
"""...and taken from the render blurred by this many render pixels (a Gaussian's sigma): its
broad light and shade, without the strands' mottle."""
REDRAWN_TO = 0.6
"""From this share on, :func:`redrawn` says 1 (smoothstep between). On the 8 drawn pictures of
benchmarks/bench_drawn_edits.py, 0..1 without the ramp kept the other attributes on 44 of 48
pasted edits, the ramp on 46 (45 without the map), targets 37 either way."""


def _names(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{what} must be a non-empty list of names, got {value!r}")
    if not all(isinstance(v, str) and _NAME.match(v) for v in value):
        raise ValueError(f"{what} must be lowercase identifiers, got {list(value)!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{what} repeats a name: {list(value)}")
    return tuple(value)


def _attribute_regions(
    value: object, key: str, regions: tuple[str, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[[attribute, [region, ...]], ...]`` of config field ``key`` checked: names, regions
    among ``regions``, each attribute once."""
    found = []
    for attribute, named in _pairs(value, key, "[attribute, [region, ...]]"):
        named = _names(named, f"{key}: the regions of {attribute!r}")
        unknown = [d for d in named if d not in regions]
        if unknown:
            raise ValueError(f"{key}: {attribute!r} names unknown regions {unknown}")
        found.append((_names([attribute], f"{key}: attribute")[0], named))
    if len({a for a, _ in found}) != len(found):
        raise ValueError(f"{key}: an attribute appears twice")
    return tuple(found)


def _pairs(value: object, key: str, shape: str) -> list[tuple[Any, Any]]:
    """``value`` as a list of two-item pairs, or a ValueError naming ``key`` and ``shape``."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"{key} must be a list of {shape} pairs, got {value!r}")
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"{key}: expected an {shape} pair, got {item!r}")
    return [(first, second) for first, second in value]


Swatch = tuple[float, float, float]
"""An RGB triple in 0..255 pixel units: a class's mean colour, or its spread, per channel."""
Swatches = tuple[tuple[str, Swatch, Swatch], ...]
"""A palette's ``(class, mean, spread)`` per class."""


def _swatch(value: object, what: str, largest: float) -> Swatch:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 3
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(0 <= v <= largest for v in value)
    ):
        raise ValueError(f"{what} must be three numbers from 0 to {largest:g}, got {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def _palettes(
    value: object,
    recolours: tuple[tuple[str, int], ...],
    regions: tuple[str, ...],
    key: str = "palettes",
) -> tuple[tuple[str, str, Swatches], ...]:
    """The config's ``palettes`` (or another field ``key`` of their form) checked:
    ``[[attribute, region, [[class, mean, spread], ...]], ...]`` for attributes among the
    ``recolours``, a region among ``regions``, each attribute and class once, colours in
    pixel units."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"{key} must be a list of [attribute, region, swatches], got {value!r}")
    found = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise ValueError(f"{key}: expected [attribute, region, swatches], got {item!r}")
        attribute, region, swatches = item
        if attribute not in dict(recolours):
            raise ValueError(f"{key}: {attribute!r} is not one of the recolours")
        if region not in regions:
            raise ValueError(f"{key}: {attribute!r} names unknown region {region!r}")
        if not isinstance(swatches, list | tuple) or not swatches:
            raise ValueError(f"{key}: {attribute!r} needs [class, mean, spread] swatches")
        checked = []
        for swatch in swatches:
            if not isinstance(swatch, list | tuple) or len(swatch) != 3:
                raise ValueError(f"{key}: expected [class, mean, spread], got {swatch!r}")
            name = _names([swatch[0]], f"{key}: a class of {attribute!r}")[0]
            what = f"{key}: {attribute}={name}"
            mean = _swatch(swatch[1], f"{what}: the mean", 255.0)
            spread = _swatch(swatch[2], f"{what}: the spread", 128.0)
            checked.append((name, mean, spread))
        _names([c for c, _, _ in checked], f"{key}: the classes of {attribute!r}")
        found.append((attribute, region, tuple(checked)))
    if len({a for a, _, _ in found}) != len(found):
        raise ValueError(f"{key}: an attribute appears twice")
    return tuple(found)


def _figure_classes(
    value: object, owners: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[tuple[str, tuple[str, ...], tuple[tuple[float, float, float], ...]], ...]:
    """The config's ``figures`` checked: per owner at most once, classes named as
    :data:`~nfe_core.facebox.FIGURES`, one or more colours of 3 numbers from 0 to 255."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"figures must be a list of [attribute, classes, colours], got {value!r}")
    found = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise ValueError(f"figures: each must be [attribute, classes, colours], got {item!r}")
        attribute, classes, colours = item
        if attribute not in {a for a, _ in owners}:
            raise ValueError(f"figures: {attribute!r} is not one of the owners")
        classes = _names(classes, f"figures of {attribute}")
        if any(c not in FIGURES for c in classes):
            raise ValueError(f"figures: {list(classes)} must be some of {sorted(FIGURES)}")
        if not isinstance(colours, list | tuple) or not colours:
            raise ValueError(f"figures: {attribute!r} needs colours of 3 numbers from 0 to 255")
        what = f"figures: {attribute!r} needs colours of 3 numbers: each"
        found.append((attribute, classes, tuple(_swatch(c, what, 255.0) for c in colours)))
    if len({a for a, _, _ in found}) != len(found):
        raise ValueError("figures: an attribute appears twice")
    return tuple(found)


@dataclass(frozen=True)
class SegmenterConfig:
    """Architecture of a `Segmenter` and what its regions mean; stored beside its weights."""

    resolution: int  # the generator's resolution (power of two)
    regions: tuple[str, ...]  # output channels, in order ("background", "hair", ...)
    owners: tuple[tuple[str, tuple[str, ...]], ...]  # (attribute, the regions it draws)
    channels: tuple[int, ...] = (16, 32, 64)  # per level, full resolution first (x8 each)
    grow: int = 1  # pixels an edit's area grows by beyond its regions
    # (attribute, pixels) of the owners that change colours, not shapes: see confine
    recolours: tuple[tuple[str, int], ...] = ()
    # (attribute, regions) an owner's edit may also change without drawing them: the GAN's
    # blush and glasses tint the face's skin. Unlike the owned regions, other attributes'
    # edits do not keep them (see Segmenter.kept_channels)
    spills: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (attribute, region, ((class, mean, spread), ...)): the colours (RGB, 0..255; mean and
    # spread per channel) the model draws each class of a recolouring attribute with in that
    # region, measured on its own faces; a class target takes them (see to_palette)
    palettes: tuple[tuple[str, str, Swatches], ...] = ()
    # likewise, the colours each class shows in that region on faces drawn at several times
    # the model's size and brought down to it (the procedural faces, as an artist's picture
    # is): on a picture, a class target turns the region's hue from the picture's own colours
    # to them (see nfe_core.pipeline.recolour_map); the model's own can be far from them
    picture_palettes: tuple[tuple[str, str, Swatches], ...] = ()
    # regions drawn as line work (glasses' frames): on a picture, an edit that draws them
    # draws lines fitted to them at the picture's size (see reshaped)
    strokes: tuple[str, ...] = ()
    # regions that line work is drawn around (glasses' frames hold the eyes): on a picture, a
    # class target the render drew no frames for gets them around these (see _eye_frames),
    # figures the render drew none of are placed from them (see _figures), and the edits
    # of below_eyes are kept below them
    holds: tuple[str, ...] = ()
    # (attribute, classes, colours): the classes of an attribute that the paste-back draws on
    # a picture as the figures of those names (nfe_core.facebox.FIGURES: accessories), in the
    # nearest of the colours (RGB, 0..255) the faces wear them in (see _figures); or the one
    # figure worn in pairs that a tint set to its class draws (a blush: see _worn_in_pairs)
    figures: tuple[tuple[str, tuple[str, ...], tuple[tuple[float, float, float], ...]], ...] = ()
    # attributes whose edits change their regions' shapes only below what the config's
    # ``holds`` (the eyes): hair length. On a picture their cut stays below the eyes and
    # tapers in from the picture's outline (see _cut_out): the GAN's shorter hair also
    # raised the fringe, uncovering a grey smear over the eyelashes, and its longer hair grew
    # the head's outline by a pixel, a light line around the top of the head
    below_eyes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        r = check_resolution(self.resolution, MIN_RESOLUTION, MAX_RESOLUTION)
        regions = _names(self.regions, "regions")
        object.__setattr__(self, "regions", regions)
        owners = _attribute_regions(self.owners, "owners", regions)
        object.__setattr__(self, "owners", owners)
        channels = self.channels
        if (
            not isinstance(channels, list | tuple)
            or not channels
            or not all(is_int(c) and c >= 8 and c % 8 == 0 for c in channels)
        ):
            raise ValueError(f"channels must be multiples of 8 (one per level), got {channels!r}")
        object.__setattr__(self, "channels", tuple(channels))
        if 2 ** (len(channels) - 1) > r:
            raise ValueError(f"{len(channels)} levels halve {r} px below 1 px")
        if not is_int(self.grow) or not 0 <= self.grow <= 8:
            raise ValueError(
                f"grow must be a whole number of pixels from 0 to 8, got {self.grow!r}"
            )
        recolours = []
        for attribute, pixels in _pairs(self.recolours, "recolours", "[attribute, pixels]"):
            if attribute not in {a for a, _ in owners}:
                raise ValueError(f"recolours: {attribute!r} is not one of the owners")
            if not is_int(pixels) or not 0 <= pixels <= 8:
                raise ValueError(
                    f"recolours: {attribute!r} must grow by 0 to 8 pixels, got {pixels!r}"
                )
            recolours.append((attribute, pixels))
        if len({a for a, _ in recolours}) != len(recolours):
            raise ValueError("recolours: an attribute appears twice")
        object.__setattr__(self, "recolours", tuple(recolours))
        spills = _attribute_regions(self.spills, "spills", regions)
        for attribute, _ in spills:
            if attribute not in {a for a, _ in owners}:
                raise ValueError(f"spills: {attribute!r} is not one of the owners")
        object.__setattr__(self, "spills", spills)
        object.__setattr__(self, "palettes", _palettes(self.palettes, recolours, regions))
        pictures = _palettes(self.picture_palettes, recolours, regions, "picture_palettes")
        object.__setattr__(self, "picture_palettes", pictures)
        strokes = _names(self.strokes, "strokes") if self.strokes else ()
        drawn = {r for _, named in owners for r in named}
        if any(r not in drawn for r in strokes):
            raise ValueError(f"strokes: {list(strokes)} are not all regions an owner draws")
        object.__setattr__(self, "strokes", strokes)
        figures = _figure_classes(self.figures, owners)
        object.__setattr__(self, "figures", figures)
        below = _names(self.below_eyes, "below_eyes") if self.below_eyes else ()
        holds = _names(self.holds, "holds") if self.holds else ()
        if any(r not in regions for r in holds) or (holds and not (strokes or figures or below)):
            raise ValueError(
                f"holds: {list(holds)} must be regions, held by strokes, placing figures or "
                "keeping edits below them"
            )
        object.__setattr__(self, "holds", holds)
        shaped = {a for a, _ in owners} - {a for a, _ in recolours}
        if any(a not in shaped for a in below) or (below and not holds):
            raise ValueError(
                f"below_eyes: {list(below)} must be owners that change shapes, kept below the "
                "regions the config holds"
            )
        object.__setattr__(self, "below_eyes", below)

    @property
    def owned(self) -> dict[str, tuple[str, ...]]:
        """The regions each attribute draws."""
        return dict(self.owners)

    @property
    def held(self) -> list[int]:
        """The channels of the regions that line work is drawn around (:attr:`holds`)."""
        return [self.regions.index(name) for name in self.holds]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` rebuilds the config."""
        d = dataclasses.asdict(self)
        d["regions"] = list(self.regions)
        d["owners"] = [[a, list(r)] for a, r in self.owners]
        d["channels"] = list(self.channels)
        d["recolours"] = [[a, n] for a, n in self.recolours]
        d["spills"] = [[a, list(r)] for a, r in self.spills]
        d["strokes"] = list(self.strokes)
        d["holds"] = list(self.holds)
        d["below_eyes"] = list(self.below_eyes)
        if not self.below_eyes:  # a bundle without it stays readable by NFE before it
            del d["below_eyes"]
        d["figures"] = [[a, list(c), [list(x) for x in colours]] for a, c, colours in self.figures]
        for key in ("palettes", "picture_palettes"):
            d[key] = [
                [a, region, [[c, list(mean), list(spread)] for c, mean, spread in swatches]]
                for a, region, swatches in getattr(self, key)
            ]
        return d

    def palette(
        self, attribute: str, pictures: bool = False
    ) -> tuple[str, dict[str, tuple[Swatch, Swatch]]] | None:
        """``attribute``'s palette as ``(region, {class: (mean, spread)})``; None without.
        ``pictures``: its picture palette (``picture_palettes``) instead."""
        for name, region, swatches in self.picture_palettes if pictures else self.palettes:
            if name == attribute:
                return region, {c: (mean, spread) for c, mean, spread in swatches}
        return None

    @classmethod
    def from_dict(cls, d: object) -> SegmenterConfig:
        """The config saved by :meth:`to_dict`; ValueError on unknown or missing keys."""
        return config_from_dict(cls, d)


class _Block(nn.Sequential):
    """Two 3x3 convolutions with group norm and SiLU: (N, C_in, H, W) -> (N, C_out, H, W)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1),
            nn.GroupNorm(8, c_out),
            nn.SiLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1),
            nn.GroupNorm(8, c_out),
            nn.SiLU(),
        )


class Segmenter(nn.Module):
    """Images (N, 3, R, R) in -1..1 -> region logits (N, len(regions), R, R).

    A U-Net: per level a block, average pooling down, bilinear upsampling and a block over
    the skip connection on the way up.
    """

    def __init__(self, config: SegmenterConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.down = nn.ModuleList(_Block(a, b) for a, b in zip((3, *c[:-1]), c, strict=True))
        self.up = nn.ModuleList(
            _Block(deep + skip, skip) for deep, skip in itertools.pairwise(c[::-1])
        )
        self.out = nn.Conv2d(c[0], len(config.regions), 1)

    def forward(self, images: Tensor) -> Tensor:
        r = self.config.resolution
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[-2:] != (r, r):
            raise ValueError(f"expected images (N, 3, {r}, {r}), got shape {tuple(images.shape)}")
        return self._logits(images)

    def _logits(self, images: Tensor) -> Tensor:
        skips = []
        x = images
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, skips[-2::-1], strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.out(x)

    @torch.no_grad()
    def probabilities(self, images: Tensor, any_size: bool = False) -> Tensor:
        """Each region's probability per pixel of images (N, 3, R, R) in -1..1:
        (N, len(regions), R, R). Runs in eval mode and restores the mode. ``any_size``: images
        of any size (N, 3, H, W) read as they are (it learned faces the size of its input, so
        only small parts, eyes, read the same in a larger picture)."""
        was_training = self.training
        self.eval()
        try:
            read = self._logits if any_size else self
            return read(images.float()).softmax(dim=1)
        finally:
            self.train(was_training)

    def channels(self, attributes: Iterable[str]) -> list[int] | None:
        """The region channels ``attributes`` draw or spill over (the config's ``spills``);
        None when one of them has no regions here (an edit of it may change anything)."""
        owned, spills = self.config.owned, dict(self.config.spills)
        wanted: set[str] = set()
        for attribute in attributes:
            if attribute not in owned:
                return None
            wanted.update(owned[attribute] + spills.get(attribute, ()))
        return [i for i, name in enumerate(self.config.regions) if name in wanted]

    def kept_channels(self, attributes: Iterable[str]) -> list[int]:
        """The region channels that attributes other than ``attributes`` draw, less those
        ``attributes`` draw or spill over: an edit of ``attributes`` leaves them as they
        are. What another attribute only spills over (the skin) is not kept."""
        edited = set(attributes)
        mine = {r for a, drawn in self.config.owners if a in edited for r in drawn}
        mine |= {r for a, spilt in self.config.spills if a in edited for r in spilt}
        theirs = {r for a, drawn in self.config.owners if a not in edited for r in drawn}
        return [i for i, name in enumerate(self.config.regions) if name in theirs - mine]


@torch.no_grad()
def confine(
    segmenter: Segmenter,
    before: Tensor,
    after: Tensor,
    attributes: Iterable[str],
    before_regions: Tensor | None = None,
) -> Tensor:
    """``after`` (an edit of ``before``; both (N, 3, R, R) in -1..1) kept to where the edited
    ``attributes`` are drawn: the regions they own in either image, grown by the config's
    ``grow`` pixels and feathered by one, blend ``after`` in; elsewhere ``before`` stays
    exactly, and so do the regions other attributes draw in ``before`` (a hair clip keeps its
    pixels through a hair colour edit). ``after`` unchanged when an attribute has no regions
    (see :meth:`Segmenter.channels`).

    Inside that area, what the edit drew of other regions - the shirt or background that
    shorter hair uncovers, the skin at the hair's edge - takes the colours those regions have
    in ``before`` (:func:`match_regions`): the GAN's edit recolours them too, and a patch of
    its green shirt would show in the unedited blue one.

    When every edited attribute is one of the config's ``recolours`` (hair or eye colour:
    edits that change colours, not shapes), the area is their regions in ``before`` alone,
    grown by the pixels given there and not feathered, and inside it what ``after`` drew of
    other regions takes ``before`` recoloured (:func:`keep_shapes`). The GAN redraws a
    recoloured outline a little larger and softer, and pasted back into a picture that rim was
    a glow around pink hair and a blue smudge around blue eyes
    (benchmarks/bench_drawn_edits.py --show); it also draws the hair shorter or longer now
    and then, which a hair colour edit should not.

    ``before_regions``: ``segmenter.probabilities(before)`` when the caller has it (a face
    edited step after step keeps its unedited regions); (N or 1, regions, R, R)."""
    if before.shape != after.shape:
        raise ValueError(f"before {tuple(before.shape)} and after {tuple(after.shape)} differ")
    attributes = list(attributes)
    own = segmenter.channels(attributes)
    if own is None:
        return after
    p_before, p_after = _both_regions(segmenter, before, after, before_regions)
    p_before, p_after = p_before.to(before.dtype), p_after.to(before.dtype)
    recolours = dict(segmenter.config.recolours)
    if attributes and all(a in recolours for a in attributes):
        # a recolour keeps the unedited face's shapes: its regions there, grown but not
        # feathered (what the GAN redraws beyond them pasted back as a glow)
        mask = p_before[:, own].sum(dim=1, keepdim=True)
        mask = torch.where(mask < UNSURE, torch.zeros_like(mask), mask)
        for _ in range(max(recolours[a] for a in attributes)):
            mask = F.max_pool2d(mask, 3, stride=1, padding=1)
        after = keep_shapes(before, after, p_before[:, own], p_after[:, own])
    else:
        mask = torch.maximum(
            p_before[:, own].sum(dim=1, keepdim=True), p_after[:, own].sum(dim=1, keepdim=True)
        )
        mask = torch.where(mask < UNSURE, torch.zeros_like(mask), mask)
        for _ in range(segmenter.config.grow):
            mask = F.max_pool2d(mask, 3, stride=1, padding=1)
        mask = F.avg_pool2d(F.pad(mask, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
        mask = mask.clamp(0, 1)
    # what other attributes draw in the unedited picture stays (a hair clip in the hair)
    kept = segmenter.kept_channels(attributes)
    if kept:
        mask = mask * (1 - p_before[:, kept].sum(dim=1, keepdim=True))
    others = [i for i in range(p_before.shape[1]) if i not in own]
    after = match_regions(before, after, p_before[:, others], p_after[:, others], 1 - mask)
    mask = mask.to(before.dtype)
    return torch.where(mask > 0, before + mask * (after - before), before)


@torch.no_grad()
def to_palette(
    segmenter: Segmenter,
    images: Tensor,
    attribute: str,
    targets: Iterable[str | None],
    regions: Tensor | None = None,
) -> Tensor:
    """``images`` (N, 3, R, R) in -1..1 with the region of ``attribute``'s palette (the
    config's ``palettes``: the iris for eye colour) in each target class's colours: per
    channel, the face's colours there (mean and spread over the pixels it shows the region
    at surely, :data:`PALETTE_SURE`) moved to the class's as the model draws it, each pixel
    by its probability of showing the region (times :data:`PALETTE_REACH`, at most 1). The
    shading and highlights within it stay (its spread is scaled, not replaced). An image
    whose target is None or a class the palette lacks, or without the region, stays as it
    is; so do all of them when ``attribute`` has no palette.

    The 64 px default model draws eyes of two or three hues, and an eye colour edit often
    leaves a muddle that one reader sees as the target and another as not: on 300 sampled
    faces an eye colour target reached its class (judged) on 0.713 of them without this and
    0.887 with it, others kept on 0.863 and 0.86. ``regions``: ``images``' region
    probabilities (N, regions, R, R) when the caller has them."""
    targets = list(targets)
    if len(targets) != len(images):
        raise ValueError(f"{len(images)} images but {len(targets)} targets")
    found = segmenter.config.palette(attribute)
    if found is None:
        return images
    region, swatches = found
    chosen = [i for i, t in enumerate(targets) if t is not None and t in swatches]
    if not chosen:
        return images
    picked = images[chosen]
    regions = segmenter.probabilities(picked) if regions is None else regions[chosen]
    p = regions[:, segmenter.config.regions.index(region)].to(images.dtype)  # (n, R, R)
    sure = (p >= PALETTE_SURE).to(images.dtype)
    sure = torch.where(sure.sum(dim=(1, 2), keepdim=True) >= 1.0, sure, p)
    mean, spread = region_colours(picked, sure)
    centred = picked - mean[..., None, None]
    swatch = torch.tensor(
        [swatches[targets[i]] for i in chosen], dtype=images.dtype, device=images.device
    )  # (n, 2, 3) in pixel units
    mean_to = swatch[:, 0] / 127.5 - 1.0
    spread_to = swatch[:, 1] / 127.5
    gain = (spread_to / spread.clamp_min(0.02)).clamp(*_PALETTE_GAIN)
    painted = mean_to[..., None, None] + centred * gain[..., None, None]
    weight = (p * PALETTE_REACH).clamp(max=1.0)[:, None]
    weight = torch.where(p[:, None] < UNSURE, torch.zeros_like(weight), weight)
    out = images.clone()
    out[chosen] = (picked + weight * (painted - picked)).clamp(-1, 1)
    return out


def region_colours(images: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """Per image and channel, the mean and spread (standard deviation) of ``images``' (N, 3,
    R, R) colours over a region, each pixel counted by ``weight`` (N, R, R): (N, 3) each,
    in the images' units; 0 and 0 for a region of no weight. Used by :func:`to_palette` and
    to measure the palettes (``training.segmenter.class_palettes``)."""
    total = weight.sum(dim=(1, 2)).clamp_min(1e-6)[:, None]
    mean = torch.einsum("nhw,nchw->nc", weight, images) / total
    centred = images - mean[..., None, None]
    spread = (torch.einsum("nhw,nchw->nc", weight, centred * centred) / total).sqrt()
    return mean, spread


@torch.no_grad()
def redrawn(
    segmenter: Segmenter, before: Tensor, after: Tensor, before_regions: Tensor | None = None
) -> Tensor:
    """How much of each pixel the edit ``before`` -> ``after`` (both (N, 3, R, R) in -1..1)
    drew as another part of the face: (N, R, R) in 0..1, the share of region probability the
    two do not have in common (1 - sum over regions of the lesser of the two), through a
    smoothstep from :data:`REDRAWN_FROM` to :data:`REDRAWN_TO`. High where longer hair now
    covers the background or shorter hair uncovers the shirt; 0 where a recolour kept the
    regions. The paste-back makes such pixels opaque
    (:func:`~nfe_core.facebox.paste_back`'s ``redrawn``). ``before_regions`` as in
    :func:`confine`."""
    if before.shape != after.shape:
        raise ValueError(f"before {tuple(before.shape)} and after {tuple(after.shape)} differ")
    p_before, p_after = _both_regions(segmenter, before, after, before_regions)
    other = 1.0 - torch.minimum(p_before, p_after).sum(dim=1)
    return _smoothstep(other, REDRAWN_FROM, REDRAWN_TO)


def _smoothstep(x: Tensor, low: float, high: float) -> Tensor:
    """0 up to ``low``, 1 from ``high``, a smoothstep between."""
    t = ((x - low) / (high - low)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class StrokeLine(NamedTuple):
    """A line to draw over the picture (:func:`reshaped`): ``points`` (K, 2) as (x, y) in
    render pixels, ``width`` in render pixels, ``colour`` RGB in 0..255, ``opacity``."""

    points: np.ndarray
    width: float
    colour: tuple[float, float, float]
    opacity: float = 1.0


class Reshaped(NamedTuple):
    """:func:`reshaped`'s answer, per image: where the edit drew or removed a part of the
    picture (``cover``, (N, R, R) in 0..1), the edited render in the picture's colours to draw
    there (``drawn``, (N, 3, R, R) in pixel units, 0..255), and where the renders' difference
    still applies (``kept``, (N, R, R) in 0..1: the picture's own regions of the edit); the
    picture's page (:data:`PAGE_REGION`, ``page``) and the part of the cover that shows the
    page where the edit removed something (``uncovered``), for the paste-back to fill with
    the picture's own page (both (N, R, R) in 0..1; zeros without such a region); the
    picture's own regions of the edit that grew (``strands``: its hair) and the share of the
    cover that shows them grown (``grown``), for the paste-back to continue the picture's
    strands into (both (N, R, R) in 0..1); per image, the lines to draw over it (``lines``:
    glasses' frames, :func:`_outlines`), None for none; the picture's small parts the edit
    closes to a line (``closed``, (N, R, R) in 0..1: an open mouth closed, :func:`_closing`),
    None for none; those it removes whole, to be filled from around them (``erased``,
    likewise: a hair clip for ``accessory=none``); and the picture's line work a small part
    it draws opens from (``opened``, likewise: a closed mouth's line, :func:`_opening`); per
    image, the figures drawn over it (``figures``: an accessory a class target asks for,
    :func:`_figures`), None for none; and the picture's tints the edit takes away, to be
    filled with the main colour around them (``cleared``, (N, R, R) in 0..1: its blush for
    ``blush=false``), None for none; and what the fills of ``erased`` parts leave as it is
    (``spared``, likewise: the eyes inside glasses' frames removed for ``glasses=false``,
    whose lashes are the frames' colour), None for none; and per image, where hair length
    starts to change (``eyes``: the middle (x, y) of the line below the eyes, render pixels,
    :func:`eyes_line`, where the edit makes the hair longer; None where it does not or no
    eyes are found), None when it is not edited."""

    cover: Tensor
    drawn: Tensor
    kept: Tensor
    page: Tensor
    uncovered: Tensor
    strands: Tensor
    grown: Tensor
    lines: list[list[StrokeLine]] | None = None
    closed: Tensor | None = None
    erased: Tensor | None = None
    opened: Tensor | None = None
    figures: list[list[Figure]] | None = None
    cleared: Tensor | None = None
    spared: Tensor | None = None
    eyes: list[tuple[float, float] | None] | None = None


@torch.no_grad()
def reshaped(
    segmenter: Segmenter,
    picture: Tensor,
    before: Tensor,
    after: Tensor,
    attributes: Iterable[str],
    before_regions: Tensor | None = None,
    minimum: float = 0.0,
    whole: Mapping[str, str] | None = None,
    absent: Iterable[str] = (),
    picture_regions: Tensor | None = None,
    figures_from: Tensor | None = None,
    sliders: Mapping[str, tuple[str | None, float]] | None = None,
) -> Reshaped | None:
    """How an edit that changes shapes (``before`` -> ``after``, the unedited and edited
    renders of the face the ``picture``'s crop was inverted to; all (N, 3, R, R) in -1..1)
    is made on the picture: None when an edited attribute has no regions here, or when every
    one is one of the config's ``recolours`` (they keep shapes); for an edit that spills over
    others (blush, glasses: a tint, not a shape), nothing cut out and the renders' difference
    kept near its own regions (:func:`_tinted`: the GAN's tint of the whole skin, pasted,
    darkened whole faces); edited with others, those are cut out as below and the tint joins
    them (in the app every edit of a face is made at once). Where the regions of the others
    show on fewer than ``minimum`` pixels (their probabilities' sum) in both the picture and
    ``after`` (an open mouth at 64 px shows on about 5), their change is scaled to its peak
    (when that is at least :data:`SMALL_PEAK`) and grown by a pixel before it is cut: cut at
    half its probability, an open mouth was a dot.

    ``cover``: where the regions of the edited attributes that change shapes grew in
    ``after`` beyond both the picture's and ``before``'s (longer hair over the shirt), or
    shrank in ``after`` from both (shorter hair, and the picture's outline of it), and the
    render changed (:data:`RESHAPE_MOVED`), blurred by :data:`COVER_BLUR` pixels for the
    paste-back to cut along its middle.

    ``drawn``: ``after`` with each region's colours made the picture's: per region, its
    mean colour near each pixel in the picture (within about :data:`DRAWN_REACH` of the
    side; the region's mean where the picture has none near), and in the grown regions plus
    the render's shading, the pixel's distance (blurred by :data:`DRAWN_SHADING_BLUR`) from
    the region's local mean in ``after`` along the direction its colours vary most in
    ``before``, scaled to the picture's variation along its own (times
    :data:`DRAWN_SHADING`). The edited attributes' own
    regions keep ``after``'s colours unless the config's ``recolours`` name another
    attribute, not edited, that colours them (hair length's hair: hair colour's). Grown
    pixels show only the grown regions and removed ones only the others, and both reach a
    few pixels beyond the cover, so that its cut is the hair's edge. The GAN draws long
    hair's tips orange and the background behind shorter hair in its own blurred colours;
    pasted as a difference the tips were orange streaks over the shirt, and the removed hair
    stayed as a ghost of its outline.

    ``kept``: the edited attributes' regions in the picture, less those whose colours
    ``drawn`` takes from the picture (a length edit leaves the hair the artist drew as it
    was), where the difference of the renders is still pasted (nowhere else: the GAN's soft
    strands tinted the shirt beside them).

    ``whole``: the attributes edited to a class, and the class (the whole truth about them):
    a small part of theirs in the picture that the edit removes is ``erased``, for the
    paste-back to fill from around it, though the unedited render missed it
    (``accessory=none`` left a picture's hair clip that its reconstruction never drew);
    strokes the edit draws but that fit no frames are drawn around what they hold
    (:func:`_tinted`: glasses around the eyes); and a class the config draws as a figure
    (``accessory=bow``) is drawn as one where the render drew it, or where the faces wear it
    (:func:`_figures`), the picture's own part of the attribute erased. ``absent``: those of
    them set to the class without it (a binary attribute's negative: ``blush=false``): a
    tint's own region in the picture is cleared (:func:`_tinted`). ``picture_regions``: the
    picture's region probabilities, read where it is as drawn when ``picture`` is recoloured
    (a pink hair clip in hair turned pink was read as hair, and stayed beside a new bow).
    ``figures_from``: the render the figures are placed by (default ``after``), when
    ``after`` is drawn without their edits. ``sliders``: the strength edits among them
    (attribute: (its class for a per-class one, else None; strength)): a tint's towards its
    class draws its figures part of the way (:func:`_worn_in_pairs`), and one towards a class
    drawn as a figure draws it where the render drew a blob of it (:func:`_figures`).

    ``closed``: a small part of the picture the edit removes and draws line work over
    instead (:func:`_closing`: an open mouth closed) is neither cut nor kept; the paste-back
    fills it from the skin around it and draws the line at the picture's size (the GAN's
    closed mouth, enlarged, was a blurred square with a smudge in it)."""
    attributes = list(attributes)
    owned, spills = segmenter.config.owned, dict(segmenter.config.spills)
    if not attributes or any(a not in owned for a in attributes):
        return None
    if not before.shape == after.shape == picture.shape:
        raise ValueError(
            f"picture {tuple(picture.shape)}, before {tuple(before.shape)} and after "
            f"{tuple(after.shape)} differ"
        )
    if figures_from is not None and figures_from.shape != after.shape:
        raise ValueError(
            f"figures_from {tuple(figures_from.shape)} and after {tuple(after.shape)} differ"
        )
    tinting = [a for a in attributes if a in spills]
    rest = [a for a in attributes if a not in spills]
    recolours = dict(segmenter.config.recolours)
    if not tinting and all(a in recolours for a in rest):
        return None  # an eye colour edit keeps shapes
    # the regions of the picture and both renders, found once for the cut and the tint
    # (the picture's read where it is as drawn when the caller gives them: before a recolour)
    given = (picture_regions, before_regions)
    unread = [
        image for image, regions in zip((picture, before), given, strict=True) if regions is None
    ]
    placing = [] if figures_from is None else [figures_from]
    read = list(segmenter.probabilities(torch.cat([*unread, after, *placing])).split(len(after)))
    placed = (figures_from, read.pop()) if figures_from is not None else None
    p_after = read.pop()
    p_pic, p_before = (
        read.pop(0) if regions is None else regions.to(p_after).expand_as(p_after)
        for regions in given
    )
    found = (p_pic, p_before, p_after)
    whole = dict(whole or {})
    cut = _cut_out(segmenter, picture, before, after, rest, found, minimum, whole, placed, sliders)
    if not tinting:
        return cut
    # the others' regions in the picture take their difference when none is cut (hair colour)
    also = [] if cut is not None else rest
    tint = _tinted(
        segmenter, picture, after, tinting, found, also, set(whole), set(absent), sliders
    )
    if cut is None:
        return tint
    figures = tint.figures
    if cut.figures is not None:
        figures = [
            a + b for a, b in zip(cut.figures, tint.figures or [[]] * len(after), strict=True)
        ]
    erased = tint.erased if cut.erased is None else cut.erased
    if cut.erased is not None and tint.erased is not None:
        erased = torch.maximum(cut.erased, tint.erased)
    return cut._replace(
        kept=torch.maximum(cut.kept, tint.kept),
        lines=tint.lines,
        cleared=tint.cleared,
        figures=figures,
        erased=erased,
        spared=tint.spared,
    )


def _small_removed(p_pic: Tensor, p_after: Tensor, channels: list[int], minimum: float) -> Tensor:
    """Per image (N,) bool: whether the part of ``channels`` is small in the picture (shows
    on fewer than ``minimum`` pixels, its probabilities' sum, and surely somewhere:
    :data:`SMALL_PEAK`) and the edit removes it (``after`` shows less than half of that)."""
    pc, pa = p_pic[:, channels].sum(dim=1), p_after[:, channels].sum(dim=1)
    area = pc.sum(dim=(1, 2))
    return (
        (area < minimum) & (pc.amax(dim=(1, 2)) >= SMALL_PEAK) & (pa.sum(dim=(1, 2)) < 0.5 * area)
    )


def _marked(
    p_pic: Tensor, parts: list[list[int]], mark: Callable[[list[int]], tuple[Tensor, Tensor]]
) -> tuple[Tensor, Tensor]:
    """Of the ``parts`` (each its region channels), those ``mark`` takes: it gives, per part,
    on which images it is taken ((N,) bool) and its map there ((N, R, R)). Returns the maps'
    maximum over the parts taken, (N, R, R) in 0..1 (zeros for none), and the channels taken,
    (N, K) bool (``p_pic``: any (N, K, R, R) of the images, for the shapes)."""
    maps = torch.zeros_like(p_pic[:, 0])
    taken = torch.zeros(p_pic.shape[:2], dtype=torch.bool, device=p_pic.device)
    for channels in parts:
        takes, part = mark(channels)
        maps = torch.where(takes[:, None, None], torch.maximum(maps, part), maps)
        taken[:, channels] |= takes[:, None]
    return maps.clamp(0, 1), taken


def _closing(
    names: tuple[str, ...],
    p_pic: Tensor,
    p_after: Tensor,
    parts: list[list[int]],
    minimum: float,
) -> tuple[Tensor, Tensor]:
    """Where the picture's small parts close to a line: of the ``parts`` (per shaped
    attribute, its region channels), each small one the edit removes (:func:`_small_removed`)
    under line work the edited render draws (:data:`LINE_REGION` at :data:`CLOSE_LINE` or
    more within a pixel of it): its probability in the picture ``p_pic``, (N, R, R) in 0..1
    (zeros for none); and which channels close, (N, K) bool."""
    lined = LINE_REGION in names and minimum > 0  # none without line work
    line = p_after[:, names.index(LINE_REGION)] if lined else torch.zeros_like(p_after[:, 0])

    def closes(channels: list[int]) -> tuple[Tensor, Tensor]:
        pc = p_pic[:, channels].sum(dim=1)
        near = F.max_pool2d(pc[:, None], 3, stride=1, padding=1)[:, 0] >= SMALL_PEAK
        drawn = torch.where(near, line, torch.zeros_like(line)).amax(dim=(1, 2))
        return _small_removed(p_pic, p_after, channels, minimum) & (drawn >= CLOSE_LINE), pc

    return _marked(p_pic, parts if lined else [], closes)


def _opening(
    names: tuple[str, ...],
    p_pic: Tensor,
    p_after: Tensor,
    parts: list[list[int]],
    minimum: float,
) -> tuple[Tensor, Tensor]:
    """Where the picture's line work opens into a small part the edit draws (an open mouth
    where the picture drew a closed one's line): of the ``parts`` (per shaped attribute, its
    region channels), each that shows on fewer than ``minimum`` pixels in ``after`` (surely
    somewhere: :data:`SMALL_PEAK`), on more than twice the picture's, over the picture's
    line work (:data:`LINE_REGION` at :data:`OPEN_LINE` or more within two pixels of it):
    the picture's line probability there, (N, R, R) in 0..1 (zeros for none); and which
    channels open, (N, K) bool."""
    lined = LINE_REGION in names and minimum > 0  # none without line work
    line = p_pic[:, names.index(LINE_REGION)] if lined else torch.zeros_like(p_pic[:, 0])

    def opens(channels: list[int]) -> tuple[Tensor, Tensor]:
        pc, pa = p_pic[:, channels].sum(dim=1), p_after[:, channels].sum(dim=1)
        area = pa.sum(dim=(1, 2))
        near = F.max_pool2d((pa >= SMALL_PEAK)[:, None].to(pa), 5, stride=1, padding=2)[:, 0]
        under = line * near
        takes = (
            (area < minimum)
            & (pa.amax(dim=(1, 2)) >= SMALL_PEAK)
            & (area > 2 * pc.sum(dim=(1, 2)))
            & (under.amax(dim=(1, 2)) >= OPEN_LINE)
        )
        return takes, under

    return _marked(p_pic, parts if lined else [], opens)


FIGURE_NEW = 4.0
"""Pixels (their probabilities' sum) of an attribute drawn as figures that a class target's
render must draw anew for the figure to go there (the GAN's bows on the 8 drawn pictures:
7 to 24; its hair clips and flowers mostly under 2: those go where the faces wear them)."""


FIGURE_SAME = 0.3
"""How near (in distances between the eyes) the picture's own part of an attribute drawn as
figures must be to where the faces wear the target class for the figure to take its place;
farther, it is another class's (a hair clip sits lower than a bow) and the figure goes where
the class is worn, on its side: the judge read a bow in a hair clip's place as a hair clip."""
FIGURE_APART = torch.tensor([0.5, 1.0, 1.0])
"""How far a figure's colour is from the picture's where it goes: luma and chroma weighted so
(against brown hair white was farthest in RGB; now a blue stands out, as an artist's would)."""


def _figures(
    config: SegmenterConfig,
    picture: Tensor,
    after: Tensor,
    p_pic: Tensor,
    p_after: Tensor,
    attributes: list[str],
    whole: Mapping[str, str],
    towards: Mapping[str, str] | None = None,
) -> tuple[Tensor, list[list[Figure]]]:
    """The figures (the config's ``figures``: accessories) that the class targets in
    ``whole`` of the ``attributes`` ask for, per image (and the sliders ``towards`` a class,
    only where the render drew a blob of it: ``accessory:bow=+X`` had pasted that blob):
    instead of the picture's own part of the attribute (:data:`FIGURE_NEW` pixels or more),
    in its colour; else where the render
    ``after`` draws the attribute's regions anew, in the nearest of the config's colours to
    theirs (the GAN's 64 px bow is a muted blob); on the side of either, where the procedural
    faces wear the class (from the eyes: the config's ``holds``, :func:`_eye_pair`), or where
    it is when that is near (:data:`FIGURE_SAME`). Else where the faces wear it, on the left
    (where this model draws them), in the config's colour farthest from the picture's there
    (:data:`FIGURE_APART`). Each faces outwards from the middle of the eyes; its unit is the
    distance between them (without them, the size of what the picture or the render drew, and
    there). A target of the attribute's other class (``accessory=none``) draws none and removes
    the picture's own part whole, however large (a bow the render kept). Returns which
    channels are drawn as figures or removed, (N, K) bool, and the figures."""
    names, owned = config.regions, config.owned
    n, side = len(picture), picture.shape[-1]
    taken = torch.zeros(p_pic.shape[:2], dtype=torch.bool, device=p_pic.device)
    found: list[list[Figure]] = [[] for _ in range(n)]
    eyes = _eyes(config, p_pic)
    pixels = ((picture.float() + 1) * 127.5).clamp(0, 255)
    drawn = ((after.float() + 1) * 127.5).clamp(0, 255)
    ys, xs = torch.meshgrid(
        *(torch.arange(side, dtype=torch.float32, device=picture.device),) * 2, indexing="ij"
    )

    def middle_of(weight: Tensor) -> np.ndarray:
        total = weight.sum()
        return np.array([float((weight * xs).sum() / total), float((weight * ys).sum() / total)])

    for attribute, classes, colours in config.figures:
        target = whole.get(attribute)
        sliding = target is None
        if sliding:
            target = (towards or {}).get(attribute)
        if attribute not in attributes or target is None or FIGURES[classes[0]].pair:
            continue  # a pair (a blush) is a tint's (see _tinted)
        if sliding and target not in classes:
            continue
        channels = _channels_of(names, owned, [attribute])
        pc, pa = p_pic[:, channels].sum(dim=1), p_after[:, channels].sum(dim=1)
        if target not in classes:  # the class without one (accessory=none): the picture's goes
            worn_own = (pc.sum(dim=(1, 2)) >= FIGURE_NEW) & (pc.amax(dim=(1, 2)) >= SMALL_PEAK)
            taken[:, channels] |= worn_own[:, None]
            continue
        shape = FIGURES[target]
        new = (pa - pc).clamp(0, 1)
        palette = torch.tensor(colours, device=picture.device)
        for i in range(n):
            pair = None if eyes is None else _eye_pair(eyes[i])
            middle, unit, worn = (side - 1) / 2, None, {}
            if pair is not None:  # where the faces wear it on either side, from the eyes
                unit = float(np.hypot(*(pair[0][1] - pair[0][0])))
                eyes_at = (pair[0][0] + pair[0][1]) / 2
                middle = float(eyes_at[0])
                worn = {
                    way: eyes_at + np.array([way * shape.place[0], shape.place[1]]) * unit
                    for way in (-1, 1)
                }
            own, area = float(pc[i].sum()), float(new[i].sum())
            size = None  # the area of what the picture or the render drew, where they did
            drew = area >= FIGURE_NEW and float(new[i].max()) >= SMALL_PEAK
            if sliding and not drew:
                continue  # a slider shows the figure once the render draws it
            if own >= FIGURE_NEW and float(pc[i].max()) >= SMALL_PEAK:  # instead of its own
                centre, size = middle_of(pc[i]), own
                core = pc[i] ** 4
                colour = (pixels[i] * core).sum(dim=(1, 2)) / core.sum().clamp_min(1e-6)
            elif drew:  # where it drew it
                centre, size = middle_of(new[i]), area
                core = pa[i] ** 4 * (new[i] > UNSURE)
                colour = (drawn[i] * core).sum(dim=(1, 2)) / core.sum().clamp_min(1e-6)
                colour = palette[(palette - colour).norm(dim=1).argmin()]
            elif worn and unit is not None:  # where the faces wear it, on the left
                centre = worn[-1]
                near = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= (0.3 * unit) ** 2
                if not bool(near.any()):
                    continue
                around = pixels[i][:, near].mean(dim=1)
                apart = (palette - around) @ _YCBCR.to(palette).T * FIGURE_APART.to(palette)
                colour = palette[apart.norm(dim=1).argmax()]
            else:
                continue
            if size is not None:  # where the faces wear it, on its side
                place = worn.get(1 if centre[0] > middle else -1)
                if place is None:
                    unit = float(np.sqrt(size / shape.area))
                elif unit is not None and np.hypot(*(place - centre)) > FIGURE_SAME * unit:
                    centre = place  # another class's place (a hair clip's, for a bow)
            centre = np.clip(centre, 0, side - 1)
            way = 1 if centre[0] > middle else -1
            rgb = tuple(float(c) for c in colour.clamp(0, 255).tolist())
            found[i].append(Figure(target, (float(centre[0]), float(centre[1])), unit, way, rgb))
            taken[i, channels] = True
    return taken, found


def _cut_out(
    segmenter: Segmenter,
    picture: Tensor,
    before: Tensor,
    after: Tensor,
    attributes: list[str],
    regions: tuple[Tensor, Tensor, Tensor],
    minimum: float,
    whole: Mapping[str, str],
    placed: tuple[Tensor, Tensor] | None = None,
    sliders: Mapping[str, tuple[str | None, float]] | None = None,
) -> Reshaped | None:
    """:func:`reshaped` for edits that do not spill over other regions, given the region
    probabilities of the picture and both renders; None when every one is a recolour (or
    there are none). ``placed``: the render the figures are placed by and its regions
    (default ``after``'s); ``sliders``: as :func:`reshaped`'s."""
    owned = segmenter.config.owned
    names = segmenter.config.regions
    recolours = dict(segmenter.config.recolours)
    shaped = [a for a in attributes if a not in recolours]  # an eye colour edit keeps shapes
    if not shaped:
        return None
    own = _channels_of(names, owned, attributes)
    shape = _channels_of(names, owned, shaped)
    p_pic, p_before, p_after = regions
    # a small part closed to a line (an open mouth) is filled and drawn by the paste-back,
    # and so is one a class target removes whole (a hair clip for accessory=none, though the
    # unedited render never drew it): not cut (nor their difference kept)
    parts = [_channels_of(names, owned, [a]) for a in shaped]
    closed, closing = _closing(names, p_pic, p_after, parts, minimum)
    targets = [_channels_of(names, owned, [a]) for a in shaped if a in whole]
    # a class drawn as a figure (a bow) replaces the picture's own part of its attribute, and
    # its other class (none) removes it
    by, p_by = (after, p_after) if placed is None else placed
    towards = {a: c for a, (c, x) in (sliders or {}).items() if c is not None and x > 0}
    figuring, figures = _figures(segmenter.config, picture, by, p_pic, p_by, shaped, whole, towards)
    erased, erasing = _marked(
        p_pic,
        targets,
        lambda channels: (
            _small_removed(p_pic, p_after, channels, minimum) & ~closing[:, channels].any(dim=1)
            | figuring[:, channels].any(dim=1),
            p_pic[:, channels].sum(dim=1).clamp(0, 1),
        ),
    )
    # and a small part the edit draws where the picture has line work (a closed mouth's line
    # that opens): the paste-back draws it from that line
    opened, opening = _opening(names, p_pic, p_after, parts, minimum)
    closed, erased, opened = (
        torch.where(x < UNSURE, torch.zeros_like(x), x) for x in (closed, erased, opened)
    )
    cut = torch.zeros_like(closing)
    cut[:, shape] = True
    cut = (cut & ~closing & ~erasing & ~opening & ~figuring).to(p_pic)[:, :, None, None]
    pc, pb, pa = ((p * cut).sum(dim=1, keepdim=True) for p in (p_pic, p_before, p_after))
    # regions too small to cut at half their probability (an open mouth at 64 px) are cut
    # generously: their change scaled to its peak and grown by a pixel
    small = (torch.maximum(pc.sum(dim=(1, 2, 3)), pa.sum(dim=(1, 2, 3))) < minimum)[
        :, None, None, None
    ]
    # where the render hardly changed, a region that changed is the segmenter's doubt (brown
    # skin read as brown hair), not a new part of the face
    moved = _smoothstep((after - before).abs().amax(dim=1, keepdim=True) * 127.5, *RESHAPE_MOVED)
    grown = torch.minimum(pa - pc, pa - pb).clamp(0, 1) * moved
    # what the picture draws of a removed part goes with it (all of it where the edited
    # render surely has none: the paste-back keeps the cut to the picture's own pixels of
    # it), where it hangs from what is removed, though the unedited render missed it (thin
    # strands over the shirt); not hair the render misses elsewhere (a strand of the fringe)
    gone = (torch.minimum(pc, pb) - pa).clamp(0, 1) * moved
    loose = (pc > UNSURE) & (pa < UNSURE)
    hanging = gone > UNSURE
    for _ in range(GONE_REACH):
        hanging = hanging | (F.max_pool2d(hanging.to(gone), 3, stride=1, padding=1) > 0) & loose
    gone = torch.where(hanging & loose, torch.ones_like(gone), gone)
    gone = torch.minimum(F.max_pool2d(gone, 3, stride=1, padding=1), 1 - pa)
    # hair length: its regions change only below the picture's eyes, tapering in, and grow
    # only from the picture's
    below = _channels_of(names, owned, [a for a in shaped if a in segmenter.config.below_eyes])
    eyes = None
    if below:
        no_growth, no_removal = barred_below_eyes(segmenter.config, p_pic, shaped, p_after)
        grown *= 1 - no_growth[:, None] * p_after[:, below].sum(dim=1, keepdim=True).clamp(0, 1)
        edge = F.max_pool2d(p_pic[:, below].sum(dim=1, keepdim=True), 3, stride=1, padding=1)
        gone *= 1 - no_removal[:, None] * edge.clamp(0, 1)  # its edge too: no sliver beside
        # an edit that makes the hair longer removes none of the picture's (with an open
        # mouth, the GAN's longer hair thinned a long lock over the shirt to a purple veil)
        longer = (p_after[:, below] - p_before[:, below]).sum(dim=(1, 2, 3)) > 0
        gone = torch.where(longer[:, None, None, None], gone * (1 - edge.clamp(0, 1)), gone)
        # and only such an edit has the paste-back stretch the picture's hair from the eyes
        # (made shorter, the render's doubt below the hair had stretched it longer)
        lines = eyes_line(segmenter.config, p_pic)
        eyes = [line if bool(more) else None for line, more in zip(lines, longer, strict=True)]
    if PAGE_REGION in names:
        page = p_pic[:, names.index(PAGE_REGION)]
        uncovered = gone * p_after[:, names.index(PAGE_REGION)][:, None]
        uncovered = _blurred(uncovered, COVER_BLUR)[:, 0]
    else:
        page = uncovered = torch.zeros_like(gone[:, 0])
    changes = (grown + gone).clamp(0, 1)
    if bool(small.any()):
        peak = changes.amax(dim=(2, 3), keepdim=True).clamp_min(SMALL_PEAK)
        grown = torch.where(small, F.max_pool2d((grown / peak).clamp(0, 1), 3, 1, 1), grown)
        changes = torch.where(small, F.max_pool2d((changes / peak).clamp(0, 1), 3, 1, 1), changes)
    cover = _blurred(changes, COVER_BLUR).clamp(0, 1)
    pixels = [(x.float() + 1) * 127.5 for x in (picture, before, after)]
    # the colours of a region the edit draws are the picture's where the config says which
    # attribute colours it (hair: hair colour) and that one is not edited too
    coloured = {r for a in recolours if a not in attributes for r in owned[a]}
    drawn_own = {r for a in attributes for r in owned[a]}
    mapped = [name not in drawn_own or name in coloured for name in names]
    # what shorter hair uncovers takes the picture's colours near it and not the render's
    # shading: there the GAN draws a halo of the hair it removed
    shading = [DRAWN_SHADING if k in shape else 0.0 for k in range(len(names))]
    colours = _in_picture_colours(*pixels, p_pic, p_before, p_after, 1 - cover, mapped, shading)
    others = [k for k in range(len(names)) if k not in shape]
    # grown pixels show the grown regions only, removed ones the others: so the hair's edge
    # is where the cover cuts it, not a blend of hair and page a render pixel wide
    grown_share = grown / (grown + gone).clamp_min(1e-6)
    grown_colours = _mixed(colours, p_after, shape, pixels[2])
    if bool(small.any()):
        # a small new part (an open mouth) in one flat colour, its core's in the render: the
        # GAN's few pixels of it enlarged were a blurred, mottled blob
        core = pa**4
        flat = (core * pixels[2]).sum(dim=(2, 3), keepdim=True) / core.sum(
            dim=(2, 3), keepdim=True
        ).clamp_min(1e-6)
        grown_colours = torch.where(small, flat.expand_as(grown_colours), grown_colours)
    behind = _mixed(colours, p_after**4, others, pixels[2])
    drawn = behind + grown_share * (grown_colours - behind)
    drawn = _spread_out(drawn, (changes > 0.5).to(drawn)).clamp(0, 255)
    changed = [k for k in own if names[k] not in coloured]
    kept = p_pic[:, changed].sum(dim=1).clamp(0, 1)
    filled = torch.maximum(closed, erased)[:, None]
    kept = kept * (F.max_pool2d(filled, 3, stride=1, padding=1)[:, 0] <= 0)
    # far pixels are exactly none: the picture keeps its values, the paste-back its window
    cover, kept, uncovered = (
        torch.where(x < UNSURE, torch.zeros_like(x), x) for x in (cover[:, 0], kept, uncovered)
    )
    # the grown part of the regions whose colours stay the picture's (its hair through a
    # length edit) continues the picture's strands
    strand = [k for k in shape if names[k] in coloured]
    strands = p_pic[:, strand].sum(dim=1).clamp(0, 1)
    strands = torch.where(strands < UNSURE, torch.zeros_like(strands), strands)
    grown = grown_share * (changes > 0) * p_after[:, strand].sum(dim=1, keepdim=True) / pa
    grown = torch.where(cover > 0, grown[:, 0].nan_to_num(0.0).clamp(0, 1), 0.0)
    return Reshaped(
        cover,
        drawn,
        kept,
        page.clamp(0, 1),
        uncovered.clamp(0, 1),
        strands,
        grown,
        closed=closed if bool(closed.any()) else None,
        erased=erased if bool(erased.any()) else None,
        opened=opened if bool(opened.any()) else None,
        figures=figures if any(figures) else None,
        eyes=eyes,
    )


FAR = 1e6
"""How far below the eyes every pixel of an image without a pair of them lies (no limit)."""
EYES_TAPER = 1.0
"""An attribute kept below the eyes (the config's ``below_eyes``: hair length) changes its
regions at most this many pixels from the picture's own outline of them per pixel below the
eyes (:func:`_below_eyes`)."""
TINT_REACH = 1
"""Render pixels beyond its own regions (in the picture and both renders) that an edit which
tints the skin (blush, glasses) changes the picture by."""
STROKE_FLOOR = 0.3
"""Pixels of an edit's line regions (glasses) under this share of their peak are not fitted."""
STROKE_MIN_WEIGHT = 3.0
"""The least weight (pixels, by probability) of each of the two frames fitted."""
STROKE_POINTS = 48
"""Points along each fitted frame."""
STROKE_WIDTH = (0.5, 1.0)
"""Fitted lines' width in render pixels: the frames' pixels over their length, kept to this."""
STROKE_GAIN = 1.0
"""A class target draws frames around the eyes (:func:`_eye_frames`) when its render draws at
least this many pixels of them more than the unedited one (glasses=true on the 8 drawn
pictures: 1.8 to 43; glasses=false: none)..."""
LINE_DARK = 0.25
"""...in the colour of the picture's darkest line work (this share of its sure pixels)..."""
EYE_MIN_PIXELS = 6
"""...and the eyes it draws them around show on at least this many pixels..."""
EYE_ROW_GAP = 3.0
"""...their middles at most this many rows apart; the frames reach this far beyond them:"""
EYE_MARGIN = 1.0
EYE_FRAME_MAX = 1.5
"""Frames fitted to what the render drew are at most this many times the eyes' frames' size
(:func:`_outlines`): the GAN's frames were at times wider than the face."""
PAIR_STRENGTH = 2.0
"""A slider towards a tint's class (``blush=+X``, ``glasses=+X``) draws its figures worn in
pairs (:func:`_worn_in_pairs`) or its frames around the eyes at X over this many spreads of
their opacity, all of it from there on."""


def _channels_of(
    names: tuple[str, ...], regions_of: dict[str, tuple[str, ...]], attributes: list[str]
) -> list[int]:
    """The channels (indices into ``names``) of the regions ``regions_of`` gives any of
    ``attributes`` (the config's ``owned`` or ``spills``; an attribute it lacks has none)."""
    return [k for k, r in enumerate(names) if any(r in regions_of.get(a, ()) for a in attributes)]


def _tinted(
    segmenter: Segmenter,
    picture: Tensor,
    after: Tensor,
    attributes: list[str],
    regions: tuple[Tensor, Tensor, Tensor],
    also: list[str],
    whole: set[str],
    absent: Collection[str] = (),
    sliders: Mapping[str, tuple[str | None, float]] | None = None,
) -> Reshaped:
    """:func:`reshaped` for edits that tint the skin beside their own regions: nothing cut
    out, the renders' difference kept to the edited attributes' own regions in the picture
    and both renders, grown by :data:`TINT_REACH` pixels and feathered by one, and to the
    picture's own regions of the attributes ``also`` edited (a hair colour edit with them).
    The config's ``strokes`` (glasses' frames) the edit drew are drawn as lines fitted to
    them instead (:func:`_outlines`), where they fit; where none fit and the attribute is
    edited to a class (``whole``: glasses=true, the whole truth about it) on a picture
    without them, around what the config's ``holds`` (the eyes) in the picture
    (:func:`_eye_frames`), in the colour of its line work. An attribute set to be without
    (``absent``: ``blush=false`` on a picture with blush; not the strokes) has the
    picture's own region of it ``cleared``, whatever the render shows (the whole truth about
    it), and nothing of its difference kept; for the strokes (``glasses=false`` on a picture
    wearing them) the picture's own are ``erased``, the eyes they hold ``spared``. One set to
    its class with a figure worn in pairs (``blush=true``) on a picture without it gets them
    (:func:`_worn_in_pairs`) instead of its difference.
    ``regions``: the region probabilities of the picture and both renders."""
    owned = segmenter.config.owned
    names = segmenter.config.regions
    own = _channels_of(names, owned, attributes)
    p_pic, p_before, p_after = regions

    def near(channels: list[int]) -> Tensor:
        area = torch.stack(
            [p[:, channels].sum(dim=1, keepdim=True) for p in (p_pic, p_before, p_after)]
        )
        kept = area.amax(dim=0).clamp(0, 1)
        for _ in range(TINT_REACH):
            kept = F.max_pool2d(kept, 3, stride=1, padding=1)
        kept = _blurred(kept, 1.0).clamp(0, 1)[:, 0]
        return torch.where(kept < UNSURE, torch.zeros_like(kept), kept)

    strokes = [k for k in own if names[k] in segmenter.config.strokes]
    kept = near([k for k in own if k not in strokes])
    held = segmenter.config.held
    eyes = _eyes(segmenter.config, p_pic)
    pairs = [_eye_pair(e) for e in eyes] if eyes is not None else [None] * len(p_pic)
    figures = _worn_in_pairs(segmenter.config, attributes, p_pic, pairs, whole, absent, sliders)
    drawn_whole = {a for a, _ in figures}
    if drawn_whole:  # its tint is the figures, not the render's difference
        figured = {r for a in drawn_whole for r in owned[a]}
        plain = near([k for k in own if k not in strokes and names[k] not in figured])
        for i in {i for _, at in figures for i in at}:
            kept[i] = plain[i]
    # a class target that takes the tint away (blush=false) from a picture that shows it:
    # the picture's own is erased, filled from the skin around (the renders' difference
    # there made a drawn blush darker), and nothing else of the edit is pasted
    without = [a for a in attributes if a in whole and a in absent]
    removed = [k for k in _channels_of(names, owned, without) if k not in strokes]
    erased = torch.zeros_like(kept)
    if removed:
        pc = p_pic[:, removed].sum(dim=1)
        area = pc.sum(dim=(1, 2))
        takes = (area >= FIGURE_NEW) & (pc.amax(dim=(1, 2)) >= SMALL_PEAK)
        erased = torch.where(takes[:, None, None], pc.clamp(0, 1), erased)
        erased = torch.where(erased < UNSURE, torch.zeros_like(erased), erased)
        kept = torch.where(takes[:, None, None], torch.zeros_like(kept), kept)
    others = _channels_of(names, owned, also)
    if others:
        kept = torch.maximum(kept, p_pic[:, others].sum(dim=1).clamp(0, 1))
    drawn = ((after.float() + 1) * 127.5).clamp(0, 255)
    lines: list[list[StrokeLine]] = [[] for _ in range(len(after))]
    # line work set to be without (glasses=false) draws none, whatever the render shows
    drawing_lines = [k for k in strokes if k not in _channels_of(names, owned, without)]
    if drawing_lines:
        line = p_after[:, strokes].sum(dim=1)
        new = (line - p_pic[:, strokes].sum(dim=1)).clamp(0, 1)
        colours = _dark_colours(drawn, line > 0.5)
        unfit = near(strokes)
        spills = dict(segmenter.config.spills)
        under = _channels_of(names, spills, attributes)
        faces = p_pic[:, under].sum(dim=1).float().cpu().numpy() if under else None
        # the picture has none of its own (fewer sure pixels of them than a frame has) and the
        # edit draws them (the edited render more of them than the unedited: glasses=true,
        # not glasses=false)
        bare = (p_pic[:, strokes].sum(dim=1) > 0.5).sum(dim=(1, 2)) < STROKE_MIN_WEIGHT
        drawing = p_after[:, strokes].sum(dim=(1, 2, 3)) - p_before[:, strokes].sum(dim=(1, 2, 3))
        lining = {a for a in attributes if set(owned[a]) & set(segmenter.config.strokes)}
        targeted = bool(lining & set(whole))
        around = bare & (drawing >= STROKE_GAIN) & targeted
        # a slider towards them (glasses=+X) fades frames in around the eyes, X over
        # PAIR_STRENGTH of their opacity, whatever the render draws (as it drew them: nothing
        # until +2 on one drawn picture, a lone ring inside one eye at +3 on another)
        slid = (
            0.0
            if targeted
            else max([(sliders or {}).get(a, (None, 0.0))[1] for a in lining], default=0.0)
        )
        for i in range(len(after)):
            pair = pairs[i]
            if slid > 0 and bool(bare[i]) and pair is not None:
                inked = _line_colours(names, picture[i : i + 1], p_pic[i : i + 1])
                if inked is not None:
                    colour = tuple(float(c) for c in inked[0].tolist())
                    faded = min(1.0, slid / PAIR_STRENGTH)
                    lines[i] = [StrokeLine(p, w, colour, faded) for p, w in _eye_frames(pair)]
                    continue
            face = None if faces is None else faces[i]
            found = _outlines(new[i].float().cpu().numpy(), face, pair)
            colour = tuple(float(c) for c in colours[i].tolist())
            if not found and bool(around[i]) and pair is not None:  # frames of its own
                inked = _line_colours(names, picture[i : i + 1], p_pic[i : i + 1])
                if inked is not None:
                    found = _eye_frames(pair)
                    colour = tuple(float(c) for c in inked[0].tolist())
            lines[i] = [StrokeLine(points, width, colour) for points, width in found]
            if not found:  # drawn as a tint, as the other regions
                kept[i] = torch.maximum(kept[i], unfit[i])
    # and line work it takes away (glasses=false on a picture with glasses): the picture's
    # own frames removed whole, filled from around them
    lined = [k for k in _channels_of(names, owned, without) if k in strokes]
    unframed = spared = None
    if lined:
        pc = p_pic[:, lined].sum(dim=1)
        takes = (pc > 0.5).sum(dim=(1, 2)) >= STROKE_MIN_WEIGHT
        # only frames around a pair of eyes (a face box well off the face read its eyes as
        # frames, and they were erased)
        paired = [pair is not None for pair in pairs]
        takes = takes & torch.tensor(paired, device=takes.device)
        unframed = torch.where(takes[:, None, None], pc.clamp(0, 1), torch.zeros_like(pc))
        unframed = torch.where(unframed < UNSURE, torch.zeros_like(unframed), unframed)
        kept = torch.where(takes[:, None, None], torch.zeros_like(kept), kept)
        if bool(unframed.any()) and held:  # not the eyes they hold (nor their lashes)
            spared = p_pic[:, held].sum(dim=1).clamp(0, 1)
        unframed = unframed if bool(unframed.any()) else None
    zeros = torch.zeros_like(kept)
    gone = erased if bool(erased.any()) else None
    placed: list[list[Figure]] = [[] for _ in range(len(after))]
    for _, at in figures:
        for i, pair in at.items():
            placed[i] += pair
    return Reshaped(
        zeros, drawn, kept, zeros, zeros, zeros, zeros, lines,
        erased=unframed, figures=placed if any(placed) else None, cleared=gone,
        spared=spared,
    )  # fmt: skip


def _worn_in_pairs(
    config: SegmenterConfig,
    attributes: list[str],
    p_pic: Tensor,
    pairs: Sequence[EyePair | None],
    whole: Collection[str],
    absent: Collection[str],
    sliders: Mapping[str, tuple[str | None, float]] | None = None,
) -> list[tuple[str, dict[int, list[Figure]]]]:
    """The figures worn in pairs (the config's ``figures`` whose shape is a pair: a blush)
    that a class target of a tint asks for (``whole``, not ``absent``: ``blush=true``) on a
    picture without its own (fewer than :data:`FIGURE_NEW` pixels of it, or none surely) and
    with two eyes found (``pairs``: per image :func:`_eye_pair` of the config's ``holds``):
    one on each side, where the procedural faces wear it from the eyes, the distance between
    them its unit, in the config's first colour; each only where the picture shows what the
    tint spills over there (the config's ``spills``: the skin; not hair over the cheek, nor
    the page beside a face box drawn off the face). A slider towards the class (a positive
    one of ``sliders``, ``blush=+X``) draws them too, X over :data:`PAIR_STRENGTH` of
    their opacity (the render's blush was a faint blotch, at times on one cheek). Per
    attribute, per image the figures."""
    found = []
    side = p_pic.shape[-1]
    for attribute, classes, colours in config.figures:
        shape = FIGURES[classes[0]]
        strength = (sliders or {}).get(attribute, (None, 0.0))[1]
        targeted = attribute in whole and attribute not in absent
        if not shape.pair or attribute not in attributes:
            continue
        if not targeted and (attribute in whole or strength <= 0):
            continue
        opacity = 1.0 if targeted else min(1.0, strength / PAIR_STRENGTH)
        channels = _channels_of(config.regions, config.owned, [attribute])
        pc = p_pic[:, channels].sum(dim=1)
        own = (pc.sum(dim=(1, 2)) >= FIGURE_NEW) & (pc.amax(dim=(1, 2)) >= SMALL_PEAK)
        # each on what it tints (blush: the skin), where that is there
        under = _channels_of(config.regions, dict(config.spills), [attribute])
        onto = p_pic[:, under].sum(dim=1).float().cpu().numpy() if under else None
        at: dict[int, list[Figure]] = {}
        for i in range(len(p_pic)):
            pair = None if bool(own[i]) else pairs[i]
            if pair is None:
                continue
            (left, right), _ = pair
            unit = float(np.hypot(*(right - left)))
            middle = (left + right) / 2
            worn = []
            for way in (-1, 1):
                x = float(middle[0] + way * shape.place[0] * unit)
                y = float(middle[1] + shape.place[1] * unit)
                ix, iy = (round(min(max(v, 0.0), side - 1.0)) for v in (x, y))
                if onto is None or onto[i, iy, ix] >= 0.5:
                    worn.append(Figure(classes[0], (x, y), unit, way, colours[0], opacity))
            if worn:
                at[i] = worn
        if at:
            found.append((attribute, at))
    return found


def _outlines(
    weight: np.ndarray, face: np.ndarray | None, pair: EyePair | None = None
) -> list[tuple[np.ndarray, float]]:
    """Glasses' frames fitted to ``weight`` (R x R in 0..1: where an edit drew them): the
    pixels of more than :data:`STROKE_FLOOR` of its peak split in two by x (two-means) and
    an ellipse fitted to each (:func:`_ellipse`), unless one fitted to them all has nearly
    all of them on its outline (one frame); of two not side by side, the heavier. Both
    frames take the axes of the heavier one (the GAN often draws one frame whole and an arc
    of the other); with one frame, the other is its mirror image about the middle of
    ``face`` (R x R in 0..1: the skin the glasses sit on) in its rows. Each is then centred
    on what it holds that is not skin (:func:`_held`: the eye); with the picture's ``pair``
    of eyes (:func:`_eye_pair`), at least as big as its frames and each on its own eye. A
    bridge joins their inner sides a little above their middles. Returns (points (K, 2) as
    (x, y), width) per line, in render pixels; none where no pair fits (too few pixels, a
    frame under 1.5 pixels or over a fifth of the side across)."""
    side = weight.shape[0]
    peak = float(np.sort(weight, axis=None)[-16:].mean())  # a frame's core is a few pixels
    if peak < SMALL_PEAK:
        return []
    ys, xs = np.nonzero(weight > STROKE_FLOOR * peak)
    w = np.minimum(weight[ys, xs] / peak, 1.0)
    at = np.stack([xs, ys], axis=1).astype(np.float64)
    centres = np.quantile(xs, [0.25, 0.75])
    right = xs > centres.mean()
    for _ in range(10):
        if right.all() or not right.any():
            break
        centres = np.array(
            [np.average(xs[~right], weights=w[~right]), np.average(xs[right], weights=w[right])]
        )
        right = np.abs(xs - centres[0]) > np.abs(xs - centres[1])
    frames = [f for f in (_ellipse(at[~right], w[~right]), _ellipse(at[right], w[right])) if f]
    whole = _ellipse(at, w)
    if whole is not None:
        # one frame split in two: its pixels lie on the outline of the one fitted to all
        reach = np.sqrt((((at - whole[0]) / whole[1]) ** 2).sum(axis=1))
        if w[np.abs(reach - 1) < 0.4].sum() > 0.85 * w.sum():
            frames = [whole]
    if len(frames) == 2 and abs(frames[1][0][1] - frames[0][0][1]) > frames[0][1][1]:
        frames = [max(frames, key=lambda f: f[2])]  # not side by side
    if not frames:
        return []
    heavier = max(frames, key=lambda f: f[2])
    axes = heavier[1]
    if axes.min() < 1.5 or axes.max() > side / 5:
        return []
    centres = [f[0] for f in frames]
    if len(centres) == 1:
        middle = _middle(face, heavier[0][1], axes[1])
        if middle is None:
            return []
        twin = np.array([2 * middle - centres[0][0], centres[0][1]])
        if abs(twin[0] - centres[0][0]) < 2 * axes[0]:
            return []
        centres.append(twin)
    if pair is not None:  # around the eyes they hold, and no bigger than a little more
        axes = np.clip(axes, pair[1], EYE_FRAME_MAX * pair[1])
    if face is not None:  # each frame around what it holds that is not skin: the eye
        centres = [_held(face, centre, axes) for centre in centres]
    centres.sort(key=lambda c: c[0])
    if pair is not None:  # a frame off its eye (a lone one mirrored onto hair) goes onto it,
        # the left frame onto the left eye (both had gone onto the nearer one, a lone ring)
        centres = [
            eye if np.hypot(*(eye - c)) > 0.5 * axes[0] else c
            for c, eye in zip(centres, pair[0], strict=True)
        ]
    turn = np.linspace(0, 2 * np.pi, STROKE_POINTS + 1)
    ring = np.stack([np.cos(turn) * axes[0], np.sin(turn) * axes[1]], axis=1)
    length = 2 * float(np.linalg.norm(np.diff(ring, axis=0), axis=1).sum())
    width = float(np.clip(sum(f[2] for f in frames) * 2 / len(frames) / length, *STROKE_WIDTH))
    return _frames(centres, axes, width)


def _line_colours(names: tuple[str, ...], picture: Tensor, p_pic: Tensor) -> Tensor | None:
    """Per image, the colour of the picture's line work (:data:`LINE_REGION`): the median of
    the darkest :data:`LINE_DARK` of its sure pixels (its antialiased edges and light lines
    left out), (N, 3) in pixel units; black where it has none; None without the region."""
    if LINE_REGION not in names:
        return None
    pixels = ((picture.float() + 1) * 127.5).clamp(0, 255)
    return _dark_colours(pixels, p_pic[:, names.index(LINE_REGION)] > 0.5)


def _dark_colours(pixels: Tensor, sure: Tensor) -> Tensor:
    """Per image, the median colour of the darkest :data:`LINE_DARK` of ``pixels`` (N, 3, R,
    R, pixel units) where ``sure`` (N, R, R): a line's own colour, its antialiased edges (mixed
    with what is under it) left out; (N, 3), black where none is sure."""
    colours = torch.zeros(len(pixels), 3, device=pixels.device)
    for i in range(len(pixels)):
        found = pixels[i][:, sure[i]].T  # (K, 3)
        if len(found):
            luma = found @ torch.tensor([0.299, 0.587, 0.114], device=found.device)
            dark = found[luma <= torch.quantile(luma, LINE_DARK)]
            colours[i] = dark.median(dim=0).values
    return colours


def _eye_frames(pair: EyePair) -> list[tuple[np.ndarray, float]]:
    """Glasses' frames around a pair of eyes (:func:`_eye_pair`), for a class target the
    render drew none for that :func:`_outlines` fits, and a bridge; as :func:`_outlines`
    returns them."""
    return _frames(*pair, float(np.mean(STROKE_WIDTH)))


EyePair = tuple[list[np.ndarray], np.ndarray]
"""Two eyes' middles ((x, y), left first) and the semi-axes of frames around them."""


def _eye_pair(eyes: np.ndarray) -> EyePair | None:
    """The eyes' middles ((x, y), left first) and the semi-axes of frames around them: of the
    pieces of ``eyes`` (R x R in 0..1: the regions frames hold, in the picture) over 0.5, of
    :data:`EYE_MIN_PIXELS` or more, the two largest side by side (their middles within
    :data:`EYE_ROW_GAP` rows, and apart by more than their width); the frames as big as the
    larger of them and :data:`EYE_MARGIN` pixels more each way. None where none are found."""
    pieces = [p for p in _pieces(eyes > 0.5) if len(p) >= EYE_MIN_PIXELS]
    pieces.sort(key=len, reverse=True)

    def side_by_side(a: np.ndarray, b: np.ndarray) -> bool:
        (ya, xa), (yb, xb) = a.mean(axis=0), b.mean(axis=0)
        apart = abs(xa - xb) > 0.5 * (np.ptp(a[:, 1]) + np.ptp(b[:, 1]) + 2)
        return abs(ya - yb) <= EYE_ROW_GAP and apart

    pairs = ((a, b) for i, a in enumerate(pieces) for b in pieces[i + 1 :] if side_by_side(a, b))
    pair = next(pairs, None)
    if pair is None:
        return None
    found = sorted(pair, key=lambda p: p[:, 1].mean())
    size = np.max([(np.ptp(p[:, 1]) + 1, np.ptp(p[:, 0]) + 1) for p in found], axis=0)
    return [p.mean(axis=0)[::-1].astype(np.float64) for p in found], size / 2 + EYE_MARGIN


def _frames(
    centres: list[np.ndarray], axes: np.ndarray, width: float
) -> list[tuple[np.ndarray, float]]:
    """Two frames: an ellipse of semi-axes ``axes`` around each of ``centres`` ((x, y), left
    first, render pixels) and a bridge joining their inner sides a little above their
    middles, all ``width`` wide: (points (K, 2), width) per line."""
    turn = np.linspace(0, 2 * np.pi, STROKE_POINTS + 1)
    ring = np.stack([np.cos(turn) * axes[0], np.sin(turn) * axes[1]], axis=1)
    bridge = np.stack(
        [centres[0] + (axes[0], -0.3 * axes[1]), centres[1] + (-axes[0], -0.3 * axes[1])]
    )
    return [(line.astype(np.float32), width) for line in [*(c + ring for c in centres), bridge]]


def _pieces(found: np.ndarray) -> list[np.ndarray]:
    """The 4-connected pieces of ``found`` (R x R bool), each as its pixels (K, 2) as (y, x)."""
    left = found.copy()
    pieces = []
    for start in zip(*np.nonzero(found), strict=True):
        if not left[start]:
            continue
        left[start] = False
        piece, todo = [start], [start]
        while todo:
            y, x = todo.pop()
            for near in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= near[0] < found.shape[0] and 0 <= near[1] < found.shape[1] and left[near]:
                    left[near] = False
                    piece.append(near)
                    todo.append(near)
        pieces.append(np.array(piece, dtype=np.float64))
    return pieces


def _ellipse(
    points: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The axis-aligned ellipse whose outline ``points`` (K, 2) weighted by ``weights`` (K,)
    draw: their mean and, per axis, the square root of twice their variance (an outline's),
    fitted again without the points past 1.6 times it (a bridge, an arm), twice. Returns
    (centre, semi-axes, the weight it kept); None under :data:`STROKE_MIN_WEIGHT`."""
    for _ in range(3):
        if weights.sum() < STROKE_MIN_WEIGHT:
            return None
        centre = np.average(points, axis=0, weights=weights)
        spread = np.average((points - centre) ** 2, axis=0, weights=weights)
        axes = np.sqrt(2 * np.maximum(spread, 1e-6))
        inside = np.sqrt((((points - centre) / axes) ** 2).sum(axis=1)) < 1.6
        points, weights = points[inside], weights[inside]
    if weights.sum() < STROKE_MIN_WEIGHT:
        return None
    return centre, axes, float(weights.sum())


def barred_below_eyes(
    config: SegmenterConfig, p: Tensor, attributes: Iterable[str], after: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Where an edit of ``attributes`` may not grow, and where it may not remove, the regions
    of those the config keeps below the eyes (its ``below_eyes``: hair length) in a picture
    of region probabilities ``p`` (N, K, R, R): each (N, R, R) in 0..1, 1 where barred. They
    change only below the eyes (:func:`_below_eyes`), and there at most :data:`EYES_TAPER`
    pixels from the picture's outline of them per pixel below (the hair's outline tapers
    from the picture's into the new one); zeros where none are kept below, or no eyes are
    found. On 40 procedural faces at 64 px, from the shortest hair to the longest and back,
    this bars 883 of the 38,550 pixels that turn hair or not hair (2.3 %: the side locks
    beside the eyes, curling a pixel further in or out), and most of the hair over the
    forehead. With ``after`` (the edited render's region probabilities, as ``p``), growth is
    also barred where its regions there do not join (through themselves) what they keep of
    the picture's at the eyes or above: hair grows from the head's (the neck of a
    dark-skinned face, darker in a render of shorter hair, was read as an island of hair
    touching the picture's hair beside it, and drawn as the picture's strands)."""
    below = [a for a in attributes if a in config.below_eyes]
    channels = _channels_of(config.regions, config.owned, below)
    free = torch.zeros_like(p[:, 0])
    if not channels:
        return free, free
    reach = EYES_TAPER * _below_eyes(config, p)
    if not bool((reach < FAR / 2).any()):
        return free, free  # no eyes found
    drawn = (p[:, channels].sum(dim=1) > 0.5).cpu().numpy()
    most = int(reach.clamp(max=max(p.shape[-2:])).max()) + 2  # farther: barred however far

    def barred(steps: np.ndarray) -> Tensor:
        return 1 - (reach + 1 - torch.from_numpy(steps).to(reach)).clamp(0, 1)

    no_growth = barred(_steps_to(drawn, most))
    if after is not None:
        hair = (after[:, channels].sum(dim=1) > 0.5).cpu().numpy()
        kept = drawn & hair
        high = kept & (reach <= 0).cpu().numpy()  # at the eyes or above: the head's hair
        has_eyes = (reach < FAR / 2).flatten(1).any(dim=1).cpu().numpy()[:, None, None]
        joined = _joined(np.where(has_eyes, high, kept), hair)
        no_growth = torch.where(torch.from_numpy(joined).to(p.device), no_growth, 1.0)
    return no_growth, barred(_steps_to(~drawn, most))


def _joined(seeds: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The pixels of ``within`` (N, R, R) bool joined to ``seeds`` (as ``within``) through
    ``within`` (by any of the 8 neighbours)."""
    reached = seeds & within
    while True:
        wider = grown(reached) & within
        if np.array_equal(wider, reached):
            return reached
        reached = wider


def _below_eyes(config: SegmenterConfig, p: Tensor) -> Tensor:
    """How far (pixels) each pixel lies below the eyes, towards the chin: below the line
    through their middles moved down by their half-height (see :func:`_eye_pair`); negative
    above it. (N, R, R), from region probabilities ``p`` (N, K, R, R); :data:`FAR` everywhere
    in an image where no pair of eyes is found."""
    n, side = p.shape[0], p.shape[-1]
    depth = torch.full((n, side, side), FAR, dtype=p.dtype, device=p.device)
    ys, xs = torch.meshgrid(
        *(torch.arange(side, dtype=p.dtype, device=p.device),) * 2, indexing="ij"
    )
    for i, found in enumerate(_eye_lines(config, p)):
        if found is not None:
            (mx, my), (ax, ay), half = found
            depth[i] = (xs - mx) * -ay + (ys - my) * ax - half  # turned a quarter
    return depth


def _eye_lines(
    config: SegmenterConfig, p: Tensor
) -> list[tuple[tuple[float, float], tuple[float, float], float] | None]:
    """Per image of region probabilities ``p`` (N, K, R, R): the middle (x, y) between its
    pair of eyes (:func:`_eye_pair`), the unit direction from the left one to the right and
    the frames' half-height; None where no pair is found (all where the config holds no
    eyes)."""
    eyes = _eyes(config, p)
    if eyes is None:
        return [None] * p.shape[0]
    lines: list[tuple[tuple[float, float], tuple[float, float], float] | None] = []
    for found in (_eye_pair(e) for e in eyes):
        if found is None:
            lines.append(None)
            continue
        (left, right), axes = found
        ax, ay = (float(v) for v in (right - left) / max(np.linalg.norm(right - left), 1e-6))
        mx, my = (float(v) for v in (left + right) / 2)
        lines.append(((mx, my), (ax, ay), float(axes[1])))
    return lines


def eyes_line(config: SegmenterConfig, p: Tensor) -> list[tuple[float, float] | None]:
    """Per image of region probabilities ``p`` (N, K, R, R): the middle (x, y; render
    pixels) of the line below the eyes where :func:`_below_eyes` starts (the point on it
    below the eyes' middle); None where no pair of eyes is found."""
    points: list[tuple[float, float] | None] = []
    for found in _eye_lines(config, p):
        if found is None:
            points.append(None)
            continue
        (mx, my), (ax, ay), half = found
        points.append((mx - ay * half, my + ax * half))  # along the quarter turn
    return points


def _steps_to(found: np.ndarray, most: int) -> np.ndarray:
    """How many steps (to any of the 8 neighbours) each pixel is from ``found`` (N, R, R)
    bool, counted up to ``most`` (farther: ``most``): 0 on it, float32 (N, R, R); 0 in an
    image where nothing is found."""
    reached = found.copy()
    steps = np.zeros(found.shape, np.float32)
    for _ in range(most):
        steps += ~reached
        wider = grown(reached)
        if np.array_equal(wider, reached):
            break
        reached = wider
    return np.where(found.any(axis=(1, 2))[:, None, None], steps, np.float32(0.0))


def _eyes(config: SegmenterConfig, p: Tensor) -> np.ndarray | None:
    """How likely each pixel of each image is one of the regions the config's ``holds`` (the
    eyes), (N, H, W), from region probabilities ``p`` (N, K, H, W); None where it names none."""
    held = config.held
    return p[:, held].sum(dim=1).float().cpu().numpy() if held else None


def _held(face: np.ndarray, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """``centre`` moved to the middle of what the ellipse there (semi-axes ``axes``) holds
    that is not ``face`` (R x R in 0..1: the skin): the eye a frame is around. As it is when
    that is under :data:`STROKE_MIN_WEIGHT` pixels."""
    ys, xs = np.mgrid[: face.shape[0], : face.shape[1]]
    inside = ((xs - centre[0]) / axes[0]) ** 2 + ((ys - centre[1]) / axes[1]) ** 2 < 1.0
    held = (1.0 - face) * inside
    if held.sum() < STROKE_MIN_WEIGHT:
        return centre
    return np.array([np.average(xs, weights=held), np.average(ys, weights=held)])


def _middle(face: np.ndarray | None, row: float, reach: float) -> float | None:
    """The middle column of ``face`` (R x R in 0..1) in the rows ``row`` +- ``reach``: the
    median over those rows of the mean of its first and last pixel over 0.5; None where it
    shows in none of them."""
    if face is None:
        return None
    top, bottom = max(0, int(row - reach)), min(face.shape[0], int(row + reach) + 1)
    middles = []
    for line in face[top:bottom] > 0.5:
        found = np.flatnonzero(line)
        if len(found):
            middles.append((found[0] + found[-1]) / 2)
    return float(np.median(middles)) if middles else None


def _in_picture_colours(
    picture: Tensor,
    before: Tensor,
    after: Tensor,
    p_pic: Tensor,
    p_before: Tensor,
    p_after: Tensor,
    free: Tensor,
    mapped: list[bool],
    shading: list[float],
) -> Tensor:
    """:func:`reshaped`'s colours per region: (N, K, 3, R, R) in pixel units, ``after`` (N, 3,
    R, R) made ``picture``'s in each region ``mapped`` says (and shown in both the picture and
    ``before``, probabilities (N, K, R, R) in each image), ``after`` itself in the others;
    ``free`` (N, 1, R, R): where the picture's own colours may be sampled (outside the
    cover); ``shading``: per region, the share of the picture's variation the render's
    shading is drawn at."""
    reach = DRAWN_REACH * picture.shape[-1]
    both = p_pic * p_before  # the pixels both show a region at: its colours compared there
    sure = (both > 0.8).float() * both  # its inside: an edge pixel mixes in its neighbour
    enough = sure.sum(dim=(2, 3)) >= _MIN_MATCH  # (N, K)
    enough &= torch.tensor(mapped, device=enough.device)
    axis_p, spread_p, mean_p = _colour_axis(picture, sure)  # (N, K, 3), (N, K), (N, K, 3)
    axis_r, spread_r, _ = _colour_axis(before, sure)
    local_p, share_p = _local_means(picture, p_pic * free, reach)
    # the region's main colour near each pixel, not its mean: a white collar or a fold's line
    # beside the shirt lightened or darkened the shirt drawn where hair was removed
    off = (picture[:, None] - local_p).square().sum(dim=2)  # (N, K, R, R)
    main = torch.exp(-off / (2 * DRAWN_MAIN_SPREAD**2))
    local_p, share_main = _local_means(picture, p_pic * free * main, reach)
    local_p = torch.where(
        share_main[:, :, None] > 1e-3, local_p, _local_means(picture, p_pic * free, reach)[0]
    )
    there = (share_p / 0.05).clamp(0, 1)[:, :, None]
    base = there * local_p + (1 - there) * mean_p[..., None, None]
    local_r, _ = _local_means(after, p_after, reach)
    smooth = _blurred(after, DRAWN_SHADING_BLUR)  # the GAN's strands enlarged are noise
    shade = torch.einsum("nkchw,nkc->nkhw", smooth[:, None] - local_r, axis_r)
    gain = torch.tensor(shading, device=spread_p.device) * spread_p / spread_r.clamp_min(1.0)
    shade = shade * gain[..., None, None]
    shade = shade * (2 * p_after).clamp(max=1)  # a pixel half another region: its shading
    colours = base + shade[:, :, None] * axis_p[..., None, None]  # (N, K, 3, R, R)
    own = after[:, None].expand_as(colours)
    return torch.where(enough[..., None, None, None], colours, own).clamp(0, 255)


def _mixed(colours: Tensor, p: Tensor, channels: list[int], fallback: Tensor) -> Tensor:
    """The colours (N, K, 3, R, R) of ``channels`` mixed by their probabilities ``p`` (N, K,
    R, R) normalised over those channels: (N, 3, R, R); ``fallback`` where none shows."""
    if not channels:
        return fallback
    weight = p[:, channels]
    total = weight.sum(dim=1)
    mixed = torch.einsum("nkhw,nkchw->nchw", weight, colours[:, channels])
    mixed = mixed / total.clamp_min(1e-6)[:, None]
    return torch.where(total[:, None] > 1e-3, mixed, fallback)


def _spread_out(drawn: Tensor, inside: Tensor) -> Tensor:
    """``drawn`` (N, 3, R, R) with the pixels outside ``inside`` (N, 1, R, R, 0 or 1) taking
    the colours of the inside pixels near them: an enlargement of it then keeps the inside's
    colours up to the cover's edge instead of blending in what lies beyond."""
    near, share = _local_means(drawn, inside, 1.5)
    outside = (inside == 0) & (share > 1e-3)
    return torch.where(outside, near[:, 0], drawn)


def _local_means(images: Tensor, weight: Tensor, sigma: float) -> tuple[Tensor, Tensor]:
    """Per region (``weight`` (N, K, R, R)), the mean colour of ``images`` (N, 3, R, R) near
    each pixel, its pixels counted by their weight within a Gaussian of ``sigma`` pixels:
    (N, K, 3, R, R); and the blurred weight (N, K, R, R) (how much of the region is near)."""
    share = _blurred(weight, sigma)
    total = _blurred(torch.einsum("nkhw,nchw->nkchw", weight, images).flatten(1, 2), sigma)
    return total.unflatten(1, (weight.shape[1], 3)) / share.clamp_min(1e-6)[:, :, None], share


def _colour_axis(images: Tensor, weight: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per image and region (``weight`` (N, K, R, R)), the direction ``images``' (N, 3, R, R)
    colours vary most along there (unit, pointing to lighter), their spread along it and
    their mean: (N, K, 3), (N, K), (N, K, 3)."""
    total = weight.sum(dim=(2, 3)).clamp_min(1e-6)
    mean = torch.einsum("nkhw,nchw->nkc", weight, images) / total[..., None]
    centred = images[:, None] - mean[..., None, None]  # (N, K, 3, R, R)
    covariance = torch.einsum("nkhw,nkchw,nkdhw->nkcd", weight, centred, centred)
    values, vectors = torch.linalg.eigh(covariance / total[..., None, None])
    axis = vectors[..., -1]
    axis = torch.where(axis.sum(dim=-1, keepdim=True) < 0, -axis, axis)
    return axis, values[..., -1].clamp_min(0).sqrt(), mean


def _blurred(maps: Tensor, sigma: float) -> Tensor:
    """``maps`` (N, C, H, W) blurred by a Gaussian of ``sigma`` pixels (edges repeated)."""
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-(x * x) / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    c = maps.shape[1]
    padded = F.pad(maps, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@torch.no_grad()
def colour_maps(
    before: Tensor, after: Tensor, p_before: Tensor, p_after: Tensor, minimum: float = _MIN_MATCH
) -> Tensor:
    """Per image and region, the colour map of a recolour: per channel the gain and offset
    (least squares) taking ``before``'s colours to ``after``'s over the pixels both show the
    region at, weighted by both probabilities: (N, K, 3, 4), as
    :class:`~nfe_core.facebox.Recolour` wants them (a 3 x 3 matrix, here the gains on its
    diagonal, and the offsets). Images (N, 3, R, R) in pixel units (0..255, float);
    ``p_before``, ``p_after`` (N, K, R, R). A gain keeps to 0..:data:`_MAX_GAIN` (a
    near-flat region would otherwise stretch its few shades far); a region of less than
    ``minimum`` pixels' weight is left as it is (gain 1, offset 0)."""
    weight = p_before * p_after
    total = weight.sum(dim=(2, 3)).clamp_min(1e-6)[..., None]  # (N, K, 1)
    mean_x = torch.einsum("nkhw,nchw->nkc", weight, before) / total
    mean_y = torch.einsum("nkhw,nchw->nkc", weight, after) / total
    centred_x = before[:, None] - mean_x[..., None, None]  # (N, K, C, R, R)
    centred_y = after[:, None] - mean_y[..., None, None]
    w = weight[:, :, None]
    spread = (w * centred_x * centred_x).sum(dim=(3, 4)) / total
    together = (w * centred_x * centred_y).sum(dim=(3, 4)) / total
    gain = (together / spread.clamp_min(1.0)).clamp(0.0, _MAX_GAIN)  # spread: levels²
    enough = weight.sum(dim=(2, 3))[..., None] >= minimum
    gain = torch.where(enough, gain, torch.ones_like(gain))
    offset = torch.where(enough, mean_y - gain * mean_x, torch.zeros_like(gain))
    return torch.cat([torch.diag_embed(gain), offset[..., None]], dim=-1)


_YCBCR = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)
"""RGB to luma and chroma (BT.601, full range, no offsets): a linear map."""

LUMA_GAIN = (0.5, 3.0)
"""The least and most :func:`hue_turns_to` scales a region's luma spread by."""
HUE_MIN_CHROMA = 10.0
"""A mean colour with less chroma (levels) than this has no hue: :func:`hue_turns` adds the
edited mean's chroma to it instead of turning it, and leaves a region grey in both as it is
(an eye's white: shifted towards the edited render's, the whites of blue eyes turned
cream)."""
HUE_MAX_GAIN = 4.0
"""The most a :func:`hue_turns` map scales the chroma by."""


def hue_turns(
    before: Tensor, after: Tensor, p_before: Tensor, p_after: Tensor
) -> tuple[Tensor, Tensor]:
    """Per image and region, the recolour that turns the hue of ``before``'s mean colour
    there to ``after``'s (a rotation of the chroma plane), scales its chroma to ``after``'s
    (at most :data:`HUE_MAX_GAIN` times) and shifts its luma by the difference: (N, K, 3, 4)
    as :func:`colour_maps`. Each colour keeps its place among the region's colours: a
    pupil stays dark, a highlight light, an iris's shading its shading. For regions too
    small for :func:`colour_maps` (an iris at 64 px is a few pixels): their means are sure
    where a fit of their few shades is not. A grey mean (under :data:`HUE_MIN_CHROMA`: a
    grey iris) has the edited mean's chroma added instead; a region grey in both, or that
    either image does not show, is left as it is. Images (N, 3, R,
    R) in pixel units; each mean weighted by the squared probabilities ``p_before``,
    ``p_after`` (N, K, R, R): the region's inside, not its edge mixed with its neighbours.
    Returns the maps and ``before``'s means (N, K, 3), zeros where left as it is: the hues
    the maps turn (:class:`~nfe_core.facebox.Recolour`'s ``hues``)."""
    shown = (p_before * p_before).sum(dim=(2, 3)).minimum((p_after * p_after).sum(dim=(2, 3)))
    return _turns(region_means(before, p_before), region_means(after, p_after), shown)


def hue_turns_to(
    images: Tensor,
    regions: Tensor,
    means: Tensor,
    spreads: Tensor | None = None,
    amounts: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`hue_turns` from ``images``' mean colour in each region (weighted by the squared
    probabilities ``regions``, (N, K, R, R)) to the given ``means`` (N, K, 3, pixel units),
    a region grey in both included (its luma shifted: silver hair set to black): a class
    target on a picture turns its irises and hair to the colours pictures draw the class in
    (the config's ``picture_palettes``). With ``spreads`` (N, K, 3, per channel; NaN: none),
    the luma's spread about its mean is scaled to theirs too (:data:`LUMA_GAIN`): black hair
    made blonde kept black hair's few shades, offset, and was flat; ``amounts`` (N, K) of
    that scaling (a slider part of the way to a class, the means part of the way too)."""
    shown = (regions * regions).sum(dim=(2, 3))
    own = region_means(images, regions)
    gains = None
    if spreads is not None:
        weight = regions * regions
        luma = torch.einsum("c,nchw->nhw", _YCBCR[0].to(images), images)[:, None]
        centred = luma - (own @ _YCBCR[0].to(images))[..., None, None]
        spread = (
            (weight * centred * centred).sum(dim=(2, 3)) / weight.sum(dim=(2, 3)).clamp_min(1e-6)
        ).sqrt()
        wanted = spreads.to(images) @ _YCBCR[0].to(images)  # the channels' shading moves as one
        gains = (wanted / spread.clamp_min(1.0)).clamp(*LUMA_GAIN).nan_to_num(1.0)
        if amounts is not None:
            gains = 1.0 + amounts.to(gains) * (gains - 1.0)
    return _turns(own, means.to(images), shown, greys=True, gains=gains)


def region_means(images: Tensor, regions: Tensor) -> Tensor:
    """Each image's mean colour in each region (N, K, 3), its pixels weighted by their squared
    probabilities ``regions`` (N, K, R, R): the region's inside, not its edge mixed with its
    neighbours; ``images`` (N, 3, R, R)."""
    weight = regions * regions
    total = weight.sum(dim=(2, 3))
    return torch.einsum("nkhw,nchw->nkc", weight, images) / total.clamp_min(1e-6)[..., None]


def _turns(
    before: Tensor,
    after: Tensor,
    shown: Tensor,
    greys: bool = False,
    gains: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`hue_turns`' maps and hues from the regions' mean colours ``before`` and
    ``after`` (N, K, 3) and how much of each region shows in both (N, K); ``greys``: a
    region grey in both is mapped too (its luma shifted: silver hair made black), not left;
    ``gains`` (N, K): the luma's spread about the mean scaled by these (default 1)."""
    means = (before, after)
    rgb = _YCBCR.to(before)
    (yb, *cb), (ya, *ca) = ((m @ rgb.T).unbind(-1) for m in means)
    cb, ca = torch.stack(cb, dim=-1), torch.stack(ca, dim=-1)  # (N, K, 2)
    nb, na = cb.norm(dim=-1), ca.norm(dim=-1)
    turn = torch.atan2(ca[..., 1], ca[..., 0]) - torch.atan2(cb[..., 1], cb[..., 0])
    scale = (na / nb.clamp_min(1e-6)).clamp(max=HUE_MAX_GAIN)
    cos, sin = torch.cos(turn) * scale, torch.sin(turn) * scale
    # a grey mean has no hue to turn: the edited one's chroma is added instead
    grey = nb < HUE_MIN_CHROMA
    one, zero = torch.ones_like(cos), torch.zeros_like(cos)
    cos, sin = torch.where(grey, one, cos), torch.where(grey, zero, sin)
    gain = one if gains is None else gains.to(one)
    matrix = torch.stack(
        [
            torch.stack([gain, zero, zero], dim=-1),
            torch.stack([zero, cos, -sin], dim=-1),
            torch.stack([zero, sin, cos], dim=-1),
        ],
        dim=-2,
    )  # (N, K, 3, 3) on luma and chroma
    added = torch.where(grey[..., None], ca - cb, torch.zeros_like(ca))
    shift = torch.stack([ya - gain * yb, *added.unbind(-1)], dim=-1)
    back = torch.linalg.inv(rgb)
    affine = torch.cat(
        [back @ matrix @ rgb, (shift @ back.T)[..., None]], dim=-1
    )  # (N, K, 3, 4) on RGB
    same = torch.cat(
        [torch.eye(3).to(before).expand_as(affine[..., :3]), torch.zeros_like(affine[..., 3:])],
        dim=-1,
    )
    turned = (shown > 1e-3) & ((nb >= HUE_MIN_CHROMA) | (na >= HUE_MIN_CHROMA) | greys)
    hues = torch.where((turned & ~grey)[..., None], means[0], torch.zeros_like(means[0]))
    return torch.where(turned[..., None, None], affine, same), hues


def _both_regions(
    segmenter: Segmenter, before: Tensor, after: Tensor, before_regions: Tensor | None
) -> tuple[Tensor, Tensor]:
    """The region probabilities of ``before`` and ``after`` (N, K, R, R each), ``before``'s
    taken from ``before_regions`` when given (one segmenter pass fewer)."""
    if before_regions is None:
        p_before, p_after = segmenter.probabilities(torch.cat([before, after])).chunk(2)
        return p_before, p_after
    return before_regions.expand(len(after), -1, -1, -1), segmenter.probabilities(after)


def match_regions(
    before: Tensor, after: Tensor, p_before: Tensor, p_after: Tensor, reference: Tensor
) -> Tensor:
    """``after`` with each region's mean colour moved to its mean in ``before``.

    Images (N, 3, R, R); ``p_before`` and ``p_after`` (N, K, R, R) the probabilities of K
    regions in each; ``reference`` (N, 1, R, R) in 0..1 where the two may be compared (outside
    the edit). A region's shift is the mean of ``before - after`` over the pixels both images
    show it at, weighted by ``reference``; it moves each pixel of ``after`` by its probability
    of showing that region. A region seen on fewer than :data:`_MIN_MATCH` such pixels is
    left as it is."""
    shift = _mean_shifts(p_before * p_after * reference, before - after)
    return (after + torch.einsum("nkhw,nkc->nchw", p_after, shift)).clamp(-1, 1)


def keep_shapes(before: Tensor, after: Tensor, p_before: Tensor, p_after: Tensor) -> Tensor:
    """``after`` (a recolour of ``before``; images (N, 3, R, R)) drawn in ``before``'s shapes:
    where ``before`` shows one of the K recoloured regions (``p_before``, (N, K, R, R)) and
    ``after`` drew something else there (``p_after``: the hair drawn shorter), ``before``
    moved by that region's mean change (over the pixels both show it at). Elsewhere ``after``.
    Kept to ``before``'s regions alone, those pixels showed ``before`` fading into ``after``'s
    background: a ghost of the old outline."""
    # every pixel counts: an eye at 64 px is a few of them
    shift = _mean_shifts(p_before * p_after, after - before, minimum=0.0)
    fill = (before + torch.einsum("nkhw,nkc->nchw", p_before, shift)).clamp(-1, 1)
    drawn = p_after.sum(dim=1, keepdim=True)
    return after * drawn + fill * (1 - drawn)


def _mean_shifts(weight: Tensor, difference: Tensor, minimum: float = _MIN_MATCH) -> Tensor:
    """Per image and region the mean of ``difference`` (N, 3, R, R) weighted by ``weight``
    (N, K, R, R): (N, K, 3); 0 for a region of less than ``minimum`` pixels' weight."""
    total = weight.sum(dim=(2, 3))
    shift = torch.einsum("nkhw,nchw->nkc", weight, difference) / total.clamp_min(1e-6)[..., None]
    return torch.where(total[..., None] >= minimum, shift, torch.zeros_like(shift))
