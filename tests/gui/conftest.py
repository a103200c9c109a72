"""GUI test set-up: offscreen Qt, isolated settings and log folder, no thread left running."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThread

from nfe_desktop.settings import Settings


@pytest.fixture(autouse=True)
def _isolated_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep QSettings and log files of the code under test out of the real user's folders."""
    root = tmp_path_factory.mktemp("user")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(root / "config"))
    monkeypatch.setattr("nfe_core.resources.user_log_dir", lambda: root / "log")
    monkeypatch.setattr("nfe_desktop.app.user_log_dir", lambda: root / "log")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in a fresh INI file of the test's own."""
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread running (as napari does), saying where it started."""
    started: list[tuple[QThread, str]] = []
    original_start = QThread.start

    def recording_start(self: QThread, *args: object) -> None:
        started.append((self, "".join(traceback.format_stack(limit=12)[:-1])))
        original_start(self, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    running = [(thread, stack) for thread, stack in started if thread.isRunning()]
    for thread, _ in running:
        thread.wait(5000)  # join it anyway, so one failure does not crash the next test
    if running:
        stacks = "\n".join(stack for _, stack in running)
        pytest.fail(
            f"{len(running)} QThread(s) still running after the test; started at:\n{stacks}"
        )
