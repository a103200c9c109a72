"""Faces from seeds: the latent a seed stands for, and generator output as pictures.

A seed names one face of a model for good: ``z_for_seed`` draws its latent from a
``torch.Generator`` seeded with it on the CPU, whatever device renders it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from nfe_core.models import Generator


def pixels_to_images(pixels: np.ndarray | Tensor) -> Tensor:
    """Pictures (N, H, W, 3), or one (H, W, 3), with values 0..255 (8-bit or resampled; numpy
    or torch, on any device) as images (N, 3, H, W) float32 in -1..1, as the networks take
    them: the inverse of :func:`images_to_uint8` up to its rounding."""
    batch = torch.as_tensor(pixels)
    if batch.ndim == 3:
        batch = batch.unsqueeze(0)
    if batch.ndim != 4 or batch.shape[-1] != 3:
        raise ValueError(f"pixels: expected (N, H, W, 3) or (H, W, 3), got {tuple(batch.shape)}")
    return batch.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def z_for_seed(seed: int, z_dim: int) -> Tensor:
    """The latent (z_dim,) of face ``seed`` (0 <= seed < 2**63), drawn on the CPU."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed: expected a whole number from 0 to 2**63-1, got {seed!r}")
    return torch.randn(z_dim, generator=torch.Generator().manual_seed(seed))


def images_to_uint8(images: Tensor) -> np.ndarray:
    """Generator output (N, 3, H, W) in -1..1 as an (N, H, W, 3) uint8 array (clamped, rounded)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images: expected a tensor (N, 3, H, W), got {tuple(images.shape)}")
    scaled = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


@torch.inference_mode()
def render_seeds(generator: Generator, seeds: Sequence[int], psi: float = 1.0) -> np.ndarray:
    """Faces (N, R, R, 3) uint8 for ``seeds``, truncated by ``psi`` towards the mean face,
    with the model's own fixed noise (the same seed always gives the same pixels)."""
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"truncation: expected a number from 0 to 1, got {psi}")
    device = next(generator.parameters()).device
    z = torch.stack([z_for_seed(s, generator.config.z_dim) for s in seeds]).to(device)
    return images_to_uint8(generator(z, psi=psi, noise_mode="const"))


def tile_frames(
    frames: np.ndarray, *, gap: int = 4, min_side: int = 0, background: int = 255
) -> np.ndarray:
    """Frames (rows, columns, H, W, 3) uint8 as one picture, rows of frames side by side with
    ``gap`` pixels of ``background`` between them; frames smaller than ``min_side`` are
    enlarged by a whole factor (nearest neighbour, so a small model's pixels stay crisp)."""
    if frames.ndim != 5 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames: expected uint8 (rows, columns, H, W, 3), got {frames.shape}")
    rows, cols, h, w, _ = frames.shape
    factor = max(1, -(-min_side // max(h, w))) if min_side else 1
    if factor > 1:
        frames = frames.repeat(factor, axis=2).repeat(factor, axis=3)
        h, w = h * factor, w * factor
    out = np.full(
        (rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), background, np.uint8
    )
    for r in range(rows):
        for c in range(cols):
            out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = frames[r, c]
    return out
