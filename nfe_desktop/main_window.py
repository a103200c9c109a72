"""The main window: it wires the canvas, the docks, the undo stack and the workers together.

The window owns a Qt-free :class:`~nfe_core.session.Session` (picture, face box, face,
slider state) and a ``QUndoStack`` of :class:`~nfe_desktop.commands.EditCommand`. Every bit
of model work - loading, generating, inverting, rendering, saving, batch export - runs in a
worker (:mod:`nfe_desktop.tasks`); renders go through a latest-only queue, so a slider drag
never piles up work, and a result for a face that is no longer shown is dropped.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QProgressDialog, QWidget

from nfe_core.facebox import FaceBox, default_box
from nfe_core.session import EditState, Face, Session
from nfe_desktop import tasks
from nfe_desktop.about import APP_TITLE, show_about
from nfe_desktop.actions import create_actions, create_menus
from nfe_desktop.attribute_dock import AttributeDock
from nfe_desktop.batch_export import BatchExport
from nfe_desktop.canvas import Canvas
from nfe_desktop.commands import EditCommand
from nfe_desktop.face_panel import FacePanel
from nfe_desktop.file_dialogs import (
    ask_face_path,
    ask_model_folder,
    ask_open_path,
    ask_project_path,
    ask_save_as_path,
    describe_picture,
    dropped_file,
    is_project,
    remember_folder,
    start_folder,
)
from nfe_desktop.generate_panel import MAX_SEED
from nfe_desktop.history_panel import HistoryPanel
from nfe_desktop.preferences_dialog import PreferencesDialog
from nfe_desktop.settings import (
    DEVICE,
    EXPORT_FORMAT,
    EXPORT_QUALITY,
    INVERSION_STEPS,
    LAST_MODEL,
    TRUNCATION,
    TUNING_STEPS,
    VIEW_ACTUAL_SIZE,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    Settings,
    add_recent_file,
    recent_files,
)
from nfe_desktop.workers import LatestOnly, Worker, WorkerGroup, plain_task

if TYPE_CHECKING:
    from nfe_core.imageio import Picture
    from nfe_desktop.batch_dialog import BatchResultDialog

DEFAULT_SIZE = (1280, 800)


class MainWindow(QMainWindow):
    """The editor's window; it only wires panels, canvas, undo stack and workers together.

    ``model_path`` is the bundle to load at start (None: the last one used, or the default
    model); ``load_model=False`` starts without one (tests of the picture viewer).
    """

    model_loaded = Signal()  # a model is loaded and its sliders shown
    face_changed = Signal()  # a new face was inverted or generated (or a project opened)
    rendered = Signal()  # a render for the current face and state is on the canvas
    face_found = Signal(object)  # the box a look for the face put it in, or None: none found

    # made by nfe_desktop.actions: File, Edit, View, Face, Model and Help
    open_action: QAction
    recent_menu: QMenu
    save_action: QAction
    save_as_action: QAction
    save_face_action: QAction
    batch_action: QAction
    quit_action: QAction
    undo_action: QAction
    redo_action: QAction
    reset_action: QAction
    preferences_action: QAction
    fit_action: QAction
    actual_size_action: QAction
    zoom_in_action: QAction
    zoom_out_action: QAction
    compare_actions: dict[str, QAction]  # by canvas compare mode: after, before, split
    toggle_before_action: QAction
    box_action: QAction
    invert_action: QAction
    find_face_action: QAction
    cancel_action: QAction
    generate_action: QAction
    random_action: QAction
    open_model_action: QAction
    default_model_action: QAction
    about_action: QAction

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
        self._find_worker: Worker | None = None
        self._found_faces: tuple[Picture, list[FaceBox]] | None = None  # and in which picture
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

        create_actions(self)
        create_menus(self)
        self._batch = BatchExport(self, self._workers, self._settings)
        self._connect_panels()
        self._restore_settings()
        self._update_actions()
        self._update_title()
        if load_model:
            path = model_path if model_path is not None else self._settings.get(LAST_MODEL)
            QTimer.singleShot(0, lambda: self.load_model(Path(path) if path else None))

    # --- construction ---------------------------------------------------------------------

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
        self.find_face_action.setEnabled(
            session.picture is not None
            and model is not None
            and model.info.can_find_faces
            and self._invert_worker is None
        )
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
        else:
            self.find_face(asked=False)  # a picture opened while the model loaded
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
        folder = ask_model_folder(self, start_folder(self._settings))
        if folder is not None:
            self.load_model(folder)

    # --- opening --------------------------------------------------------------------------

    @Slot()
    def open_file_dialog(self) -> None:
        """Ask for a picture or project file and open it."""
        path = ask_open_path(self, start_folder(self._settings))
        if path is not None:
            self.open_path(path)

    def fill_recent_menu(self) -> None:
        """List the recent files in File > Open Recent."""
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
        if is_project(path):
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
        self._found_faces = None  # (nor is the last picture kept alive by them)
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
            remember_folder(self._settings, picture.path)
            add_recent_file(self._settings, str(picture.path.resolve()))
        self.statusBar().showMessage("Put the face in the square, then press Invert.", 8000)
        self._update_actions()
        self._update_title()
        self.find_face(asked=False)

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
        self._show_seed(face)
        remember_folder(self._settings, opened.path)
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

    def find_face(self, asked: bool = True) -> Worker | None:
        """Look for the faces in the open picture in a worker and put the face box around the
        surest. Asked again (Face > Find Face) while the box is around one of them, the box
        goes to the next, without looking again (a picture of two characters). Unless
        ``asked``, only while the box is still where the picture opened with it (the largest
        centred square) and no face is inverted: a box the user drew stays, and one they
        draw while the model looks wins. Returns the worker started, or None."""
        picture = self._session.picture
        model = self._model
        if picture is None or model is None or not model.info.can_find_faces:
            return None
        if not asked and (
            self._session.face is not None or self._session.box != default_box(*picture.size)
        ):
            return None
        if self._invert_worker is not None:
            return None
        known = self._found_faces
        if asked and known is not None and known[0] is picture and self._session.box in known[1]:
            boxes = known[1]
            self._show_found(boxes, (boxes.index(self._session.box) + 1) % len(boxes))
            return None
        self._cancel_find()
        worker = Worker(tasks.find_faces(model.model, picture), name="find faces")
        worker.succeeded.connect(lambda boxes: self._on_faces_found(worker, picture, boxes))
        worker.failed.connect(lambda message: self._on_find_failed(worker, message))
        worker.finished.connect(lambda: self._on_find_finished(worker))
        self._find_worker = worker
        self.statusBar().showMessage("Looking for the face…")
        self._workers.start(worker)
        self._update_actions()
        return worker

    def _cancel_find(self) -> None:
        if self._find_worker is not None:
            self._find_worker.cancel()
            self._find_worker = None

    def _on_faces_found(self, worker: Worker, picture: Picture, boxes: list[FaceBox]) -> None:
        if worker is not self._find_worker or self._session.picture is not picture:
            return
        self._found_faces = (picture, boxes)
        if not boxes:
            self.statusBar().showMessage(
                "No face found: put the face in the square, then press Invert.", 8000
            )
            self.face_found.emit(None)
            return
        self._show_found(boxes, 0)

    def _show_found(self, boxes: list[FaceBox], index: int) -> None:
        """Put the face box around the ``index``-th of the faces found, and say so."""
        box = boxes[index]
        self._session.box = box
        self.canvas.set_face_box(box)
        which = f" ({index + 1} of {len(boxes)}: Find Face again for the next)"
        found = f"Found the face{which if len(boxes) > 1 else ''}"
        if self._session.face is not None and self._session.face.box != box:
            self.statusBar().showMessage(f"{found}: press Invert to edit it.", 8000)
        else:
            self.statusBar().showMessage(
                f"{found}: move the square if it is not right, then press Invert.", 8000
            )
        self.face_found.emit(box)

    def _on_find_failed(self, worker: Worker, message: str) -> None:
        if worker is self._find_worker:
            self.statusBar().showMessage(f"Could not look for the face: {message}", 8000)

    def _on_find_finished(self, worker: Worker) -> None:
        if worker is self._find_worker:
            self._find_worker = None
            self._update_actions()

    @Slot(object)
    def _on_box_drawn(self, box: FaceBox) -> None:
        self._cancel_find()  # the user's box wins
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
        self._cancel_find()  # the box inverted is the one shown now
        steps = self._settings.get(INVERSION_STEPS)
        tune_steps = self._settings.get(TUNING_STEPS)
        box = self.canvas.face_box() or self._session.box
        task = tasks.invert(self._model.model, self._session.picture, box, steps, tune_steps)
        worker = Worker(task, name="invert")
        worker.progress.connect(self.face_panel.set_progress)
        worker.succeeded.connect(lambda new: self._on_inverted(worker, new))
        worker.failed.connect(lambda message: self._on_invert_failed(worker, message))
        worker.cancelled.connect(lambda: self.statusBar().showMessage("Inversion cancelled", 5000))
        worker.finished.connect(lambda: self._on_invert_finished(worker))
        self._invert_worker = worker
        self.face_panel.set_inverting(True)
        tuned = f", then {tune_steps} tuning" if tune_steps else ""
        self.statusBar().showMessage(f"Inverting the face ({steps} steps{tuned})…")
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
        tuned = f", tuned {face.tune_steps}" if face.tuned is not None else ""
        self.statusBar().showMessage(
            f"Inverted in {face.seconds:.1f} s ({face.steps} steps{tuned}). "
            "Move the sliders to edit.",
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

    def generate_from_panel(self) -> None:
        """Show the face of the seed and truncation the Generate panel shows."""
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
        self._show_seed(new.face)
        self.canvas.set_after_patch(None, None)
        self._update_actions()
        self._update_title()
        self._request_render()
        self.face_changed.emit()

    def _show_seed(self, face: Face | None) -> None:
        """The Generate panel shows what made a generated face, however it came (the panel,
        the menu, a script, a project), so that Generate makes it again."""
        if face is None or face.kind != "generated" or face.seed is None:
            return
        if 0 <= face.seed <= MAX_SEED:
            self.face_panel.generate.set_seed(face.seed)
        if face.truncation is not None and 0.0 <= face.truncation <= 1.0:
            self.face_panel.generate.set_truncation(face.truncation)

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
            self.face_panel.set_seen(
                "The model sees in the edited face:\n" + tasks.describe_seen(view.seen)
            )
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
        show_about(self, self._model)

    # --- saving -------------------------------------------------------------------------------

    @Slot()
    def save(self) -> Worker | None:
        """Save the project to its file, or ask where (Save As) the first time."""
        if self._project_path is None:
            return self.save_project_dialog()
        return self.save_project(self._project_path)

    def save_project_dialog(self) -> Worker | None:
        """Ask where to save the project, and save it there."""
        target = ask_project_path(self, start_folder(self._settings), self._stem())
        return self.save_project(target) if target is not None else None

    def _stem(self) -> str:
        picture = self._session.picture
        if picture is not None and picture.path is not None:
            return picture.path.stem
        face = self._session.face
        return f"seed_{face.seed}" if face is not None and face.seed is not None else "untitled"

    @Slot()
    def save_as_dialog(self) -> Worker | None:
        """Ask where to save: a picture format writes the edited picture, .nfe the project."""
        default_ext = "." + self._settings.get(EXPORT_FORMAT)
        folder = start_folder(self._settings)
        target = ask_save_as_path(self, folder, self._stem(), default_ext)
        if target is None:
            return None
        return self.save_project(target) if is_project(target) else self.save_to(target)

    @Slot()
    def save_face_dialog(self) -> Worker | None:
        """Ask where to save the edited face alone."""
        target = ask_face_path(self, start_folder(self._settings), self._stem())
        return self.save_to(target, face_only=True) if target is not None else None

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
        remember_folder(self._settings, path)
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
        self._batch.ask(self._model, self._session.state)

    def run_batch(self, request: Any) -> Worker | None:
        """Run a :class:`~nfe_desktop.batch_dialog.BatchRequest` in a worker with a progress
        dialog that can cancel it; a summary lists what failed."""
        return self._batch.run(self._model, request)

    @property
    def batch_progress(self) -> QProgressDialog | None:
        """The progress dialog of the last batch export started, or None."""
        return self._batch.progress

    @property
    def batch_result(self) -> BatchResultDialog | None:
        """The summary of the last batch export, or None."""
        return self._batch.result

    # --- drag and drop ------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept one picture or project file dragged onto the window."""
        if dropped_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the file dropped onto the window."""
        path = dropped_file(event.mimeData())
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
