"""Generator speed: milliseconds per face (batch 1) by size and device, for the default configs.

    python benchmarks/bench_generator.py [--sizes 64 128 256] [--runs 30] [--device cpu cuda]

"render" is one generator pass from z (mapping, then synthesis with the model's fixed noise),
"synthesis" the pass from w alone (what an edit re-renders), "mapping" z -> w alone: batch 1,
under torch.inference_mode, the median of --runs after a warm-up, torch's default thread count.
Budget (DESIGN.md): a render far under 33 ms on 2 CPU cores at 64 and 128 px. --channels tries
other channel counts (per resolution 4, 8, ...; cut to each size), --threads another thread
count. Run it on an otherwise idle machine: with 2 threads on 2 cores, one busy core turns a
10 ms render into hundreds of ms (OpenMP threads wait for each other); 1 thread does not.
Training images/s join this script as a second table (see `main`).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch

from nfe_core.models import Generator, GeneratorConfig


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn: Callable[[], object], device: torch.device, runs: int, warmup: int = 5) -> float:
    """Median wall time of fn() in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def generator_config(size: int, channels: list[int] | None) -> GeneratorConfig:
    """The default config for `size`, or one with the given channels (cut to the size)."""
    if channels is None:
        return GeneratorConfig.default(size)
    return GeneratorConfig(size, tuple(channels[: size.bit_length() - 2]))


def render_row(config: GeneratorConfig, device: torch.device, runs: int) -> dict:
    """Milliseconds per face (batch 1, noise const) and parameter count for a config."""
    torch.manual_seed(0)
    gen = Generator(config).to(device).eval()
    z = torch.randn(1, config.z_dim, device=device)
    with torch.inference_mode():
        w = gen.mapping(z)
        render = median_ms(lambda: gen(z, noise_mode="const"), device, runs)
        synthesis = median_ms(lambda: gen.synthesis(w, noise_mode="const"), device, runs)
        mapping = median_ms(lambda: gen.mapping(z), device, runs)
    return {
        "device": device.type,
        "size": config.resolution,
        "params_m": sum(p.numel() for p in gen.parameters()) / 1e6,
        "render_ms": render,
        "synthesis_ms": synthesis,
        "mapping_ms": mapping,
        "channels": config.channels,
    }


def print_render_table(rows: list[dict]) -> None:
    print(
        f"{'device':<7}{'size':>5}{'params':>8}{'render ms':>11}{'synthesis ms':>14}"
        f"{'mapping ms':>12}  channels 4..R"
    )
    for r in rows:
        channels = ",".join(str(c) for c in r["channels"])
        print(
            f"{r['device']:<7}{r['size']:>5}{r['params_m']:>7.2f}M{r['render_ms']:>11.1f}"
            f"{r['synthesis_ms']:>14.1f}{r['mapping_ms']:>12.2f}  {channels}"
        )


def devices(names: list[str] | None) -> list[torch.device]:
    if names:
        return [torch.device(n) for n in names]
    return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--runs", type=int, default=30, help="timed renders per row")
    parser.add_argument("--device", nargs="+", help="default: cpu, and cuda when present")
    parser.add_argument("--channels", type=int, nargs="+", help="instead of the defaults")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"{platform.processor() or platform.machine()}"
    )
    rows = [
        render_row(generator_config(size, args.channels), device, args.runs)
        for device in devices(args.device)
        for size in args.sizes
    ]
    print_render_table(rows)
    print("training images/s: python benchmarks/bench_training.py")


if __name__ == "__main__":
    main()
