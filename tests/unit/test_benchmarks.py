"""The benchmarks still run against the code they measure (one short pass each, no timing
asserted): bench_render broke unnoticed when ``FaceRegion.of`` took the model's side."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize(
    ("script", "args", "printed"),
    [
        ("bench_render.py", ("--runs", "1", "--sizes", "0", "512"), "class target hair_color"),
        ("bench_render.py", ("--runs", "1", "--sizes", "0", "--target", "eye_color"), "eye_color"),
        ("bench_generator.py", ("--sizes", "32", "--runs", "1"), "32"),
    ],
)
def test_a_benchmark_runs(script: str, args: tuple[str, ...], printed: str) -> None:
    assert printed in run(script, *args)
