"""Tiny networks shared by the tests: seconds on 2 CPU cores, the real code paths."""

from __future__ import annotations

import torch

from nfe_core.models import DiscriminatorConfig, Generator, GeneratorConfig

CHANNELS = (32, 32, 16, 8)  # 4, 8, 16 and 32 px
TINY_GENERATOR = GeneratorConfig(
    resolution=32, channels=CHANNELS, z_dim=32, w_dim=32, mapping_layers=2
)
TINY_DISCRIMINATOR = DiscriminatorConfig(resolution=32, channels=CHANNELS)

# `nfe-train gan --config` overrides for a tiny, fast run at 32 px
TINY_TRAINING = {
    "batch_size": 4,
    "generator": {"channels": list(CHANNELS), "z_dim": 32, "w_dim": 32, "mapping_layers": 2},
    "discriminator": {"channels": list(CHANNELS)},
    "num_workers": 0,
    "sample_count": 4,
    "r1_interval": 2,
    "synthetic_count": 64,
}


def tiny_generator() -> Generator:
    """A tiny generator with seeded weights and its mean w, in eval mode."""
    torch.manual_seed(0)
    generator = Generator(TINY_GENERATOR)
    generator.compute_w_avg(n=256, seed=1)
    return generator.eval()
