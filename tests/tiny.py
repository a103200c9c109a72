"""Tiny networks shared by the tests: seconds on 2 CPU cores, the real code paths."""

from __future__ import annotations

from pathlib import Path

import torch

from nfe_core.bundle import save_bundle
from nfe_core.editing import Boundary
from nfe_core.models import DiscriminatorConfig, Generator, GeneratorConfig
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from nfe_core.models.encoder import Encoder, EncoderConfig
from nfe_core.models.segmenter import Segmenter, SegmenterConfig

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


# A tiny model with sliders: two attributes, random (seeded) boundaries
TINY_ATTRIBUTES = (("hair_color", ("black", "blue", "pink")), ("glasses", ("false", "true")))


def tiny_boundaries() -> list[Boundary]:
    """One-vs-rest hair_color:black/blue/pink boundaries and a binary glasses one."""
    g = torch.Generator().manual_seed(5)

    def normal() -> torch.Tensor:
        return torch.nn.functional.normalize(torch.randn(TINY_GENERATOR.w_dim, generator=g), dim=0)

    planes = [
        Boundary(f"hair_color:{c}", "hair_color", "class", c, None, normal(), 0.1, 1.5)
        for c in ("black", "blue", "pink")
    ]
    planes.append(Boundary("glasses", "glasses", "binary", "true", "false", normal(), -0.2, 2.0))
    return planes


def tiny_classifier() -> AttributeClassifier:
    """A seeded tiny classifier reading TINY_ATTRIBUTES at 32 px."""
    torch.manual_seed(3)
    config = ClassifierConfig(resolution=32, attributes=TINY_ATTRIBUTES, width=4, depth=2)
    return AttributeClassifier(config).eval()


def save_editing_bundle(root: Path, *, encoder: bool = True, name: str = "tiny") -> Path:
    """A tiny 32 px model with sliders, a classifier and (unless told) an encoder."""
    generator = tiny_generator()
    net = None
    if encoder:
        torch.manual_seed(1)
        config = EncoderConfig(
            32, 32, generator.num_ws, width=8, max_channels=32, bottleneck=16, hidden=64
        )
        net = Encoder(config).eval()
        net.w_avg.copy_(generator.w_avg)
    return save_bundle(
        root,
        generator,
        name=name,
        classifier=tiny_classifier(),
        encoder=net,
        boundaries=tiny_boundaries(),
    )


# A tiny segmenter's regions, and which the tiny models' attributes draw
TINY_REGIONS = ("background", "hair", "skin")
TINY_OWNERS = (("hair_color", ("hair",)), ("glasses", ("skin",)))


def tiny_segmenter_config(resolution: int = 32, **changes: object) -> SegmenterConfig:
    return SegmenterConfig(resolution, TINY_REGIONS, TINY_OWNERS, channels=(8, 8, 16), **changes)


def segmenter_sure_of(region: str, resolution: int = 32) -> Segmenter:
    """A segmenter that sees ``region`` in every pixel (its head's bias says so)."""
    net = Segmenter(tiny_segmenter_config(resolution)).eval()
    with torch.no_grad():
        net.out.weight.zero_()
        net.out.bias.fill_(-20.0)
        net.out.bias[TINY_REGIONS.index(region)] = 20.0
    return net
