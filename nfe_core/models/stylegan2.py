"""The StyleGAN2 generator and discriminator, with the frozen configs stored beside their weights.

The layout (module names, parameter names and shapes) is rosinality's stylegan2-pytorch, so its
checkpoints import into `Generator` (see `nfe_core.models.rosinality`); unlike it, channels are
given per resolution, noise is fixed per model unless asked otherwise, and the generator carries
its mean w (`w_avg`) as a buffer.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from nfe_core.models.config import (
    check_positive_int,
    check_resolution,
    config_from_dict,
    is_int,
)
from nfe_core.models.layers import (
    ConstantInput,
    ConvLayer,
    EqualLinear,
    PixelNorm,
    ResBlock,
    StyledConv,
    ToRGB,
)

MIN_RESOLUTION = 32
MAX_RESOLUTION = 1024
NoiseMode = Literal["const", "random", "none"]
NOISE_MODES = ("const", "random", "none")

# Channels per resolution of the default (budgeted) configs; see GeneratorConfig.default.
_DEFAULT_CHANNELS = {4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 16, 512: 16, 1024: 8}


def _check_resolution(resolution: object) -> int:
    return check_resolution(resolution, MIN_RESOLUTION, MAX_RESOLUTION)


def _resolutions(resolution: int) -> list[int]:
    """4, 8, ..., resolution."""
    return [2**i for i in range(2, int(math.log2(resolution)) + 1)]


def _int_tuple(name: str, value: object) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not all(is_int(v) for v in value):
        raise ValueError(f"{name} must be a list of integers, got {value!r}")
    return tuple(value)


def _check_channels(resolution: int, channels: object) -> tuple[int, ...]:
    channels = _int_tuple("channels", channels)
    expected = len(_resolutions(resolution))
    if len(channels) != expected:
        raise ValueError(
            f"channels must give one count per resolution 4..{resolution} ({expected} values), "
            f"got {len(channels)}"
        )
    if any(c < 1 for c in channels):
        raise ValueError(f"channels must be positive, got {channels}")
    return channels


def _check_blur_kernel(blur_kernel: object) -> tuple[int, ...]:
    taps = _int_tuple("blur_kernel", blur_kernel)
    if len(taps) < 2 or any(t < 0 for t in taps) or sum(taps) == 0:
        raise ValueError(
            f"blur_kernel must be at least 2 non-negative taps with a positive sum, got {taps}"
        )
    return taps


def _to_dict(config: object) -> dict:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of a `Generator`; stored in bundle.json and enough to rebuild the network."""

    resolution: int  # power of two, 32..1024
    channels: tuple[int, ...]  # one per resolution 4, 8, ..., resolution
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    blur_kernel: tuple[int, ...] = (1, 3, 3, 1)

    def __post_init__(self) -> None:
        _check_resolution(self.resolution)
        object.__setattr__(self, "channels", _check_channels(self.resolution, self.channels))
        for name in ("z_dim", "w_dim", "mapping_layers"):
            check_positive_int(name, getattr(self, name))
        lr_mul = self.mapping_lr_mul
        if (
            isinstance(lr_mul, bool)
            or not isinstance(lr_mul, int | float)
            or not math.isfinite(lr_mul)
            or lr_mul <= 0
        ):
            raise ValueError(f"mapping_lr_mul must be a positive number, got {lr_mul!r}")
        object.__setattr__(self, "mapping_lr_mul", float(lr_mul))
        object.__setattr__(self, "blur_kernel", _check_blur_kernel(self.blur_kernel))

    @classmethod
    def default(cls, resolution: int) -> GeneratorConfig:
        """Our budgeted channels for `resolution`: renders stay far under 33 ms on 2 CPU cores.

        256 channels at 4 and 8 px, then halving: 128 at 16, 64 at 32, 32 at 64, 16 at 128,
        256 and 512, 8 at 1024 (z = w = 512, 8 mapping layers; 5.6M parameters, 2.1M of them
        the mapping). Measured with benchmarks/bench_generator.py (batch 1, noise const,
        2 threads, torch 2.13 CPU build), the spread of medians over runs on a shared VM:
        64 px 9.5-13 ms, 128 px 12-19 ms, 256 px 27-45 ms. The heavier "256 up to 16 px, then
        halving" measured 22 ms at 64 px and 38 ms at 128 px: too slow.
        """
        _check_resolution(resolution)
        return cls(resolution, tuple(_DEFAULT_CHANNELS[r] for r in _resolutions(resolution)))

    @property
    def num_ws(self) -> int:
        """Number of w vectors in W+ (rosinality's n_latent): 2 * log2(resolution) - 2."""
        return 2 * int(math.log2(self.resolution)) - 2

    def to_dict(self) -> dict:
        """JSON-safe dict (tuples as lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        """Validated config from `to_dict` output; unknown keys or bad values -> ValueError."""
        return config_from_dict(cls, d)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Architecture of a `Discriminator`; stored in bundle.json and enough to rebuild it."""

    resolution: int
    channels: tuple[int, ...]  # one per resolution 4, 8, ..., resolution
    mbstd_group: int = 4
    mbstd_features: int = 1
    blur_kernel: tuple[int, ...] = (1, 3, 3, 1)

    def __post_init__(self) -> None:
        _check_resolution(self.resolution)
        object.__setattr__(self, "channels", _check_channels(self.resolution, self.channels))
        check_positive_int("mbstd_group", self.mbstd_group)
        check_positive_int("mbstd_features", self.mbstd_features)
        if self.channels[0] % self.mbstd_features:
            raise ValueError(
                f"mbstd_features ({self.mbstd_features}) must divide the 4x4 channel count "
                f"({self.channels[0]})"
            )
        object.__setattr__(self, "blur_kernel", _check_blur_kernel(self.blur_kernel))

    @classmethod
    def default(cls, resolution: int) -> DiscriminatorConfig:
        """The mirror of `GeneratorConfig.default(resolution)`: the same channels per resolution."""
        return cls(resolution, GeneratorConfig.default(resolution).channels)

    def to_dict(self) -> dict:
        """JSON-safe dict (tuples as lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DiscriminatorConfig:
        """Validated config from `to_dict` output; unknown keys or bad values -> ValueError."""
        return config_from_dict(cls, d)


def _check_config(config: object, cls: type) -> None:
    if not isinstance(config, cls):
        raise ValueError(f"expected a {cls.__name__}, got {type(config).__name__}")


class Generator(nn.Module):
    """z (N, z_dim) -> image (N, 3, R, R); rosinality's StyleGAN2 generator layout plus `w_avg`."""

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        _check_config(config, GeneratorConfig)
        self.config = config
        c = config
        blur = c.blur_kernel
        mapping: list[nn.Module] = [PixelNorm()]
        for i in range(c.mapping_layers):
            mapping.append(
                EqualLinear(
                    c.z_dim if i == 0 else c.w_dim,
                    c.w_dim,
                    lr_mul=c.mapping_lr_mul,
                    activation="fused_lrelu",
                )
            )
        self.style = nn.Sequential(*mapping)

        self.input = ConstantInput(c.channels[0])
        self.conv1 = StyledConv(c.channels[0], c.channels[0], 3, c.w_dim, blur_kernel=blur)
        self.to_rgb1 = ToRGB(c.channels[0], c.w_dim, upsample=False)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        for in_ch, out_ch in itertools.pairwise(c.channels):
            self.convs.append(
                StyledConv(in_ch, out_ch, 3, c.w_dim, upsample=True, blur_kernel=blur)
            )
            self.convs.append(StyledConv(out_ch, out_ch, 3, c.w_dim, blur_kernel=blur))
            self.to_rgbs.append(ToRGB(out_ch, c.w_dim, blur_kernel=blur))

        self.num_layers = 2 * len(c.channels) - 1
        self.noises = nn.Module()
        for i in range(self.num_layers):
            size = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, size, size))
        self.register_buffer("w_avg", torch.zeros(c.w_dim))

    @property
    def num_ws(self) -> int:
        """Rows of a W+ latent."""
        return self.config.num_ws

    def mapping(self, z: Tensor) -> Tensor:
        """z (N, z_dim) -> w (N, w_dim)."""
        if z.ndim != 2 or z.shape[1] != self.config.z_dim:
            raise ValueError(f"z must have shape (N, {self.config.z_dim}), got {tuple(z.shape)}")
        return self.style(z)

    @torch.no_grad()
    def compute_w_avg(self, n: int = 10_000, seed: int = 0) -> Tensor:
        """Mean of mapping(z) over n seeded z ~ N(0, I); sets and returns `w_avg` (w_dim,)."""
        check_positive_int("n", n)
        rng = torch.Generator().manual_seed(seed)
        total = torch.zeros(self.config.w_dim, dtype=torch.float64, device=self.w_avg.device)
        for start in range(0, n, 1000):
            z = torch.randn(min(1000, n - start), self.config.z_dim, generator=rng)
            z = z.to(device=self.w_avg.device, dtype=self.w_avg.dtype)
            total += self.mapping(z).double().sum(0)
        self.w_avg.copy_(total / n)
        return self.w_avg.clone()

    def _check_w(self, w: Tensor, name: str = "w") -> None:
        d, k = self.config.w_dim, self.num_ws
        if not ((w.ndim == 2 and w.shape[1] == d) or (w.ndim == 3 and w.shape[1:] == (k, d))):
            raise ValueError(
                f"{name} must have shape (N, {d}) [W] or (N, {k}, {d}) [W+], got {tuple(w.shape)}"
            )

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """w (N, w_dim) or (N, num_ws, w_dim) -> same: w_avg + psi * (w - w_avg)."""
        self._check_w(w)
        if psi == 1:
            return w
        return self.w_avg + psi * (w - self.w_avg)

    def to_wplus(self, w: Tensor) -> Tensor:
        """w (N, w_dim) -> (N, num_ws, w_dim), the same w for every layer; W+ passes through."""
        self._check_w(w)
        if w.ndim == 3:
            return w
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def mix_styles(self, w1: Tensor, w2: Tensor, crossover: int) -> Tensor:
        """w1, w2 (N, w_dim) or W+ -> W+ (N, num_ws, w_dim): rows [:crossover] from w1, rest w2."""
        if not is_int(crossover) or not 0 <= crossover <= self.num_ws:
            raise ValueError(f"crossover must be an integer 0..{self.num_ws}, got {crossover!r}")
        self._check_w(w1, "w1")
        self._check_w(w2, "w2")
        if w1.shape[0] != w2.shape[0]:
            raise ValueError(f"w1 and w2 batch sizes differ: {w1.shape[0]} vs {w2.shape[0]}")
        return torch.cat([self.to_wplus(w1)[:, :crossover], self.to_wplus(w2)[:, crossover:]], 1)

    def _noise(
        self, i: int, mode: str, batch: int, generator: torch.Generator | None
    ) -> Tensor | None:
        """The noise image for layer i: (1, 1, H, W) const, (N, 1, H, W) random, or None."""
        if mode == "none":
            return None
        buf: Tensor = getattr(self.noises, f"noise_{i}")
        if mode == "const":
            return buf
        device = buf.device if generator is None else generator.device
        noise = torch.randn(
            batch, 1, *buf.shape[2:], generator=generator, device=device, dtype=buf.dtype
        )
        return noise.to(buf.device)

    def synthesis(
        self,
        ws: Tensor,
        noise_mode: NoiseMode = "const",
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """ws (N, w_dim) [W] or (N, num_ws, w_dim) [W+] -> image (N, 3, R, R), ~[-1, 1], unclamped.

        noise_mode: "const" the model's fixed noise buffers (same latent, same pixels),
        "random" fresh noise (drawn from `generator` when given), "none" no noise.
        """
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        latent = self.to_wplus(ws)
        n = latent.shape[0]
        out = self.input(n)
        out = self.conv1(out, latent[:, 0], self._noise(0, noise_mode, n, generator))
        skip = self.to_rgb1(out, latent[:, 1])
        for j, to_rgb in enumerate(self.to_rgbs):
            i = 2 * j + 1
            out = self.convs[2 * j](out, latent[:, i], self._noise(i, noise_mode, n, generator))
            out = self.convs[2 * j + 1](
                out, latent[:, i + 1], self._noise(i + 1, noise_mode, n, generator)
            )
            skip = to_rgb(out, latent[:, i + 2], skip)
        return skip.contiguous()

    def forward(self, z: Tensor, psi: float = 1.0, noise_mode: NoiseMode = "const") -> Tensor:
        """z (N, z_dim) -> image (N, 3, R, R): mapping, truncation by psi, synthesis."""
        return self.synthesis(self.truncate(self.mapping(z), psi), noise_mode)


class Discriminator(nn.Module):
    """image (N, 3, R, R) -> logits (N, 1); rosinality's residual discriminator, minibatch std."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        _check_config(config, DiscriminatorConfig)
        self.config = config
        ch = list(reversed(config.channels))  # R, R/2, ..., 4
        blocks: list[nn.Module] = [ConvLayer(3, ch[0], 1)]
        for in_ch, out_ch in itertools.pairwise(ch):
            blocks.append(ResBlock(in_ch, out_ch, config.blur_kernel))
        self.convs = nn.Sequential(*blocks)
        c4 = config.channels[0]
        self.final_conv = ConvLayer(c4 + config.mbstd_features, c4, 3)
        self.final_linear = nn.Sequential(
            EqualLinear(c4 * 4 * 4, c4, activation="fused_lrelu"),
            EqualLinear(c4, 1),
        )

    def _minibatch_std(self, x: Tensor) -> Tensor:
        """(N, C, 4, 4) -> (N, C + F, 4, 4): appends the std over groups of the batch.

        The group is mbstd_group or, when that does not divide N, its largest divisor that does;
        sample i is grouped with samples i mod (N / group), as rosinality.
        """
        n, c, h, w = x.shape
        group = min(n, self.config.mbstd_group)
        while n % group:
            group -= 1
        f = self.config.mbstd_features
        y = x.view(group, -1, f, c // f, h, w)
        y = torch.sqrt(y.var(0, unbiased=False) + 1e-8)
        y = y.mean([2, 3, 4], keepdim=True).squeeze(2)  # (N / group, F, 1, 1)
        return torch.cat([x, y.repeat(group, 1, h, w)], 1)

    def forward(self, img: Tensor) -> Tensor:
        r = self.config.resolution
        if img.ndim != 4 or img.shape[1:] != (3, r, r):
            raise ValueError(f"img must have shape (N, 3, {r}, {r}), got {tuple(img.shape)}")
        out = self.final_conv(self._minibatch_std(self.convs(img)))
        return self.final_linear(out.flatten(1))
