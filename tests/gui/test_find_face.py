"""The face box finds the face, with the shipped model: a picture opens with its box around
the face wherever it is drawn; a box the user draws stays; Face > Find Face puts it back; a
picture without a face keeps the centred square and says so."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from nfe_core.bundle import default_bundle_path
from nfe_core.facebox import FaceBox, default_box
from nfe_desktop.batch_dialog import BatchRequest
from nfe_desktop.main_window import MainWindow
from nfe_desktop.settings import INVERSION_STEPS, TUNING_STEPS, Settings
from tests.faces import PAGE, overlap, page_with_face, page_with_faces
from tests.mouse import drag_picture
from tests.shown import qimage_array

pytestmark = pytest.mark.gui

WAIT_MS = 30_000
SIZE = (900, 640)
FACE = FaceBox(520, 90, 320, 320)


@pytest.fixture(autouse=True)
def _no_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never a modal box that waits for a click: unsaved work is discarded on closing."""
    discard = QMessageBox.StandardButton.Discard
    monkeypatch.setattr(QMessageBox, "question", lambda *args: discard)


@pytest.fixture
def window(qtbot: QtBot, settings: Settings) -> Iterator[MainWindow]:
    settings.set(INVERSION_STEPS, 2)
    settings.set(TUNING_STEPS, 0)
    editor = MainWindow(settings, model_path=default_bundle_path())
    qtbot.addWidget(editor)
    editor.resize(1200, 800)
    editor.show()
    qtbot.waitUntil(lambda: editor.model_info() is not None, timeout=WAIT_MS)
    yield editor
    editor.discard_changes()
    editor.close()


def open_picture(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    window.open_path(path, ask=False)
    qtbot.waitUntil(lambda: window.picture() is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)


def test_a_picture_opens_with_the_box_around_its_face_and_a_drawn_box_stays(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    page_with_face(SIZE, FACE, seamless=True).save(tmp_path / "page.png")
    open_picture(qtbot, window, tmp_path / "page.png")
    found = window.session.box
    assert found is not None and overlap(found, FACE) >= 0.8
    assert window.canvas.face_box() == found
    assert "Found the face" in window.statusBar().currentMessage()

    window.face_panel.box_button.setChecked(True)
    drag_picture(window.canvas, (20, 30), (220, 230))  # the user draws their own
    assert window.session.box == FaceBox(20, 30, 200, 200)
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)
    assert window.session.box == FaceBox(20, 30, 200, 200)  # not moved back on its own

    assert window.find_face_action.isEnabled()
    window.find_face_action.trigger()  # Face > Find Face
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)
    assert window.session.box == found and window.canvas.face_box() == found

    with qtbot.waitSignal(window.face_changed, timeout=WAIT_MS):
        window.invert_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)
    assert window.session.face is not None and window.session.face.box == found


def test_a_picture_without_a_face_keeps_the_centred_square_and_says_so(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    Image.new("RGB", SIZE, PAGE).save(tmp_path / "blank.png")
    open_picture(qtbot, window, tmp_path / "blank.png")
    assert window.session.box == default_box(*SIZE)
    assert "No face found" in window.statusBar().currentMessage()


def test_a_picture_opened_while_the_model_loads_is_looked_at_once_it_is_ready(
    qtbot: QtBot, settings: Settings, tmp_path: Path
):
    editor = MainWindow(settings, load_model=False)  # as `nfe-desktop picture.png` starts
    qtbot.addWidget(editor)
    editor.show()
    page_with_face(SIZE, FACE).save(tmp_path / "page.png")
    open_picture(qtbot, editor, tmp_path / "page.png")
    assert editor.session.box == default_box(*SIZE)  # no model yet to look with
    assert not editor.find_face_action.isEnabled()
    with qtbot.waitSignal(editor.face_found, timeout=WAIT_MS) as found:
        editor.load_model(default_bundle_path())
    assert found.args[0] is not None and overlap(found.args[0], FACE) >= 0.8
    assert editor.session.box == found.args[0]
    qtbot.waitUntil(lambda: not editor.busy(), timeout=WAIT_MS)
    editor.close()


def test_find_face_again_goes_to_the_next_character(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    boxes = [FaceBox(60, 150, 420, 420), FaceBox(800, 80, 500, 500)]
    page_with_faces((1400, 700), boxes).save(tmp_path / "two.png")
    open_picture(qtbot, window, tmp_path / "two.png")
    first = window.session.box
    assert first is not None and max(overlap(first, b) for b in boxes) >= 0.8
    assert "1 of 2" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.face_found, timeout=WAIT_MS) as moved:
        window.find_face_action.trigger()
    second = moved.args[0]
    assert second == window.session.box == window.canvas.face_box() and second != first
    assert max(overlap(second, b) for b in boxes) >= 0.8
    assert overlap(first, second) == 0
    assert "2 of 2" in window.statusBar().currentMessage()
    window.find_face_action.trigger()
    assert window.session.box == first  # and round again


def test_batch_export_finds_each_face_and_names_the_pictures_without_one(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "in"
    folder.mkdir()
    page_with_face(SIZE, FACE, seamless=True).save(folder / "page.png")
    Image.new("RGB", (320, 240), PAGE).save(folder / "blank.png")
    monkeypatch.setattr("nfe_desktop.batch_dialog.BatchResultDialog.open", lambda self: None)
    request = BatchRequest(
        inputs=(folder,), edits=("hair_color=blue",), preserve=(), preset=None,
        out_dir=tmp_path / "found", format="png", pattern="{stem}.{ext}",
    )  # fmt: skip
    for out, find in ((tmp_path / "found", True), (tmp_path / "centred", False)):
        worker = window.run_batch(replace(request, out_dir=out, find_faces=find))
        assert worker is not None
        qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
        result = window.batch_result
        assert sorted(p.name for p in out.iterdir()) == ["blank.png", "page.png"]
        assert result.unfound_label.isHidden() is not find
        assert ("blank.png" in result.unfound_label.text()) is find
    page = np.asarray(Image.open(folder / "page.png")).astype(int)
    found = np.asarray(Image.open(tmp_path / "found" / "page.png")).astype(int)
    centred = np.asarray(Image.open(tmp_path / "centred" / "page.png")).astype(int)
    inside = np.zeros(page.shape[:2], bool)
    inside[FACE.y : FACE.bottom, FACE.x : FACE.right] = True
    assert (np.abs(found - page).max(axis=2) > 8)[inside].mean() > 0.05  # its hair went blue
    assert (np.abs(found - page).max(axis=2) > 8)[~inside].mean() < 0.001
    assert not np.array_equal(centred, found)  # the centred square was edited instead


def test_a_face_cut_by_the_top_edge_is_framed_whole_and_edited_to_the_edge(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    face = FaceBox(300, -70, 320, 320)  # the hair runs off the top by a fifth
    page_with_face(SIZE, face, seamless=True).save(tmp_path / "cut.png")
    open_picture(qtbot, window, tmp_path / "cut.png")
    found = window.session.box
    assert found is not None and found.y < 0 and overlap(found, face) >= 0.8
    assert window.canvas.face_box() == found  # shown reaching past the picture's edge
    with qtbot.waitSignal(window.face_changed, timeout=WAIT_MS):
        window.invert_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)
    assert window.session.face is not None and window.session.face.box == found

    pink = window.attribute_dock.chips("hair_color")["pink"]
    qtbot.mouseClick(pink, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)
    after = qimage_array(window.canvas.after())
    before = np.asarray(Image.open(tmp_path / "cut.png").convert("RGB"))
    assert after.shape == before.shape
    changed = np.abs(after.astype(int) - before).sum(axis=2) > 30
    inside = np.zeros(changed.shape, bool)
    inside[: found.bottom, found.x : found.right] = True
    assert not changed[~inside].any()  # nothing outside the box
    top = changed[:3, found.x : found.right].mean()  # the picture's top edge
    lower = changed[50:53, found.x : found.right].mean()  # the hair about the eyes
    assert top > 0.5 * lower > 0  # recoloured up to the picture's edge, not faded out
