"""The encoder: a CNN that maps a face image to W+ (one w per generator layer).

It starts hybrid inversion: its guess is refined by a few optimisation steps, and it keeps
the refined latent in-domain (the optimisation is pulled towards where the encoder would put
its reconstruction). Trained by ``nfe-train encoder`` on generator samples, where the true
latent is known. Rebuilt from its frozen config alone: ``Encoder(EncoderConfig.from_dict(d))``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nfe_core.models.classifier import NORMS, ConvNormReLU, Norm, Stage
from nfe_core.models.config import check_positive_int, check_resolution, config_from_dict

MIN_RESOLUTION = 32
MAX_RESOLUTION = 1024


@dataclass(frozen=True)
class EncoderConfig:
    """Architecture of an `Encoder`; stored beside its weights and enough to rebuild it."""

    resolution: int  # the generator's resolution (power of two, 32..1024)
    w_dim: int
    num_ws: int  # rows of W+: the generator's num_ws
    width: int = 32  # channels of the full-resolution stem; each stage doubles them
    max_channels: int = 256
    bottleneck: int = 64  # channels of the 4x4 map before the fully connected head
    hidden: int = 512  # width of the head's hidden layer
    norm: Norm = "group"

    def __post_init__(self) -> None:
        check_resolution(self.resolution, MIN_RESOLUTION, MAX_RESOLUTION)
        for name in ("w_dim", "num_ws", "width", "max_channels", "bottleneck", "hidden"):
            check_positive_int(name, getattr(self, name))
        if self.max_channels < self.width:
            raise ValueError(
                f"max_channels ({self.max_channels}) must be at least width ({self.width})"
            )
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")

    def stage_channels(self) -> tuple[int, ...]:
        """Channels at R, R/2, ..., 4 px."""
        stages = int(math.log2(self.resolution)) - 2
        return tuple(min(self.width * 2**i, self.max_channels) for i in range(stages + 1))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> EncoderConfig:
        """The config saved by :meth:`to_dict`; ValueError on unknown or missing keys."""
        return config_from_dict(cls, d)


class Encoder(nn.Module):
    """Images (N, 3, R, R) in -1..1 -> W+ (N, num_ws, w_dim).

    A full-resolution stem, stride-2 stages down to 4x4, a 1x1 bottleneck and a two-layer
    head that predicts each row's offset from ``w_avg`` (the generator's mean w, a buffer).
    The last layer starts at zero, so an untrained encoder answers the mean face.
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        channels = config.stage_channels()
        self.stem = ConvNormReLU(3, channels[0], 1, config.norm)
        self.stages = nn.Sequential(
            *(Stage(a, b, config.norm) for a, b in itertools.pairwise(channels))
        )
        self.bottleneck = ConvNormReLU(channels[-1], config.bottleneck, 1, config.norm)
        self.hidden = nn.Linear(config.bottleneck * 16, config.hidden)
        self.out = nn.Linear(config.hidden, config.num_ws * config.w_dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    def forward(self, images: Tensor) -> Tensor:
        r = self.config.resolution
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[-2:] != (r, r):
            raise ValueError(f"expected images (N, 3, {r}, {r}), got {tuple(images.shape)}")
        x = self.bottleneck(self.stages(self.stem(images)))
        x = F.leaky_relu(self.hidden(x.flatten(1)), 0.2)
        delta = self.out(x).view(-1, self.config.num_ws, self.config.w_dim)
        return self.w_avg + delta
