"""The main window: it wires the canvas, the docks, the undo stack and the workers together.

The window owns a Qt-free :class:`~nfe_core.session.Session` (picture, face box, face,
slider state) and a ``QUndoStack`` of :class:`~nfe_desktop.commands.EditCommand`. Every bit
of model work - loading, generating, inverting, rendering, saving, batch export - runs in a
worker (:mod:`nfe_desktop.tasks`); renders go through a latest-only queue, so a slider drag
never piles up work, and a result for a face that is no longer shown is dropped.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QDir, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QStyle,
    QWidget,
)

from nfe_core import __version__
from nfe_core.facebox import FaceBox, default_box
from nfe_core.imageio import READ_SUFFIXES, WRITE_SUFFIXES, Picture
from nfe_core.session import EditState, Session
from nfe_desktop import tasks
from nfe_desktop.attribute_dock import AttributeDock
from nfe_desktop.canvas import Canvas
from nfe_desktop.commands import EditCommand
from nfe_desktop.face_panel import FacePanel
from nfe_desktop.history_panel import HistoryPanel
from nfe_desktop.preferences_dialog import PreferencesDialog
from nfe_desktop.settings import (
    DEVICE,
    EXPORT_FORMAT,
    EXPORT_PATTERN,
    EXPORT_QUALITY,
    INVERSION_STEPS,
    LAST_FOLDER,
    LAST_MODEL,
    TRUNCATION,
    VIEW_ACTUAL_SIZE,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    Settings,
    add_recent_file,
    recent_files,
)
from nfe_desktop.workers import LatestOnly, Worker, WorkerGroup, plain_task

if TYPE_CHECKING:
    from nfe_core.batch import BatchSummary

log = logging.getLogger(__name__)

APP_TITLE = "Neural Face Editor"
DEFAULT_SIZE = (1280, 800)
PROJECT_SUFFIX = ".nfe"

# for tests and the self-test
OpenedPicture = tasks.OpenedPicture
open_picture = tasks.open_picture

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


def open_filter() -> str:
    """The Open dialog's name filters: pictures and projects, pictures, projects, all files."""
    patterns = " ".join(f"*{suffix}" for suffix in READ_SUFFIXES)
    return (
        f"Pictures and projects ({patterns} *{PROJECT_SUFFIX});;Pictures ({patterns});;"
        f"NFE projects (*{PROJECT_SUFFIX});;All files (*)"
    )


def save_filters() -> dict[str, str]:
    """The picture formats Save As offers, each mapped to the extension it adds by default."""
    by_format: dict[str, list[str]] = {}
    for suffix, fmt in WRITE_SUFFIXES.items():
        by_format.setdefault(fmt, []).append(suffix)
    names = {"PNG": "PNG picture", "JPEG": "JPEG picture", "WEBP": "WebP picture"}
    return {
        f"{names.get(fmt, fmt)} ({' '.join(f'*{s}' for s in suffixes)})": suffixes[0]
        for fmt, suffixes in by_format.items()
    }


PROJECT_FILTER = f"NFE project (*{PROJECT_SUFFIX})"


def describe_picture(picture: Picture) -> str:
    """The status bar's words for a picture: name, size, mode and format."""
    name = picture.path.name if picture.path is not None else "untitled"
    width, height = picture.size
    mode = _MODE_WORDS.get(picture.source_mode, picture.source_mode)
    if picture.has_alpha:
        mode += " with transparency"
    fmt = f" ({picture.source_format})" if picture.source_format else ""
    return f"{name}  ·  {width} × {height} px  ·  {mode}{fmt}"


def _format_figure(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def quality_html(report: dict[str, Any] | None) -> str:
    """The model's headline quality figures as an HTML table (Help > About)."""
    if not report:
        return "<p>This model has no quality report (<code>nfe-train report</code>).</p>"
    rows = []
    for key in ("edit_success", "preservation", "classifier_accuracy"):
        figures = report.get(key)
        if isinstance(figures, dict) and figures:
            text = ", ".join(
                f"{k.replace('_', ' ')} {_format_figure(v)}" for k, v in figures.items()
            )
            rows.append((key.replace("_", " "), text))
    for key in ("frechet_distance", "frechet_floor", "precision", "recall"):
        if key in report:
            rows.append((key.replace("_", " "), _format_figure(report[key])))
    inversion = report.get("inversion")
    if isinstance(inversion, dict):
        for key in ("psnr_db_hybrid", "attribute_agreement", "seconds_cpu"):
            if key in inversion:
                rows.append((f"inversion {key.replace('_', ' ')}", _format_figure(inversion[key])))
    body = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    return f"<table cellspacing='4'>{body}</table>"


class MainWindow(QMainWindow):
    """The editor's window; it only wires panels, canvas, undo stack and workers together.

    ``model_path`` is the bundle to load at start (None: the last one used, or the default
    model); ``load_model=False`` starts without one (tests of the picture viewer).
    """

    model_loaded = Signal()  # a model is loaded and its sliders shown
    face_changed = Signal()  # a new face was inverted or generated (or a project opened)
    rendered = Signal()  # a render for the current face and state is on the canvas

    def __init__(
        self,
        settings: Settings | None = None,
        parent: QWidget | None = None,
        *,
        model_path: str | Path | None = None,
        load_model: bool = True,
    ) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else Settings()
        self._workers = WorkerGroup(self)
        self._session = Session()
        self._project_path: Path | None = None
        self._face_unsaved = False
        self._model: tasks.LoadedModel | None = None
        self._model_worker: Worker | None = None
        self._open_worker: Worker | None = None
        self._invert_worker: Worker | None = None
        self._batch_worker: Worker | None = None
        self._serial = 0
        self._shown_serial = -1
        self._dragging: str | None = None
        self._region: tasks.FaceRegion | None = None  # the face box's pixels, for renders
        self._close_after_save = False
        self._closed = False

        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(lambda _clean: self._update_title())
        self._renders = LatestOnly(self._workers, "render", self)
        self._renders.succeeded.connect(self._on_rendered)
        self._renders.failed.connect(self._on_render_failed)

        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.face_panel = FacePanel(self)
        self.attribute_dock = AttributeDock(self)
        self.history_panel = HistoryPanel(self.undo_stack, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.face_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.attribute_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_panel)
        self.attribute_dock.set_enabled_editing(False)
        self.resizeDocks(
            [self.face_panel, self.attribute_dock], [280, 340], Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [self.attribute_dock, self.history_panel], [560, 200], Qt.Orientation.Vertical
        )

        self.picture_info = QLabel(self)
        self.picture_info.setObjectName("pictureInfo")
        self.render_info = QLabel(self)
        self.render_info.setObjectName("renderInfo")
        self.model_label = QLabel("No model", self)
        self.model_label.setObjectName("modelInfo")
        for label in (self.render_info, self.picture_info, self.model_label):
            label.setContentsMargins(10, 0, 10, 0)
            self.statusBar().addPermanentWidget(label)
        self.setAcceptDrops(True)

        self._create_actions()
        self._create_menus()
        self._connect_panels()
        self._restore_settings()
        self._update_actions()
        self._update_title()
        if load_model:
            path = model_path if model_path is not None else self._settings.get(LAST_MODEL)
            QTimer.singleShot(0, lambda: self.load_model(Path(path) if path else None))

    # --- construction ---------------------------------------------------------------------

    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _create_actions(self) -> None:
        """Make the window's actions, with shortcuts and status tips."""
        keys = QKeySequence.StandardKey
        self.open_action = self._action(
            "&Open…", self.open_file_dialog, keys.Open, "Open a picture or a project"
        )
        self.save_action = self._action(
            "&Save", self.save, keys.Save, "Save the work as a project (.nfe)"
        )
        self.save_as_action = self._action(
            "Save &As…",
            self.save_as_dialog,
            "Ctrl+Shift+S",
            "Save the edited picture (PNG, JPEG, WebP) or the project (.nfe)",
        )
        self.save_face_action = self._action(
            "Save &Face As…", self.save_face_dialog, None, "Save the edited face alone"
        )
        self.batch_action = self._action(
            "&Batch Export…",
            self.batch_export_dialog,
            "Ctrl+B",
            "Apply the edits to many pictures",
        )
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.reset_action = self._action(
            "Reset &All Edits", lambda: self.request_state(self._session.state.reset())
        )
        self.preferences_action = self._action("&Preferences…", self.preferences_dialog, "Ctrl+,")
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.fit_action = self._action(
            "&Fit to Window", lambda: self.set_actual_size(False), "Ctrl+0"
        )
        self.actual_size_action = self._action(
            "&Actual Size", lambda: self.set_actual_size(True), "Ctrl+1"
        )
        for action in (self.fit_action, self.actual_size_action):
            action.setCheckable(True)
        zoom_group = QActionGroup(self)
        zoom_group.addAction(self.fit_action)
        zoom_group.addAction(self.actual_size_action)
        self.fit_action.setChecked(True)
        self.zoom_in_action = self._action("Zoom &In", self.canvas.zoom_in, keys.ZoomIn)
        self.zoom_out_action = self._action("Zoom &Out", self.canvas.zoom_out, keys.ZoomOut)
        self.compare_actions: dict[str, QAction] = {}
        compare_group = QActionGroup(self)
        for mode, text, key in (
            ("after", "Show &Edited", "Ctrl+2"),
            ("before", "Show &Original", "Ctrl+3"),
            ("split", "&Split View", "Ctrl+4"),
        ):
            action = self._action(
                text, lambda _=False, m=mode: self.canvas.set_compare_mode(m), key
            )
            action.setCheckable(True)
            compare_group.addAction(action)
            self.compare_actions[mode] = action
        self.compare_actions["after"].setChecked(True)
        self.toggle_before_action = self._action(
            "&Before/After", self.toggle_before_after, "\\", "Switch between original and edited"
        )

        self.box_action = self._action("Draw Face &Box", self.face_panel.box_button.toggle, "B")
        self.invert_action = self._action(
            "&Invert", self.invert, "Ctrl+I", "Find the model's version of the face in the box"
        )
        self.cancel_action = self._action("&Cancel", self.cancel_inversion, "Esc")
        self.generate_action = self._action("&Generate", self._generate_from_panel, "Ctrl+G")
        self.random_action = self._action("&Random Face", self.generate_random, "Ctrl+R")

        self.open_model_action = self._action(
            "&Open Bundle…", self.open_model_dialog, None, "Load another model bundle"
        )
        self.default_model_action = self._action(
            "Use the &Default Model", lambda: self.load_model(None)
        )
        self.about_action = self._action("&About NFE", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _create_menus(self) -> None:
        """Fill the menu bar and the toolbar."""
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        for action in (self.save_action, self.save_as_action, self.save_face_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.batch_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, self.reset_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.preferences_action)

        view_menu = bar.addMenu("&View")
        for action in (self.fit_action, self.actual_size_action):
            view_menu.addAction(action)
        view_menu.addAction(self.zoom_in_action)
        view_menu.addAction(self.zoom_out_action)
        view_menu.addSeparator()
        for action in self.compare_actions.values():
            view_menu.addAction(action)
        view_menu.addAction(self.toggle_before_action)
        view_menu.addSeparator()
        for dock in (self.face_panel, self.attribute_dock, self.history_panel):
            view_menu.addAction(dock.toggleViewAction())

        face_menu = bar.addMenu("F&ace")
        for action in (self.box_action, self.invert_action, self.cancel_action):
            face_menu.addAction(action)
        face_menu.addSeparator()
        face_menu.addAction(self.generate_action)
        face_menu.addAction(self.random_action)

        model_menu = bar.addMenu("&Model")
        model_menu.addAction(self.open_model_action)
        model_menu.addAction(self.default_model_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        style = self.style()
        icons = QStyle.StandardPixmap
        for action, icon in (
            (self.open_action, icons.SP_DialogOpenButton),
            (self.save_action, icons.SP_DialogSaveButton),
            (self.undo_action, icons.SP_ArrowBack),
            (self.redo_action, icons.SP_ArrowForward),
            (self.invert_action, icons.SP_BrowserReload),
        ):
            action.setIcon(style.standardIcon(icon))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.open_action, self.save_action, None, self.undo_action,
                       self.redo_action, None, self.invert_action, None,
                       *self.compare_actions.values(), None, self.fit_action,
                       self.actual_size_action):  # fmt: skip
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)

    def _connect_panels(self) -> None:
        """Wire the docks and the canvas to the window."""
        self.attribute_dock.state_requested.connect(self._on_state_requested)
        self.attribute_dock.drag_started.connect(self._on_drag_started)
        self.attribute_dock.drag_finished.connect(self._on_drag_finished)
        panel = self.face_panel
        panel.invert_requested.connect(self.invert)
        panel.cancel_requested.connect(self.cancel_inversion)
        panel.box_editing_toggled.connect(self.canvas.set_box_editing)
        panel.generate.generate_requested.connect(self.generate)
        panel.generate.set_truncation(self._settings.get(TRUNCATION))
        self.canvas.face_box_changed.connect(self._on_box_drawn)
        self.canvas.compare_mode_changed.connect(self._on_compare_mode_changed)
        self.canvas.zoom_changed.connect(self._on_zoom_changed)

    def _restore_settings(self) -> None:
        """Put back the window's geometry, docks and view mode from the last session."""
        geometry = self._settings.get(WINDOW_GEOMETRY)
        if not geometry or not self.restoreGeometry(QByteArray(geometry)):
            self.resize(*DEFAULT_SIZE)
        state = self._settings.get(WINDOW_STATE)
        if state:
            self.restoreState(QByteArray(state))
        self.set_actual_size(self._settings.get(VIEW_ACTUAL_SIZE))

    # --- state ----------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The document: picture, face box, face and slider state."""
        return self._session

    def picture(self) -> Picture | None:
        """The picture open in the window, or None."""
        return self._session.picture

    def settings_model(self) -> str:
        """The bundle the app opens next time ('' for the default model)."""
        return self._settings.get(LAST_MODEL)

    def model_info(self) -> Any:
        """The loaded model's :class:`~nfe_core.session.ModelInfo`, or None."""
        return self._model.info if self._model is not None else None

    def busy(self) -> bool:
        """Whether any worker runs (open, save, load, invert, render, batch)."""
        return bool(self._workers.running())

    def is_modified(self) -> bool:
        """Whether there is work that is not saved in a project."""
        return self._face_unsaved or not self.undo_stack.isClean()

    def _document_name(self) -> str:
        if self._project_path is not None:
            return self._project_path.name
        picture = self._session.picture
        if picture is not None and picture.path is not None:
            return picture.path.name
        face = self._session.face
        if face is not None and face.kind == "generated":
            return f"seed {face.seed}"
        return ""

    def _show_picture_info(self, text: str) -> None:
        """The status bar's picture words, never squeezed by a long message."""
        self.picture_info.setText(text)
        self.picture_info.setToolTip(text)

    def _update_title(self) -> None:
        """ "name[*] — Neural Face Editor"; the star marks unsaved changes."""
        name = self._document_name()
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if name else f"{APP_TITLE}[*]")
        self.setWindowModified(self.is_modified())

    def _update_actions(self) -> None:
        """Enable what makes sense now."""
        session = self._session
        has_face = session.face is not None
        model = self._model
        self.save_action.setEnabled(session.picture is not None or has_face)
        self.save_as_action.setEnabled(session.picture is not None or has_face)
        self.save_face_action.setEnabled(has_face)
        self.reset_action.setEnabled(bool(session.state.edits))
        can_invert, why = self._can_invert()
        self.invert_action.setEnabled(can_invert)
        self.face_panel.set_can_invert(can_invert, why)
        self.cancel_action.setEnabled(self._invert_worker is not None)
        model_ready = model is not None
        self.generate_action.setEnabled(model_ready)
        self.random_action.setEnabled(model_ready)
        self.face_panel.generate.set_busy(not model_ready)
        self.batch_action.setEnabled(model_ready and model.info.cannot_invert is None)  # type: ignore[union-attr]
        self.attribute_dock.set_enabled_editing(has_face and model_ready)

    def _can_invert(self) -> tuple[bool, str]:
        if self._model is None:
            return False, "The model is still loading."
        if self._model.info.cannot_invert is not None:
            return False, "This model cannot invert pictures: " + self._model.info.cannot_invert
        if self._session.picture is None:
            return False, "Open a picture first."
        if self._invert_worker is not None:
            return False, "An inversion is running."
        return True, ""

    def _start_folder(self) -> str:
        """Where file dialogs start: the last folder used if it still exists, else home."""
        folder = self._settings.get(LAST_FOLDER)
        return folder if folder and Path(folder).is_dir() else QDir.homePath()

    def _remember_folder(self, path: Path) -> None:
        """Make ``path``'s folder the one file dialogs start in next time."""
        self._settings.set(LAST_FOLDER, str(path.resolve().parent))

    def _maybe_discard(self, doing: str) -> bool:
        """Ask before unsaved work is replaced; True to go on."""
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"The current work has changes that are not saved in a project.\n\n"
            f"Discard them and {doing}?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    # --- the model ------------------------------------------------------------------------

    def load_model(self, path: Path | None) -> Worker | None:
        """Load a model bundle in a worker (None: the default); the current one stays until
        the new one is ready, and stays if it fails."""
        if self._closed:
            return None
        if self._model_worker is not None:
            self._model_worker.cancel()
        device = self._settings.get(DEVICE)
        name = path.name if path is not None else "the default model"
        worker = Worker(tasks.load_model(path, device), name=f"load {name}")
        worker.succeeded.connect(lambda loaded: self._on_model_loaded(worker, path, loaded))
        worker.failed.connect(lambda message: self._on_model_failed(worker, path, message))
        worker.finished.connect(lambda: self._forget_model_worker(worker))
        self._model_worker = worker
        self.model_label.setText(f"Loading {name}…")
        self.statusBar().showMessage(f"Loading {name}…")
        self._workers.start(worker)
        return worker

    def _forget_model_worker(self, worker: Worker) -> None:
        if worker is self._model_worker:
            self._model_worker = None

    def _on_model_loaded(
        self, worker: Worker, path: Path | None, loaded: tasks.LoadedModel
    ) -> None:
        if worker is not self._model_worker:
            return
        self._model = loaded
        info = loaded.info
        self._settings.set(LAST_MODEL, str(path) if path is not None else "")
        self.model_label.setText(f"{info.name} · {info.resolution} px · {info.device}")
        self.model_label.setToolTip(info.description)
        self.attribute_dock.set_attributes(info.attributes)
        face = self._session.face
        if face is not None and face.latent.shape != info.latent_shape:
            self._drop_face("The face was made by the previous model; invert or generate again.")
        known = {a.name for a in info.attributes}
        state = self._session.state
        if any(e.attribute not in known for e in state.edits):
            self._apply_state(EditState(keep=frozenset(k for k in state.keep if k in known)))
            self.undo_stack.clear()
        self.attribute_dock.set_state(self._session.state)
        self.statusBar().showMessage(f"Model “{info.name}” ready ({loaded.seconds:.1f} s)", 5000)
        self._update_actions()
        if self._session.face is not None:
            self._request_render()
        self.model_loaded.emit()

    def _on_model_failed(self, worker: Worker, path: Path | None, message: str) -> None:
        if worker is not self._model_worker:
            return
        self.statusBar().clearMessage()
        self.model_label.setText(self._model.info.name if self._model else "No model")
        QMessageBox.warning(
            self,
            "Could not load the model",
            f"The model {'“' + str(path) + '”' if path else 'bundled with NFE'} could not be "
            f"loaded.\n\n{message}",
        )
        if path is not None and self._model is None:
            self.load_model(None)  # the last model is gone or broken: fall back to the default

    @Slot()
    def open_model_dialog(self) -> None:
        """Ask for a bundle folder and load it."""
        folder = QFileDialog.getExistingDirectory(self, "Open Model Bundle", self._start_folder())
        if folder:
            self.load_model(Path(folder))

    # --- opening --------------------------------------------------------------------------

    @Slot()
    def open_file_dialog(self) -> None:
        """Ask for a picture or project file and open it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open", self._start_folder(), open_filter())
        if path:
            self.open_path(Path(path))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files(self._settings)
        for file in files:
            action = self.recent_menu.addAction(Path(file).name)
            action.setToolTip(file)
            action.setStatusTip(file)
            action.triggered.connect(lambda _=False, f=file: self.open_path(Path(f)))
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)

    def open_path(self, path: str | Path, *, ask: bool = True) -> Worker | None:
        """Open a picture or a ``.nfe`` project in a worker; the newest request wins; on
        error what is open stays."""
        path = Path(path)
        if ask and not self._maybe_discard(f"open “{path.name}”"):
            return None
        if self._open_worker is not None:
            self._open_worker.cancel()
        if path.suffix.lower() == PROJECT_SUFFIX:
            task = tasks.load_project(path)
        else:
            task = plain_task(tasks.open_picture, path)
        worker = Worker(task, name=f"open {path.name}")
        worker.succeeded.connect(self._on_opened)
        worker.failed.connect(lambda message: self._on_open_failed(worker, path, message))
        worker.finished.connect(lambda: self._on_open_finished(worker))
        self._open_worker = worker
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._workers.start(worker)
        return worker

    @Slot(object)
    def _on_opened(self, opened: tasks.OpenedPicture | tasks.OpenedProject) -> None:
        """Show a freshly opened picture or project."""
        if isinstance(opened, tasks.OpenedProject):
            self._show_project(opened)
            return
        picture = opened.picture
        self.cancel_inversion()  # it would be the old picture's face
        self._renders.cancel()
        self._session.open_picture(picture, default_box(*picture.size))
        self._region = None
        self._project_path = None
        self._face_unsaved = False
        self.undo_stack.clear()
        self.canvas.set_image(opened.image)
        self.canvas.set_face_box(self._session.box)
        self.face_panel.box_button.setChecked(True)
        self.face_panel.set_faces(None, None)
        self.face_panel.set_seen("")
        self._show_picture_info(describe_picture(picture))
        self.attribute_dock.set_state(self._session.state)
        if picture.path is not None:
            self._remember_folder(picture.path)
            add_recent_file(self._settings, str(picture.path.resolve()))
        self.statusBar().showMessage("Put the face in the square, then press Invert.", 8000)
        self._update_actions()
        self._update_title()

    def _show_project(self, opened: tasks.OpenedProject) -> None:
        project = opened.project
        self.cancel_inversion()
        self._renders.cancel()
        self._session = project.session
        self._region = opened.region
        self._project_path = opened.path
        self._face_unsaved = False
        self.undo_stack.clear()
        session = self._session
        face = session.face
        self.canvas.set_image(opened.picture if opened.picture is not None else opened.face)
        self.canvas.set_face_box(face.box if face is not None and face.box else session.box)
        self.face_panel.box_button.setChecked(False)
        self.face_panel.set_faces(opened.face, None)
        picture = session.picture
        self._show_picture_info(describe_picture(picture) if picture is not None else "")
        self.attribute_dock.set_state(session.state)
        self._remember_folder(opened.path)
        add_recent_file(self._settings, str(opened.path.resolve()))
        if (
            self._model is not None
            and project.model.get("fingerprint") != self._model.info.fingerprint
        ):
            self.statusBar().showMessage(
                f"This project was made with the model “{project.model.get('name')}”; "
                f"the edits are shown with “{self._model.info.name}”.",
                10000,
            )
        self._update_actions()
        self._update_title()
        if face is not None:
            self._request_render()
            self.face_changed.emit()

    def _on_open_failed(self, worker: Worker, path: Path, message: str) -> None:
        """Say why a file could not be opened; what is open stays."""
        if worker is not self._open_worker:
            return
        self.statusBar().clearMessage()
        QMessageBox.warning(
            self, "Could not open", f"“{path.name}” could not be opened.\n\n{message}"
        )

    def _on_open_finished(self, worker: Worker) -> None:
        if worker is self._open_worker:
            self._open_worker = None

    # --- the face ---------------------------------------------------------------------------

    @Slot(object)
    def _on_box_drawn(self, box: FaceBox) -> None:
        self._session.box = box
        if self._session.face is not None and self._session.face.box != box:
            self.statusBar().showMessage("Press Invert to edit the face in the new box.", 8000)

    @Slot()
    def invert(self) -> Worker | None:
        """Invert the face in the box of the open picture, with progress and Cancel."""
        ok, why = self._can_invert()
        if not ok or self._model is None or self._session.picture is None:
            if why:
                self.statusBar().showMessage(why, 5000)
            return None
        steps = self._settings.get(INVERSION_STEPS)
        box = self.canvas.face_box() or self._session.box
        task = tasks.invert(self._model.model, self._session.picture, box, steps)
        worker = Worker(task, name="invert")
        worker.progress.connect(self.face_panel.set_progress)
        worker.succeeded.connect(lambda new: self._on_inverted(worker, new))
        worker.failed.connect(lambda message: self._on_invert_failed(worker, message))
        worker.cancelled.connect(lambda: self.statusBar().showMessage("Inversion cancelled", 5000))
        worker.finished.connect(lambda: self._on_invert_finished(worker))
        self._invert_worker = worker
        self.face_panel.set_inverting(True)
        self.statusBar().showMessage(f"Inverting the face ({steps} steps)…")
        self._workers.start(worker)
        self._update_actions()
        return worker

    @Slot()
    def cancel_inversion(self) -> None:
        """Stop the running inversion; the face shown before stays."""
        if self._invert_worker is not None:
            self._invert_worker.cancel()

    def _on_inverted(self, worker: Worker, new: tasks.NewFace) -> None:
        if worker is not self._invert_worker or self._session.picture is None:
            return
        self._set_face(new)
        self.face_panel.box_button.setChecked(False)
        face = new.face
        self.statusBar().showMessage(
            f"Inverted in {face.seconds:.1f} s ({face.steps} steps). Move the sliders to edit.",
            8000,
        )

    def _on_invert_failed(self, worker: Worker, message: str) -> None:
        if worker is not self._invert_worker:
            return
        self.statusBar().clearMessage()
        QMessageBox.warning(
            self, "Could not invert", f"The face could not be inverted.\n\n{message}"
        )

    def _on_invert_finished(self, worker: Worker) -> None:
        if worker is self._invert_worker:
            self._invert_worker = None
            self.face_panel.set_inverting(False)
            self._update_actions()

    def _generate_from_panel(self) -> None:
        generate = self.face_panel.generate
        self.generate(generate.seed(), generate.truncation())

    @Slot()
    def generate_random(self) -> None:
        """A new random seed, and its face."""
        seed = random.randrange(2**31)
        self.face_panel.generate.set_seed(seed)
        self.generate(seed, self.face_panel.generate.truncation())

    @Slot(int, float)
    def generate(self, seed: int, truncation: float) -> Worker | None:
        """Show the face ``seed`` stands for, instead of a picture."""
        if self._model is None:
            return None
        if not self._maybe_discard("generate a new face"):
            return None
        self._settings.set(TRUNCATION, float(truncation))
        worker = Worker(tasks.generate(self._model.model, seed, truncation), name=f"seed {seed}")
        worker.succeeded.connect(self._on_generated)
        worker.failed.connect(
            lambda message: QMessageBox.warning(self, "Could not generate", message)
        )
        self._workers.start(worker)
        return worker

    def _on_generated(self, new: tasks.NewFace) -> None:
        self.cancel_inversion()
        self._project_path = None
        self.canvas.set_image(new.image)
        self.canvas.set_face_box(None)
        self.face_panel.box_button.setChecked(False)
        self._show_picture_info(new.face.describe())
        self._set_face(new)

    def _set_face(self, new: tasks.NewFace) -> None:
        """A new face: fresh sliders (the keep toggles stay), an empty history."""
        self._renders.cancel()
        self._session.set_face(new.face)
        self._region = new.region
        # an inverted face took time to make; a generated one is its seed, made again at will
        self._face_unsaved = new.face.kind == "picture"
        self.undo_stack.clear()
        self.attribute_dock.set_state(self._session.state)
        self.face_panel.set_faces(new.image, new.image)
        self.face_panel.set_seen("")
        self.canvas.set_after_patch(None, None)
        self._update_actions()
        self._update_title()
        self._request_render()
        self.face_changed.emit()

    def _drop_face(self, message: str) -> None:
        self._renders.cancel()
        self._session.face = None
        self._region = None
        self._session.set_state(EditState(keep=self._session.state.keep))
        self.undo_stack.clear()
        self.canvas.set_after(None)
        self.face_panel.set_faces(None, None)
        self.statusBar().showMessage(message, 10000)
        self._update_actions()

    # --- editing ------------------------------------------------------------------------------

    @Slot(str)
    def _on_drag_started(self, attribute: str) -> None:
        self._dragging = attribute

    @Slot(str)
    def _on_drag_finished(self, attribute: str) -> None:
        self._dragging = None
        self._request_render()  # the full-size render after the drag's quick previews

    @Slot(object, str, bool)
    def _on_state_requested(self, state: EditState, text: str, merge: bool) -> None:
        self.request_state(state, drag=self._dragging if merge else None)

    def request_state(self, state: EditState, drag: str | None = None) -> None:
        """Go to ``state`` through the undo stack (``drag``: the attribute of a slider drag
        in progress, merged into one history entry)."""
        if self._session.face is None or state == self._session.state:
            return
        self.undo_stack.push(EditCommand(self._apply_state, self._session.state, state, drag))

    def _apply_state(self, state: EditState) -> None:
        """Make ``state`` the session's (undo commands call this) and render it."""
        self._session.set_state(state)
        self.attribute_dock.set_state(state)
        self._update_actions()
        self._update_title()
        self._request_render()

    def _request_render(self) -> None:
        session = self._session
        if self._model is None or session.face is None:
            return
        self._serial += 1
        self._renders.submit(
            tasks.render(
                self._model.model,
                session.face,
                self._region,
                session.state,
                self._serial,
                preview=self._dragging is not None,
            )
        )

    @Slot(object)
    def _on_rendered(self, view: tasks.RenderView) -> None:
        """Show a render, unless it is for another face or older than the one shown."""
        if view.face is not self._session.face or view.serial < self._shown_serial:
            return
        self._shown_serial = view.serial
        self.canvas.set_after_patch(view.patch, view.box)
        self.face_panel.edited.set_image(view.edited_face)
        self.render_info.setText(f"Rendered in {view.seconds * 1000:.0f} ms")
        if view.seen is not None:
            self.face_panel.set_seen("The model sees:\n" + tasks.describe_seen(view.seen))
        if view.state == self._session.state and not view.preview:
            self.rendered.emit()

    @Slot(str)
    def _on_render_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Could not render the edit: {message}", 10000)

    @Slot()
    def toggle_before_after(self) -> None:
        """Flip between the original and the edited picture."""
        mode = "before" if self.canvas.compare_mode() != "before" else "after"
        self.canvas.set_compare_mode(mode)

    @Slot(str)
    def _on_compare_mode_changed(self, mode: str) -> None:
        action = self.compare_actions.get(mode)
        if action is not None:
            action.setChecked(True)

    @Slot(float)
    def _on_zoom_changed(self, zoom: float) -> None:
        self.render_info.setToolTip(f"Zoom {zoom * 100:.0f}%")

    # --- view -------------------------------------------------------------------------------

    @Slot(bool)
    def set_actual_size(self, actual: bool) -> None:
        """Show the picture at actual size (True) or fitted to the window (False)."""
        self.canvas.set_actual_size(actual)
        (self.actual_size_action if actual else self.fit_action).setChecked(True)
        self._settings.set(VIEW_ACTUAL_SIZE, actual)

    @Slot()
    def preferences_dialog(self) -> None:
        """Edit > Preferences; a changed device reloads the model."""
        devices = self._model.devices if self._model is not None else ("cpu",)
        before = self._settings.get(DEVICE)
        dialog = PreferencesDialog(self._settings, devices, self)
        if dialog.exec() and self._settings.get(DEVICE) != before and self._model is not None:
            path = self._settings.get(LAST_MODEL)
            self.load_model(Path(path) if path else None)

    @Slot()
    def show_about(self) -> None:
        """The About box: versions, the model and its quality figures."""
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        versions = {"NFE": __version__, "Qt": qVersion(), "PySide6": pyside_version}
        model_html = "<p>No model is loaded.</p>"
        if self._model is not None:
            versions.update(self._model.versions)
            info = self._model.info
            model_html = (
                f"<p><b>Model:</b> {info.name} — {info.description}<br>"
                f"{info.resolution} px, {len(info.attributes)} attributes, on {info.device}<br>"
                f"<small>{info.path}</small></p>{quality_html(info.report)}"
            )
        version_text = ", ".join(f"{k} {v}" for k, v in versions.items())
        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"<h3>{APP_TITLE} {__version__}</h3>"
            "<p>Edit anime faces with StyleGAN2 and attribute sliders, offline, on your own "
            f"machine.</p><p><small>{version_text}</small></p>{model_html}",
        )

    # --- saving -------------------------------------------------------------------------------

    @Slot()
    def save(self) -> Worker | None:
        """Save the project to its file, or ask where (Save As) the first time."""
        if self._project_path is None:
            return self.save_project_dialog()
        return self.save_project(self._project_path)

    def save_project_dialog(self) -> Worker | None:
        suggested = str(Path(self._start_folder()) / f"{self._stem()}{PROJECT_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save Project", suggested, PROJECT_FILTER)
        if not path:
            return None
        target = Path(path)
        if target.suffix.lower() != PROJECT_SUFFIX:
            target = target.with_name(target.name + PROJECT_SUFFIX)
        return self.save_project(target)

    def _stem(self) -> str:
        picture = self._session.picture
        if picture is not None and picture.path is not None:
            return picture.path.stem
        face = self._session.face
        return f"seed_{face.seed}" if face is not None and face.seed is not None else "untitled"

    @Slot()
    def save_as_dialog(self) -> Worker | None:
        """Ask where to save: a picture format writes the edited picture, .nfe the project."""
        filters = save_filters()
        names = [PROJECT_FILTER, *filters]
        default_ext = "." + self._settings.get(EXPORT_FORMAT)
        chosen_filter = next((f for f, ext in filters.items() if ext == default_ext), names[1])
        suggested = str(Path(self._start_folder()) / f"{self._stem()}_edited{default_ext}")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save As", suggested, ";;".join(names), chosen_filter
        )
        if not path:
            return None
        target = Path(path)
        if chosen == PROJECT_FILTER or target.suffix.lower() == PROJECT_SUFFIX:
            if target.suffix.lower() != PROJECT_SUFFIX:
                target = target.with_name(target.name + PROJECT_SUFFIX)
            return self.save_project(target)
        if not target.suffix:
            target = target.with_suffix(filters.get(chosen, ".png"))
        return self.save_to(target)

    @Slot()
    def save_face_dialog(self) -> Worker | None:
        """Ask where to save the edited face alone."""
        filters = save_filters()
        suggested = str(Path(self._start_folder()) / f"{self._stem()}_face.png")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save Face As", suggested, ";;".join(filters), next(iter(filters))
        )
        if not path:
            return None
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(filters.get(chosen, ".png"))
        return self.save_to(target, face_only=True)

    def save_to(self, path: str | Path, *, face_only: bool = False) -> Worker | None:
        """Save the edited picture (or face) to ``path`` in a worker; the picture alone when
        there is no face yet. Errors are shown; nothing else changes."""
        path = Path(path)
        session = self._session
        quality = self._settings.get(EXPORT_QUALITY)
        if session.face is not None and self._model is not None:
            task = tasks.export_picture(
                self._model.model,
                session.picture,
                session.face,
                session.state,
                path,
                face_only=face_only,
                quality=quality,
            )
        elif session.picture is not None and not face_only:
            from nfe_core.imageio import save_picture

            task = plain_task(save_picture, session.picture, path, quality=quality)
        else:
            return None
        worker = Worker(task, name=f"save {path.name}")
        worker.succeeded.connect(lambda _: self._on_saved(path))
        worker.failed.connect(lambda message: self._on_save_failed(path, message))
        self.statusBar().showMessage(f"Saving {path.name}…")
        self._workers.start(worker)
        return worker

    def save_project(self, path: Path) -> Worker | None:
        """Save the session as a ``.nfe`` project in a worker; the window is clean after."""
        session = self._session
        if session.picture is None and session.face is None:
            return None
        model = self._model.info.record() if self._model is not None else {}
        if session.face is not None:
            model = dict(session.face.model)
        snapshot = Session()
        snapshot.picture, snapshot.box, snapshot.face = session.picture, session.box, session.face
        snapshot.state = session.state
        worker = Worker(tasks.save_project(path, snapshot, model), name=f"save {path.name}")
        index = self.undo_stack.index()
        worker.succeeded.connect(lambda _: self._on_project_saved(path, index))
        worker.failed.connect(lambda message: self._on_save_failed(path, message))
        self.statusBar().showMessage(f"Saving {path.name}…")
        self._workers.start(worker)
        return worker

    def _on_project_saved(self, path: Path, index: int) -> None:
        self._project_path = path
        if self.undo_stack.index() == index:
            self.undo_stack.setClean()
        self._face_unsaved = False
        add_recent_file(self._settings, str(path.resolve()))
        self._on_saved(path)
        self._update_title()
        if self._close_after_save:
            self._close_after_save = False
            self.close()

    def _on_saved(self, path: Path) -> None:
        """Confirm a save in the status bar."""
        self._remember_folder(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def _on_save_failed(self, path: Path, message: str) -> None:
        """Say why the file could not be saved."""
        self._close_after_save = False
        self.statusBar().clearMessage()
        QMessageBox.warning(
            self, "Could not save", f"“{path.name}” could not be saved.\n\n{message}"
        )

    # --- batch export -------------------------------------------------------------------------

    @Slot()
    def batch_export_dialog(self) -> None:
        """File > Batch Export: choose pictures and options, then run with a progress dialog."""
        from nfe_desktop.batch_dialog import BatchDialog

        if self._model is None:
            return
        current = [str(e) for e in self._session.state.edits]
        dialog = BatchDialog(
            self,
            current_edits=current,
            current_preserve=sorted(self._session.state.keep),
            settings=self._settings,
            format=self._settings.get(EXPORT_FORMAT),
            pattern=self._settings.get(EXPORT_PATTERN),
        )
        if dialog.exec():
            self.run_batch(dialog.request())

    def run_batch(self, request: Any) -> Worker | None:
        """Run a :class:`~nfe_desktop.batch_dialog.BatchRequest` in a worker with a progress
        dialog that can cancel it; a summary lists what failed."""
        if self._model is None:
            return None
        try:
            edits = tasks.batch_edits(request.edits, request.preserve, request.preset)
        except ValueError as error:
            QMessageBox.warning(self, "Batch export", f"The edits cannot be used.\n\n{error}")
            return None
        task = tasks.export_batch(
            self._model.model,
            tuple(request.inputs),
            edits,
            request.out_dir,
            fmt=request.format,
            pattern=request.pattern,
            steps=self._settings.get(INVERSION_STEPS),
            quality=self._settings.get(EXPORT_QUALITY),
        )
        worker = Worker(task, name="batch export")
        progress = QProgressDialog("Editing the pictures…", "Cancel", 0, 0, self)
        progress.setWindowTitle("Batch Export")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.canceled.connect(worker.cancel)
        self.batch_progress = progress
        started = time.perf_counter()

        def on_progress(done: int, total: int) -> None:
            progress.setMaximum(total)
            progress.setValue(done)
            progress.setLabelText(f"Edited {done} of {total} pictures…")

        worker.progress.connect(on_progress)
        worker.succeeded.connect(lambda summary: self._on_batch_done(request, summary))
        worker.failed.connect(
            lambda message: QMessageBox.warning(
                self, "Batch export", f"The batch could not run.\n\n{message}"
            )
        )
        worker.cancelled.connect(
            lambda: self.statusBar().showMessage("Batch export cancelled", 8000)
        )
        worker.finished.connect(progress.reset)
        worker.finished.connect(lambda: self._forget_batch(worker, started))
        self._batch_worker = worker
        self._settings.set(EXPORT_FORMAT, request.format)
        self._settings.set(EXPORT_PATTERN, request.pattern)
        self._workers.start(worker)
        progress.show()
        return worker

    def _forget_batch(self, worker: Worker, started: float) -> None:
        if worker is self._batch_worker:
            self._batch_worker = None
            log.info("batch export ended after %.1f s", time.perf_counter() - started)

    def _on_batch_done(self, request: Any, summary: BatchSummary) -> None:
        from nfe_desktop.batch_dialog import BatchResultDialog

        self.statusBar().showMessage(
            f"Batch export: {len(summary.done)} written, {len(summary.failed)} failed", 10000
        )
        self.batch_result = BatchResultDialog(
            [written for _, written in summary.done],
            [(source, reason) for source, reason in summary.failed],
            summary.cancelled,
            request.out_dir,
            self,
        )
        self.batch_result.open()

    # --- drag and drop ------------------------------------------------------------------------

    @staticmethod
    def _dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
        """The one local picture or project file being dragged, or None."""
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        urls = [url for url in mime.urls() if url.isLocalFile()]
        if len(urls) != 1:
            return None
        path = Path(urls[0].toLocalFile())
        suffix = path.suffix.lower()
        return path if suffix in READ_SUFFIXES or suffix == PROJECT_SUFFIX else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept one picture or project file dragged onto the window."""
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the file dropped onto the window."""
        path = self._dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # --- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask before discarding unsaved work; remember the layout; cancel and join workers."""
        if self.is_modified():
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                "Save the changes to this work as a project before closing?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                worker = self.save()
                event.ignore()
                if worker is not None:
                    self._close_after_save = True
                return
        self._settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        self._settings.set(WINDOW_STATE, bytes(self.saveState().data()))
        self._settings.sync()
        if self._workers.running():
            self.statusBar().showMessage("Finishing…")
        self._closed = True
        self._workers.shutdown()
        super().closeEvent(event)

    def discard_changes(self) -> None:
        """Mark the work as saved (for tests and the self-test, which close without asking)."""
        self._face_unsaved = False
        self.undo_stack.setClean()
        self._update_title()
