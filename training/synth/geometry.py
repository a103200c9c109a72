"""Small 2-D helpers for the face renderer: curves, ellipses, tapered strokes, transforms.

Points are float arrays of shape (N, 2), x to the right and y downwards.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

Points = np.ndarray  # (N, 2) float

# The renderer draws thousands of small curves per second: the per-n constants (Bernstein
# bases, unit circles, width profiles) are computed once and reused.


@lru_cache(maxsize=64)
def _bernstein(n: int, degree: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    k = np.arange(degree + 1)
    binom = np.array([math.comb(degree, int(i)) for i in k], float)
    return binom * t[:, None] ** k * (1.0 - t[:, None]) ** (degree - k)


def cubic(p0, p1, p2, p3, n: int = 16) -> Points:
    """(n, 2) points of the cubic Bézier p0..p3, both ends included."""
    return _bernstein(n, 3) @ np.array([p0, p1, p2, p3], float)


def quad(p0, p1, p2, n: int = 10) -> Points:
    """(n, 2) points of the quadratic Bézier p0, p1, p2, both ends included."""
    return _bernstein(n, 2) @ np.array([p0, p1, p2], float)


def chain(*parts: Points) -> Points:
    """Concatenate curves, dropping each joint's repeated point."""
    out = [parts[0]]
    for part in parts[1:]:
        prev = out[-1][-1]
        same = abs(part[0][0] - prev[0]) < 1e-9 and abs(part[0][1] - prev[1]) < 1e-9
        out.append(part[1:] if same else part)
    return np.concatenate(out)


@lru_cache(maxsize=64)
def _unit_circle(n: int) -> np.ndarray:
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 32, rot: float = 0.0) -> Points:
    """(n, 2) points around an ellipse, rotated by ``rot`` radians."""
    pts = _unit_circle(n) * (rx, ry)
    if rot:
        c, s = math.cos(rot), math.sin(rot)
        pts = pts @ np.array([[c, s], [-s, c]])
    return pts + (cx, cy)


def arc(cx: float, cy: float, r: float, deg0: float, deg1: float, n: int = 24) -> Points:
    """(n, 2) points on a circle from angle ``deg0`` to ``deg1`` (degrees, y down)."""
    t = np.radians(np.linspace(deg0, deg1, n))
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def superellipse(cx: float, cy: float, rx: float, ry: float, power: float, n: int = 40) -> Points:
    """A rounded rectangle (power ~4) or ellipse (power 2) as (n, 2) points."""
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    e = 2.0 / power
    return np.stack(
        [cx + rx * np.sign(c) * np.abs(c) ** e, cy + ry * np.sign(s) * np.abs(s) ** e], 1
    )


def stroke(line: Points, widths) -> Points:
    """A filled outline around polyline ``line`` with per-point ``widths`` (scalar or (N,))."""
    line = np.asarray(line, float)
    d = np.empty_like(line)
    d[1:-1] = line[2:] - line[:-2]
    d[0] = line[1] - line[0]
    d[-1] = line[-1] - line[-2]
    length = np.hypot(d[:, 0], d[:, 1])
    length[length == 0] = 1.0
    scale = 0.5 * np.asarray(widths, float) / length
    offset = np.empty_like(d)
    offset[:, 0] = -d[:, 1] * scale
    offset[:, 1] = d[:, 0] * scale
    return np.concatenate([line + offset, (line - offset)[::-1]])


@lru_cache(maxsize=256)
def _taper_profile(n: int, start: float, end: float, peak: float) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    up = start + (1 - start) * np.sin(np.clip(t / peak, 0, 1) * math.pi / 2)
    down = end + (1 - end) * np.cos(np.clip((t - peak) / (1 - peak), 0, 1) * math.pi / 2)
    return np.where(t <= peak, up, down)


def taper(n: int, w: float, start: float = 0.2, end: float = 0.0, peak: float = 0.5) -> np.ndarray:
    """Stroke widths along n points: ``start*w`` rising to ``w`` at ``peak`` then to ``end*w``."""
    return w * _taper_profile(n, start, end, peak)


def affine(tx: float, ty: float, scale: float, degrees: float = 0.0) -> np.ndarray:
    """2x3 matrix: rotate by ``degrees``, scale, then translate to (tx, ty)."""
    a = math.radians(degrees)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    return np.array([[c, -s, tx], [s, c, ty]])


def apply(m: np.ndarray, pts: Points) -> Points:
    """Points mapped through the 2x3 affine matrix ``m``."""
    return np.asarray(pts, float) @ m[:, :2].T + m[:, 2]
