"""File > Batch Export…: the options dialog as a user fills it, and the result summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog
from pytestqt.qtbot import QtBot

from nfe_desktop.batch_dialog import (
    DEFAULT_PATTERN,
    ERROR_COLOR,
    BatchDialog,
    BatchRequest,
    BatchResultDialog,
    example_name,
)
from nfe_desktop.settings import LAST_FOLDER, Settings

pytestmark = pytest.mark.gui

CURRENT = ["hair_color=blue", "hair_length=+1.5"]


def write_picture(path: Path) -> Path:
    pixels = np.random.default_rng(0).integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def write_preset(path: Path, **fields: Any) -> Path:
    record = {
        "format": "nfe-preset",
        "version": 1,
        "name": "pink and long",
        "edits": ["hair_color=pink", "hair_length=+2"],
        "preserve": ["eye_color"],
        "model": None,
    }
    record.update(fields)
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.png", "a.jpg", "notes.txt"):
        if name.endswith("txt"):
            (folder / name).write_text("x")
        else:
            write_picture(folder / name)
    return folder


@pytest.fixture
def dialog(qtbot: QtBot, settings: Settings) -> BatchDialog:
    widget = BatchDialog(current_edits=CURRENT, current_preserve=["eye_color"], settings=settings)
    qtbot.addWidget(widget)
    return widget


def answer_files(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in paths], "")
    )


def answer_folder(monkeypatch: pytest.MonkeyPatch, folder: Path | str) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))


def answer_file(monkeypatch: pytest.MonkeyPatch, path: Path | str) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


# --- the options dialog -----------------------------------------------------------------------


def test_export_is_enabled_only_when_everything_is_valid(
    dialog: BatchDialog, pictures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dialog.current_radio.isChecked()
    assert not dialog.export_button.isEnabled()
    assert "Add pictures" in dialog.problem_label.text()

    answer_files(monkeypatch, pictures / "b.png")
    dialog.add_files_button.click()
    assert not dialog.export_button.isEnabled()
    assert "output folder" in (dialog.problem() or "")

    answer_folder(monkeypatch, tmp_path / "out")  # does not exist yet: it will be created
    dialog.out_button.click()
    assert dialog.export_button.isEnabled()
    assert "will be created" in dialog.out_label.text()

    dialog.pattern_edit.setText("{stem}_{colour}.{ext}")
    assert not dialog.export_button.isEnabled()
    assert "unknown field {colour}" in (dialog.problem() or "")
    dialog.pattern_edit.setText("{stem}.png")
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("jpg"))
    assert not dialog.export_button.isEnabled()
    assert "does not end in .jpg" in dialog.example_label.text()
    dialog.pattern_edit.setText(DEFAULT_PATTERN)
    assert dialog.export_button.isEnabled()

    (tmp_path / "file").write_text("x")
    dialog.out_edit.setText(str(tmp_path / "file"))
    assert not dialog.export_button.isEnabled()
    assert "is a file" in dialog.out_label.text()
    dialog.out_edit.setText("relative/folder")
    assert not dialog.export_button.isEnabled()
    dialog.out_edit.setText(str(tmp_path / "file" / "below"))
    assert not dialog.export_button.isEnabled()
    dialog.out_edit.setText(str(tmp_path))
    assert dialog.export_button.isEnabled()

    dialog.input_list.selectAll()
    assert dialog.remove_button.isEnabled()
    dialog.remove_button.click()
    assert dialog.inputs() == ()
    assert not dialog.export_button.isEnabled()
    with pytest.raises(ValueError, match="Add pictures"):
        dialog.request()


def test_request_with_current_edits(
    dialog: BatchDialog,
    pictures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    answer_files(monkeypatch, pictures / "b.png", pictures / "a.jpg")
    dialog.add_files_button.click()
    answer_folder(monkeypatch, pictures)
    dialog.add_folder_button.click()
    dialog.add_files_button.click()  # the same files again are not added twice
    assert dialog.input_list.count() == 3
    assert dialog.inputs_label.text() == "2 files, 1 folder"
    assert settings.get(LAST_FOLDER) == str(pictures.resolve())

    out = tmp_path / "out"
    out.mkdir()
    dialog.out_edit.setText(str(out))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("webp"))
    assert "Hair colour: blue" in dialog.current_label.text()
    assert "keeping eye colour" in dialog.current_label.text()

    request = dialog.request()
    assert request == BatchRequest(
        inputs=(pictures / "b.png", pictures / "a.jpg", pictures),
        edits=tuple(CURRENT),
        preserve=("eye_color",),
        preset=None,
        out_dir=out,
        format="webp",
        pattern=DEFAULT_PATTERN,
    )
    with pytest.raises(AttributeError):
        request.format = "png"  # type: ignore[misc]
    assert request.find_faces  # each picture's face found, unless unchecked
    dialog.find_check.click()
    assert not dialog.request().find_faces


def test_preset_file_shows_its_edits_and_goes_into_the_request(
    dialog: BatchDialog, pictures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog.add_paths([pictures])
    dialog.out_edit.setText(str(tmp_path))
    preset = write_preset(tmp_path / "pink.json")
    answer_file(monkeypatch, preset)
    dialog.preset_button.click()

    assert dialog.preset_radio.isChecked()
    assert "pink and long" in dialog.preset_label.text()
    assert "Hair colour: pink" in dialog.preset_label.text()
    assert ERROR_COLOR not in dialog.preset_label.styleSheet()
    request = dialog.request()
    assert request.edits == ("hair_color=pink", "hair_length=+2")
    assert request.preserve == ("eye_color",)
    assert request.preset == preset

    dialog.current_radio.setChecked(True)  # back to the window's edits
    assert dialog.request().edits == tuple(CURRENT) and dialog.request().preset is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{broken", "not valid JSON"),
        (None, "not an NFE edit preset"),
        ("edits", "cannot read the edit"),
    ],
)
def test_a_bad_preset_shows_its_error_in_red(
    dialog: BatchDialog,
    pictures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str | None,
    reason: str,
) -> None:
    dialog.add_paths([pictures])
    dialog.out_edit.setText(str(tmp_path))
    path = tmp_path / "bad.json"
    if content == "edits":
        write_preset(path, edits=["hair colour is blue"])
    elif content is None:
        path.write_text('{"format": "something else"}')
    else:
        path.write_text(content)
    answer_file(monkeypatch, path)
    dialog.preset_button.click()

    assert reason in dialog.preset_label.text()
    assert str(path) not in dialog.preset_label.text()  # the path is in the box above
    assert ERROR_COLOR in dialog.preset_label.styleSheet()
    assert not dialog.export_button.isEnabled()
    assert "preset cannot be used" in dialog.problem_label.text()


def test_typing_a_preset_path_loads_it(dialog: BatchDialog, tmp_path: Path, qtbot: QtBot) -> None:
    preset = write_preset(tmp_path / "typed.json")
    dialog.preset_edit.setText(str(preset))
    dialog.preset_edit.editingFinished.emit()
    assert dialog.preset_radio.isChecked()
    assert "pink and long" in dialog.preset_label.text()
    dialog.preset_edit.setText(str(tmp_path / "missing.json"))
    dialog.preset_edit.editingFinished.emit()
    assert "no such file" in dialog.preset_label.text()


def test_without_current_edits_that_choice_is_disabled(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = BatchDialog(inputs=[tmp_path], out_dir=tmp_path / "out")
    qtbot.addWidget(dialog)
    assert not dialog.current_radio.isEnabled()
    assert dialog.preset_radio.isChecked()
    assert "No edits yet" in dialog.current_label.text()
    assert not dialog.export_button.isEnabled()
    assert "Choose the edits" in (dialog.problem() or "")


def test_example_name_uses_the_first_input(
    dialog: BatchDialog, pictures: Path, tmp_path: Path
) -> None:
    assert dialog.example_label.text() == "Example: picture.png → picture_edited.png"
    dialog.add_paths([pictures])  # a folder: its first picture (a.jpg, not notes.txt)
    assert dialog.example_label.text() == "Example: a.jpg → a_edited.png"
    dialog.pattern_edit.setText("{index:03d}-{name}.{ext}")
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("jpg"))
    assert dialog.example_label.text() == "Example: a.jpg → 000-a.jpg.jpg"
    assert "{stem}" in dialog.pattern_edit.toolTip() and "{index}" in dialog.pattern_edit.toolTip()
    dialog.pattern_edit.setText("sub/{stem}.{ext}")
    assert "plain file name" in dialog.example_label.text()
    assert ERROR_COLOR in dialog.example_label.styleSheet()


def test_example_name_function() -> None:
    assert example_name("{stem}_x.{ext}", Path("/a/face.PNG"), "webp") == "face_x.webp"
    assert example_name("{stem}.jpeg", Path("f.png"), "jpg") == "f.jpeg"
    for pattern, message in [
        ("", "enter a naming pattern"),
        ("{nope}.{ext}", "unknown field"),
        ("{stem", "cannot make a file name"),
        ("{stem}.txt", "does not end in .png"),
        ("../{stem}.{ext}", "plain file name"),
    ]:
        with pytest.raises(ValueError, match=message):
            example_name(pattern, Path("f.png"), "png")


def test_warns_when_the_output_folder_holds_inputs(
    dialog: BatchDialog, pictures: Path, tmp_path: Path
) -> None:
    dialog.add_paths([pictures / "b.png"])
    dialog.out_edit.setText(str(pictures))
    assert "holds input pictures" in dialog.out_label.text()
    assert dialog.export_button.isEnabled()  # a warning, not a block
    dialog.out_edit.setText(str(tmp_path))
    assert "holds input pictures" not in dialog.out_label.text()


def drag_events(mime: QMimeData) -> tuple[QDragEnterEvent, QDropEvent]:
    args = (
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    return QDragEnterEvent(*args), QDropEvent(*args)


def test_files_and_folders_can_be_dropped_on_the_list(
    dialog: BatchDialog, pictures: Path, qtbot: QtBot
) -> None:
    mime = QMimeData()  # kept referenced: the events do not own it
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(pictures / "b.png")),
            QUrl.fromLocalFile(str(pictures)),
            QUrl("https://example.com/x.png"),  # not local: ignored
        ]
    )
    enter, drop = drag_events(mime)
    dialog.input_list.dragEnterEvent(enter)
    assert enter.isAccepted()
    dialog.input_list.dropEvent(drop)
    assert drop.isAccepted()
    assert dialog.inputs() == (pictures / "b.png", pictures)
    assert dialog.export_button.isEnabled() is False  # still no output folder

    text = QMimeData()
    text.setText("just words")
    enter, drop = drag_events(text)
    dialog.input_list.dragEnterEvent(enter)
    assert not enter.isAccepted()
    dialog.input_list.dropEvent(drop)
    assert dialog.inputs() == (pictures / "b.png", pictures)


def test_export_accepts_the_dialog(
    dialog: BatchDialog, pictures: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    dialog.add_paths([pictures])
    dialog.out_edit.setText(str(tmp_path))
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        dialog.export_button.click()
    assert dialog.result() == BatchDialog.DialogCode.Accepted


def test_screenshot_of_the_options(
    dialog: BatchDialog, pictures: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    dialog.add_paths([pictures / "b.png", pictures])
    dialog.out_edit.setText(str(pictures))
    dialog.set_preset(write_preset(tmp_path / "pink.json", edits=["hair colour is blue"]))
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.grab().save("/tmp/batch_dialog.png")


# --- the result dialog ------------------------------------------------------------------------


def test_result_lists_failures_and_opens_the_folder(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    written = [tmp_path / "a_edited.png", tmp_path / "b_edited.png"]
    failed = [
        (tmp_path / "in" / "c.png", "the file is truncated (it ends before the picture does)"),
        (tmp_path / "in" / "d.gif", "the face box 0,0,99,99 reaches outside the picture"),
    ]
    dialog = BatchResultDialog(written, failed, False, tmp_path)
    qtbot.addWidget(dialog)

    assert dialog.windowTitle() == "Batch Export Finished"
    assert f"Wrote 2 pictures to {tmp_path}" in dialog.summary_label.text()
    assert dialog.failed_label.text() == "2 pictures failed:"
    assert dialog.failures() == [
        "c.png — the file is truncated (it ends before the picture does)",
        "d.gif — the face box 0,0,99,99 reaches outside the picture",
    ]
    assert dialog.cancelled_label.isHidden()

    dialog.show_folder_button.click()
    assert [url.toLocalFile() for url in opened] == [str(tmp_path)]
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.grab().save("/tmp/batch_result.png")
    close = dialog.buttons.button(QDialogButtonBox.StandardButton.Close)
    with qtbot.waitSignal(dialog.rejected, timeout=2000):
        close.click()


def test_result_names_the_pictures_where_no_face_was_found(qtbot: QtBot, tmp_path: Path) -> None:
    unfound = [tmp_path / f"scan{i}.png" for i in range(7)]
    dialog = BatchResultDialog(unfound, [], False, tmp_path, unfound=unfound)
    qtbot.addWidget(dialog)
    text = dialog.unfound_label.text()
    assert not dialog.unfound_label.isHidden()
    assert text.startswith("No face was found in 7 pictures (scan0.png, scan1.png")
    assert "scan4.png and 2 more" in text and "scan5.png" not in text
    assert "centred square" in text
    plain = BatchResultDialog(unfound[:1], [], False, tmp_path)
    qtbot.addWidget(plain)
    assert plain.unfound_label.isHidden()


def test_result_of_a_cancelled_batch(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = BatchResultDialog([tmp_path / "a.png"], [], True, tmp_path / "gone")
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Batch Export Cancelled"
    assert "Wrote 1 picture to" in dialog.summary_label.text()
    assert not dialog.cancelled_label.isHidden()
    assert dialog.failed_list.isHidden() and dialog.failures() == []
    assert not dialog.show_folder_button.isEnabled()  # the folder does not exist


def test_result_with_nothing_written(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = BatchResultDialog(
        [], [(tmp_path / "x.png", "the file does not exist")], False, tmp_path
    )
    qtbot.addWidget(dialog)
    assert "No picture was written" in dialog.summary_label.text()
    assert dialog.failed_label.text() == "1 picture failed:"
