"""A face's latent and where it came from, and its file (``.npz``, never a pickle).

A :class:`Latent` is W (w_dim,) or W+ (num_ws, w_dim) plus ``source``: a small JSON-able
record of how it was made (``{"kind": "seed", "seed": 1, "truncation": 0.7}`` or
``{"kind": "inversion", "image": ..., "box": ..., "steps": ...}``) and ``model``: the name and
fingerprint of the bundle it belongs to; for an inverted picture's face, ``tuned``: the
synthesis weights pivotal tuning found for it (:func:`nfe_core.inversion.tune`). The file
holds ``w`` (float32), ``meta`` (that record as a JSON string) and one ``tuned.NAME`` array
per tuned weight; it is read with ``allow_pickle=False`` and written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nfe_core.fileio import describe_os_error, write_atomically

LATENT_FORMAT = "nfe-latent"
LATENT_VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
_TUNED = "tuned."  # the name prefix of the tuned weights' arrays in the file


class LatentError(ValueError):
    """A latent file that cannot be used; ``str(e)`` says which file and why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Latent:
    """W (w_dim,) or W+ (num_ws, w_dim) on the CPU, float32, with its provenance."""

    w: Tensor
    source: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)  # {"name": ..., "fingerprint": ...}
    tuned: dict[str, Tensor] | None = None  # a tuned face's synthesis weights, by name

    def __post_init__(self) -> None:
        if not isinstance(self.w, Tensor) or self.w.ndim not in (1, 2) or self.w.numel() == 0:
            raise ValueError("w: expected a W (w_dim,) or W+ (num_ws, w_dim) tensor")
        if not self.w.is_floating_point() or not bool(torch.isfinite(self.w).all()):
            raise ValueError("w: expected finite floating-point values")
        object.__setattr__(self, "w", self.w.detach().to("cpu", torch.float32).contiguous())
        try:
            json.dumps([self.source, self.model], allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"source/model: expected JSON-able values ({exc})") from None
        if self.tuned is not None:
            if not self.tuned or not all(
                isinstance(v, Tensor) and v.is_floating_point() and bool(torch.isfinite(v).all())
                for v in self.tuned.values()
            ):
                raise ValueError("tuned: expected finite floating-point weights by name")
            tuned = {
                k: v.detach().to("cpu", torch.float32).contiguous() for k, v in self.tuned.items()
            }
            object.__setattr__(self, "tuned", tuned)

    @property
    def w_dim(self) -> int:
        return int(self.w.shape[-1])

    @property
    def is_wplus(self) -> bool:
        return self.w.ndim == 2


def model_fingerprint(state: dict[str, Tensor]) -> str:
    """A short hash of a generator's weights, to tell which model a latent belongs to."""
    h = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().to("cpu", torch.float32).contiguous()
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode())
        h.update(tensor.numpy().tobytes())
    return h.hexdigest()[:16]


def save_latent(path: str | os.PathLike[str], latent: Latent) -> Path:
    """Write ``latent`` to ``path`` (.npz) atomically; FileWriteError if it cannot be."""
    path = Path(path)
    meta = json.dumps(
        {
            "format": LATENT_FORMAT,
            "version": LATENT_VERSION,
            "source": latent.source,
            "model": latent.model,
        }
    )

    def write(stream: Any) -> None:
        buffer = io.BytesIO()
        tuned = {f"{_TUNED}{k}": v.numpy() for k, v in (latent.tuned or {}).items()}
        np.savez(buffer, w=latent.w.numpy(), meta=np.array(meta), **tuned)
        stream.write(buffer.getvalue())

    write_atomically(path, write)
    return path


def load_latent(path: str | os.PathLike[str], w_dim: int | None = None) -> Latent:
    """The latent in ``path``; LatentError in words for anything wrong (not a latent file,
    a pickle, wrong shape, NaN, another w_dim than ``w_dim``)."""
    path = Path(path)
    if not path.exists():
        raise LatentError(path, "no such file")
    if path.is_dir():
        raise LatentError(path, "this is a folder; expected a latent file (.npz)")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LatentError(path, "too large to be a latent file")
        with open(path, "rb") as stream:
            if stream.read(4) != b"PK\x03\x04":  # an .npz is a zip archive
                raise LatentError(
                    path,
                    "not a latent file (expected a .npz that 'nfe invert' or 'nfe edit' wrote)",
                )
        with np.load(path, allow_pickle=False) as data:
            names = set(data.files)
            if not {"w", "meta"} <= names:
                raise LatentError(path, "not an NFE latent file (it has no 'w' and 'meta')")
            w = np.asarray(data["w"])
            meta = json.loads(str(data["meta"]))
            tuned = {
                name[len(_TUNED) :]: np.asarray(data[name])
                for name in data.files
                if name.startswith(_TUNED)
            }
    except LatentError:
        raise
    except OSError as exc:
        raise LatentError(path, f"cannot be read ({describe_os_error(exc)})") from None
    except (ValueError, zipfile.BadZipFile, EOFError) as exc:
        if "pickle" in str(exc).lower():
            reason = "holds Python objects (a pickle); NFE never loads those"
        else:
            reason = "not a latent file (expected a .npz that 'nfe invert' or 'nfe edit' wrote)"
        raise LatentError(path, reason) from None
    if not isinstance(meta, dict) or meta.get("format") != LATENT_FORMAT:
        raise LatentError(path, "not an NFE latent file")
    if meta.get("version") != LATENT_VERSION:
        raise LatentError(path, f"unknown latent file version {meta.get('version')!r}")
    if w.dtype.kind != "f" or w.ndim not in (1, 2) or w.size == 0:
        raise LatentError(path, f"'w' should be W (w_dim,) or W+ (num_ws, w_dim), not {w.shape}")
    if not np.isfinite(w).all():
        raise LatentError(path, "'w' has NaN or infinite values")
    if w_dim is not None and w.shape[-1] != w_dim:
        raise LatentError(
            path,
            f"the latent has w_dim {w.shape[-1]} but the model needs {w_dim}; "
            "it was made for another model",
        )
    source, model = meta.get("source", {}), meta.get("model", {})
    if not isinstance(source, dict) or not isinstance(model, dict):
        raise LatentError(path, "'meta' is malformed")
    for name, value in tuned.items():
        if value.dtype != np.float32 or not np.isfinite(value).all():
            raise LatentError(path, f"tuned weight {name!r} is not finite float32")
    weights = {name: torch.from_numpy(value) for name, value in tuned.items()} or None
    return Latent(torch.from_numpy(w.astype(np.float32)), source, model, weights)
