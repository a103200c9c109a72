"""Where the face is in a picture: the face box the model would have framed it in.

The model's segmenter reads a face box's crop as regions (hair, skin, eyes, mouth, clothes,
background, ...), and the generator's own faces show where those regions lie in a box
framed as the model frames its faces: the eyes at one height, the chin at another, the hair
around. :func:`find_face` looks for the square box whose crop's regions are likeliest under
that layout (:func:`face_layout`): at each size, where the eyes the segmenter reads in the
whole picture lie as the layout's do; then finer around the best few. A picture whose best
box is no likelier than :data:`FIND_FLOOR` has no face found (None): the caller keeps the
largest centred square.

Everything runs on the picture's pixels as numpy and the bundle's networks; no Qt, no files.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from nfe_core.backdrop import swap_backdrop
from nfe_core.bundle import Bundle
from nfe_core.facebox import FaceBox
from nfe_core.jobs import StopFn, check_stop
from nfe_core.sampling import pixels_to_images, render_seeds

__all__ = ["FIND_FLOOR", "FoundFace", "face_layout", "find_face", "find_faces"]

LAYOUT_FACES = 64
"""Generated faces (seeds 0..N-1, untruncated) whose regions make the layout."""
LAYOUT_FLOOR = 0.01
"""Every region keeps at least this probability at every pixel of the layout (a region never
seen at a place is unlikely there, not impossible)."""
SMALLEST = 0.25
"""The smallest face box looked for, as a share of the picture's shorter side."""
SCALE_STEP = 0.85
"""Each size of box looked at coarsely is this much of the one before."""
EYE_PLACES = 3
"""Boxes of each size looked at: where the whole picture's eyes lie likeliest."""
EYE_SPREAD = 0.01
"""The least variance of a box's eye probabilities counted (a box with none has no
correlation with the layout's eyes)."""
REFINED = 3
"""The best coarse boxes refined."""
REFINE_STEPS = (0.125, 0.0625, 0.03125)
"""Refinement moves, in shares of the box's side: each step tries the box and its neighbours
this far in each direction and that much larger and smaller, and keeps the likeliest."""
WORKING_SIDE = 2 * 4 * 64
"""The picture is brought down to about this many pixels on its shorter side first (its
smallest box then still has twice the model's pixels at 64 px), so that a poster-sized
picture costs no more than a small one."""
FIND_FLOOR = -0.75
"""The least mean log-likelihood of a box's regions (per pixel) for a face to be found. The
model's own faces score about -0.4 framed as it frames them; a plain page about -1.1."""
MOST_FACES = 4
"""The most faces :func:`find_faces` looks for."""
OVERLAP = 0.2
"""Two faces found overlap by at most this (IoU)."""
NEXT_FLOOR = -1.2
"""The least score of a coarse box refined in search of another face (the first face's
coarse boxes scored from -0.9 up, off its place by up to an eighth of its side)."""
BATCH = 128
"""Crops read by the segmenter at once."""


@dataclass(frozen=True)
class FoundFace:
    """A face found: its box in the picture and how likely its regions are (per pixel mean
    log-likelihood under :func:`face_layout`; higher is surer, 0 the most)."""

    box: FaceBox
    score: float


_LAYOUTS: weakref.WeakKeyDictionary[torch.nn.Module, tuple[torch.nn.Module, Tensor]] = (
    weakref.WeakKeyDictionary()
)


def face_layout(bundle: Bundle) -> Tensor:
    """The log-probability of each of the segmenter's regions at each pixel of a face box
    framed as the model frames its faces (K, R, R): the mean of its reading of
    :data:`LAYOUT_FACES` generated faces, each region at least :data:`LAYOUT_FLOOR`. Computed
    once per generator and segmenter.

    Raises:
        ValueError: the bundle has no segmenter.
    """
    segmenter = bundle.segmenter
    if segmenter is None:
        raise ValueError(f"{bundle.name}: the model has no segmenter to find faces with")
    cached = _LAYOUTS.get(bundle.generator)
    if cached is not None and cached[0] is segmenter:
        return cached[1]
    faces = render_seeds(bundle.generator, range(LAYOUT_FACES))
    with torch.inference_mode():
        found = segmenter.probabilities(pixels_to_images(faces).to(bundle.device)).mean(dim=0)
    k = found.shape[0]
    layout = ((found.float().cpu() + LAYOUT_FLOOR) / (1 + k * LAYOUT_FLOOR)).log()
    _LAYOUTS[bundle.generator] = (segmenter, layout)
    return layout


def find_face(
    bundle: Bundle, picture: Image.Image | np.ndarray, should_stop: StopFn | None = None
) -> FoundFace | None:
    """The square face box in ``picture`` (an RGB image, or H x W x 3 uint8) whose crop the
    model's segmenter reads likeliest as a face framed as the model frames its faces, and
    its score; None where none scores :data:`FIND_FLOOR` or more (no face there, or one too
    small: under :data:`SMALLEST` of the shorter side). Boxes lie inside the picture.

    Raises:
        ValueError: the bundle has no segmenter, or ``picture`` is neither.
        Cancelled: ``should_stop`` said stop.
    """
    found = find_faces(bundle, picture, should_stop, most=1)
    return found[0] if found else None


def find_faces(
    bundle: Bundle,
    picture: Image.Image | np.ndarray,
    should_stop: StopFn | None = None,
    most: int = MOST_FACES,
) -> list[FoundFace]:
    """Up to ``most`` faces in ``picture``, surest first: the first as :func:`find_face`
    finds it; then, ``most`` - 1 times at most, the likeliest box overlapping no face found
    by more than :data:`OVERLAP` (IoU) and scoring :data:`NEXT_FLOOR` or more is refined,
    and is another face where it then scores :data:`FIND_FLOOR` (a picture of two
    characters: both).

    Raises:
        ValueError: the bundle has no segmenter, or ``picture`` is neither.
        Cancelled: ``should_stop`` said stop.
    """
    if isinstance(picture, np.ndarray):
        if picture.ndim != 3 or picture.shape[2] != 3 or picture.dtype != np.uint8:
            raise ValueError(
                f"expected an H x W x 3 uint8 picture, got {picture.shape} {picture.dtype}"
            )
        picture = Image.fromarray(picture)
    if not isinstance(picture, Image.Image) or picture.mode != "RGB":
        raise ValueError(f"expected an RGB picture, got {picture!r}")
    layout = face_layout(bundle)
    width, height = picture.size
    shrink = min(1.0, WORKING_SIDE / min(width, height))
    if shrink < 1.0:
        size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
        picture = picture.resize(size, Image.Resampling.BOX)
    reader = _Reader(bundle, layout, picture, should_stop)
    shorter = min(picture.size)
    smallest = max(min(shorter, bundle.resolution / 2), SMALLEST * shorter)
    boxes: list[tuple[float, float, float]] = []
    side = float(shorter)
    while side >= smallest - 1e-6:
        boxes += reader.eyes_at(side)
        side *= SCALE_STEP
    coarse = sorted(zip(reader.scores(boxes), boxes, strict=True), reverse=True)
    faces = [max(_refined(reader, box, score) for score, box in coarse[:REFINED])]
    tries = most - 1 if faces[0][0] >= FIND_FLOOR else 0  # each another refinement
    while len(faces) < most and tries > 0:
        apart = [
            (score, box)
            for score, box in coarse
            if score >= NEXT_FLOOR and all(_overlap(box, f[1]) <= OVERLAP for f in faces)
        ]
        if not apart:
            break
        tries -= 1
        coarse.remove(apart[0])
        face = _refined(reader, apart[0][1], apart[0][0])
        if face[0] >= FIND_FLOOR and all(_overlap(face[1], f[1]) <= OVERLAP for f in faces):
            faces.append(face)
    scale = 1.0 / shrink
    whole = min(width, height)
    found = []
    for score, (x, y, side) in sorted(faces, reverse=True):
        if score < FIND_FLOOR:
            continue
        edge = min(whole, max(1, round(side * scale)))
        left = min(max(0, round(x * scale)), width - edge)
        top = min(max(0, round(y * scale)), height - edge)
        found.append(FoundFace(FaceBox(left, top, edge, edge), round(score, 4)))
    return found


def _overlap(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Intersection over union of two square boxes (x, y, side)."""
    across = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    down = max(0.0, min(a[1] + a[2], b[1] + b[2]) - max(a[1], b[1]))
    inside = across * down
    return inside / (a[2] ** 2 + b[2] ** 2 - inside)


def _refined(
    reader: _Reader, box: tuple[float, float, float], score: float
) -> tuple[float, tuple[float, float, float]]:
    """``box`` (x, y, side) moved and resized by :data:`REFINE_STEPS` while that makes it
    likelier: the likeliest box found and its score."""
    for share in REFINE_STEPS:
        x, y, side = box
        step = share * side
        tried = [
            (x + dx * step - (grown - side) / 2, y + dy * step - (grown - side) / 2, grown)
            for grown in (side / (1 + share), side, side * (1 + share))
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ]
        tried = [b for b in tried if reader.inside(b)]
        for found, candidate in zip(reader.scores(tried), tried, strict=True):
            if found > score:
                score, box = found, candidate
    return score, box


class _Reader:
    """Scores boxes of one picture: each crop brought to the model's size and read by the
    segmenter, its regions' mean log-likelihood under the layout."""

    def __init__(
        self, bundle: Bundle, layout: Tensor, picture: Image.Image, should_stop: StopFn | None
    ) -> None:
        self.bundle, self.layout, self.picture = bundle, layout, picture
        self.should_stop = should_stop
        self.scaled: dict[int, Image.Image] = {}

    def inside(self, box: tuple[float, float, float]) -> bool:
        x, y, side = box
        width, height = self.picture.size
        return x >= -0.5 and y >= -0.5 and x + side <= width + 0.5 and y + side <= height + 0.5

    def crop(self, box: tuple[float, float, float]) -> np.ndarray:
        """The box's crop at the model's size: the picture resized once per box size (so that
        a box is the model's size) and cut there."""
        x, y, side = box
        r = self.bundle.resolution
        scaled = self.resized(side)
        k = scaled.size[0] / self.picture.size[0]
        left = min(max(0, round(x * k)), scaled.size[0] - r)
        top = min(max(0, round(y * k)), scaled.size[1] - r)
        return swap_backdrop(np.asarray(scaled.crop((left, top, left + r, top + r))))[0]

    def eyes_at(self, side: float) -> list[tuple[float, float, float]]:
        """Boxes of ``side`` where the eyes the segmenter reads in the whole picture lie as
        the layout's do: the best :data:`EYE_PLACES` places (apart by a quarter of the side)
        by the cosine of the eyes' probability in the box and the layout's. The segmenter
        learned whole faces the size of its input, so a whole picture reads unlike its boxes
        but for small parts: the eyes."""
        check_stop(self.should_stop)
        r = self.bundle.resolution
        scaled = self.resized(side)
        segmenter = self.bundle.segmenter
        assert segmenter is not None
        held = [segmenter.config.regions.index(n) for n in segmenter.config.holds]
        shown, _ = swap_backdrop(np.asarray(scaled))
        images = pixels_to_images(np.array(shown)[None]).to(self.bundle.device)
        with torch.inference_mode():
            eyes = segmenter.probabilities(images, any_size=True)[:, held].sum(dim=1).cpu()
        wanted = self.layout[held].exp().sum(dim=0)[None, None]
        wanted = wanted - wanted.mean()
        ones = torch.ones_like(wanted)
        together = F.conv2d(eyes[None], wanted)[0, 0]
        total = F.conv2d(eyes[None], ones)[0, 0]
        spread = F.conv2d(eyes[None] ** 2, ones)[0, 0] - total**2 / ones.numel()
        # the correlation of the two; a box with no eyes (its spread none) scores none
        cosine = together / (spread.clamp_min(EYE_SPREAD * ones.numel()).sqrt() * wanted.norm())
        apart = max(1, r // 4) * 2 + 1
        peaks = cosine == F.max_pool2d(cosine[None], apart, 1, apart // 2)[0]
        order = cosine.masked_fill(~peaks, -1.0).flatten().argsort(descending=True)
        k = scaled.size[0] / self.picture.size[0]
        found = []
        for i in order[:EYE_PLACES].tolist():
            y, x = divmod(i, cosine.shape[1])
            found.append((x / k, y / k, side))
        return found

    def resized(self, side: float) -> Image.Image:
        """The picture resized so that a box of ``side`` is the model's size (once per side
        to a quarter pixel)."""
        r = self.bundle.resolution
        key = round(side * 4)
        if key not in self.scaled:
            width, height = self.picture.size
            k = r / side
            size = (max(r, round(width * k)), max(r, round(height * k)))
            self.scaled[key] = self.picture.resize(size, Image.Resampling.LANCZOS)
        return self.scaled[key]

    def scores(self, boxes: Sequence[tuple[float, float, float]]) -> list[float]:
        found: list[float] = []
        segmenter = self.bundle.segmenter
        assert segmenter is not None
        for start in range(0, len(boxes), BATCH):
            check_stop(self.should_stop)
            crops = np.stack([self.crop(b) for b in boxes[start : start + BATCH]])
            with torch.inference_mode():
                p = segmenter.probabilities(pixels_to_images(crops).to(self.bundle.device))
            likely = torch.einsum("nkhw,khw->n", p.float().cpu(), self.layout)
            found += (likely / self.layout[0].numel()).tolist()
        return found
