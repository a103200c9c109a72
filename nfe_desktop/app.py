"""Starts the desktop app: QApplication, logging, the error dialog hook, the main window."""

# ruff: noqa: E402  (the clock is read before the imports: they are most of the start-up)
from __future__ import annotations

import time

LOADED_AT = time.perf_counter(), time.time()  # when this module began to load

import argparse
import logging
import logging.handlers
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from nfe_core import __version__
from nfe_core.resources import ResourceError, resource_path, user_log_dir
from nfe_desktop.main_window import MainWindow
from nfe_desktop.settings import APPLICATION, ORGANIZATION

log = logging.getLogger("nfe_desktop")

LOG_FILE_NAME = "nfe-desktop.log"
ICON_NAMES = ("nfe.svg", "nfe.png")
LAUNCH_TIME_VARIABLE = "NFE_STARTED"
STARTUP_TIMEOUT_S = 60.0

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def log_file() -> Path:
    """The desktop app's log file, under the user's log folder."""
    return user_log_dir() / LOG_FILE_NAME


def configure_logging() -> Path | None:
    """Log to a rotating file in the user's log folder; returns it, or None if not writable."""
    path = log_file()
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in root.handlers:
        if getattr(handler, "baseFilename", None) == str(path):
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as error:
        sys.stderr.write(f"warning: cannot write the log file {path}: {error}\n")
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    root.addHandler(handler)
    return path


def show_error_dialog(title: str, text: str, details: str) -> None:
    """A modal box with the error in words and the traceback under "Show Details…"."""
    parent: QWidget | None = QApplication.activeWindow()
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setDetailedText(details)
    box.exec()


class ErrorHook:
    """A ``sys.excepthook`` that logs a traceback and tells the user, keeping the app up."""

    def __init__(self, previous: ExceptHook, log_path: Path | None) -> None:
        self.previous = previous
        self.log_path = log_path
        self._showing = False

    def __call__(
        self,
        kind: type[BaseException],
        error: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """Handle an exception that nothing caught (on the UI thread, e.g. in a slot)."""
        if issubclass(kind, KeyboardInterrupt):
            self.previous(kind, error, tb)
            return
        log.critical("Unexpected error", exc_info=(kind, error, tb))
        details = "".join(traceback.format_exception(kind, error, tb))
        sys.stderr.write(details)
        if self._showing or QApplication.instance() is None:
            return  # an error while the box is up: logged, not stacked
        message = str(error).strip()
        what = f"{kind.__name__}: {message}" if message else kind.__name__
        text = (
            "Something went wrong inside Neural Face Editor, and what you just did may not "
            f"have completed.\n\n{what}"
        )
        if self.log_path is not None:
            text += f"\n\nThe details were written to {self.log_path}."
        self._showing = True
        try:
            show_error_dialog("Unexpected error", text, details)
        finally:
            self._showing = False


def install_excepthook(log_path: Path | None) -> ErrorHook:
    """Make :class:`ErrorHook` the global ``sys.excepthook``; returns it."""
    hook = ErrorHook(sys.excepthook, log_path)
    sys.excepthook = hook
    return hook


def app_icon() -> QIcon | None:
    """The app's icon from resources/icons, or None when it is not there."""
    for name in ICON_NAMES:
        try:
            path = resource_path("icons", name)
        except ResourceError:
            return None
        if path.is_file():
            icon = QIcon(str(path))
            if not icon.isNull():
                return icon
    return None


def launch_time() -> float:
    """When the app was launched, on the ``time.perf_counter`` clock.

    A launcher that knows better (``benchmarks/bench_startup.py``) sets ``NFE_STARTED`` to
    ``time.time()`` just before it starts the process, so that the interpreter's own start is
    counted too; without it, the time this module began to load.
    """
    loaded, loaded_wall = LOADED_AT
    try:
        return loaded - (loaded_wall - float(os.environ[LAUNCH_TIME_VARIABLE]))
    except (KeyError, ValueError):
        return loaded


class StartupTiming(QObject):
    """``--startup-timing``: print when the window is first on screen and when the model is
    loaded (ready to edit), in seconds since launch, then quit the app (status 1 if the model
    is not ready within ``timeout_s``)."""

    def __init__(
        self, window: MainWindow, launched: float, timeout_s: float = STARTUP_TIMEOUT_S
    ) -> None:
        super().__init__(window)
        self._launched = launched
        self._painted = False
        self._shown = False
        window.installEventFilter(self)
        window.model_loaded.connect(self._on_ready)
        QTimer.singleShot(int(timeout_s * 1000), self._on_timeout)
        self._timeout_s = timeout_s

    def _print(self, what: str) -> None:
        print(f"{what}: {time.perf_counter() - self._launched:.2f} s", flush=True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the window's first paint, report once that paint is done (flushed)."""
        if event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._on_shown)
        return False

    def _on_shown(self) -> None:
        if not self._shown:
            self._shown = True
            self._print("window shown")

    def _on_ready(self) -> None:
        self._on_shown()
        self._print("ready to edit")
        QApplication.exit(0)

    def _on_timeout(self) -> None:
        print(f"ready to edit: not within {self._timeout_s:.0f} s", flush=True)
        QApplication.exit(1)  # leaves a message box's loop too


def make_parser() -> argparse.ArgumentParser:
    """The command line: an optional picture, --model, --self-test, --version, --help (Qt's
    own options pass)."""
    parser = argparse.ArgumentParser(
        prog="nfe-desktop",
        description="Neural Face Editor: edit anime faces with sliders.",
        epilog="Qt's options (e.g. -platform offscreen, -style fusion) are accepted too.",
    )
    parser.add_argument("picture", nargs="?", type=Path, help="a picture to open at start")
    parser.add_argument(
        "--model", type=Path, metavar="BUNDLE", help="a model bundle folder to load at start"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that the app and its model work, then exit (for installers and CI)",
    )
    parser.add_argument("--startup-timing", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app until its window closes; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = make_parser()
    parser.parse_known_args(arguments)  # --help and --version answer without starting Qt
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "nfe-desktop", *arguments])
        arguments = app.arguments()[1:]  # Qt removed the options it understood (-style, ...)
    assert isinstance(app, QApplication)
    options = parser.parse_args(arguments)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(__version__)
    icon = app_icon()
    if icon is not None:
        app.setWindowIcon(icon)

    log_path = configure_logging()
    log.info("Neural Face Editor %s starting", __version__)
    if options.self_test:
        from nfe_desktop.self_test import run_self_test

        return run_self_test(options.model)
    hook = install_excepthook(log_path)
    window: MainWindow | None = None
    try:
        window = MainWindow(model_path=options.model)
        if options.startup_timing:
            StartupTiming(window, launch_time())
        window.show()
        if options.picture is not None:
            QTimer.singleShot(0, lambda: window.open_path(options.picture))
        status = app.exec()
        log.info("Neural Face Editor exits with status %s", status)
        return int(status)
    finally:
        if sys.excepthook is hook:
            sys.excepthook = hook.previous
        if window is not None:
            window.close()  # joins its workers, if the loop ended without closing it
            window.deleteLater()
