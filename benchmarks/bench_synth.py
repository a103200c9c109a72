"""Throughput of the procedural face renderer: faces per second by size and worker count.

    python benchmarks/bench_synth.py [--count N] [--sizes 32 64 128 256 512]

Prints a table; "render" is drawing only, "synth" is the whole `nfe-train synth` path
(drawing, PNG encoding, atomic writes, labels.csv). Target: 300 faces/s at 64 px on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from training.synth import face_rng, render_face, sample_face
from training.synth.writer import write_face_set


def _render_range(size: int, start: int, stop: int) -> int:
    for i in range(start, stop):
        render_face(sample_face(face_rng(0, i)), size)
    return stop - start


def render_rate(size: int, count: int, workers: int) -> float:
    if workers == 1:
        t = time.perf_counter()
        _render_range(size, 0, count)
        return count / (time.perf_counter() - t)
    step = -(-count // workers)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        pool.submit(_render_range, size, 0, 1).result()  # start-up is not rendering
        list(pool.map(_render_range, [size] * workers, [0] * workers, [1] * workers))
        t = time.perf_counter()
        done = sum(
            pool.map(
                _render_range,
                [size] * workers,
                range(0, count, step),
                range(step, count + step, step),
            )
        )
        return done / (time.perf_counter() - t)


def synth_rate(size: int, count: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_face_set(Path(tmp) / "set", count, size, workers=workers)
        return count / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="faces per measurement at 64 px")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"CPU cores: {cores}")
    print(f"{'size':>5} {'workers':>7} {'render/s':>9} {'synth/s':>9}")
    for size in args.sizes:
        count = max(40, int(args.count * (64 / size) ** 1.5))
        for workers in sorted({1, min(2, cores)}):
            r = render_rate(size, count, workers)
            s = synth_rate(size, count, workers)
            print(f"{size:>5} {workers:>7} {r:>9.0f} {s:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
