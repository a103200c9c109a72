"""Draw a procedural anime face: vector shapes on a supersampled canvas, then box-filtered down.

Every shape is built in *head units* (the face's half-width is 1, the eye line near y=0,
y downwards) and mapped to pixels by the head's affine transform (position, scale, tilt);
shoulders and clothes use the same transform without the tilt. Optionally a region map
(which part of the face each pixel shows) is drawn alongside, for tests and evaluation, and
the soft region shares of each pixel (its supersamples per region), the segmenter's targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from training.synth import geometry as g
from training.synth.params import BLUSH_RGB, FaceParams

MIN_SIZE, MAX_SIZE = 32, 512
Color = tuple[int, ...]


class Region(IntEnum):
    """What a pixel of the region map shows."""

    BACKGROUND = 0
    HAIR = 1
    SKIN = 2
    EYE_WHITE = 3
    IRIS = 4
    PUPIL = 5
    HIGHLIGHT = 6
    LINE = 7
    MOUTH = 8
    CLOTHES = 9
    ACCESSORY = 10
    GLASSES = 11
    BLUSH = 12
    EDGE = 255  # the pixel straddles two or more regions


REGION_NAMES: tuple[str, ...] = tuple(r.name.lower() for r in Region if r is not Region.EDGE)
"""The regions a pixel can show, lowercase, in value order: index ``i`` is ``Region(i)``."""
assert [Region[n.upper()] for n in REGION_NAMES] == list(range(len(REGION_NAMES)))


@dataclass(frozen=True)
class RenderedFace:
    """A rendered face: the RGB image and, when asked for, its (size, size) uint8 region map
    (a ``Region`` per pixel, ``Region.EDGE`` where a pixel straddles regions) and its region
    fractions, float32 (size, size, len(REGION_NAMES)): the share of each pixel's supersamples
    in each region (they sum to 1)."""

    image: Image.Image
    regions: np.ndarray | None
    fractions: np.ndarray | None = None


def supersampling(size: int) -> int:
    """Samples per pixel side: enough for smooth edges, few enough to stay fast."""
    if size <= 32:
        return 8
    if size <= 64:
        return 4
    return 3 if size <= 128 else 2


# --- colours -------------------------------------------------------------------------------


def mix(a: Color, b: Color, t: float) -> Color:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=False))


def darker(c: Color, f: float) -> Color:
    return tuple(round(x * f) for x in c[:3])


def lighter(c: Color, t: float) -> Color:
    return mix(c[:3], (255, 255, 255), t)


def with_alpha(c: Color, a: int) -> Color:
    return (*c[:3], a)


# --- drawing -------------------------------------------------------------------------------


class Pen:
    """Draws head-unit shapes onto an image (and the region map) through an affine transform."""

    def __init__(self, image: Image.Image, regions: Image.Image | None, m: np.ndarray):
        self.image = image
        self.regions = regions
        self.m = m
        self.unit = math.hypot(m[0, 0], m[1, 0])  # pixels per head unit
        self._draw = ImageDraw.Draw(image, "RGBA")
        self._rdraw = ImageDraw.Draw(regions) if regions is not None else None

    def px(self, pts: g.Points) -> list[float]:
        return g.apply(self.m, pts).ravel().tolist()

    def poly(self, pts: g.Points, fill: Color, region: Region | None) -> None:
        """Fill a polygon; ``region`` (when not None) is written to the region map too."""
        self.poly_pixels(self.px(pts), fill, region)

    def poly_pixels(self, xy: list[float], fill: Color, region: Region | None) -> None:
        """Fill a polygon given in pixels (flat x, y list) rather than head units."""
        self._draw.polygon(xy, fill=fill)
        if self._rdraw is not None and region is not None:
            self._rdraw.polygon(xy, fill=int(region))

    def ring(self, pts: g.Points, width: float, fill: Color, region: Region | None) -> None:
        """A closed outline of ``width`` head units around the closed path ``pts``."""
        closed = np.concatenate([pts, pts[:1]])
        self.poly(g.stroke(closed, width), fill, region)

    def clipped(self, clip: g.Points, paint: Callable[[Pen], None]) -> None:
        """Run ``paint`` with a pen whose marks only land inside polygon ``clip``."""
        xy = g.apply(self.m, clip)
        w, h = self.image.size
        x0, y0 = (max(0, math.floor(v) - 1) for v in xy.min(0))
        x1, y1 = (min(lim, math.ceil(v) + 2) for v, lim in zip(xy.max(0), (w, h), strict=True))
        if x1 <= x0 or y1 <= y0:
            return
        box = (x0, y0, x1, y1)
        sub = self.image.crop(box)
        sub_regions = self.regions.crop(box) if self.regions is not None else None
        shifted = self.m.copy()
        shifted[:, 2] -= (x0, y0)
        paint(Pen(sub, sub_regions, shifted))
        mask = Image.new("L", sub.size, 0)
        ImageDraw.Draw(mask).polygon((xy - (x0, y0)).ravel().tolist(), fill=255)
        self.image.paste(sub, box[:2], mask)
        if self.regions is not None:
            self.regions.paste(sub_regions, box[:2], mask)


@lru_cache(maxsize=8)
def _vertical_ramp(side: int) -> Image.Image:
    return Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)


# --- the face, back to front ------------------------------------------------------------------


def _background(img: Image.Image, p: FaceParams, rng: np.random.Generator) -> None:
    c0, c1 = p.background_rgb
    side = img.size[0]
    if p.background == "gradient":
        img.paste(
            Image.composite(
                Image.new("RGB", img.size, c1), Image.new("RGB", img.size, c0), _vertical_ramp(side)
            )
        )
        return
    img.paste(c0, (0, 0, side, side))
    draw = ImageDraw.Draw(img)
    c1 = mix(c0, c1, 0.5)
    if p.background == "stripes":
        step = side / rng.uniform(5, 9)
        for k in range(-12, 14):
            x = k * step
            draw.polygon(
                [(x, 0), (x + step / 2, 0), (x + step / 2 + side, side), (x + side, side)], fill=c1
            )
    elif p.background == "dots":
        step = side / rng.uniform(6, 10)
        r = step * rng.uniform(0.12, 0.25)
        for iy, y in enumerate(np.arange(step / 2, side + step, step)):
            for x in np.arange(step / 2 * (iy % 2), side + step, step):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=c1)


def _hair_colors(p: FaceParams) -> tuple[Color, Color, Color]:
    base = p.hair_rgb
    shadow = darker(base, 1 - p.shade)
    if sum(base) < 200:  # black hair: shadows go blue-black, shine is a cool gray
        return base, darker(base, 0.7), mix(base, (150, 160, 200), 0.5 * p.highlight + 0.2)
    return base, shadow, lighter(base, 0.25 + 0.35 * p.highlight)


def _hair_bottom(p: FaceParams) -> float:
    """Where the back hair ends, in head units below the eye line."""
    return 0.6 + 2.9 * p.hair_length_value


def _back_hair(pen: Pen, p: FaceParams, rng: np.random.Generator, color: Color) -> None:
    length = p.hair_length_value
    bottom = _hair_bottom(p)
    flare = 0.02 + 0.5 * length
    top = g.arc(0.0, -0.15, 1.24, 10, -190, 28)
    xl, xr = -(1.2 + flare), 1.2 + flare
    left = g.cubic(top[-1], (-1.3, 0.6), (xl, bottom * 0.7), (xl, bottom), 12)
    n_tips = int(rng.integers(5, 9))
    xs = np.linspace(xl, xr, 2 * n_tips + 1)
    edge = [left[-1]]
    for k in range(1, len(xs)):
        tip = k % 2 == 1
        y = bottom + (rng.uniform(0.02, 0.16) if tip else -rng.uniform(0.1, 0.28))
        edge.append(np.array([xs[k] + rng.uniform(-0.05, 0.05) * (0 < k < len(xs) - 1), y]))
    right = g.cubic(edge[-1], (xr, bottom * 0.7), (1.3, 0.6), top[0], 12)
    pen.poly(g.chain(top, left, np.array(edge), right), color, Region.HAIR)


def _neck_and_body(head: Pen, body: Pen, p: FaceParams, skin: Color, skin_shadow: Color) -> None:
    # the neck joins the tilted head to the upright shoulders
    top = g.apply(head.m, np.array([[-0.32, 0.6], [0.32, 0.6]]))
    bottom = g.apply(body.m, np.array([[0.36, 2.4], [-0.36, 2.4]]))
    head.poly_pixels(np.concatenate([top, bottom]).ravel().tolist(), skin, Region.SKIN)
    jaw = g.cubic(
        (-0.34, p.chin - 0.16),
        (-0.2, p.chin - 0.02),
        (0.2, p.chin - 0.02),
        (0.34, p.chin - 0.16),
        10,
    )
    under = g.quad((0.34, p.chin - 0.16), (0.0, p.chin + 0.34), (-0.34, p.chin - 0.16), 10)
    head.poly(g.chain(jaw, under), skin_shadow, Region.SKIN)
    c = p.clothes_rgb
    neckline = g.quad((0.5, 1.82), (0.0, 2.5), (-0.5, 1.82), 10)
    shirt = g.chain(
        g.cubic((-0.5, 1.82), (-1.0, 1.9), (-1.7, 1.95), (-2.2, 2.35), 10),
        np.array([[-2.5, 2.8], [-2.7, 7.0], [2.7, 7.0], [2.5, 2.8]]),
        g.cubic((2.2, 2.35), (1.7, 1.95), (1.0, 1.9), (0.5, 1.82), 10),
        neckline,
    )
    body.poly(shirt, c, Region.CLOTHES)
    trim = (250, 250, 250) if sum(c) < 500 else (60, 70, 120)
    body.poly(g.stroke(neckline, 0.14), trim, Region.CLOTHES)
    fold = darker(c, 0.8)
    for sx in (-1, 1):
        body.poly(
            g.stroke(
                g.quad((sx * 1.5, 2.4), (sx * 1.35, 2.9), (sx * 1.45, 3.6), 8), g.taper(8, 0.06)
            ),
            fold,
            Region.CLOTHES,
        )


def _face_outline(p: FaceParams) -> g.Points:
    top = g.arc(0.0, 0.0, 1.0, 0, -180, 20)
    left = g.cubic((-1.0, 0.0), (-1.0, 0.55), (-0.42, p.chin - 0.18), (0.0, p.chin), 14)
    right = g.cubic((0.0, p.chin), (0.42, p.chin - 0.18), (1.0, 0.55), (1.0, 0.0), 14)
    return g.chain(top, left, right)


def _bangs_outline(p: FaceParams, rng: np.random.Generator) -> tuple[g.Points, g.Points]:
    """The fringe's outline and its strand edge (left to right), in head units."""
    style = p.bangs
    n = int(
        rng.integers(
            *{"straight": (7, 10), "swept": (5, 8), "parted": (6, 9), "spiky": (4, 6)}[style]
        )
    )
    base = rng.uniform(-0.2, 0.0)  # how far the fringe comes down
    tips_x = np.linspace(-0.92, 0.92, n) + rng.uniform(-0.04, 0.04, n)
    half_gap = (tips_x[1] - tips_x[0]) / 2
    sweep = float(rng.choice((-1.0, 1.0)))
    edge = [np.array([-1.26, -0.2]), np.array([-1.1, -0.45])]
    for i, x in enumerate(tips_x):
        jitter = rng.uniform(-1, 1)
        if style == "straight":
            ty, depth, lean = base + 0.06 + 0.015 * jitter, rng.uniform(0.05, 0.1), 0.0
        elif style == "swept":
            ty, depth = base + 0.1 * sweep * x + 0.05 * jitter, rng.uniform(0.25, 0.4)
            lean = 0.13 * sweep
        elif style == "parted":
            ty, depth, lean = base + 0.05 * jitter, rng.uniform(0.25, 0.4), 0.12 * np.sign(x)
        else:
            ty, depth, lean = base + 0.04 + 0.06 * jitter, rng.uniform(0.4, 0.55), 0.0
        ty -= 0.3 * x * x  # the forehead is round: outer strands end higher
        if style == "parted" and i == n // 2:
            edge.append(np.array([x, -0.85]))  # the parting
            continue
        valley = np.array([x - half_gap, max(ty - depth, -0.95)]) if i else edge[-1]
        tip = np.array([x + lean, ty])
        ctrl = 0.35 * valley + 0.65 * np.array([valley[0], tip[1]])
        edge.extend(g.quad(valley, ctrl, tip, 6)[1:])
        edge.append(np.array([x + lean + 0.02, ty - 0.03]))
    edge += [np.array([1.1, -0.45]), np.array([1.26, -0.2])]
    edge_pts = np.array(edge)
    top = g.arc(0.0, -0.15, 1.26, -3, -177, 30)
    return np.concatenate([top, edge_pts]), edge_pts


def _side_lock(
    pen: Pen, side: int, p: FaceParams, rng: np.random.Generator, base: Color, shadow: Color
) -> None:
    """A lock of hair hanging in front of the cheek, as long as the hair: two strands, the
    outer one shorter, curling in under the jaw when short and out over the shoulder when long."""
    bottom = max(0.5, _hair_bottom(p) - rng.uniform(0.0, 0.15))
    drift = 0.45 * np.clip((bottom - 1.0) / 2.0, 0, 1) - 0.12 * (bottom < 1.2)
    for k, (share, dx, w) in enumerate(((0.8, 0.08, 0.28), (1.0, 0.0, 0.4))):
        end = -0.5 + (bottom + 0.5) * share * rng.uniform(0.97, 1.0)
        sway = rng.uniform(-0.06, 0.06)
        centre = g.cubic(
            (side * (1.0 + dx), -0.5 + 2 * dx),
            (side * (0.9 + dx + sway), 0.35),
            (side * (1.0 + dx + drift * 0.6 - sway), end * 0.75),
            (side * (1.02 + dx + drift), end),
            18,
        )
        widths = g.taper(18, w * rng.uniform(0.9, 1.1), start=0.9, end=0.0, peak=0.25)
        pen.poly(g.stroke(centre, widths), shadow if k == 0 else base, Region.HAIR)
    pen.poly(g.stroke(centre[4:] + (-side * 0.07, 0.0), g.taper(14, 0.05)), shadow, Region.HAIR)


def _eye(pen: Pen, side: int, p: FaceParams, lash: Color, skin_shadow: Color) -> None:
    ew, eh = p.eye_size, p.eye_size * p.eye_height
    ex, ey = side * p.eye_spacing, 0.12

    def at(pts) -> g.Points:
        pts = np.asarray(pts, float)
        return np.stack([ex + side * pts[:, 0] * ew, ey + pts[:, 1] * eh], 1)

    inner, top, outer, low = (-0.5, 0.05), (0.02, -0.5), (0.56, -0.14), (0.06, 0.5)
    upper = g.chain(
        g.cubic(inner, (-0.5, -0.25), (-0.3, -0.52), top, 10),
        g.cubic(top, (0.3, -0.5), (0.5, -0.36), outer, 10),
    )
    lower = g.chain(
        g.cubic(outer, (0.56, 0.2), (0.36, 0.5), low, 10),
        g.cubic(low, (-0.26, 0.5), (-0.46, 0.34), inner, 10),
    )
    sclera = at(g.chain(upper, lower))
    pen.poly(sclera, (252, 252, 255), Region.EYE_WHITE)
    iris_rgb = p.eye_rgb
    cx = 0.03 + 0.1 * p.gaze * side

    def paint(q: Pen) -> None:
        q.poly(at(np.concatenate([upper, (upper + (0, 0.22))[::-1]])), (206, 210, 232), None)
        q.poly(at(g.ellipse(cx, 0.06, 0.31, 0.45, 36)), darker(iris_rgb, 0.62), Region.IRIS)
        q.poly(at(g.ellipse(cx, 0.16, 0.27, 0.34, 32)), iris_rgb, Region.IRIS)
        q.poly(at(g.ellipse(cx, 0.33, 0.19, 0.14, 24)), lighter(iris_rgb, 0.35), Region.IRIS)
        q.poly(at(g.ellipse(cx, 0.04, 0.12, 0.2, 20)), darker(iris_rgb, 0.25), Region.PUPIL)
        q.poly(
            at(g.ellipse(cx - 0.13 * side, -0.12, 0.1, 0.12, 16)), (255, 255, 255), Region.HIGHLIGHT
        )
        q.poly(
            at(g.ellipse(cx + 0.12 * side, 0.24, 0.05, 0.05, 12)), (255, 255, 255), Region.HIGHLIGHT
        )

    pen.clipped(sclera, paint)
    lid = np.concatenate([upper, [(0.7, -0.3)]])
    pen.poly(
        at(g.stroke(lid + (0, -0.03), g.taper(len(lid), 0.16, 0.3, 0.05, 0.8))), lash, Region.LINE
    )
    pen.poly(
        at(g.stroke(lower[1:12], g.taper(11, 0.05, 0.6, 0.0, 0.2))),
        with_alpha(lash, 170),
        Region.LINE,
    )
    crease = g.quad((-0.05, -0.68), (0.3, -0.72), (0.55, -0.5), 8)
    pen.poly(at(g.stroke(crease, g.taper(8, 0.035))), with_alpha(skin_shadow, 200), None)


def _brows(pen: Pen, p: FaceParams, color: Color) -> None:
    y = 0.12 - 0.5 * p.eye_size * p.eye_height - 0.2
    for side in (-1, 1):
        x0 = side * (p.eye_spacing - 0.16)
        x1 = side * (p.eye_spacing + 0.24)
        line = g.quad((x0, y + 0.02), (0.5 * (x0 + x1), y - 0.07), (x1, y + 0.04), 10)
        pen.poly(g.stroke(line, g.taper(10, 0.06, 0.7, 0.1, 0.3)), color, Region.LINE)


def _mouth(pen: Pen, p: FaceParams, skin: Color) -> None:
    y = 0.8 + 0.09 * (p.chin - 1.18) / 0.14  # a longer chin puts the mouth lower
    w = 0.21 * p.mouth_size
    line_color = mix((110, 40, 45), skin, 0.2)
    if p.mouth == "open":
        h = 0.17 * p.mouth_size
        top = g.quad((-w, y), (0.0, y + 0.04 - 0.04 * p.smile), (w, y), 10)
        bottom = g.quad((w, y), (0.0, y + 2 * h), (-w, y), 12)
        outline = g.chain(top, bottom)
        pen.poly(outline, (120, 34, 44), Region.MOUTH)
        pen.clipped(
            outline,
            lambda q: q.poly(
                g.ellipse(0.0, y + h * 0.95, w * 0.6, h * 0.5, 20), (236, 124, 130), Region.MOUTH
            ),
        )
        pen.poly(g.stroke(top, g.taper(10, 0.03, 0.5, 0.5)), line_color, Region.LINE)
    else:
        w *= 0.75
        line = g.quad((-w, y), (0.0, y + 0.08 * p.smile), (w, y), 10)
        pen.poly(g.stroke(line, g.taper(10, 0.04, 0.3, 0.3)), line_color, Region.LINE)


def _blush(pen: Pen, p: FaceParams) -> None:
    for side in (-1, 1):
        cx = side * (p.eye_spacing + 0.05)
        pen.poly(g.ellipse(cx, 0.58, 0.22, 0.09, 24), (*BLUSH_RGB, 95), Region.BLUSH)
        for k in range(3):
            x = cx + (k - 1) * 0.09
            pen.poly(
                g.stroke(np.array([[x + 0.03, 0.53], [x - 0.03, 0.63]]), 0.025),
                (235, 80, 100, 160),
                Region.BLUSH,
            )


def _glasses(pen: Pen, p: FaceParams, rng: np.random.Generator) -> None:
    color = [(40, 40, 50), (110, 64, 40), (170, 30, 44), (40, 50, 110)][int(rng.integers(4))]
    power = rng.choice((2.0, 4.0))
    hw, hh = 0.62 * p.eye_size + 0.02, 0.5 * p.eye_size * p.eye_height + 0.06
    width = rng.uniform(0.045, 0.07)
    for side in (-1, 1):
        cx = side * p.eye_spacing
        frame = g.superellipse(cx, 0.16, hw, hh, power, 40)
        pen.poly(frame, (215, 232, 255, 20), None)
        pen.ring(frame, width, color, Region.GLASSES)
        arm = np.array([[cx + side * hw, 0.08], [side * 1.02, 0.02]])
        pen.poly(g.stroke(arm, width), color, Region.GLASSES)
    inner = p.eye_spacing - hw
    bridge = g.quad((-inner, 0.1), (0.0, 0.02), (inner, 0.1), 6)
    pen.poly(g.stroke(bridge, width), color, Region.GLASSES)


def _accessory(pen: Pen, p: FaceParams, rng: np.random.Generator) -> None:
    s, c = p.accessory_side, p.accessory_rgb
    dark = darker(c, 0.65) if sum(c) > 150 else lighter(c, 0.3)
    if p.accessory == "bow":
        cx, cy = s * 0.72, -1.12
        for lobe in (-1, 1):
            pts = np.array([[0.0, 0.0], [0.42, -0.26], [0.5, 0.0], [0.42, 0.26]]) * (lobe, 1)
            rot = g.affine(cx, cy, 1.0, s * 25.0)
            pen.poly(g.apply(rot, pts), c, Region.ACCESSORY)
            pen.poly(
                g.apply(rot, np.array([[0.0, 0.0], [0.4, -0.1], [0.4, 0.1]]) * (lobe, 1)),
                dark,
                Region.ACCESSORY,
            )
        pen.poly(g.ellipse(cx, cy, 0.1, 0.12, 16), c, Region.ACCESSORY)
    elif p.accessory == "hairclip":
        for k in (0, 1):
            centre = np.array([s * (0.5 + 0.1 * k), -0.62 + 0.06 * k])
            bar = g.superellipse(0, 0, 0.28, 0.05, 4, 24)
            pts = g.apply(g.affine(*centre, 1.0, -s * 55.0), bar)
            pen.poly(pts, c, Region.ACCESSORY)
            pen.ring(pts, 0.025, dark, Region.ACCESSORY)
    elif p.accessory == "flower":
        cx, cy = s * 0.8, -0.9
        a0 = rng.uniform(0, 2 * math.pi)
        for k in range(5):
            a = a0 + k * 2 * math.pi / 5
            pen.poly(
                g.ellipse(cx + 0.14 * math.cos(a), cy + 0.14 * math.sin(a), 0.13, 0.09, 16, a),
                c,
                Region.ACCESSORY,
            )
        pen.poly(g.ellipse(cx, cy, 0.08, 0.08, 12), (250, 214, 80), Region.ACCESSORY)


def _face(
    head: Pen, p: FaceParams, bangs: g.Points, edge: g.Points, skin: Color, hair: Color
) -> None:
    """Skin, the fringe's shadow, blush, eyes, brows, nose, mouth and glasses."""
    skin_shadow = mix(darker(skin, 0.86), (220, 90, 110), 0.12)
    lash = mix(darker(hair, 0.3), (30, 18, 24), 0.7)
    face = _face_outline(p)
    head.poly(face, skin, Region.SKIN)
    fringe_shadow = np.concatenate([bangs[: -len(edge)], edge + (0, 0.08)])
    head.clipped(face, lambda q: q.poly(fringe_shadow, skin_shadow, Region.SKIN))
    if p.blush == "true":
        _blush(head, p)
    for side in (-1, 1):
        _eye(head, side, p, lash, skin_shadow)
    _brows(head, p, darker(hair, 0.55))
    nose = g.stroke(np.array([[0.02, 0.5], [0.05, 0.58]]), 0.03)
    head.poly(nose, darker(skin_shadow, 0.85), Region.SKIN)
    _mouth(head, p, skin)


def _fringe(
    head: Pen,
    p: FaceParams,
    rng: np.random.Generator,
    bangs: g.Points,
    edge: g.Points,
    colors: tuple[Color, Color, Color],
) -> None:
    """The bangs with their strand shadows and the shine across the crown."""
    base, shadow, shine = colors
    head.poly(bangs, base, Region.HAIR)

    def details(q: Pen) -> None:
        for v in edge[1:-1:3]:
            if v[1] > -0.3 or abs(v[0]) > 1.0:
                continue
            strand = g.quad(v, v + (0.0, -0.2), v * (0.7, 1) + (0, -0.45), 8)
            q.poly(g.stroke(strand, g.taper(8, 0.07, 1.0, 0.0, 0.1)), shadow, Region.HAIR)
        if p.highlight > 0:  # the "angel ring": a jagged band of shine across the crown
            radius = rng.uniform(0.84, 0.95)
            a0, a1 = -150 + rng.uniform(0, 12), -30 - rng.uniform(0, 12)
            band = g.arc(0.0, -0.15, radius, a0, a1, 24)
            width = 0.07 + 0.06 * p.highlight
            q.poly(g.stroke(band, g.taper(24, width, 0.0, 0.0, 0.5)), shine, Region.HAIR)
            for a in np.linspace(a0 + 8, a1 - 8, int(rng.integers(9, 14))):
                r = np.radians(a + rng.uniform(-3, 3))
                out = np.array([math.cos(r), math.sin(r)])
                mid = np.array([0.0, -0.15]) + radius * out
                fade = math.sin(np.pi * (a - a0) / (a1 - a0))  # shorter towards the ends
                down, up = rng.uniform(0.08, 0.22) * fade, rng.uniform(0.0, 0.1) * fade
                streak = g.quad(mid + up * out, mid, mid - down * out, 7)
                width_k = g.taper(7, width * 0.8, 0.0, 0.0, 0.35)
                q.poly(g.stroke(streak, width_k), shine, Region.HAIR)

    head.clipped(bangs, details)


def render_face(
    p: FaceParams, size: int, *, regions: bool = False, fractions: bool = False
) -> RenderedFace:
    """Draw ``p`` as a ``size`` x ``size`` RGB image (32..512), optionally with its region map
    and its region fractions (see :class:`RenderedFace`)."""
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(
            f"size must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}, got {size!r}"
        )
    ss = supersampling(size)
    side = size * ss
    img = Image.new("RGB", (side, side))
    reg = Image.new("L", (side, side), 0) if regions or fractions else None
    rng = np.random.default_rng(p.detail_seed)
    cx, cy, unit = p.center[0] * side, p.center[1] * side, p.scale * side
    head = Pen(img, reg, g.affine(cx, cy, unit, p.tilt))
    body = Pen(img, reg, g.affine(cx, cy, unit))
    hair = _hair_colors(p)
    skin_shadow = mix(darker(p.skin_rgb, 0.86), (220, 90, 110), 0.12)

    # back to front
    _background(img, p, rng)
    _back_hair(head, p, rng, hair[1])
    _neck_and_body(head, body, p, p.skin_rgb, skin_shadow)
    bangs, edge = _bangs_outline(p, rng)
    _face(head, p, bangs, edge, p.skin_rgb, hair[0])
    if p.glasses == "true":
        _glasses(head, p, rng)
    _fringe(head, p, rng, bangs, edge, hair)
    for s in (-1, 1):
        _side_lock(head, s, p, rng, hair[0], hair[1])
    if p.accessory != "none":
        _accessory(head, p, rng)

    region_map = shares = None
    if reg is not None:
        samples = np.asarray(reg).reshape(size, ss, size, ss)
        if regions:
            lo, hi = samples.min(axis=(1, 3)), samples.max(axis=(1, 3))
            region_map = np.where(lo == hi, lo, np.uint8(Region.EDGE))
        if fractions:
            shares = _region_fractions(samples)
    return RenderedFace(img.reduce(ss), region_map, shares)


def _region_fractions(samples: np.ndarray) -> np.ndarray:
    """Supersampled regions (size, ss, size, ss) -> float32 shares (size, size, regions)."""
    size, ss = samples.shape[:2]
    per_pixel = samples.transpose(0, 2, 1, 3).reshape(size * size, ss * ss)
    k = len(REGION_NAMES)
    rows = np.repeat(np.arange(size * size) * k, ss * ss)
    counts = np.bincount(rows + per_pixel.ravel(), minlength=size * size * k)
    return (counts.reshape(size, size, k) / (ss * ss)).astype(np.float32)
