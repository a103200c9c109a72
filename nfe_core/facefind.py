"""Where the face is in a picture: the face box the model would have framed it in.

The model's segmenter reads a face box's crop as regions (hair, skin, eyes, mouth, clothes,
background, ...), and the generator's own faces show where those regions lie in a box
framed as the model frames its faces: the eyes at one height, the chin at another, the hair
around. :func:`find_face` looks for the square box whose crop's regions are likeliest under
that layout (:func:`face_layout`): at each size, where the eyes the segmenter reads in the
whole picture lie as the layout's do; then finer around the best few. A box may reach out of
the picture by up to :data:`~nfe_core.facebox.OUTSIDE` of its side (a face whose hair runs
off the top), the picture's edge pixels carried on there, and is scored on its pixels
inside (less :data:`REACH_COST`). A picture whose best box is no likelier than
:data:`FIND_FLOOR`, or whose eyes do not lie as the layout's (:data:`EYES_FLOOR`), has no
face found (None): the caller keeps the largest centred square.

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
from nfe_core.facebox import (
    OUTSIDE,
    FaceBox,
    box_pixels,
    box_reach,
    edges_outside,
    fit_box,
    largest_side,
)
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
model's own faces score about -0.4 framed as it frames them; a plain page about -1.1; faces
drawn on a saturated page (the cut-out faces of benchmarks/bench_find_face.py) from -0.65,
a page of coloured ovals up to -0.70: hence also :data:`EYES_FLOOR`."""
EYES_FLOOR = 0.3
"""The least correlation (Pearson, over the box's pixels inside the picture) of the eyes the
segmenter reads in a box's crop with the layout's for a face to be found: the faces of
benchmarks/bench_find_face.py placed right correlate by 0.46 or more, the boxes found on
pages of coloured ovals by 0.14 or less."""
MOST_FACES = 4
"""The most faces :func:`find_faces` looks for."""
OVERLAP = 0.2
"""Two faces found overlap by at most this (IoU)."""
NEXT_FLOOR = -1.2
"""The least score of a coarse box refined in search of another face (the first face's
coarse boxes scored from -0.9 up, off its place by up to an eighth of its side)."""
REACH_COST = 0.25
"""A box's score (the mean over its pixels inside the picture) loses this much per share of
its pixels outside: else a box reaching out needlessly, its worst-read part left out, beats
the face's own. On benchmarks/bench_find_face.py, faces inside the picture placed (IoU 0.8)
without a cost / 0.125 / 0.25 / 0.5: 121, 124, 124, 125 of 128; faces cut by one edge 29,
29, 30, 31 of 32; a face cut by two edges (off the left by an eighth, its chin off the
bottom by a tenth) is framed tighter the higher the cost (IoU 0.8 or more, 0.80, 0.77, 0.73)."""
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
    small: under :data:`SMALLEST` of the shorter side). Boxes reach outside the picture by
    at most :data:`~nfe_core.facebox.OUTSIDE` of their side.

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
    side = shorter / SCALE_STEP  # larger than the picture: a face cut on both sides
    while side <= largest_side(shorter):
        boxes += reader.eyes_at(side)
        side /= SCALE_STEP
    coarse = sorted(zip(reader.scores(boxes), boxes, strict=True), reverse=True)
    refined = sorted((_refined(reader, b, score) for score, b in coarse[:REFINED]), reverse=True)
    first = next((face for face in refined if reader.is_face(*face)), None)
    faces = [] if first is None else [first]  # each one a face (is_face)
    tries = most - 1 if faces else 0  # each another refinement
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
        if reader.is_face(*face) and all(_overlap(face[1], f[1]) <= OVERLAP for f in faces):
            faces.append(face)
    scale = 1.0 / shrink
    found = []
    for score, (x, y, side) in sorted(faces, reverse=True):
        edge = max(1, round(side * scale))
        box = fit_box(FaceBox(round(x * scale), round(y * scale), edge, edge), width, height)
        found.append(FoundFace(box, round(score, 4)))
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
        tried = [b for b in tried if reader.fits(b)]
        for found, candidate in zip(reader.scores(tried), tried, strict=True):
            if found > score:
                score, box = found, candidate
    return score, box


def _correlated(values: Tensor, kernel: Tensor) -> Tensor:
    """The sum of ``kernel`` (k x k) times ``values`` (H x W) under it at each place it
    fits wholly: (H - k + 1) x (W - k + 1), by FFT (a direct correlation with a kernel the
    model's size took 35 times as long)."""
    height, width = values.shape
    k = kernel.shape[0]
    spectrum = torch.fft.rfft2(values.double()) * torch.fft.rfft2(
        kernel.double().flip(0, 1), s=(height, width)
    )
    return torch.fft.irfft2(spectrum, s=(height, width))[k - 1 :, k - 1 :].float()


def _box_sums(values: Tensor, k: int) -> Tensor:
    """The sum of ``values`` (H x W) in each k x k window: (H - k + 1) x (W - k + 1), from
    the summed-area table."""
    table = F.pad(values.double().cumsum(0).cumsum(1), (1, 0, 1, 0))
    return (table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]).float()


class _Reader:
    """Scores boxes of one picture: each crop brought to the model's size and read by the
    segmenter, its regions' mean log-likelihood under the layout."""

    def __init__(
        self, bundle: Bundle, layout: Tensor, picture: Image.Image, should_stop: StopFn | None
    ) -> None:
        self.bundle, self.layout, self.picture = bundle, layout, picture
        self.should_stop = should_stop
        self.scaled: dict[int, Image.Image] = {}
        segmenter = bundle.segmenter
        assert segmenter is not None
        # the regions that are the eyes, and how likely the layout has them at each pixel
        self.held = segmenter.config.held
        self.eyes = layout[self.held].exp().sum(dim=0)

    def fits(self, box: tuple[float, float, float]) -> bool:
        """Whether ``box`` (x, y, side) reaches outside the picture by at most
        :data:`~nfe_core.facebox.OUTSIDE` of its side along each axis (to half a pixel)."""
        x, y, side = box
        reach = OUTSIDE * side + 0.5
        return all(
            max(0.0, -start) + max(0.0, start + side - length) <= reach
            for start, length in zip((x, y), self.picture.size, strict=True)
        )

    def placed(self, box: tuple[float, float, float]) -> FaceBox:
        """Where ``box`` (x, y, side) lies in the picture resized for its side
        (:meth:`resized`): a box of the model's size."""
        x, y, side = box
        scaled = self.resized(side)
        k = scaled.size[0] / self.picture.size[0]
        r = self.bundle.resolution
        return fit_box(FaceBox(round(x * k), round(y * k), r, r), *scaled.size)

    def crop(self, box: tuple[float, float, float]) -> np.ndarray:
        """The box's crop at the model's size: the picture resized once per box size (so that
        a box is the model's size) and cut there, its edge carried on where the box reaches out."""
        pixels = box_pixels(np.asarray(self.resized(box[2])), self.placed(box))
        return swap_backdrop(np.array(pixels))[0]  # a writable copy: torch takes it

    def inside(self, box: tuple[float, float, float]) -> Tensor:
        """Which of the crop's pixels (r x r, float 0/1) show the picture, not its edge
        carried on."""
        placed = self.placed(box)
        width, height = self.resized(box[2]).size
        shown = torch.ones(placed.h, placed.w)
        left, top, right, bottom = edges_outside(placed, width, height)
        if left:
            shown[:, : -placed.x] = 0
        if top:
            shown[: -placed.y] = 0
        if right:
            shown[:, width - placed.x :] = 0
        if bottom:
            shown[height - placed.y :] = 0
        return shown

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
        shown, _ = swap_backdrop(np.asarray(scaled))
        images = pixels_to_images(np.array(shown)[None]).to(self.bundle.device)
        with torch.inference_mode():
            eyes = segmenter.probabilities(images, any_size=True)[:, self.held].sum(dim=1).cpu()
        reach = box_reach(r)  # boxes reaching out of the picture: no eyes there
        eyes = F.pad(eyes, (reach, reach, reach, reach))
        wanted = (self.eyes - self.eyes.mean())[None, None]
        n = wanted.numel()
        together = _correlated(eyes[0], wanted[0, 0])
        total = _box_sums(eyes[0], r)
        spread = _box_sums(eyes[0] ** 2, r) - total**2 / n
        # the correlation of the two; a box with no eyes (its spread none) scores none
        cosine = together / (spread.clamp_min(EYE_SPREAD * n).sqrt() * wanted.norm())
        apart = max(1, r // 4) * 2 + 1
        peaks = cosine == F.max_pool2d(cosine[None], apart, 1, apart // 2)[0]
        order = cosine.masked_fill(~peaks, -1.0).flatten().argsort(descending=True)
        k = scaled.size[0] / self.picture.size[0]
        found = []
        for i in order[:EYE_PLACES].tolist():
            y, x = divmod(i, cosine.shape[1])
            found.append(((x - reach) / k, (y - reach) / k, side))
        return found

    def resized(self, side: float) -> Image.Image:
        """The picture resized so that a box of ``side`` is the model's size (once per side
        to a quarter pixel)."""
        r = self.bundle.resolution
        key = round(side * 4)
        if key not in self.scaled:
            width, height = self.picture.size
            k = r / side
            least = r - box_reach(r)  # a box larger than the picture reaches out of it
            size = (max(least, round(width * k)), max(least, round(height * k)))
            self.scaled[key] = self.picture.resize(size, Image.Resampling.LANCZOS)
        return self.scaled[key]

    def is_face(self, score: float, box: tuple[float, float, float]) -> bool:
        """Whether a box that scored ``score`` is a face: at least :data:`FIND_FLOOR`, and
        the eyes read in its crop lie as the layout's (:data:`EYES_FLOOR`)."""
        if score < FIND_FLOOR:
            return False
        segmenter = self.bundle.segmenter
        assert segmenter is not None
        crop = pixels_to_images(self.crop(box)[None]).to(self.bundle.device)
        with torch.inference_mode():
            eyes = segmenter.probabilities(crop)[0, self.held].sum(dim=0).float().cpu()
        shown = self.inside(box) > 0
        both = torch.stack([eyes[shown], self.eyes[shown]])
        return bool(torch.corrcoef(both)[0, 1] >= EYES_FLOOR)  # NaN (no eyes at all): False

    def scores(self, boxes: Sequence[tuple[float, float, float]]) -> list[float]:
        found: list[float] = []
        segmenter = self.bundle.segmenter
        assert segmenter is not None
        for start in range(0, len(boxes), BATCH):
            check_stop(self.should_stop)
            some = boxes[start : start + BATCH]
            crops = np.stack([self.crop(b) for b in some])
            shown = torch.stack([self.inside(b) for b in some])
            with torch.inference_mode():
                p = segmenter.probabilities(pixels_to_images(crops).to(self.bundle.device))
            likely = torch.einsum("nkhw,khw,nhw->n", p.float().cpu(), self.layout, shown)
            outside = 1.0 - shown.mean(dim=(1, 2))
            found += (likely / shown.sum(dim=(1, 2)) - REACH_COST * outside).tolist()
        return found
