"""File > Batch Export…: the options dialog, and the summary shown when a batch is done.

:class:`BatchDialog` only collects options - the pictures and folders to edit, the edits
(the window's current edits or a preset file), the output folder, format and naming pattern -
and :meth:`BatchDialog.request` hands them over as a frozen :class:`BatchRequest` of plain
values. Running the batch is the window's business (through a worker calling
``nfe_core.batch.run_batch``, which imports torch and so is never imported here); the worker
is also the final judge of the pattern, this dialog only previews it.

:class:`BatchResultDialog` shows what a finished batch did: how many pictures were written,
which failed and why, whether it was cancelled, and a button that opens the output folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDir, QMimeData, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from nfe_core.edits import EditError, parse_edits
from nfe_core.imageio import READ_SUFFIXES
from nfe_core.naming import DEFAULT_PATTERN, BatchError, output_name
from nfe_core.presets import PresetError, load_preset
from nfe_desktop.settings import LAST_FOLDER, Settings

__all__ = [
    "DEFAULT_PATTERN",
    "FORMATS",
    "BatchDialog",
    "BatchRequest",
    "BatchResultDialog",
    "example_name",
]

FORMATS: tuple[tuple[str, str], ...] = (("PNG", "png"), ("JPEG", "jpg"), ("WebP", "webp"))
"""The format combo's entries: ``(label, format value for the batch)``."""

PATTERN_HELP = (
    "How each result is named. Fields:\n"
    "  {stem}   the picture's name without its extension (face)\n"
    "  {name}   the picture's name with its extension (face.png)\n"
    "  {ext}    the output format's extension (png)\n"
    "  {index}  the picture's place in the batch, from 0 ({index:04d} gives 0007)\n"
    "A name that is taken gets _1, _2, … before its extension: nothing is overwritten."
)

ERROR_COLOR = "#c62828"
WARNING_COLOR = "#a05a00"
_MAX_SCAN = 2000


@dataclass(frozen=True)
class BatchRequest:
    """What the user asked for, as plain values for the window's batch worker.

    Attributes:
        inputs: pictures and folders (searched recursively), in the order added.
        edits: the edits in the ``--set`` grammar (``hair_color=blue``), in order.
        preserve: attributes every edit keeps (``--preserve``), except each edit's own.
        preset: the preset file the edits came from, or None for the current edits.
        out_dir: the output folder (it may not exist yet; the batch creates it).
        format: ``png``, ``jpg`` or ``webp``.
        pattern: the naming pattern, e.g. ``{stem}_edited.{ext}``.
        find_faces: look for the face in each picture (else its largest centred square).
    """

    inputs: tuple[Path, ...]
    edits: tuple[str, ...]
    preserve: tuple[str, ...]
    preset: Path | None
    out_dir: Path
    format: str
    pattern: str
    find_faces: bool = True


def example_name(pattern: str, source: Path, ext: str, index: int = 0) -> str:
    """The file name ``pattern`` gives ``source``, by the batch's own rule
    (:func:`nfe_core.naming.output_name`).

    Raises:
        ValueError: the pattern is empty or cannot give a plain ``.ext`` file name; the
            message says why.
    """
    if not pattern.strip():
        raise ValueError("enter a naming pattern, e.g. {stem}_edited.{ext}")
    try:
        return output_name(pattern, source, ext, index)
    except BatchError as exc:
        raise ValueError(str(exc).replace("--pattern ", "the pattern ", 1)) from None


def _same(a: Path, b: Path) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders a drag carries."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class InputList(QListWidget):
    """The list of pictures and folders to edit; files and folders can be dropped on it."""

    pathsDropped = Signal(list)  # list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.pathsDropped.emit(paths)

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]


class BatchDialog(QDialog):
    """The options of a batch export; :meth:`request` returns them once they are valid.

    Args:
        parent: the window.
        current_edits: the window's edits in the ``--set`` grammar (empty: no edits, so the
            "Current edits" choice is disabled).
        current_preserve: the attributes the window keeps (its "keep" toggles).
        settings: where file dialogs start (the last folder used), and updated after adding.
        inputs: pictures or folders to start with (e.g. the open picture).
        out_dir: the output folder to start with.
        format: ``png``, ``jpg`` or ``webp``; ``pattern``: the naming pattern.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        current_edits: Sequence[str] = (),
        current_preserve: Sequence[str] = (),
        settings: Settings | None = None,
        inputs: Sequence[Path] = (),
        out_dir: Path | None = None,
        format: str = "png",
        pattern: str = DEFAULT_PATTERN,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch Export")
        self._settings = settings
        self._current_edits = tuple(current_edits)
        self._current_preserve = tuple(current_preserve)
        self._inputs: list[Path] = []
        self._preset_path: Path | None = None
        self._preset_sets: tuple[str, ...] = ()
        self._preset_preserve: tuple[str, ...] = ()

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_inputs())
        layout.addWidget(self._build_edits())
        layout.addWidget(self._build_output(out_dir, format, pattern))
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.problem_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.add_paths(list(inputs))
        if self._current_edits:
            self.current_radio.setChecked(True)
        else:
            self.preset_radio.setChecked(True)
        self._update()
        self.resize(560, self.sizeHint().height())

    # --- building ---------------------------------------------------------------------------

    def _build_inputs(self) -> QGroupBox:
        box = QGroupBox("Pictures")
        layout = QVBoxLayout(box)
        self.input_list = InputList()
        self.input_list.setToolTip("Pictures and folders to edit; drop files or folders here.")
        self.input_list.pathsDropped.connect(self.add_paths)
        self.input_list.itemSelectionChanged.connect(self._update_remove)
        layout.addWidget(self.input_list)
        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Add Files…")
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button = QPushButton("Add Folder…")
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.inputs_label = QLabel()
        for widget in (self.add_files_button, self.add_folder_button, self.remove_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.inputs_label)
        layout.addLayout(buttons)
        self.find_check = QCheckBox("Find the face in each picture")
        self.find_check.setChecked(True)
        self.find_check.setToolTip(
            "Edit the face the model finds in each picture; unchecked, or where it finds none,"
            " the largest centred square is edited."
        )
        layout.addWidget(self.find_check)
        return box

    def _build_edits(self) -> QGroupBox:
        box = QGroupBox("Edits")
        layout = QVBoxLayout(box)
        self.current_radio = QRadioButton("Current edits")
        self.current_label = QLabel(self._describe(self._current_edits, self._current_preserve))
        self.current_label.setWordWrap(True)
        self.current_label.setIndent(24)
        if not self._current_edits:
            self.current_radio.setEnabled(False)
            self.current_label.setText("No edits yet: move a slider in the window first.")
            self.current_label.setEnabled(False)
        self.preset_radio = QRadioButton("Preset file:")
        self.preset_edit = QLineEdit()
        self.preset_edit.setPlaceholderText("an edit preset (.json)")
        self.preset_edit.editingFinished.connect(self._preset_typed)
        self.preset_button = QPushButton("Choose…")
        self.preset_button.clicked.connect(self.choose_preset)
        self.preset_label = QLabel()
        self.preset_label.setWordWrap(True)
        self.preset_label.setIndent(24)
        self.preset_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        group = QButtonGroup(self)
        group.addButton(self.current_radio)
        group.addButton(self.preset_radio)
        self.current_radio.toggled.connect(self._update)
        row = QHBoxLayout()
        row.addWidget(self.preset_radio)
        row.addWidget(self.preset_edit, 1)
        row.addWidget(self.preset_button)
        layout.addWidget(self.current_radio)
        layout.addWidget(self.current_label)
        layout.addLayout(row)
        layout.addWidget(self.preset_label)
        return box

    def _build_output(self, out_dir: Path | None, fmt: str, pattern: str) -> QGroupBox:
        box = QGroupBox("Output")
        form = QFormLayout(box)
        self.out_edit = QLineEdit(str(out_dir) if out_dir is not None else "")
        self.out_edit.setPlaceholderText("the folder the edited pictures go to")
        self.out_edit.textChanged.connect(self._update)
        self.out_button = QPushButton("Choose…")
        self.out_button.clicked.connect(self.choose_out_dir)
        row = QHBoxLayout()
        row.addWidget(self.out_edit, 1)
        row.addWidget(self.out_button)
        form.addRow("Folder:", row)
        self.out_label = QLabel()
        self.out_label.setWordWrap(True)
        form.addRow("", self.out_label)
        self.format_combo = QComboBox()
        for label, value in FORMATS:
            self.format_combo.addItem(label, value)
        index = self.format_combo.findData({"jpeg": "jpg"}.get(fmt, fmt))
        self.format_combo.setCurrentIndex(max(index, 0))
        self.format_combo.currentIndexChanged.connect(self._update)
        form.addRow("Format:", self.format_combo)
        self.pattern_edit = QLineEdit(pattern)
        self.pattern_edit.setToolTip(PATTERN_HELP)
        self.pattern_edit.textChanged.connect(self._update)
        form.addRow("Names:", self.pattern_edit)
        self.example_label = QLabel()
        self.example_label.setToolTip(PATTERN_HELP)
        form.addRow("", self.example_label)
        return box

    # --- inputs -----------------------------------------------------------------------------

    def _start_folder(self) -> str:
        folder = self._settings.get(LAST_FOLDER) if self._settings is not None else ""
        return folder if folder and Path(folder).is_dir() else QDir.homePath()

    def _remember(self, folder: Path) -> None:
        if self._settings is not None and folder.is_dir():
            self._settings.set(LAST_FOLDER, str(folder.resolve()))

    @Slot()
    def choose_files(self) -> None:
        """Ask for pictures and add them."""
        patterns = " ".join(f"*{suffix}" for suffix in READ_SUFFIXES)
        names, _ = QFileDialog.getOpenFileNames(
            self, "Add Pictures", self._start_folder(), f"Pictures ({patterns});;All files (*)"
        )
        if names:
            self.add_paths([Path(name) for name in names])
            self._remember(Path(names[0]).parent)

    @Slot()
    def choose_folder(self) -> None:
        """Ask for a folder of pictures and add it."""
        folder = QFileDialog.getExistingDirectory(self, "Add Folder", self._start_folder())
        if folder:
            self.add_paths([Path(folder)])
            self._remember(Path(folder))

    @Slot(list)
    def add_paths(self, paths: Sequence[Path]) -> None:
        """Add pictures or folders to the list, each once."""
        for path in paths:
            path = Path(path)
            if any(_same(path, known) for known in self._inputs):
                continue
            self._inputs.append(path)
            item = QListWidgetItem(f"{path.name or path}{os.sep if path.is_dir() else ''}")
            item.setToolTip(str(path))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.input_list.addItem(item)
        self._update()

    @Slot()
    def remove_selected(self) -> None:
        """Remove the selected entries from the list."""
        rows = sorted(
            (self.input_list.row(i) for i in self.input_list.selectedItems()), reverse=True
        )
        for row in rows:
            self.input_list.takeItem(row)
            del self._inputs[row]
        self._update()

    def inputs(self) -> tuple[Path, ...]:
        """The pictures and folders in the list, in order."""
        return tuple(self._inputs)

    def _first_picture(self) -> Path | None:
        """The first picture of the first input, for the example name."""
        for path in self._inputs:
            if not path.is_dir():
                return path
            try:
                with os.scandir(path) as entries:
                    names = sorted(
                        entry.name
                        for _, entry in zip(range(_MAX_SCAN), entries, strict=False)
                        if not entry.name.startswith(".")
                        and os.path.splitext(entry.name)[1].lower() in READ_SUFFIXES
                        and entry.is_file()
                    )
            except OSError:
                continue
            if names:
                return path / names[0]
        return None

    # --- edits ------------------------------------------------------------------------------

    @staticmethod
    def _describe(sets: Sequence[str], preserve: Sequence[str]) -> str:
        try:
            return "; ".join(edit.describe() for edit in parse_edits(sets, preserve))
        except EditError:
            return ", ".join(sets)

    @Slot()
    def choose_preset(self) -> None:
        """Ask for a preset file and load it."""
        start = str(self._preset_path.parent) if self._preset_path else self._start_folder()
        name, _ = QFileDialog.getOpenFileName(
            self, "Choose Edit Preset", start, "Edit presets (*.json);;All files (*)"
        )
        if name:
            self.set_preset(Path(name))

    @Slot()
    def _preset_typed(self) -> None:
        text = self.preset_edit.text().strip()
        if text and (self._preset_path is None or Path(text) != self._preset_path):
            self.set_preset(Path(text))

    def set_preset(self, path: Path) -> None:
        """Load the preset in ``path``: show its edits, or its error in red."""
        self._preset_path = path
        self.preset_edit.setText(str(path))
        self.preset_radio.setChecked(True)
        try:
            preset = load_preset(path)
        except PresetError as exc:
            self._preset_sets, self._preset_preserve = (), ()
            self.preset_label.setStyleSheet(f"color: {ERROR_COLOR};")
            self.preset_label.setText(exc.reason)
        else:
            self._preset_sets, self._preset_preserve = preset.sets, preset.preserve
            self.preset_label.setStyleSheet("")
            text = f"“{preset.name}”: {self._describe(preset.sets, preset.preserve)}"
            if preset.model is not None:
                text += f"  (made for {preset.describe_model()})"
            self.preset_label.setText(text)
        self._update()

    def _edits(self) -> tuple[tuple[str, ...], tuple[str, ...], Path | None]:
        if self.current_radio.isChecked():
            return self._current_edits, self._current_preserve, None
        return self._preset_sets, self._preset_preserve, self._preset_path

    # --- output -----------------------------------------------------------------------------

    @Slot()
    def choose_out_dir(self) -> None:
        """Ask for the output folder."""
        start = self.out_edit.text().strip() or self._start_folder()
        folder = QFileDialog.getExistingDirectory(self, "Output Folder", start)
        if folder:
            self.out_edit.setText(folder)

    def out_dir(self) -> Path | None:
        """The output folder as typed (``~`` expanded), or None when empty."""
        text = self.out_edit.text().strip()
        return Path(text).expanduser() if text else None

    def format(self) -> str:
        """``png``, ``jpg`` or ``webp``."""
        return str(self.format_combo.currentData())

    def _out_dir_problem(self) -> tuple[str | None, str]:
        """``(problem, note)``: why the folder cannot be used (or None), and a remark."""
        folder = self.out_dir()
        if folder is None:
            return "Choose an output folder.", ""
        if not folder.is_absolute():
            return "Enter the output folder's full path.", ""
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is a file, not a folder.", ""
            if not os.access(folder, os.W_OK | os.X_OK):
                return f"Cannot write to {folder} (permission denied).", ""
            return None, ""
        parent = folder.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"Cannot create {folder}: {parent} is not a folder.", ""
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"Cannot create {folder}: {parent} is not writable.", ""
        return None, "The folder will be created."

    def _input_folders(self) -> list[Path]:
        return [path if path.is_dir() else path.parent for path in self._inputs]

    # --- state ------------------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why Export is disabled, or None when the options are complete."""
        if not self._inputs:
            return "Add pictures or folders to edit."
        sets, _, _ = self._edits()
        if not sets:
            if self.current_radio.isChecked() or self._preset_path is None:
                return "Choose the edits: the current ones or a preset file."
            return "The preset cannot be used (see above)."
        out_problem, _ = self._out_dir_problem()
        if out_problem is not None:
            return out_problem
        try:
            example_name(self.pattern_edit.text(), Path("picture.png"), self.format())
        except ValueError as exc:
            return f"Names: {exc}."
        return None

    def is_valid(self) -> bool:
        """Whether :meth:`request` can be called (Export is enabled)."""
        return self.problem() is None

    @Slot()
    def _update(self) -> None:
        count = len(self._inputs)
        folders = sum(1 for p in self._inputs if p.is_dir())
        files = count - folders
        parts = [f"{files} file{'s' * (files != 1)}"] if files else []
        parts += [f"{folders} folder{'s' * (folders != 1)}"] if folders else []
        self.inputs_label.setText(", ".join(parts) or "nothing added yet")
        self._update_remove()

        out_problem, note = self._out_dir_problem()
        folder = self.out_dir()
        if out_problem is None and folder is not None:
            if any(_same(folder, f) for f in self._input_folders()):
                self.out_label.setStyleSheet(f"color: {WARNING_COLOR};")
                self.out_label.setText(
                    "This folder holds input pictures: the results go beside them under new "
                    "names (inputs are never overwritten; taken names get _1, _2, …)."
                )
            else:
                self.out_label.setStyleSheet("")
                self.out_label.setText(note)
        elif out_problem is not None and folder is not None:
            self.out_label.setStyleSheet(f"color: {ERROR_COLOR};")
            self.out_label.setText(out_problem)
        else:
            self.out_label.setStyleSheet("")
            self.out_label.setText("")
        self.out_label.setVisible(bool(self.out_label.text()))

        source = self._first_picture() or Path("picture.png")
        try:
            name = example_name(self.pattern_edit.text(), source, self.format())
        except ValueError as exc:
            self.example_label.setStyleSheet(f"color: {ERROR_COLOR};")
            self.example_label.setText(str(exc)[:1].upper() + str(exc)[1:])
        else:
            self.example_label.setStyleSheet("")
            self.example_label.setText(f"Example: {source.name} → {name}")

        problem = self.problem()
        self.export_button.setEnabled(problem is None)
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(problem is not None)

    @Slot()
    def _update_remove(self) -> None:
        self.remove_button.setEnabled(bool(self.input_list.selectedItems()))

    def request(self) -> BatchRequest:
        """The options as a :class:`BatchRequest`.

        Raises:
            ValueError: the options are not complete (:meth:`problem` says why).
        """
        problem = self.problem()
        if problem is not None:
            raise ValueError(problem)
        sets, preserve, preset = self._edits()
        folder = self.out_dir()
        assert folder is not None
        return BatchRequest(
            inputs=self.inputs(),
            edits=tuple(sets),
            preserve=tuple(preserve),
            preset=preset,
            out_dir=folder,
            format=self.format(),
            pattern=self.pattern_edit.text(),
            find_faces=self.find_check.isChecked(),
        )


UNFOUND_NAMED = 5
"""Pictures without a face found named in the batch result; the rest counted."""


class BatchResultDialog(QDialog):
    """What a finished (or cancelled) batch did, with a button to open the output folder.

    Args:
        written: the files written.
        failed: ``(input, reason)`` for each picture that could not be edited or saved.
        cancelled: the batch was stopped before the end.
        out_dir: the output folder.
        unfound: the pictures written where no face was found (their centred squares edited).
    """

    def __init__(
        self,
        written: Sequence[Path],
        failed: Sequence[tuple[Path, str]],
        cancelled: bool,
        out_dir: Path,
        parent: QWidget | None = None,
        unfound: Sequence[Path] = (),
    ) -> None:
        super().__init__(parent)
        self.out_dir = Path(out_dir)
        self.setWindowTitle("Batch Export Cancelled" if cancelled else "Batch Export Finished")
        layout = QVBoxLayout(self)
        count = len(written)
        self.summary_label = QLabel(
            f"Wrote {count} picture{'s' * (count != 1)} to {self.out_dir}."
            if count
            else f"No picture was written to {self.out_dir}."
        )
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary_label)
        self.cancelled_label = QLabel(
            "The batch was cancelled: the remaining pictures were not edited."
        )
        self.cancelled_label.setStyleSheet(f"color: {WARNING_COLOR};")
        self.cancelled_label.setVisible(cancelled)
        layout.addWidget(self.cancelled_label)
        names = [Path(p).name for p in unfound]
        shown = ", ".join(names[:UNFOUND_NAMED])
        more = f" and {len(names) - UNFOUND_NAMED} more" if len(names) > UNFOUND_NAMED else ""
        self.unfound_label = QLabel(
            f"No face was found in {len(names)} picture{'s' * (len(names) != 1)} ({shown}{more}):"
            " the largest centred square was edited. Open one in the editor to place its face"
            " box by hand."
            if names
            else ""
        )
        self.unfound_label.setWordWrap(True)
        self.unfound_label.setStyleSheet(f"color: {WARNING_COLOR};")
        self.unfound_label.setVisible(bool(names))
        layout.addWidget(self.unfound_label)
        self.failed_label = QLabel(
            f"{len(failed)} picture{'s' * (len(failed) != 1)} failed:" if failed else ""
        )
        self.failed_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.failed_label.setVisible(bool(failed))
        layout.addWidget(self.failed_label)
        self.failed_list = QListWidget()
        self.failed_list.setWordWrap(True)
        for path, reason in failed:
            item = QListWidgetItem(f"{Path(path).name} — {reason}")
            item.setToolTip(f"{path}\n{reason}")
            self.failed_list.addItem(item)
        self.failed_list.setVisible(bool(failed))
        layout.addWidget(self.failed_list, 1)
        if not failed:
            layout.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.show_folder_button = self.buttons.addButton(
            "Show Folder", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.show_folder_button.setEnabled(self.out_dir.is_dir())
        self.show_folder_button.clicked.connect(self.show_folder)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(520, 360 if failed else self.sizeHint().height())

    def failures(self) -> list[str]:
        """The failure lines as shown: ``name — reason``."""
        return [self.failed_list.item(i).text() for i in range(self.failed_list.count())]

    @Slot()
    def show_folder(self) -> bool:
        """Open the output folder in the system's file manager; whether that worked."""
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.out_dir)))
