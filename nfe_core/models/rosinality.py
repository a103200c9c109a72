"""Import StyleGAN2 checkpoints in rosinality's stylegan2-pytorch layout into our `Generator`.

A rosinality `.pt` is a pickled dict holding `g_ema` (the EMA generator's state dict), usually
`latent_avg` (the mean w) and `args` (an `argparse.Namespace`), plus training state we ignore.
It is read with `torch.load(weights_only=True)` only, `argparse.Namespace` being the one class
allowed beyond tensors and containers: a file that needs anything else is refused, never run.
The architecture is inferred from the tensor shapes of `g_ema`.
"""

from __future__ import annotations

import argparse
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nfe_core.models.layers import make_kernel
from nfe_core.models.stylegan2 import Generator, GeneratorConfig

# Buffers that rosinality derives from the architecture (or from a seed); when a checkpoint
# lacks them, ours are kept.
_DERIVED_KEYS = re.compile(r"(.*\.kernel|noises\.noise_\d+)")
_WEIGHTS_ONLY_BOILERPLATE = re.compile(
    r"(?i)weights.only|pytorch 2\.6|arbitrary code|documentation|trust|alternatively"
)
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


class CheckpointError(ValueError):
    """A checkpoint that cannot be imported; str(e) names the file and what is wrong."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class ImportedGenerator:
    """An imported generator: its config, a state dict for `Generator(config)`, the saved args."""

    config: GeneratorConfig
    state_dict: dict[str, Tensor] = field(repr=False)
    args: dict[str, Any]


def _load(path: Path) -> object:
    """torch.load, weights only, argparse.Namespace allowed; any failure -> CheckpointError."""
    if not path.is_file():
        raise CheckpointError(path, "no such file" if not path.exists() else "not a file")
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals([argparse.Namespace]):
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(path, _explain(e)) from e


def _explain(e: Exception) -> str:
    """What a torch.load error means, without its advice to load unsafely."""
    text = str(e)
    found = _GLOBAL.search(text)
    if found:
        return (
            f"refused: the file needs the Python object {found.group(1)}, which could run "
            "code; only tensors, plain data and argparse.Namespace are read"
        )
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not _WEIGHTS_ONLY_BOILERPLATE.search(ln)]
    detail = " ".join(useful)[:300]
    kind = type(e).__name__
    return f"not a loadable PyTorch checkpoint ({f'{kind}: {detail}' if detail else kind})"


def _json_safe(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def _args_dict(args: object) -> dict[str, Any]:
    if isinstance(args, argparse.Namespace):
        args = vars(args)
    if not isinstance(args, dict):
        return {}
    return {str(k): _json_safe(v) for k, v in args.items()}


def _indices(state: dict[str, Tensor], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted(int(m.group(1)) for k in state if (m := rx.fullmatch(k)))


def _blur_taps(kernel: Tensor) -> tuple[int, ...] | None:
    """The integer 1-D taps whose normalised outer product (times 4) is `kernel`, or None."""
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] < 2:
        return None
    row = kernel.double().sum(1)
    if not torch.all(row >= 0) or row.max() <= 0:
        return None
    smallest = row[row > 0].min()
    taps = tuple(round(v) for v in (row / smallest).tolist())
    expected = make_kernel(taps).double() * 4
    if not torch.allclose(expected, kernel.double(), rtol=1e-4, atol=1e-6):
        return None
    return taps


def _infer_config(path: Path, g: dict[str, Tensor], args: dict[str, Any]) -> GeneratorConfig:
    def need(key: str, ndim: int) -> Tensor:
        t = g.get(key)
        if not isinstance(t, Tensor) or t.ndim != ndim:
            raise CheckpointError(path, f"g_ema has no {ndim}-d tensor {key!r}")
        return t

    style = _indices(g, r"style\.(\d+)\.weight")
    if not style or style != list(range(1, len(style) + 1)):
        raise CheckpointError(
            path, "g_ema has no mapping network (style.1.weight, style.2.weight, ...)"
        )
    first = need("style.1.weight", 2)
    w_dim, z_dim = first.shape
    rgbs = _indices(g, r"to_rgbs\.(\d+)\.conv\.weight")
    if rgbs != list(range(len(rgbs))):
        raise CheckpointError(path, "g_ema's to_rgbs are not numbered 0, 1, 2, ...")
    resolution = 2 ** (len(rgbs) + 2)
    channels = [need("input.input", 4).shape[1]]
    for i in range(len(rgbs)):
        channels.append(need(f"convs.{2 * i}.conv.weight", 5).shape[1])
    blur_kernel: tuple[int, ...] = (1, 3, 3, 1)
    if "convs.0.conv.blur.kernel" in g:
        taps = _blur_taps(need("convs.0.conv.blur.kernel", 2))
        if taps is None:
            raise CheckpointError(path, "g_ema's blur kernel is not a separable FIR kernel")
        blur_kernel = taps
    lr_mul = args.get("lr_mlp", 0.01)
    try:
        return GeneratorConfig(
            resolution=resolution,
            channels=tuple(channels),
            z_dim=z_dim,
            w_dim=w_dim,
            mapping_layers=len(style),
            mapping_lr_mul=lr_mul if isinstance(lr_mul, int | float) else 0.01,
            blur_kernel=blur_kernel,
        )
    except ValueError as e:
        raise CheckpointError(path, f"unsupported architecture: {e}") from e


def _state_dict(path: Path, g: dict[str, Tensor], model: Generator) -> dict[str, Tensor]:
    """g_ema's tensors as float32, checked against `model`'s names and shapes."""
    expected = model.state_dict()
    unexpected = sorted(set(g) - set(expected))
    if unexpected:
        raise CheckpointError(path, f"g_ema has tensors our generator lacks: {unexpected[:5]}")
    missing = sorted(
        k for k in expected if k not in g and k != "w_avg" and not _DERIVED_KEYS.fullmatch(k)
    )
    if missing:
        raise CheckpointError(path, f"g_ema lacks tensors: {missing[:5]}")
    out: dict[str, Tensor] = {}
    for key, ours in expected.items():
        theirs = g.get(key, ours) if key != "w_avg" else ours
        if not isinstance(theirs, Tensor):
            raise CheckpointError(path, f"g_ema[{key!r}] is not a tensor")
        if theirs.shape != ours.shape:
            raise CheckpointError(
                path,
                f"g_ema[{key!r}] has shape {tuple(theirs.shape)}, expected {tuple(ours.shape)}",
            )
        if not theirs.is_floating_point() or not torch.isfinite(theirs).all():
            raise CheckpointError(path, f"g_ema[{key!r}] is not finite floating point")
        out[key] = theirs.detach().to(torch.float32).contiguous().clone()
    return out


def import_rosinality(path: str | Path) -> ImportedGenerator:
    """Read a rosinality stylegan2-pytorch checkpoint (weights-only) into our generator's terms.

    w_avg comes from `latent_avg`, or is computed (10,000 z, seed 0) when the file has none.
    Any failure -> CheckpointError naming the file and what is wrong.
    """
    path = Path(path)
    ckpt = _load(path)
    if not isinstance(ckpt, dict):
        raise CheckpointError(path, f"expected a dict with 'g_ema', found {type(ckpt).__name__}")
    g = ckpt.get("g_ema")
    if not isinstance(g, dict) or not all(isinstance(k, str) for k in g):
        keys = sorted(str(k) for k in ckpt)[:10]
        raise CheckpointError(path, f"no 'g_ema' generator state dict (keys: {keys})")
    args = _args_dict(ckpt.get("args"))
    config = _infer_config(path, g, args)
    with torch.random.fork_rng(devices=[]):  # missing noise buffers: the same on every import
        torch.manual_seed(0)
        model = Generator(config)
    state = _state_dict(path, g, model)

    latent_avg = ckpt.get("latent_avg")
    if latent_avg is None:
        model.load_state_dict(state)
        state["w_avg"] = model.compute_w_avg().detach().clone()
    else:
        if not isinstance(latent_avg, Tensor) or latent_avg.numel() != config.w_dim:
            raise CheckpointError(path, f"latent_avg is not a tensor of {config.w_dim} values")
        if not latent_avg.is_floating_point() or not torch.isfinite(latent_avg).all():
            raise CheckpointError(path, "latent_avg is not finite floating point")
        state["w_avg"] = latent_avg.detach().reshape(config.w_dim).to(torch.float32).clone()
    return ImportedGenerator(config=config, state_dict=state, args=args)
