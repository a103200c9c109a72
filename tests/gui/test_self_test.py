"""``nfe-desktop --self-test`` and ``--startup-timing``, run as the installer runs them: a
separate process, offscreen, with the user's folders moved into the test's own."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from nfe_desktop.self_test import run_self_test

pytestmark = pytest.mark.gui

TIMEOUT_S = 180
ENTRY = "import sys; from nfe_desktop.app import main; sys.exit(main())"


def run_desktop(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``nfe-desktop ARGUMENTS`` in a subprocess, offscreen, with HOME and XDG folders in
    ``tmp_path`` (no user file is read or written)."""
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home))
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    env.pop("NFE_STARTED", None)
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


@pytest.mark.slow
def test_self_test_passes_with_the_default_model(tmp_path: Path) -> None:
    done = run_desktop(tmp_path, "--self-test")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok   model loaded: ")
    for words in ("generated seed 0", "history", "opened picture.png (96 × 80)", "inverted"):
        assert any(line.startswith("ok   ") and words in line for line in lines), lines
    assert "ok   saved edited.png and read it back (96 × 80)" in done.stdout
    assert "FAIL" not in done.stdout
    assert re.fullmatch(r"self-test passed: \d+ checks \(\d+\.\d s\)", lines[-1])
    assert not (tmp_path / "home" / "config").exists()  # temporary settings only


@pytest.mark.slow
def test_self_test_fails_in_words_when_the_model_is_broken(tmp_path: Path) -> None:
    broken = tmp_path / "broken_bundle"
    broken.mkdir()

    done = run_desktop(tmp_path, "--self-test", "--model", str(broken))

    assert done.returncode == 1, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("FAIL model loaded: Could not load the model")
    assert "bundle.json" in first
    assert "self-test FAILED after 0 passed checks" in done.stdout


@pytest.mark.slow
def test_self_test_fails_at_its_time_limit_and_closes_the_window(qapp: QApplication) -> None:
    warning = QMessageBox.warning
    out = io.StringIO()

    status = run_self_test(out=out, timeout_s=0.2)  # no model loads that fast

    assert status == 1
    assert out.getvalue().startswith("FAIL model loaded: no model within the self-test's 0.2 s")
    assert QMessageBox.warning is warning  # the real message boxes are back
    # The dangling-thread fixture checks that closing joined the model's worker.


@pytest.mark.slow
def test_startup_timing_prints_window_shown_then_ready(tmp_path: Path) -> None:
    done = run_desktop(tmp_path, "--startup-timing")

    assert done.returncode == 0, done.stdout + done.stderr
    figures = re.findall(r"^(window shown|ready to edit): (\d+\.\d\d) s$", done.stdout, re.M)
    assert [name for name, _ in figures] == ["window shown", "ready to edit"]
    shown, ready = (float(seconds) for _, seconds in figures)
    assert 0 < shown <= ready


def test_the_window_starts_without_importing_torch() -> None:
    code = (
        "import sys; import nfe_desktop.app, nfe_desktop.main_window, nfe_desktop.self_test; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
