"""The GAN training configuration: one frozen dataclass, stored as JSON in every run and
checkpoint, overridable field by field from a ``--config`` JSON file."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nfe_core.models import DiscriminatorConfig, GeneratorConfig

SYNTHETIC_COUNT = 100_000  # --data synthetic: how many distinct procedural faces

MIN_SIZE, MAX_SIZE = 32, 1024
AMP_MODES = ("none", "bf16", "fp16")
GUIDE_SHARES = ("uniform", "data")  # what the guide's batch term asks of class shares


def check_size(size: int) -> int:
    """``size`` if it is a power of two from 32 to 1024, else ValueError."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"size: expected a whole number, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE or size & (size - 1):
        raise ValueError(
            f"size: expected a power of two from {MIN_SIZE} to {MAX_SIZE} pixels, got {size}"
        )
    return size


# Training defaults that differ from the models' budgeted defaults: at 32 px a small network,
# so that CPU runs take minutes (nfe-train gan --size 32 --steps 200: a few minutes on 2 cores).
_TRAIN_CHANNELS = {32: (128, 128, 64, 32)}


def default_networks(size: int) -> tuple[GeneratorConfig, DiscriminatorConfig]:
    """The networks a run at ``size`` trains unless the config says otherwise."""
    g, d = GeneratorConfig.default(size), DiscriminatorConfig.default(size)
    channels = _TRAIN_CHANNELS.get(size)
    if channels is not None:
        g = dataclasses.replace(g, channels=channels)
        d = dataclasses.replace(d, channels=channels)
    return g, d


@dataclass(frozen=True)
class TrainConfig:
    """Everything that shapes a GAN training run except the data, size, steps and seed.

    Build it with :meth:`for_size` (defaults for a resolution, then overrides); store it with
    :meth:`to_dict` and rebuild it with :meth:`from_dict`.
    """

    generator: GeneratorConfig
    discriminator: DiscriminatorConfig
    batch_size: int = 8  # all processes together; each of W processes gets batch_size / W
    g_lr: float = 0.002
    d_lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    # R1 weight: rosinality's default. On the procedural faces at 32 px, 800 steps gave faces
    # with 10, hair silhouettes with 1, and collapsed speckle with StyleGAN2-ADA's heuristic
    # 0.0002 * size^2 / batch (0.026)
    r1_gamma: float = 10.0
    r1_interval: int = 16  # lazy R1: every N steps, scaled by N (and Adam adjusted for it)
    ema_half_life_images: float = 10_000.0  # EMA generator's half-life in images
    ema_rampup: float | None = 0.05  # half-life at most this share of the images seen so far
    mixing_prob: float = 0.9  # share of batches drawn with two latents (style mixing)
    checkpoint_interval: int = 100  # steps between checkpoints/latest.pt
    keep_interval: int = 10_000  # steps between kept checkpoints/step_XXXXXX.pt (0: none)
    sample_interval: int = 100  # steps between samples/step_XXXXXX.png
    sample_count: int = 64  # faces in each sample grid (from the same fixed latents)
    synthetic_count: int = SYNTHETIC_COUNT  # distinct procedural faces for --data synthetic
    num_workers: int | None = None  # DataLoader workers per process (None: up to 2)
    amp: str = "bf16"  # mixed precision on CUDA only: none, bf16, fp16
    compile: bool = False  # torch.compile the training forwards (CUDA only)
    # A second discriminator that sees only one square of every image, (left, top, size) as
    # fractions of it: the middle of the face, whose small parts (eyes, mouth, blush, glasses)
    # the whole-image one judges loosely, as GFPGAN's facial-component discriminators do. On
    # the 64 px default model the two classifiers agreed on the GAN's eye colour on 0.63-0.68
    # of faces from step 44k to 72k while the judge-space Fréchet distance fell 18 -> 10. It
    # works at max(32, crop) px (smaller crops upsampled) with the main discriminator's
    # channels at that scale; None: no such discriminator.
    detail_box: tuple[float, float, float] | None = None
    detail_weight: float = 1.0  # its share of the generator's loss (the main one's is 1)
    # The weight of a clarity term in the generator's loss (:func:`~training.gan.losses.
    # clarity_loss` of a guide classifier's readings of the fakes: nfe-train gan --guide, the
    # annotator), which asks each face to show one class of every attribute plainly and the
    # batch all classes. 0: unguided.
    guide_weight: float = 0.0
    # Which class shares the batch should show: "uniform" (every class alike) or "data" (as
    # often as the training data labels them: the procedural faces have no accessory 0.55 of
    # the time and blush 0.35; guided toward the uniform, the 64 px default GAN drew 0.39 and
    # 0.42).
    guide_shares: str = "uniform"
    # The weight of a mirror term beside it (:func:`~training.gan.losses.mirror_loss`): the
    # guide should read these attributes alike in each fake's left half beside its mirror
    # image and in its right half likewise. The procedural faces draw both eyes in one
    # colour; the 64 px default GAN drew two-tone eyes: the guide read its two composites
    # as different eye colours on 0.62 of faces at step 72,692 (0.12 on procedural renders,
    # where the face's centre is not exactly the image's). Needs the guide (guide_weight).
    mirror_weight: float = 0.0
    mirror_attributes: tuple[str, ...] = ()
    # The weight of a linear term (:func:`~training.gan.losses.probe_loss`): the guide's
    # reading of each fake should be what a linear function of its latent (a probe on the W+
    # rows, trained alongside) predicts, so that InterFaceGAN's linear boundaries in W
    # separate the classes the annotator reads. Needs the guide (guide_weight). On the 64 px
    # default GAN, 600 steps from step 90,051 (benchmarks/bench_gan_checkpoint.py): mean
    # balanced accuracy of the boundaries 0.871 -> 0.892 (0.2) / 0.900 (0.5), the worst
    # 0.706 -> 0.704 / 0.751, but recall 0.757 -> 0.664 / 0.673 and Fréchet distance 7.6 ->
    # 9.5 / 10.4; so the default config leaves it at 0.
    linear_weight: float = 0.0

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def for_size(cls, size: int, overrides: dict[str, Any] | None = None) -> TrainConfig:
        """The default configuration for ``size`` pixels with ``overrides`` applied.

        ``overrides`` may set any field; ``generator`` / ``discriminator`` are partial dicts
        merged onto :func:`default_networks` (the models' defaults; smaller at 32 px).
        Unknown keys or bad values -> ValueError naming them.
        """
        check_size(size)
        overrides = dict(overrides or {})
        _reject_unknown(overrides, {f.name for f in dataclasses.fields(cls)}, "config")
        g, d = default_networks(size)
        nets = {
            "generator": _merge_net(GeneratorConfig, g, overrides.pop("generator", None)),
            "discriminator": _merge_net(
                DiscriminatorConfig, d, overrides.pop("discriminator", None)
            ),
        }
        for name, net in nets.items():
            if net.resolution != size:
                raise ValueError(
                    f"config: {name}.resolution is {net.resolution} but --size is {size}"
                )
        values = {key: _from_json(key, value) for key, value in overrides.items()}
        return cls(**nets, **values)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A configuration from :meth:`to_dict`'s output (e.g. a checkpoint's)."""
        if not isinstance(data, dict):
            raise ValueError(f"config: expected a JSON object, got {type(data).__name__}")
        data = dict(data)
        _reject_unknown(data, {f.name for f in dataclasses.fields(cls)}, "config")
        try:
            nets = {
                "generator": GeneratorConfig.from_dict(data.pop("generator")),
                "discriminator": DiscriminatorConfig.from_dict(data.pop("discriminator")),
            }
        except KeyError as exc:
            raise ValueError(f"config: missing {exc.args[0]!r}") from None
        return cls(**nets, **{k: _from_json(k, v) for k, v in data.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: nested dicts, lists for tuples."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("generator", "discriminator"):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @property
    def resolution(self) -> int:
        return self.generator.resolution

    @property
    def detail_crop(self) -> tuple[int, int, int] | None:
        """The detail discriminator's square in pixels: (left, top, size), or None."""
        if self.detail_box is None:
            return None
        r = self.resolution
        left, top, size = (round(v * r) for v in self.detail_box)
        return left, top, size

    @property
    def detail_discriminator(self) -> DiscriminatorConfig | None:
        """The detail discriminator's architecture (see ``detail_box``), or None."""
        crop = self.detail_crop
        if crop is None:
            return None
        resolution = max(_MIN_DETAIL_RESOLUTION, crop[2])
        levels = int(math.log2(resolution)) - 1  # 4, 8, ..., resolution
        main = self.discriminator.channels
        channels = (main[0],) * max(0, levels - len(main)) + tuple(main[-levels:])
        return dataclasses.replace(self.discriminator, resolution=resolution, channels=channels)

    def workers(self) -> int:
        """DataLoader worker processes: the configured number, or up to 2 (one per core)."""
        if self.num_workers is not None:
            return self.num_workers
        return min(2, os.cpu_count() or 1)


def load_overrides(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in ``path`` (config overrides); ValueError naming the file if not."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{file}: the config file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file}: the config file cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object of settings, got {type(data).__name__}")
    return data


# --------------------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _reject_unknown(data: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"{where}: unknown setting {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(known))})"
        )


def _merge_net(cls: type, default: Any, override: object) -> Any:
    if override is None:
        return default
    name = "generator" if cls is GeneratorConfig else "discriminator"
    if not isinstance(override, dict):
        raise ValueError(f"config: {name}: expected a JSON object, got {override!r}")
    try:
        return cls.from_dict({**default.to_dict(), **override})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config: {name}: {exc}") from None


def _from_json(key: str, value: object) -> object:
    if key in ("betas", "detail_box", "mirror_attributes") and isinstance(value, list):
        return tuple(value)
    return value


_MIN_DETAIL_RESOLUTION = 32  # the discriminator's smallest


def _detail_box_ok(value: object) -> bool:
    if value is None:
        return True
    if not (isinstance(value, tuple) and len(value) == 3 and all(map(_is_number, value))):
        return False
    left, top, size = value
    return min(left, top) >= 0 and size > 0 and max(left, top) + size <= 1


_CHECKS: dict[str, tuple[str, Any]] = {
    "batch_size": ("a whole number of at least 1", lambda v: _is_int(v) and v >= 1),
    "g_lr": ("a number above 0", lambda v: _is_number(v) and v > 0),
    "d_lr": ("a number above 0", lambda v: _is_number(v) and v > 0),
    "betas": (
        "two numbers from 0 up to (not including) 1",
        lambda v: (
            isinstance(v, tuple) and len(v) == 2 and all(_is_number(b) and 0 <= b < 1 for b in v)
        ),
    ),
    "r1_gamma": ("a number of at least 0", lambda v: _is_number(v) and v >= 0),
    "r1_interval": ("a whole number of at least 1", lambda v: _is_int(v) and v >= 1),
    "ema_half_life_images": ("a number of at least 0", lambda v: _is_number(v) and v >= 0),
    "ema_rampup": ("null or a number above 0", lambda v: v is None or (_is_number(v) and v > 0)),
    "mixing_prob": ("a number from 0 to 1", lambda v: _is_number(v) and 0 <= v <= 1),
    "checkpoint_interval": ("a whole number of at least 1", lambda v: _is_int(v) and v >= 1),
    "keep_interval": ("a whole number of at least 0", lambda v: _is_int(v) and v >= 0),
    "sample_interval": ("a whole number of at least 1", lambda v: _is_int(v) and v >= 1),
    "sample_count": ("a whole number from 1 to 256", lambda v: _is_int(v) and 1 <= v <= 256),
    "synthetic_count": ("a whole number of at least 1", lambda v: _is_int(v) and v >= 1),
    "num_workers": ("null or a whole number of at least 0", lambda v: v is None or _is_int(v)),
    "amp": (f"one of {', '.join(AMP_MODES)}", lambda v: v in AMP_MODES),
    "compile": ("true or false", lambda v: isinstance(v, bool)),
    "detail_box": (
        "null or [left, top, size] as fractions of the image, inside it",
        _detail_box_ok,
    ),
    "detail_weight": ("a number above 0", lambda v: _is_number(v) and v > 0),
    "guide_weight": ("a number of at least 0", lambda v: _is_number(v) and v >= 0),
    "guide_shares": ('"uniform" or "data"', lambda v: v in GUIDE_SHARES),
    "mirror_weight": ("a number of at least 0", lambda v: _is_number(v) and v >= 0),
    "mirror_attributes": (
        "a list of distinct attribute names",
        lambda v: (
            isinstance(v, tuple)
            and all(isinstance(a, str) and a for a in v)
            and len(set(v)) == len(v)
        ),
    ),
    "linear_weight": ("a number of at least 0", lambda v: _is_number(v) and v >= 0),
}


def _validate(config: TrainConfig) -> None:
    if not isinstance(config.generator, GeneratorConfig):
        raise ValueError("config: generator must be a GeneratorConfig")
    if not isinstance(config.discriminator, DiscriminatorConfig):
        raise ValueError("config: discriminator must be a DiscriminatorConfig")
    if config.generator.resolution != config.discriminator.resolution:
        raise ValueError(
            f"config: generator resolution {config.generator.resolution} differs from "
            f"discriminator resolution {config.discriminator.resolution}"
        )
    for name, (expected, ok) in _CHECKS.items():
        value = getattr(config, name)
        if not ok(value):
            raise ValueError(f"config: {name}: expected {expected}, got {value!r}")
    if config.num_workers is not None and config.num_workers < 0:
        raise ValueError(f"config: num_workers: expected at least 0, got {config.num_workers}")
    if config.mirror_weight > 0 and not (config.mirror_attributes and config.guide_weight > 0):
        raise ValueError(
            'config: mirror_weight needs mirror_attributes (e.g. ["eye_color"]) and a '
            "guide classifier (guide_weight above 0)"
        )
    if config.linear_weight > 0 and config.guide_weight == 0:
        raise ValueError(
            "config: linear_weight needs a guide classifier (guide_weight above 0) whose "
            "readings the probe learns"
        )
    if config.detail_box is not None:
        r = config.resolution
        pixels = [v * r for v in config.detail_box]
        size = round(pixels[2])
        if any(abs(p - round(p)) > 1e-6 for p in pixels) or size < 8 or size & (size - 1):
            raise ValueError(
                f"config: detail_box: at {r} px, {list(config.detail_box)} must fall on whole "
                f"pixels with a size that is a power of two of at least 8 (got {pixels})"
            )


__all__ = [
    "AMP_MODES",
    "TrainConfig",
    "check_size",
    "default_networks",
    "load_overrides",
]
