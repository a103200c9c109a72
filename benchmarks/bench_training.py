"""GAN training throughput: images per second of `nfe-train gan`'s step, by size and device.

    python benchmarks/bench_training.py [--sizes 32 64] [--steps N] [--batch B] [--config F ...]

Prints a table. "nets img/s" is the training step alone (D step, lazy R1 amortised, G step,
EMA) on random images; "with data img/s" adds the data pipeline (procedural faces rendered
on the fly by DataLoader workers, as `--data synthetic` trains). The configs are the
defaults of `nfe-train gan --size S` (batch 32 on CUDA). On CUDA both full precision and
the default mixed precision (bf16) are measured, and torch.compile too with --compile.
--config measures `nfe-train gan --config` files instead (one row each, at their size).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from training.gan.config import TrainConfig, load_overrides
from training.gan.data import StepBatchSampler, make_loader, open_dataset
from training.gan.loop import Trainer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def nets_rate(config: TrainConfig, device: torch.device, steps: int) -> tuple[float, Trainer]:
    """Images/s of the training step alone, over ``steps`` steps after a warm-up."""
    trainer = Trainer(config, device, seed=0)
    size = config.resolution
    real = torch.rand(config.batch_size, 3, size, size, device=device) * 2 - 1
    for _ in range(config.r1_interval + 1 if config.compile else 2):
        trainer.train_step(real)
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(real)
    _sync(device)
    return steps * config.batch_size / (time.perf_counter() - start), trainer


def pipeline_rate(config: TrainConfig, trainer: Trainer, steps: int) -> float:
    """Images/s with procedural faces loaded by the DataLoader, as in a real run."""
    device = trainer.device
    dataset = open_dataset("synthetic", config.resolution, 0, config.synthetic_count)
    sampler = StepBatchSampler(len(dataset), 0, config.batch_size, start=0, stop=steps + 2)
    loader = make_loader(
        dataset, sampler, workers=config.workers(), pin_memory=device.type == "cuda"
    )
    batches = iter(loader)
    for _ in range(2):
        trainer.train_step(next(batches)["image"].to(device))
    _sync(device)
    start = time.perf_counter()
    for batch in batches:
        trainer.train_step(batch["image"].to(device, non_blocking=True))
    _sync(device)
    return steps * config.batch_size / (time.perf_counter() - start)


def variants(device: torch.device, compile_too: bool) -> list[dict]:
    if device.type != "cuda":
        return [{}]
    out = [{"amp": "none"}, {"amp": "bf16"}]
    if compile_too:
        out.append({"amp": "bf16", "compile": True})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--steps", type=int, default=None, help="measured steps per row")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: config's)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile")
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument(
        "--config", type=str, nargs="+", default=[], help="gan --config JSON files to compare"
    )
    args = parser.parse_args()
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPU cores, {torch.get_num_threads()} threads"
    )
    if torch.cuda.is_available():
        print(f"CUDA: {torch.cuda.get_device_name()}")
    head = (
        f"{'device':>6} {'size':>4} {'batch':>5} {'amp':>5} {'compile':>7} {'G params':>9} "
        f"{'D params':>9} {'ms/step':>8} {'nets img/s':>10} {'with data img/s':>15}"
    )
    print(head)
    print("-" * len(head))
    for device in devices:
        runs = [
            (size, variant, {}) for size in args.sizes for variant in variants(device, args.compile)
        ]
        if args.config:
            runs = [
                (args.sizes[-1], variant, load_overrides(file))
                for file in args.config
                for variant in variants(device, args.compile)
            ]
        for size, variant, extra in runs:
            overrides = {**extra, **variant}
            if args.batch or (device.type == "cuda" and not extra):
                overrides["batch_size"] = args.batch or 32
            config = TrainConfig.for_size(size, overrides)
            steps = args.steps or (50 if device.type == "cuda" else max(4, 2048 // size))
            rate, trainer = nets_rate(config, device, steps)
            with_data = pipeline_rate(config, trainer, steps)
            n_g = sum(p.numel() for p in trainer.G.parameters())
            n_d = sum(p.numel() for p in trainer.D.parameters())
            print(
                f"{device.type:>6} {size:>4} {config.batch_size:>5} "
                f"{config.amp if device.type == 'cuda' else '-':>5} "
                f"{'yes' if config.compile else 'no':>7} {n_g / 1e6:>8.2f}M "
                f"{n_d / 1e6:>8.2f}M {1000 * config.batch_size / rate:>8.0f} "
                f"{rate:>10.1f} {with_data:>15.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
