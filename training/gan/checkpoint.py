"""Training checkpoints: plain tensors, numbers, strings, lists and dicts only.

Written with ``torch.save`` through an atomic replace; read with
``torch.load(..., weights_only=True)`` only, so opening a checkpoint never runs code.
Configurations are stored as dicts (their ``to_dict()``), RNG states as tensors.

A checkpoint is a dict::

    format: "nfe-gan-checkpoint", version: 1,
    step, images_seen: int,
    config: TrainConfig.to_dict(), run: {data, size, seed, ...},
    generator, discriminator, generator_ema: state dicts,
    g_optim, d_optim, g_scaler, d_scaler: optimiser / GradScaler state dicts,
    detail_discriminator, detail_optim: with a detail discriminator (config ``detail_box``) only,
    rng: {torch, cuda: [..], numpy: {...}, python: {...}}

A *compact* checkpoint (:func:`compact_checkpoint`) is the same run made small enough to
commit between sittings of a long CPU training, and safe to hand around: a safetensors file
(no pickle at all) whose tensors are float16 and which, when Adam's beta1 is 0, leaves out
Adam's first moments (with beta1 = 0 Adam overwrites them with the gradient on every step,
so nothing is lost). The nesting of dicts and lists and the plain values live as JSON in the
file's metadata, each tensor replaced by its name. :func:`load_checkpoint` reads both kinds
and restores float32 and the first moments.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.torch
import torch

from nfe_core.fileio import write_atomically

FORMAT = "nfe-gan-checkpoint"
VERSION = 1
COMPACT_FORMAT = "nfe-gan-compact-checkpoint"


class CheckpointError(ValueError):
    """A training checkpoint that cannot be used; ``str(e)`` names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{self.path}: {reason}")


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (plus format and version) to ``path`` atomically."""
    payload = {"format": FORMAT, "version": VERSION, **state}
    write_atomically(path, lambda stream: torch.save(payload, stream))
    return Path(path)


_REQUIRED = (
    "step",
    "images_seen",
    "config",
    "run",
    "generator",
    "discriminator",
    "generator_ema",
    "g_optim",
    "d_optim",
    "rng",
)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint`, on the CPU; CheckpointError if the
    file is missing, not a torch file, needs unpickling of objects, or lacks an entry."""
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(file, "no such checkpoint file")
    try:
        if not zipfile.is_zipfile(file):  # torch.save writes zips; a compact one is not
            state = _expanded(_read_compact(file))
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointError(file, f"not a plain-data checkpoint ({first})") from None
    except (
        RuntimeError,
        EOFError,
        OSError,
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        safetensors.SafetensorError,
    ) as exc:
        raise CheckpointError(file, f"not a readable checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(file, "not an nfe-train gan checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(
            file, f"checkpoint version {state.get('version')!r}; this program reads {VERSION}"
        )
    missing = [key for key in _REQUIRED if key not in state]
    if missing:
        raise CheckpointError(file, f"missing {', '.join(missing)}")
    return state


def compact_checkpoint(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Write a compact copy of the checkpoint ``source`` to ``target`` (see the module's
    docstring); training resumed from it continues the same run."""
    state = load_checkpoint(source)
    for key in _OPTIMIZERS:
        optim = state.get(key)
        if optim is not None and all(group["betas"][0] == 0 for group in optim["param_groups"]):
            for slot in optim["state"].values():
                slot.pop("exp_avg", None)
    tensors: dict[str, torch.Tensor] = {}
    tree = json.dumps(_to_tree(_cast(state, torch.float32, torch.float16), tensors))
    data = safetensors.torch.save(tensors, metadata={"format": COMPACT_FORMAT, "tree": tree})
    write_atomically(target, lambda stream: stream.write(data))
    return Path(target)


_OPTIMIZERS = ("g_optim", "d_optim", "detail_optim")  # the last only with detail_box


def _cast(value: Any, source: torch.dtype, target: torch.dtype, key: str = "") -> Any:
    """``value`` with every ``source`` tensor cast to ``target`` (Adam's step counts kept)."""
    if isinstance(value, torch.Tensor):
        return value.to(target) if value.dtype == source and key != "step" else value
    if isinstance(value, dict):
        return {k: _cast(v, source, target, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_cast(v, source, target) for v in value]
    return value


def _expanded(state: dict[str, Any]) -> dict[str, Any]:
    """A compact checkpoint back in float32, with Adam's first moments (zeros) restored."""
    state = _cast(state, torch.float16, torch.float32)
    for key in _OPTIMIZERS:
        for slot in state.get(key, {}).get("state", {}).values():
            if "exp_avg" not in slot and "exp_avg_sq" in slot:
                slot["exp_avg"] = torch.zeros_like(slot["exp_avg_sq"])
    return state


_TENSOR, _DICT = "__tensor__", "__dict__"


def _to_tree(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """``value`` as JSON-able data, each tensor moved into ``tensors`` under a new name;
    dicts as ``{"__dict__": [[key, value], ...]}`` so that int keys stay ints."""
    if isinstance(value, torch.Tensor):
        name = str(len(tensors))
        tensors[name] = value.detach().cpu().contiguous().clone()
        return {_TENSOR: name}
    if isinstance(value, dict):
        return {_DICT: [[key, _to_tree(item, tensors)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_to_tree(item, tensors) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a compact checkpoint")


def _from_tree(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """What :func:`_to_tree` took apart."""
    if isinstance(tree, dict) and _TENSOR in tree:
        return tensors[tree[_TENSOR]]
    if isinstance(tree, dict) and _DICT in tree:
        return {key: _from_tree(item, tensors) for key, item in tree[_DICT]}
    if isinstance(tree, list):
        return [_from_tree(item, tensors) for item in tree]
    return tree


def _read_compact(file: Path) -> Any:
    """The state in a compact (safetensors) checkpoint; ValueError if it is not one."""
    with safetensors.safe_open(str(file), framework="pt", device="cpu") as stream:
        metadata = stream.metadata() or {}
        if metadata.get("format") != COMPACT_FORMAT or "tree" not in metadata:
            raise ValueError("a safetensors file, but not a compact nfe-train gan checkpoint")
        tensors = {name: stream.get_tensor(name) for name in stream.keys()}  # noqa: SIM118
    return _from_tree(json.loads(metadata["tree"]), tensors)


# --------------------------------------------------------------------------------------------
# RNG states as tensors


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch, CUDA, numpy, python) as tensors and numbers."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss": gauss_next,
        },
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (CUDA states only where CUDA is present)."""
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(x) for x in p["state"].tolist()), p["gauss"]))
