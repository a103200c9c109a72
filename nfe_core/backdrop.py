"""A plain background the model never saw, swapped for one it did while it reads the picture.

The model's faces were drawn on pastel backgrounds (the procedural set's: saturation at most
:data:`MAX_SATURATION`, value at least :data:`MIN_VALUE`). Behind a face on magenta, royal
blue, black or yellow, its segmenter misread the regions and its inversion drew the hair in
other colours: pink hair came out grey on magenta and salmon on blue, long hair grew in
blobs on yellow and not at all on black. So where a box's border is mostly one such colour
(:func:`find_backdrop`), the model is shown the box with that page turned to the nearest
pastel of its hue (:func:`swap_backdrop`): to find the face, invert it and read its
regions. The edit is pasted into the picture's own pixels as ever (the renders' pastel is
never pasted: what the edit draws over the page is drawn opaque, and the regions it
recolours were read on the pastel view).

Pure numpy on H x W x 3 uint8 pixels; no torch, no Qt.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

__all__ = ["Backdrop", "find_backdrop", "swap_backdrop"]

MAX_SATURATION = 0.46
"""The most saturated background the model's faces have (``training.synth.params``: 0.45,
and 8-bit rounding)."""
MIN_VALUE = 0.54
"""The darkest background the model's faces have (HSV value, 0..1: 0.55, and rounding)."""
BORDER_SHARE = 0.6
"""A background is plain when this share of the box's border is within :data:`TOLERANCE`
of the border's median colour."""
TOLERANCE = 24
"""Pixels this near the background colour (largest channel difference, levels) are it."""
REACH_SIDE = 128
"""The page is followed from the border on blocks this many to the box's longer side."""
MOST = 0.9
"""A box more of whose pixels than this are its border's colour holds no face: not swapped."""
SOFT = 32
"""Beyond :data:`TOLERANCE`, pixels are a share of the background colour falling to none
this many levels further (the antialiased edge where the page meets the hair)."""


@dataclass(frozen=True)
class Backdrop:
    """A plain background: the picture's colour and the pastel the model is shown instead
    (RGB, 0..255 floats)."""

    colour: tuple[float, float, float]
    shown: tuple[float, float, float]


def find_backdrop(rgb: np.ndarray) -> Backdrop | None:
    """The plain background of a box's pixels ``rgb`` (H x W x 3 uint8) that the model never
    saw behind its faces, or None: where :data:`BORDER_SHARE` of its border is one colour
    that is more saturated than :data:`MAX_SATURATION` or darker than :data:`MIN_VALUE`, and
    not more than :data:`MOST` of the box; the pastel shown instead has its hue, at most
    that saturation and at least that value."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 2:
        return None
    border = np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]]).astype(np.int16)
    colour = np.median(border, axis=0)
    if (np.abs(border - colour).max(axis=1) <= TOLERANCE).mean() < BORDER_SHARE:
        return None
    hue, saturation, value = colorsys.rgb_to_hsv(*(colour / 255.0))
    if saturation <= MAX_SATURATION and value >= MIN_VALUE:
        return None
    if (np.abs(rgb.astype(np.int16) - colour).max(axis=2) <= TOLERANCE).mean() > MOST:
        return None  # all one colour: no face in the box to read
    shown = colorsys.hsv_to_rgb(hue, min(saturation, MAX_SATURATION), max(value, MIN_VALUE))
    as_tuple = tuple(float(c) for c in colour)
    return Backdrop(as_tuple, tuple(float(c) * 255.0 for c in shown))  # type: ignore[arg-type]


def _share(rgb: np.ndarray, colour: tuple[float, float, float]) -> np.ndarray:
    """How much of ``colour`` each pixel is (H x W, 0..1): 1 within :data:`TOLERANCE`, none
    :data:`SOFT` levels beyond."""
    apart = np.abs(rgb.astype(np.float32) - np.asarray(colour, np.float32)).max(axis=2)
    return np.clip(1.0 - (apart - TOLERANCE) / SOFT, 0.0, 1.0)


def _page(near: np.ndarray) -> np.ndarray:
    """Which pixels of ``near`` (H x W bool: of the background's colour) are the page:
    joined to the box's border through such pixels (blue eyes on a blue page are not). Found
    on blocks of at most :data:`REACH_SIDE` a side (a block is the page's colour when all
    its pixels are), then at full size within a block of them."""
    h, w = near.shape
    step = max(1, -(-max(h, w) // REACH_SIDE))
    padded = np.pad(near, ((0, -h % step), (0, -w % step)), constant_values=True)
    rows, cols = padded.shape[0] // step, padded.shape[1] // step
    blocks = padded.reshape(rows, step, cols, step).all(axis=(1, 3))
    reached = np.zeros_like(blocks)
    for edge in (np.s_[0, :], np.s_[-1, :], np.s_[:, 0], np.s_[:, -1]):
        reached[edge] = blocks[edge]
    while True:
        grown = _grown(reached) & blocks
        if (grown == reached).all():
            break
        reached = grown
    around = _grown(reached)
    return np.repeat(np.repeat(around, step, axis=0), step, axis=1)[:h, :w] & near


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` (bool) and its four neighbours."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _page_share(rgb: np.ndarray, colour: tuple[float, float, float]) -> np.ndarray:
    """:func:`_share` of ``colour`` where the pixels are the page (:func:`_page`); 0 inside."""
    share = _share(rgb, colour)
    return share * _page(share > 0)


def swap_backdrop(rgb: np.ndarray) -> tuple[np.ndarray, Backdrop | None]:
    """``rgb`` (H x W x 3 uint8) as the model is shown it: its plain background
    (:func:`find_backdrop`) turned to the pastel, each pixel of the page by its share of the
    colour; the same array and None where there is none to swap."""
    backdrop = find_backdrop(rgb)
    if backdrop is None:
        return rgb, None
    shift = np.asarray(backdrop.shown, np.float32) - np.asarray(backdrop.colour, np.float32)
    moved = rgb.astype(np.float32) + _page_share(rgb, backdrop.colour)[:, :, None] * shift
    return np.clip(np.rint(moved), 0, 255).astype(np.uint8), backdrop
