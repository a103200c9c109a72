"""The main window: menus, the canvas, the status bar; opening and saving run in workers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QDir, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

from nfe_core import __version__
from nfe_core.imageio import READ_SUFFIXES, WRITE_SUFFIXES, Picture, load_image, save_picture
from nfe_desktop.canvas import Canvas, pil_to_qimage
from nfe_desktop.settings import LAST_FOLDER, VIEW_ACTUAL_SIZE, WINDOW_GEOMETRY, Settings
from nfe_desktop.workers import Worker, WorkerGroup, plain_task

log = logging.getLogger(__name__)

APP_TITLE = "Neural Face Editor"
DEFAULT_SIZE = (1100, 750)

_MODE_WORDS = {
    "1": "1-bit",
    "L": "grayscale",
    "LA": "grayscale",
    "La": "grayscale",
    "P": "palette",
    "PA": "palette",
    "RGB": "RGB",
    "RGBA": "RGB",
    "RGBa": "RGB",
    "RGBX": "RGB",
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "Lab",
    "HSV": "HSV",
    "I": "32-bit grayscale",
    "I;16": "16-bit grayscale",
    "I;16B": "16-bit grayscale",
    "I;16L": "16-bit grayscale",
    "I;16N": "16-bit grayscale",
    "F": "32-bit float grayscale",
}


@dataclass(frozen=True)
class OpenedPicture:
    """A loaded picture plus its display image, both made off the UI thread."""

    picture: Picture
    image: QImage


def open_picture(path: Path) -> OpenedPicture:
    """Load ``path`` through imageio and make its display image (runs in a worker)."""
    picture = load_image(path)
    return OpenedPicture(picture, pil_to_qimage(picture.rgb, picture.alpha))


def open_filter() -> str:
    """The Open dialog's name filters: every readable picture, then all files."""
    patterns = " ".join(f"*{suffix}" for suffix in READ_SUFFIXES)
    return f"Pictures ({patterns});;All files (*)"


def save_filters() -> dict[str, str]:
    """The Save As dialog's name filters, each mapped to the extension it adds by default."""
    by_format: dict[str, list[str]] = {}
    for suffix, fmt in WRITE_SUFFIXES.items():
        by_format.setdefault(fmt, []).append(suffix)
    names = {"PNG": "PNG picture", "JPEG": "JPEG picture", "WEBP": "WebP picture"}
    return {
        f"{names.get(fmt, fmt)} ({' '.join(f'*{s}' for s in suffixes)})": suffixes[0]
        for fmt, suffixes in by_format.items()
    }


def describe_picture(picture: Picture) -> str:
    """The status bar's words for a picture: name, size, mode and format."""
    name = picture.path.name if picture.path is not None else "untitled"
    width, height = picture.size
    mode = _MODE_WORDS.get(picture.source_mode, picture.source_mode)
    if picture.has_alpha:
        mode += " with transparency"
    fmt = f" ({picture.source_format})" if picture.source_format else ""
    return f"{name}  ·  {width} × {height} px  ·  {mode}{fmt}"


class MainWindow(QMainWindow):
    """The editor's window; it only wires menus, canvas, status bar and workers together."""

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else Settings()
        self._workers = WorkerGroup(self)
        self._picture: Picture | None = None
        self._open_worker: Worker | None = None

        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.picture_info = QLabel(self)
        self.picture_info.setObjectName("pictureInfo")
        self.statusBar().addPermanentWidget(self.picture_info)
        self.setAcceptDrops(True)

        self._create_actions()
        self._create_menus()
        self._restore_settings()
        self._update_title()

    # --- construction ---------------------------------------------------------------------

    def _create_actions(self) -> None:
        """Make the window's actions, with shortcuts and status tips."""
        self.open_action = QAction("&Open…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setStatusTip("Open a picture")
        self.open_action.triggered.connect(self.open_file_dialog)

        self.save_as_action = QAction("Save &As…", self)
        self.save_as_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_as_action.setStatusTip("Save the picture as PNG, JPEG or WebP")
        self.save_as_action.setEnabled(False)
        self.save_as_action.triggered.connect(self.save_as_dialog)

        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)

        self.fit_action = QAction("&Fit to Window", self, checkable=True)
        self.fit_action.setShortcut(QKeySequence("Ctrl+0"))
        self.actual_size_action = QAction("&Actual Size", self, checkable=True)
        self.actual_size_action.setShortcut(QKeySequence("Ctrl+1"))
        zoom_group = QActionGroup(self)
        zoom_group.addAction(self.fit_action)
        zoom_group.addAction(self.actual_size_action)
        self.fit_action.setChecked(True)
        self.fit_action.triggered.connect(lambda: self.set_actual_size(False))
        self.actual_size_action.triggered.connect(lambda: self.set_actual_size(True))

        self.about_action = QAction("&About NFE", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)

    def _create_menus(self) -> None:
        """Fill the menu bar: File, View, Help."""
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.fit_action)
        view_menu.addAction(self.actual_size_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _restore_settings(self) -> None:
        """Put back the window's geometry and view mode from the last session."""
        geometry = self._settings.get(WINDOW_GEOMETRY)
        if not geometry or not self.restoreGeometry(QByteArray(geometry)):
            self.resize(*DEFAULT_SIZE)
        self.set_actual_size(self._settings.get(VIEW_ACTUAL_SIZE))

    # --- state ----------------------------------------------------------------------------

    def picture(self) -> Picture | None:
        """The picture open in the window, or None."""
        return self._picture

    def busy(self) -> bool:
        """Whether a picture is being opened or saved."""
        return bool(self._workers.running())

    def _update_title(self) -> None:
        """ "name — Neural Face Editor", or just the app's name when nothing is open."""
        if self._picture is not None and self._picture.path is not None:
            self.setWindowTitle(f"{self._picture.path.name} — {APP_TITLE}")
        else:
            self.setWindowTitle(APP_TITLE)

    def _start_folder(self) -> str:
        """Where file dialogs start: the last folder used if it still exists, else home."""
        folder = self._settings.get(LAST_FOLDER)
        return folder if folder and Path(folder).is_dir() else QDir.homePath()

    def _remember_folder(self, path: Path) -> None:
        """Make ``path``'s folder the one file dialogs start in next time."""
        self._settings.set(LAST_FOLDER, str(path.resolve().parent))

    # --- view -----------------------------------------------------------------------------

    @Slot(bool)
    def set_actual_size(self, actual: bool) -> None:
        """Show the picture at actual size (True) or fitted to the window (False)."""
        self.canvas.set_actual_size(actual)
        (self.actual_size_action if actual else self.fit_action).setChecked(True)
        self._settings.set(VIEW_ACTUAL_SIZE, actual)

    @Slot()
    def show_about(self) -> None:
        """The About box: what NFE is and its version."""
        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"<h3>{APP_TITLE} {__version__}</h3>"
            "<p>Edit anime faces with StyleGAN2 and attribute sliders, "
            "offline, on your own machine.</p>",
        )

    # --- opening --------------------------------------------------------------------------

    @Slot()
    def open_file_dialog(self) -> None:
        """Ask for a picture file and open it."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Picture", self._start_folder(), open_filter()
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: str | Path) -> Worker:
        """Open ``path`` in a worker; the newest request wins; on error the picture stays."""
        path = Path(path)
        if self._open_worker is not None:
            self._open_worker.cancel()
        worker = Worker(plain_task(open_picture, path), name=f"open {path.name}")
        worker.succeeded.connect(self._on_opened)
        worker.failed.connect(lambda message: self._on_open_failed(worker, path, message))
        worker.finished.connect(lambda: self._on_worker_finished(worker))
        self._open_worker = worker
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._workers.start(worker)
        return worker

    @Slot(object)
    def _on_opened(self, opened: OpenedPicture) -> None:
        """Show a freshly opened picture."""
        self._picture = opened.picture
        self.canvas.set_image(opened.image)
        self.picture_info.setText(describe_picture(opened.picture))
        self.save_as_action.setEnabled(True)
        self._update_title()
        if opened.picture.path is not None:
            self._remember_folder(opened.picture.path)
        self.statusBar().clearMessage()

    def _on_open_failed(self, worker: Worker, path: Path, message: str) -> None:
        """Say why a picture could not be opened; the current picture stays."""
        if worker is not self._open_worker:
            return
        self.statusBar().clearMessage()
        QMessageBox.warning(
            self, "Could not open picture", f"“{path.name}” could not be opened.\n\n{message}"
        )

    def _on_worker_finished(self, worker: Worker) -> None:
        """Forget the open request once it is over."""
        if worker is self._open_worker:
            self._open_worker = None

    # --- saving ---------------------------------------------------------------------------

    @Slot()
    def save_as_dialog(self) -> None:
        """Ask where to save the picture (PNG, JPEG or WebP) and save it."""
        if self._picture is None:
            return
        filters = save_filters()
        stem = self._picture.path.stem if self._picture.path is not None else "untitled"
        suggested = str(Path(self._start_folder()) / f"{stem}.png")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save Picture As", suggested, ";;".join(filters), next(iter(filters))
        )
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(filters.get(chosen, ".png"))
        self.save_to(target)

    def save_to(self, path: str | Path) -> Worker | None:
        """Save the open picture to ``path`` in a worker; errors are shown, nothing else changes."""
        if self._picture is None:
            return None
        path = Path(path)
        worker = Worker(plain_task(save_picture, self._picture, path), name=f"save {path.name}")
        worker.succeeded.connect(lambda _: self._on_saved(path))
        worker.failed.connect(lambda message: self._on_save_failed(path, message))
        self.statusBar().showMessage(f"Saving {path.name}…")
        self._workers.start(worker)
        return worker

    def _on_saved(self, path: Path) -> None:
        """Confirm a save in the status bar."""
        self._remember_folder(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def _on_save_failed(self, path: Path, message: str) -> None:
        """Say why the picture could not be saved."""
        self.statusBar().clearMessage()
        QMessageBox.warning(
            self, "Could not save picture", f"The picture could not be saved.\n\n{message}"
        )

    # --- drag and drop --------------------------------------------------------------------

    @staticmethod
    def _dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
        """The one local picture file being dragged, or None."""
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        urls = [url for url in mime.urls() if url.isLocalFile()]
        if len(urls) != 1:
            return None
        path = Path(urls[0].toLocalFile())
        return path if path.suffix.lower() in READ_SUFFIXES else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept one picture file dragged onto the window."""
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the picture file dropped onto the window."""
        path = self._dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # --- closing --------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the geometry, cancel opening, finish saving, and wait for every thread."""
        self._settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        self._settings.sync()
        if self._workers.running():
            self.statusBar().showMessage("Finishing…")
        self._workers.shutdown()
        super().closeEvent(event)
