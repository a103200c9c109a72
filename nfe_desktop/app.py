"""Starts the desktop app: QApplication, logging, the error dialog hook, the main window."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from nfe_core import __version__
from nfe_core.resources import ResourceError, resource_path, user_log_dir
from nfe_desktop.main_window import MainWindow
from nfe_desktop.settings import APPLICATION, ORGANIZATION

log = logging.getLogger("nfe_desktop")

LOG_FILE_NAME = "nfe-desktop.log"
ICON_NAMES = ("nfe.svg", "nfe.png")

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


def make_parser() -> argparse.ArgumentParser:
    """The command line: an optional picture, --version, --help (Qt's own options pass)."""
    parser = argparse.ArgumentParser(
        prog="nfe-desktop",
        description="Neural Face Editor: edit anime faces with sliders.",
        epilog="Qt's options (e.g. -platform offscreen, -style fusion) are accepted too.",
    )
    parser.add_argument("picture", nargs="?", type=Path, help="a picture to open at start")
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
    hook = install_excepthook(log_path)
    window: MainWindow | None = None
    try:
        window = MainWindow()
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
