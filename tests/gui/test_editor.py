"""The editor as an artist uses it, with a tiny model: generate, drag, undo, open, invert,
save, reopen a project, batch export, switch models, preferences, close."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from nfe_core.bundle import load_bundle
from nfe_core.imageio import load_image
from nfe_core.service import EditorModel
from nfe_core.session import EditState
from nfe_desktop.batch_dialog import BatchRequest
from nfe_desktop.commands import EditCommand
from nfe_desktop.file_dialogs import PROJECT_FILTER, save_filters
from nfe_desktop.main_window import MainWindow
from nfe_desktop.preferences_dialog import PreferencesDialog
from nfe_desktop.settings import (
    EXPORT_QUALITY,
    INVERSION_STEPS,
    LAST_MODEL,
    TUNING_STEPS,
    Settings,
)
from nfe_desktop.tasks import describe_seen
from nfe_desktop.workers import LatestOnly, WorkerGroup
from tests.shown import qimage_array
from tests.tiny import save_editing_bundle

pytestmark = pytest.mark.gui

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_editing_bundle(tmp_path_factory.mktemp("model") / "tiny")


class Boxes:
    """Message boxes the window shows, recorded instead of blocking."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.answer = QMessageBox.StandardButton.Discard

    def warning(self, parent: object, title: str, text: str, *args: object) -> object:
        self.shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    def question(self, parent: object, title: str, text: str, *args: object) -> object:
        self.shown.append((title, text))
        return self.answer


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    recorded = Boxes()
    monkeypatch.setattr(QMessageBox, "warning", recorded.warning)
    monkeypatch.setattr(QMessageBox, "question", recorded.question)
    return recorded


def start_editor(qtbot: QtBot, settings: Settings, model: Path) -> MainWindow:
    settings.set(INVERSION_STEPS, 2)
    settings.set(TUNING_STEPS, 2)
    window = MainWindow(settings, model_path=model)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitUntil(lambda: window.model_info() is not None, timeout=WAIT_MS)
    return window


@pytest.fixture
def editor(
    qtbot: QtBot, settings: Settings, tiny_model: Path, boxes: Boxes
) -> Iterator[MainWindow]:
    window = start_editor(qtbot, settings, tiny_model)
    yield window
    window.discard_changes()
    window.close()


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until every worker (renders included) is done."""
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)


def generate_face(qtbot: QtBot, window: MainWindow, seed: int = 3) -> None:
    window.face_panel.generate.set_seed(seed)
    generate = next(
        b for b in window.face_panel.generate.findChildren(QPushButton) if b.text() == "Generate"
    )
    with qtbot.waitSignal(window.face_changed, timeout=WAIT_MS):
        qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    settle(qtbot, window)


def drag(window: MainWindow, attribute: str, *values: float) -> None:
    """Drag an attribute's slider through ``values`` (in spreads) and let go."""
    slider = window.attribute_dock.slider(attribute)
    slider.setSliderDown(True)
    for value in values:
        slider.setValue(round(value * 100))
    slider.setSliderDown(False)


def write_picture(path: Path, size: tuple[int, int] = (90, 60)) -> np.ndarray:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def open_and_invert(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    worker = window.open_path(path, ask=False)
    assert worker is not None
    qtbot.waitUntil(lambda: window.picture() is not None, timeout=WAIT_MS)
    assert window.invert_action.isEnabled()
    with qtbot.waitSignal(window.face_changed, timeout=WAIT_MS):
        qtbot.mouseClick(window.face_panel.invert_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)


# --- the model -------------------------------------------------------------------------------


def test_the_model_loads_in_a_worker_and_the_dock_shows_its_sliders(editor: MainWindow):
    assert editor.attribute_dock.spec_names() == ["hair_color", "glasses"]
    assert "tiny" in editor.model_label.text()
    assert not editor.attribute_dock.slider("glasses").isEnabled()  # no face yet
    assert editor.generate_action.isEnabled()
    assert not editor.invert_action.isEnabled()  # no picture yet


def test_a_broken_bundle_is_refused_in_words_and_the_model_stays(
    qtbot: QtBot, editor: MainWindow, boxes: Boxes, tmp_path: Path
):
    (tmp_path / "bundle.json").write_text("{not json", encoding="utf-8")
    worker = editor.load_model(tmp_path)
    assert worker is not None
    qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
    assert boxes.shown and boxes.shown[0][0] == "Could not load the model"
    assert "bundle.json" in boxes.shown[0][1]
    assert editor.model_info().name == "tiny"


def test_a_model_without_an_encoder_says_why_it_cannot_invert(
    qtbot: QtBot, settings: Settings, tmp_path: Path, boxes: Boxes
):
    window = start_editor(qtbot, settings, save_editing_bundle(tmp_path / "m", encoder=False))
    write_picture(tmp_path / "art.png")
    window.open_path(tmp_path / "art.png", ask=False)
    qtbot.waitUntil(lambda: window.picture() is not None, timeout=WAIT_MS)
    assert not window.invert_action.isEnabled()
    assert "nfe-train encoder" in window.face_panel.invert_button.toolTip()
    window.close()


# --- generate, drag, undo ----------------------------------------------------------------------


def test_one_slider_drag_is_one_history_entry_and_undo_redo_follow(
    qtbot: QtBot, editor: MainWindow
):
    generate_face(qtbot, editor)
    face = editor.session.face
    assert face is not None and face.kind == "generated"
    assert editor.history_panel.entries() == ["Unedited face"]
    assert editor.attribute_dock.slider("glasses").isEnabled()

    drag(editor, "glasses", 0.5, 1.0, 1.5)
    settle(qtbot, editor)
    assert editor.history_panel.entries() == ["Unedited face", "Glasses +1.5"]
    assert [str(e) for e in editor.session.state.edits] == ["glasses=+1.5"]
    edited = qimage_array(editor.canvas.after())
    assert not np.array_equal(edited, face.reconstruction)
    assert editor.isWindowModified()
    assert "ms" in editor.render_info.text()

    editor.undo_action.trigger()
    settle(qtbot, editor)
    assert editor.session.state.edits == ()
    assert np.array_equal(qimage_array(editor.canvas.after()), face.reconstruction)
    assert editor.attribute_dock.slider("glasses").value() == 0
    editor.redo_action.trigger()
    settle(qtbot, editor)
    assert [str(e) for e in editor.session.state.edits] == ["glasses=+1.5"]
    assert np.array_equal(qimage_array(editor.canvas.after()), edited)


def test_the_face_panel_says_what_the_classifier_sees_in_the_edited_face(
    qtbot: QtBot, editor: MainWindow, tiny_model: Path
):
    generate_face(qtbot, editor, seed=4)
    before = editor.face_panel.seen.text()
    drag(editor, "hair_color", 2.0, 3.0)
    settle(qtbot, editor)
    edited = qimage_array(editor.face_panel.edited.image())
    seen = EditorModel(load_bundle(tiny_model)).tags(edited)
    assert editor.face_panel.seen.text() == (
        "The model sees in the edited face:\n" + describe_seen(seen)
    )
    assert before.startswith("The model sees in the edited face:\n")
    assert len(editor.face_panel.seen.text().splitlines()) == 1 + len(seen)


def test_clicking_a_swatch_is_a_class_edit_and_history_entries_jump_back(
    qtbot: QtBot, editor: MainWindow
):
    generate_face(qtbot, editor, seed=5)
    qtbot.mouseClick(editor.attribute_dock.chips("hair_color")["pink"], Qt.MouseButton.LeftButton)
    drag(editor, "glasses", -1.0)
    qtbot.mouseClick(editor.attribute_dock.keep_button("glasses"), Qt.MouseButton.LeftButton)
    settle(qtbot, editor)
    assert editor.history_panel.entries() == [
        "Unedited face",
        "Hair colour: pink",
        "Glasses -1",
        "Keep glasses",
    ]
    state = editor.session.state
    assert state.keep == {"glasses"}
    assert [str(e) for e in state.resolved()] == ["hair_color=pink", "glasses=-1"]
    assert state.resolved()[0].preserve == ("glasses",)

    view = editor.history_panel.view
    view.setCurrentIndex(view.model().index(1, 0))  # a click on "Hair colour: pink"
    settle(qtbot, editor)
    assert [str(e) for e in editor.session.state.edits] == ["hair_color=pink"]
    assert editor.undo_stack.index() == 1

    editor.reset_action.trigger()
    settle(qtbot, editor)
    assert editor.session.state.edits == ()
    assert editor.history_panel.entries()[-1] == "Reset hair colour"


def test_a_drag_back_to_the_start_leaves_no_history_entry():
    state = EditState()
    applied: list[EditState] = []
    stack = QUndoStack()
    one = state.with_strength("glasses", 1.0)
    stack.push(EditCommand(applied.append, state, one, drag="glasses"))
    stack.push(EditCommand(applied.append, one, state, drag="glasses"))
    assert stack.count() == 0 and applied[-1] == state
    # a click right after a finished drag is its own entry
    stack.push(EditCommand(applied.append, state, one, drag="glasses"))
    stack.push(EditCommand(applied.append, one, one.with_strength("glasses", 2.0)))
    two = one.with_strength("glasses", 2.0)
    stack.push(EditCommand(applied.append, two, two.with_target("hair_color", "blue")))
    assert [stack.text(i) for i in range(stack.count())] == ["Glasses +2", "Hair colour: blue"]


def test_renders_are_latest_only(qtbot: QtBot):
    group = WorkerGroup()
    queue = LatestOnly(group, "render")
    ran: list[int] = []
    results: list[int] = []
    queue.succeeded.connect(results.append)

    def task(n: int):
        def run(progress, should_stop):
            time.sleep(0.05)
            ran.append(n)
            return n

        return run

    for n in range(6):
        queue.submit(task(n))
    qtbot.waitUntil(queue.is_idle, timeout=WAIT_MS)
    group.shutdown()
    assert ran == [0, 5] and results == [0, 5]


# --- the artist's picture ----------------------------------------------------------------------


def test_open_invert_edit_and_save_the_whole_picture(
    qtbot: QtBot, editor: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pixels = write_picture(tmp_path / "art.png")
    open_and_invert(qtbot, editor, tmp_path / "art.png")
    face = editor.session.face
    assert face is not None and face.kind == "picture" and face.steps == 2
    assert face.box == editor.canvas.face_box()  # the default: the largest centred square
    assert editor.face_panel.reconstruction.image() is not None
    # nothing edited yet: the picture itself
    assert np.array_equal(qimage_array(editor.canvas.after()), pixels)

    drag(editor, "glasses", 2.0, 3.0)
    settle(qtbot, editor)
    out = tmp_path / "out" / "edited.png"
    out.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), next(iter(save_filters())))
    )
    editor.save_as_action.trigger()
    settle(qtbot, editor)
    saved = np.asarray(load_image(out).rgb)
    assert saved.shape == pixels.shape
    box = face.box
    assert box is not None
    assert np.array_equal(saved[:, : box.x], pixels[:, : box.x])  # outside the box: untouched
    assert not np.array_equal(saved, pixels)
    assert editor.isWindowModified()  # an exported picture is not a saved project

    face_out = tmp_path / "out" / "face.png"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(face_out), next(iter(save_filters())))
    )
    editor.save_face_action.trigger()
    settle(qtbot, editor)
    assert load_image(face_out).size == (32, 32)


def test_a_big_picture_previews_while_dragging_and_renders_full_size_after(
    qtbot: QtBot, editor: MainWindow, tmp_path: Path
):
    from nfe_desktop.tasks import PREVIEW_SIDE

    write_picture(tmp_path / "big.png", (1300, 1000))
    open_and_invert(qtbot, editor, tmp_path / "big.png")
    shown: list[tuple[int, int]] = []
    original = editor.canvas.set_after_patch

    def record(patch, box):
        if patch is not None:
            shown.append((patch.width(), patch.height()))
        original(patch, box)

    editor.canvas.set_after_patch = record  # type: ignore[method-assign]
    slider = editor.attribute_dock.slider("glasses")
    slider.setSliderDown(True)
    slider.setValue(100)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    assert shown[-1] == (PREVIEW_SIDE, PREVIEW_SIDE)  # the 1000 px box, shrunk while dragging
    slider.setSliderDown(False)
    settle(qtbot, editor)
    assert shown[-1] == (1000, 1000)  # let go: the full-size box
    after = qimage_array(editor.canvas.after())
    assert after.shape == (1000, 1300, 3)


def test_a_new_face_box_is_used_by_the_next_inversion(
    qtbot: QtBot, editor: MainWindow, tmp_path: Path
):
    from nfe_core.facebox import FaceBox

    write_picture(tmp_path / "art.png")
    open_and_invert(qtbot, editor, tmp_path / "art.png")
    editor.canvas.set_face_box(FaceBox(40, 10, 40, 40))
    with qtbot.waitSignal(editor.face_changed, timeout=WAIT_MS):
        editor.invert_action.trigger()
    settle(qtbot, editor)
    assert editor.session.face is not None and editor.session.face.box == FaceBox(40, 10, 40, 40)


def test_cancelling_an_inversion_keeps_what_was_there(
    qtbot: QtBot, editor: MainWindow, settings: Settings, tmp_path: Path
):
    write_picture(tmp_path / "art.png")
    editor.open_path(tmp_path / "art.png", ask=False)
    qtbot.waitUntil(lambda: editor.picture() is not None, timeout=WAIT_MS)
    settings.set(INVERSION_STEPS, 1000)
    worker = editor.invert()
    assert worker is not None and editor.face_panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: editor.face_panel.progress.value() >= 1, timeout=WAIT_MS)
    qtbot.mouseClick(editor.face_panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
    assert editor.session.face is None
    assert "cancelled" in editor.statusBar().currentMessage()
    assert editor.face_panel.invert_button.isVisible()


# --- projects, closing --------------------------------------------------------------------------


def save_project_as(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, target: Path
) -> None:
    """File > Save, answering the save dialog with ``target`` as a project."""
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), PROJECT_FILTER)
    )
    window.save_action.trigger()
    settle(qtbot, window)


def reopen(qtbot: QtBot, settings: Settings, model: Path, project: Path) -> MainWindow:
    """A fresh editor with ``project`` opened and its face rendered."""
    again = start_editor(qtbot, settings, model)
    again.open_path(project, ask=False)
    qtbot.waitUntil(lambda: again.session.face is not None, timeout=WAIT_MS)
    settle(qtbot, again)
    return again


def test_a_project_saves_and_reopens_the_work_exactly(
    qtbot: QtBot,
    editor: MainWindow,
    settings: Settings,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    write_picture(tmp_path / "art.png")
    open_and_invert(qtbot, editor, tmp_path / "art.png")
    qtbot.mouseClick(editor.attribute_dock.chips("hair_color")["blue"], Qt.MouseButton.LeftButton)
    drag(editor, "glasses", 1.25)
    settle(qtbot, editor)
    state, face = editor.session.state, editor.session.face
    after = qimage_array(editor.canvas.after())
    save_project_as(qtbot, editor, monkeypatch, tmp_path / "work")  # the first save asks where
    assert (tmp_path / "work.nfe").is_file()
    assert not editor.isWindowModified() and editor.windowTitle().startswith("work.nfe")

    again = reopen(qtbot, settings, tiny_model, tmp_path / "work.nfe")
    assert again.session.state == state
    assert face is not None and again.session.face is not None
    assert np.array_equal(again.session.face.latent, face.latent)
    assert again.session.face.box == face.box
    assert np.array_equal(qimage_array(again.canvas.after()), after)
    assert again.history_panel.entries() == ["Unedited face"]
    assert not again.isWindowModified()
    again.close()


def test_the_generate_panel_shows_the_seed_of_the_face_however_it_came(
    qtbot: QtBot,
    editor: MainWindow,
    settings: Settings,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    panel = editor.face_panel.generate
    editor.generate(1234, 0.6)  # as a script or the menu would, not through the panel
    qtbot.waitUntil(lambda: editor.session.face is not None, timeout=WAIT_MS)
    settle(qtbot, editor)
    assert (panel.seed(), panel.truncation()) == (1234, 0.6)
    drag(editor, "glasses", 1.0)
    settle(qtbot, editor)
    save_project_as(qtbot, editor, monkeypatch, tmp_path / "seed")

    again = reopen(qtbot, settings, tiny_model, tmp_path / "seed.nfe")
    shown = again.face_panel.generate
    assert (shown.seed(), shown.truncation()) == (1234, 0.6)
    again.close()


def test_closing_with_unsaved_work_asks_first(qtbot: QtBot, editor: MainWindow, boxes: Boxes):
    generate_face(qtbot, editor)
    assert not editor.isWindowModified()  # a seed's face is made again at will
    drag(editor, "glasses", 1.0)
    settle(qtbot, editor)
    assert editor.isWindowModified()
    boxes.answer = QMessageBox.StandardButton.Cancel
    editor.close()
    assert editor.isVisible() and boxes.shown[-1][0] == "Unsaved changes"
    boxes.answer = QMessageBox.StandardButton.Discard
    editor.close()
    assert not editor.isVisible()


def test_opening_another_picture_over_unsaved_work_can_be_cancelled(
    qtbot: QtBot, editor: MainWindow, boxes: Boxes, tmp_path: Path
):
    generate_face(qtbot, editor)
    drag(editor, "glasses", 1.0)
    settle(qtbot, editor)
    write_picture(tmp_path / "art.png")
    boxes.answer = QMessageBox.StandardButton.Cancel
    assert editor.open_path(tmp_path / "art.png") is None
    assert editor.session.face is not None and editor.session.face.kind == "generated"


# --- batch export, preferences ------------------------------------------------------------------


def test_batch_export_goes_on_past_a_bad_file_and_lists_it(
    qtbot: QtBot, editor: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "in"
    folder.mkdir()
    write_picture(folder / "one.png")
    write_picture(folder / "two.png", (40, 70))
    (folder / "broken.png").write_bytes(b"not a picture at all")
    opened: list[object] = []
    monkeypatch.setattr(
        "nfe_desktop.batch_dialog.BatchResultDialog.open", lambda self: opened.append(self)
    )
    request = BatchRequest(
        inputs=(folder,),
        edits=("glasses=+2",),
        preserve=(),
        preset=None,
        out_dir=tmp_path / "out",
        format="jpg",
        pattern="{stem}_nfe.{ext}",
    )
    worker = editor.run_batch(request)
    assert worker is not None
    qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one_nfe.jpg", "two_nfe.jpg"]
    result = editor.batch_result
    assert opened == [result]
    (failure,) = result.failures()
    assert failure.startswith("broken.png — ") and len(failure) > len("broken.png — ")
    assert sorted(p.name for p in folder.iterdir()) == ["broken.png", "one.png", "two.png"]
    assert "2 written, 1 failed" in editor.statusBar().currentMessage()


def test_preferences_are_declared_once_and_stored(
    qtbot: QtBot, editor: MainWindow, settings: Settings
):
    dialog = PreferencesDialog(settings, ("cpu",), editor)
    qtbot.addWidget(dialog)
    dialog.editor(INVERSION_STEPS).setValue(7)
    dialog.editor(EXPORT_QUALITY).setValue(80)
    dialog.accept()
    assert settings.get(INVERSION_STEPS) == 7 and settings.get(EXPORT_QUALITY) == 80
    assert settings.get(LAST_MODEL)  # the model given at start is remembered


def test_opening_another_model_rebuilds_the_sliders_and_keeps_a_face_it_can_draw(
    qtbot: QtBot,
    editor: MainWindow,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    generate_face(qtbot, editor)
    drag(editor, "glasses", 1.0)
    settle(qtbot, editor)
    other = save_editing_bundle(tmp_path / "other", encoder=False, name="other")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(other))
    with qtbot.waitSignal(editor.model_loaded, timeout=WAIT_MS):
        editor.open_model_action.trigger()
    settle(qtbot, editor)
    assert editor.model_info().name == "other"
    assert editor.attribute_dock.spec_names() == ["hair_color", "glasses"]
    assert editor.session.face is not None  # same latent shape: the face stays
    assert [str(e) for e in editor.session.state.edits] == ["glasses=+1"]
    assert editor.canvas.after() is not None
    assert settings.get(LAST_MODEL) == str(other)  # opened next time


def test_about_shows_the_model_and_its_quality_figures(
    editor: MainWindow, monkeypatch: pytest.MonkeyPatch
):
    from nfe_desktop.about import quality_html

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    editor.about_action.trigger()
    assert "tiny" in shown[0] and "PyTorch" in shown[0] and "no quality report" in shown[0]
    html = quality_html(
        {"edit_success": {"hair_color": 0.95}, "frechet_distance": 1.25,
         "inversion": {"psnr_db_hybrid": 27.5}}
    )  # fmt: skip
    assert "hair colour 0.95" in html and "Fréchet distance" in html and "27.5" in html


def test_opening_another_picture_cancels_the_running_inversion(
    qtbot: QtBot, editor: MainWindow, settings: Settings, tmp_path: Path
):
    write_picture(tmp_path / "first.png")
    write_picture(tmp_path / "second.png", (50, 50))
    editor.open_path(tmp_path / "first.png", ask=False)
    qtbot.waitUntil(lambda: editor.picture() is not None, timeout=WAIT_MS)
    settings.set(INVERSION_STEPS, 1000)
    worker = editor.invert()
    assert worker is not None
    editor.open_path(tmp_path / "second.png", ask=False)
    qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
    settle(qtbot, editor)
    assert worker.is_cancelled() and editor.session.face is None
    assert editor.picture() is not None and editor.picture().size == (50, 50)


def test_random_faces_come_without_questions_until_one_is_edited(
    qtbot: QtBot, editor: MainWindow, boxes: Boxes
):
    generate_face(qtbot, editor)
    first = editor.session.face
    with qtbot.waitSignal(editor.face_changed, timeout=WAIT_MS):
        editor.random_action.trigger()
    settle(qtbot, editor)
    assert editor.session.face is not first and boxes.shown == []
    drag(editor, "glasses", 1.0)
    settle(qtbot, editor)
    boxes.answer = QMessageBox.StandardButton.Cancel
    editor.random_action.trigger()
    assert [title for title, _ in boxes.shown] == ["Unsaved changes"]
    assert [str(e) for e in editor.session.state.edits] == ["glasses=+1"]


def test_a_damaged_project_is_refused_in_words_and_the_work_stays(
    qtbot: QtBot, editor: MainWindow, boxes: Boxes, tmp_path: Path
):
    generate_face(qtbot, editor)
    face = editor.session.face
    damaged = tmp_path / "work.nfe"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    worker = editor.open_path(damaged, ask=False)
    assert worker is not None
    qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
    assert boxes.shown and boxes.shown[-1][0] == "Could not open"
    assert "work.nfe" in boxes.shown[-1][1]
    assert editor.session.face is face
