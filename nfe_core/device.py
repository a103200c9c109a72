"""Choosing where the networks run: the CPU, a CUDA GPU or Apple's MPS.

Nothing here runs at import time: the device is picked when a command or the app asks for
one, never as a module-level ``device = "cuda"``.
"""

from __future__ import annotations

import torch

DEVICE_NAMES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def best_device() -> torch.device:
    """The fastest device this machine has: CUDA, then Apple MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(name: str | torch.device | None) -> torch.device:
    """The device called ``name`` ("cpu", "cuda", "cuda:N" or "mps"); None picks the best one.

    Raises ValueError, in words a user can act on, for a name that is not a device and for a
    device this machine does not have.
    """
    if name is None:
        return best_device()
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"expected a device: cpu, cuda, cuda:N or mps; got {str(name)!r}"
        ) from None
    if device.type == "cpu":
        return torch.device("cpu")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("CUDA was asked for but is not available on this machine")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            have = "1 CUDA device (cuda:0)"
            if count != 1:
                have = f"{count} CUDA devices (cuda:0 to cuda:{count - 1})"
            raise ValueError(f"{device} was asked for but this machine has {have}")
        return device
    if device.type == "mps":
        if not _mps_available():
            raise ValueError("Apple MPS was asked for but is not available on this machine")
        return torch.device("mps")
    raise ValueError(f"expected a device: cpu, cuda, cuda:N or mps; got {str(name)!r}")
