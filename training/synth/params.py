"""What a face looks like, drawn at random: labels plus the nuisance factors that must vary.

A face is fully described by a frozen ``FaceParams``; ``render_face`` turns it into pixels at
any size, so the same seed gives the same face at 32 px and at 512 px.
"""

from __future__ import annotations

import colorsys
from dataclasses import asdict, dataclass

import numpy as np

from training.synth.schema import (
    ATTRIBUTE_BY_NAME,
    EYE_COLORS,
    HAIR_COLORS,
    HAIR_LENGTH_VALUE,
    HAIR_LENGTHS,
    RGB,
)

BANG_STYLES = ("straight", "swept", "parted", "spiky")
BACKGROUNDS = ("plain", "gradient", "stripes", "dots")
SKIN_TONES: tuple[RGB, ...] = (
    (255, 236, 222),
    (253, 226, 204),
    (248, 214, 190),
    (240, 200, 172),
    (226, 180, 148),
    (198, 148, 112),
    (160, 112, 82),
)
SKIN_WEIGHTS = (0.2, 0.22, 0.2, 0.15, 0.11, 0.07, 0.05)
ACCESSORY_COLORS: tuple[RGB, ...] = (
    (220, 40, 60),
    (250, 140, 180),
    (250, 250, 250),
    (60, 110, 220),
    (250, 210, 60),
    (40, 40, 50),
    (150, 90, 210),
)
BLUSH_RGB: RGB = (255, 105, 125)
# the colours each attribute the paste-back draws whole (schema.FIGURE_CLASSES) is worn in
FIGURE_COLORS: dict[str, tuple[RGB, ...]] = {"accessory": ACCESSORY_COLORS, "blush": (BLUSH_RGB,)}
CLOTHES_COLORS: tuple[RGB, ...] = (
    (40, 50, 90),
    (250, 250, 252),
    (30, 30, 36),
    (180, 40, 50),
    (90, 130, 200),
    (110, 150, 110),
    (230, 200, 150),
    (120, 80, 140),
)


@dataclass(frozen=True)
class FaceParams:
    """Everything that decides one face. Lengths are in face half-widths."""

    # labelled attributes
    hair_color: str
    hair_length: str
    hair_length_value: float  # 0..1, continuous; the class is its third
    eye_color: str
    mouth: str
    blush: str
    glasses: str
    accessory: str
    # nuisance factors
    hair_rgb: RGB
    eye_rgb: RGB
    skin_rgb: RGB
    bangs: str
    background: str
    background_rgb: tuple[RGB, RGB]
    clothes_rgb: RGB
    accessory_rgb: RGB
    accessory_side: int  # -1 left, +1 right
    eye_size: float
    eye_height: float  # height / width
    eye_spacing: float
    gaze: float  # -1..1, where the irises look
    tilt: float  # degrees
    center: tuple[float, float]  # head centre in image fractions
    scale: float  # face half-width in image fractions
    chin: float  # chin depth below the eye line
    highlight: float  # 0 (no shine) .. 1
    shade: float  # how much darker shadowed hair is, 0..1
    mouth_size: float
    smile: float  # -1 frown .. 1 smile
    detail_seed: int  # strands, tips and other small jitter

    def labels(self) -> dict[str, str]:
        """The ground-truth labels, one per attribute, plus the continuous hair length."""
        out = {name: getattr(self, name) for name in ATTRIBUTE_BY_NAME}
        out[HAIR_LENGTH_VALUE] = f"{self.hair_length_value:.4f}"
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def face_rng(seed: int, index: int) -> np.random.Generator:
    """The generator for face ``index`` of the set drawn with ``seed`` (independent streams)."""
    return np.random.default_rng([int(seed), int(index)])


def _jitter_color(rgb: RGB, dh: float, ds: float, dv: float) -> RGB:
    """``rgb`` with its hue shifted by ``dh`` and saturation and value scaled by 1+ds, 1+dv."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    h = (h + dh) % 1.0
    s = float(np.clip(s * (1 + ds), 0, 1))
    v = float(np.clip(v * (1 + dv), 0, 1))
    return tuple(round(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))  # type: ignore[return-value]


def _choice(rng: np.random.Generator, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def _pastel(rng: np.random.Generator) -> RGB:
    h = rng.uniform(0, 1)
    s = rng.uniform(0.05, 0.45)
    v = rng.uniform(0.55, 1.0)
    return tuple(round(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))  # type: ignore[return-value]


def sample_face(rng: np.random.Generator, **fixed) -> FaceParams:
    """Draw a face. Keyword arguments fix any field, e.g. ``hair_color="blonde"``.

    Fixing ``hair_length`` draws the continuous length inside that class; fixing
    ``hair_length_value`` sets the class from it. Every draw happens whatever is fixed,
    so fixing one attribute leaves all other draws of the same generator unchanged.
    """
    for key in fixed:
        if key not in FaceParams.__dataclass_fields__:
            raise ValueError(f"unknown face parameter {key!r}")
    for name, attr in ATTRIBUTE_BY_NAME.items():
        if name in fixed:
            attr.index(fixed[name])  # validates the class name

    d: dict = {}
    d["hair_color"] = _choice(rng, tuple(HAIR_COLORS))
    d["hair_length"] = _choice(rng, tuple(HAIR_LENGTHS))
    u_len = rng.uniform(0.02, 0.98)
    d["eye_color"] = _choice(rng, tuple(EYE_COLORS))
    d["mouth"] = _choice(rng, ("closed", "open"), p=(0.6, 0.4))
    d["blush"] = _choice(rng, ("false", "true"), p=(0.65, 0.35))
    d["glasses"] = _choice(rng, ("false", "true"), p=(0.75, 0.25))
    d["accessory"] = _choice(rng, ("none", "bow", "hairclip", "flower"), p=(0.55, 0.15, 0.15, 0.15))
    hair_j = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
    eye_j = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
    d["skin_rgb"] = SKIN_TONES[int(rng.choice(len(SKIN_TONES), p=SKIN_WEIGHTS))]
    d["bangs"] = _choice(rng, BANG_STYLES)
    d["background"] = _choice(rng, BACKGROUNDS, p=(0.35, 0.35, 0.15, 0.15))
    d["background_rgb"] = (_pastel(rng), _pastel(rng))
    d["clothes_rgb"] = _choice(rng, CLOTHES_COLORS)
    d["accessory_rgb"] = _choice(rng, ACCESSORY_COLORS)
    d["accessory_side"] = int(_choice(rng, (-1, 1)))
    d["eye_size"] = rng.uniform(0.34, 0.46)
    d["eye_height"] = rng.uniform(1.0, 1.35)
    d["eye_spacing"] = rng.uniform(0.42, 0.52)
    d["gaze"] = rng.uniform(-1, 1) * (rng.uniform() < 0.4)
    d["tilt"] = rng.uniform(-11, 11)
    d["center"] = (0.5 + rng.uniform(-0.05, 0.05), 0.38 + rng.uniform(-0.03, 0.03))
    d["scale"] = 0.19 * rng.uniform(0.9, 1.1)
    d["chin"] = rng.uniform(1.18, 1.32)
    d["highlight"] = rng.uniform(0.0, 1.0) if rng.uniform() < 0.85 else 0.0
    d["shade"] = rng.uniform(0.1, 0.22)
    d["mouth_size"] = rng.uniform(0.8, 1.2)
    d["smile"] = rng.uniform(-0.3, 1.0)
    d["detail_seed"] = int(rng.integers(0, 2**31 - 1))

    d.update(fixed)
    if "hair_length_value" in fixed and "hair_length" not in fixed:
        d["hair_length"] = hair_length_class(float(fixed["hair_length_value"]))
    if "hair_length_value" not in fixed:
        lo, hi = HAIR_LENGTHS[d["hair_length"]]
        d["hair_length_value"] = lo + (hi - lo) * u_len
    d["hair_length_value"] = float(d["hair_length_value"])
    if d["hair_length"] != hair_length_class(d["hair_length_value"]):
        raise ValueError(
            f"hair_length {d['hair_length']!r} does not match hair_length_value "
            f"{d['hair_length_value']:.3f}"
        )
    if "hair_rgb" not in fixed:
        d["hair_rgb"] = _jitter_color(
            HAIR_COLORS[d["hair_color"]], 0.02 * hair_j[0], -0.12 * abs(hair_j[1]), 0.08 * hair_j[2]
        )
    if "eye_rgb" not in fixed:
        d["eye_rgb"] = _jitter_color(
            EYE_COLORS[d["eye_color"]], 0.02 * eye_j[0], -0.1 * abs(eye_j[1]), 0.08 * eye_j[2]
        )
    return FaceParams(**d)


def hair_length_class(value: float) -> str:
    """The hair length class of a continuous length in 0..1."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"hair_length_value must be in 0..1, got {value}")
    for name, (lo, hi) in HAIR_LENGTHS.items():
        if lo <= value < hi:
            return name
    return "long"
