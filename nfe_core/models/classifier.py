"""The attribute classifier: a small CNN that reads every attribute of a face from its pixels.

One network serves two roles (training decides which): the *annotator*, whose predictions
label generated faces, and an independently trained *judge* (another width, seed and set of
renders) that grades edits, so that no figure is graded by the network that made the labels.
Like the other networks it is rebuilt from its frozen config alone:
``AttributeClassifier(ClassifierConfig.from_dict(saved))``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nfe_core.models.config import check_positive_int, check_resolution, config_from_dict

MIN_RESOLUTION = 16
MAX_RESOLUTION = 1024
Norm = Literal["batch", "group"]
NORMS = ("batch", "group")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_attributes(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``value`` as a tuple of (name, classes) pairs, or a ValueError saying what is wrong."""
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(
            f"attributes must be a non-empty list of [name, [class, ...]] pairs, got {value!r}"
        )
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"attributes: expected a [name, [class, ...]] pair, got {item!r}")
        name, classes = item
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"attributes: name must be a lowercase identifier, got {name!r}")
        if (
            not isinstance(classes, list | tuple)
            or len(classes) < 2
            or not all(isinstance(c, str) and c for c in classes)
        ):
            raise ValueError(
                f"attributes: {name} needs at least two class names (strings), got {classes!r}"
            )
        if len(set(classes)) != len(classes):
            raise ValueError(f"attributes: {name} repeats a class name: {list(classes)}")
        pairs.append((name, tuple(classes)))
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"attributes: a name appears twice: {names}")
    return tuple(pairs)


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture of an `AttributeClassifier`; stored beside its weights (JSON via
    :meth:`to_dict`) and enough to rebuild the network."""

    resolution: int  # side of the square input, a power of two 16..1024
    attributes: tuple[tuple[str, tuple[str, ...]], ...]  # (name, class names) in head order
    width: int = 16  # channels of the stem; each stage doubles them, up to max_channels
    depth: int = 3  # stride-2 stages after the stem
    max_channels: int = 192
    stem_stride: int = 2  # 1: the stem works at full resolution (slower, finer detail)
    norm: Norm = "batch"

    def __post_init__(self) -> None:
        r = check_resolution(self.resolution, MIN_RESOLUTION, MAX_RESOLUTION)
        object.__setattr__(self, "attributes", _check_attributes(self.attributes))
        for name in ("width", "depth", "max_channels"):
            check_positive_int(name, getattr(self, name))
        if self.stem_stride not in (1, 2) or isinstance(self.stem_stride, bool):
            raise ValueError(f"stem_stride must be 1 or 2, got {self.stem_stride!r}")
        halvings = self.depth + (self.stem_stride == 2)
        if 2**halvings > r:
            raise ValueError(
                f"depth {self.depth} with stem_stride {self.stem_stride} halves {r} px below "
                f"1 px; at most {int(math.log2(r))} halvings in all"
            )
        if self.max_channels < self.width:
            raise ValueError(
                f"max_channels ({self.max_channels}) must be at least width ({self.width})"
            )
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """Attribute names, in head order."""
        return tuple(name for name, _ in self.attributes)

    @property
    def classes(self) -> dict[str, tuple[str, ...]]:
        """Class names per attribute."""
        return dict(self.attributes)

    def stage_channels(self) -> tuple[int, ...]:
        """Channels of the stem and of each stage: (depth + 1,)."""
        return tuple(min(self.width * 2**i, self.max_channels) for i in range(self.depth + 1))

    @property
    def feature_dim(self) -> int:
        """Length F of the pooled feature vector."""
        return self.stage_channels()[-1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` rebuilds the config."""
        d = dataclasses.asdict(self)
        d["attributes"] = [[name, list(classes)] for name, classes in self.attributes]
        return d

    @classmethod
    def from_dict(cls, d: object) -> ClassifierConfig:
        """The config saved by :meth:`to_dict`; ValueError on unknown or missing keys."""
        return config_from_dict(cls, d)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.GroupNorm(math.gcd(8, channels), channels)


class ConvNormReLU(nn.Sequential):
    """3x3 convolution, normalisation, ReLU: (N, C_in, H, W) -> (N, C_out, H/stride, W/stride)."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            _norm(norm, c_out),
            nn.ReLU(inplace=True),
        )


class Stage(nn.Sequential):
    """Downsample then refine: (N, C_in, H, W) -> (N, C_out, H/2, W/2)."""

    def __init__(self, c_in: int, c_out: int, norm: str) -> None:
        super().__init__(ConvNormReLU(c_in, c_out, 2, norm), ConvNormReLU(c_out, c_out, 1, norm))


class AttributeClassifier(nn.Module):
    """Images (N, 3, R, R) in -1..1 -> per attribute logits (N, n_classes).

    A stem convolution (stride 1 or 2), ``depth`` stride-2 stages of two convolutions, global
    average pooling to features (N, F), one linear head per attribute.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        channels = config.stage_channels()
        self.stem = ConvNormReLU(3, channels[0], config.stem_stride, config.norm)
        self.stages = nn.Sequential(
            *(Stage(a, b, config.norm) for a, b in itertools.pairwise(channels))
        )
        self.heads = nn.ModuleDict(
            {name: nn.Linear(channels[-1], len(classes)) for name, classes in config.attributes}
        )

    def _check(self, images: Tensor, resize: bool) -> Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images (N, 3, H, W), got shape {tuple(images.shape)}")
        r = self.config.resolution
        if images.shape[-2:] != (r, r):
            if not resize:
                raise ValueError(
                    f"expected images of {r}x{r} px, got {images.shape[-1]}x{images.shape[-2]}"
                )
            images = F.interpolate(
                images.float(), size=(r, r), mode="bilinear", align_corners=False, antialias=True
            )
        return images

    def features(self, images: Tensor) -> Tensor:
        """Pooled features (N, F) of images (N, 3, R, R) in -1..1."""
        x = self.stages(self.stem(self._check(images, resize=False)))
        return x.mean(dim=(2, 3))

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        """Images (N, 3, R, R) in -1..1 -> {attribute: logits (N, n_classes)}."""
        f = self.features(images)
        return {name: head(f) for name, head in self.heads.items()}

    @torch.no_grad()
    def predict(self, images: Tensor) -> dict[str, Tensor]:
        """Images (N, 3, H, W) in -1..1, any size (resized to R) -> {attribute: probabilities
        (N, n_classes)}. Runs in eval mode and restores the previous mode."""
        images = self._check(images, resize=True)
        was_training = self.training
        self.eval()
        try:
            logits = self(images)
        finally:
            self.train(was_training)
        return {name: torch.softmax(value, dim=1) for name, value in logits.items()}
