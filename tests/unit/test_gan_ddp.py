"""`nfe-train gan` under torchrun: 2 CPU processes, gloo, DistributedDataParallel."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from nfe_core.bundle import load_bundle
from tests.tiny import TINY_TRAINING
from training.gan.checkpoint import load_checkpoint
from training.gan.run_folder import read_losses

TINY = TINY_TRAINING


def torchrun(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "training.cli",
        *args,
    ]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def test_two_cpu_processes_train_together_and_rank_0_writes_once(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = tmp_path / "run"
    args = ["gan", "--data", "synthetic", "--size", "32", "--steps", "3", "--out", str(out)]
    done = torchrun(*args, "--config", str(config), "--device", "cpu", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("trained ") == 1  # only rank 0 reports
    rows = read_losses(out / "losses.csv")
    assert [r["step"] for r in rows] == ["1", "2", "3"]  # each step written once
    sessions = json.loads((out / "options.json").read_text())["sessions"]
    assert [s["world_size"] for s in sessions] == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.json"]  # no leftovers
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock",  # rank 0 held the folder
        "bundle",
        "checkpoints",
        "losses.csv",
        "options.json",
        "samples",
    ]
    bundle = load_bundle(out / "bundle")
    assert bundle.meta["training"]["world_size"] == 2
    assert bundle.meta["training"]["images_seen"] == 12
    assert torch.isfinite(bundle.generator(torch.randn(1, 32))).all()


def test_a_guided_run_with_the_linear_term_trains_on_two_processes(tmp_path):
    from tests.unit.test_gan_training import _guide_run

    guide = _guide_run(tmp_path / "guide")
    config = tmp_path / "linear.json"
    config.write_text(json.dumps({**TINY, "guide_weight": 0.5, "linear_weight": 1.0}))
    out = tmp_path / "run"
    args = ["gan", "--data", "synthetic", "--size", "32", "--steps", "2", "--out", str(out)]
    args += ["--config", str(config), "--guide", str(guide), "--device", "cpu", "--quiet"]
    done = torchrun(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    state = load_checkpoint(out / "checkpoints" / "latest.pt")
    assert state["step"] == 2 and set(state["probe"]) == {"linear.weight", "linear.bias"}
