"""Sample grids: the EMA generator's faces for fixed latents, tiled into one picture."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from nfe_core.imageio import save_image
from nfe_core.models import Generator
from nfe_core.sampling import images_to_uint8
from training.gan.data import derive_seed


def fixed_latents(count: int, z_dim: int, seed: int) -> Tensor:
    """The run's sample latents (count, z_dim): the same for every grid of a run."""
    generator = torch.Generator().manual_seed(derive_seed(seed, 0x5A3))
    return torch.randn(count, z_dim, generator=generator)


def tile(images: np.ndarray, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """(N, H, W, 3) uint8 as one (rows*(H+gap)-gap, cols*(W+gap)-gap, 3) grid on black."""
    n, h, w, c = images.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + gap) - gap, cols * (w + gap) - gap, c), dtype=np.uint8)
    for i, image in enumerate(images):
        r, q = divmod(i, cols)
        grid[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = image
    return grid


@torch.no_grad()
def render(generator: Generator, latents: Tensor, chunk: int = 16) -> Tensor:
    """Faces (N, 3, R, R) for latents (N, z_dim) with the model's own fixed noise."""
    device = next(generator.parameters()).device
    parts = [
        generator(z.to(device), psi=1.0, noise_mode="const").float().cpu()
        for z in latents.split(chunk)
    ]
    return torch.cat(parts)


def save_grid(
    generator: Generator, latents: Tensor, path: str | os.PathLike[str], chunk: int = 16
) -> Path:
    """Render ``latents`` and write them as one grid picture to ``path`` (atomically)."""
    return save_image(tile(images_to_uint8(render(generator, latents, chunk))), path, durable=False)
