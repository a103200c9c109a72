"""The main window as a user drives it: open, look, save, fail, drop, close; and its parts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from nfe_core.facebox import FaceBox
from nfe_desktop import app as desktop_app
from nfe_desktop.canvas import Canvas, pil_to_qimage
from nfe_desktop.file_dialogs import open_filter, save_filters
from nfe_desktop.main_window import MainWindow
from nfe_desktop.settings import LAST_FOLDER, VIEW_ACTUAL_SIZE, WINDOW_GEOMETRY, Settings
from nfe_desktop.workers import Worker, WorkerGroup

pytestmark = pytest.mark.gui

WAIT_MS = 10_000


# --- helpers ----------------------------------------------------------------------------------


def write_picture(path: Path, size: tuple[int, int] = (96, 64), *, seed: int = 0) -> np.ndarray:
    """Write an RGB PNG of random pixels; returns its pixels (HxWx3 uint8)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(path)
    return pixels


def qimage_pixels(image: QImage) -> np.ndarray:
    """The RGB pixels of a QImage as an HxWx3 uint8 array."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    raw = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * height)
    return raw.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


class MessageBoxes:
    """Records QMessageBox.warning/critical calls instead of showing modal boxes."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []

    def recorder(self, kind: str) -> Callable[..., QMessageBox.StandardButton]:
        def record(parent: Any, title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
            self.shown.append((kind, title, text))
            return QMessageBox.StandardButton.Ok

        return record


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> MessageBoxes:
    """Message boxes, recorded."""
    recorded = MessageBoxes()
    monkeypatch.setattr(QMessageBox, "warning", recorded.recorder("warning"))
    monkeypatch.setattr(QMessageBox, "critical", recorded.recorder("critical"))
    return recorded


@pytest.fixture
def window(qtbot: QtBot, settings: Settings) -> Iterator[MainWindow]:
    """The main window, shown at 1100x750, closed (joining its workers) at the end."""
    main_window = MainWindow(settings, load_model=False)
    qtbot.addWidget(main_window)
    main_window.resize(1100, 750)
    main_window.show()
    qtbot.waitExposed(main_window)
    yield main_window
    main_window.close()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Take away the log handlers the app under test adds."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()


def shown_title(window: MainWindow) -> str:
    """The title as the window manager shows it ("[*]" is a star when modified)."""
    return window.windowTitle().replace("[*]", "*" if window.isWindowModified() else "")


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make the Open dialog answer ``path``, as a user picking it would."""
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), open_filter())
    )


def choose_save_target(monkeypatch: pytest.MonkeyPatch, path: Path, name_filter: str) -> None:
    """Make the Save As dialog answer ``path`` with ``name_filter`` selected."""
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), name_filter)
    )


def open_through_menu(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    """File > Open… on ``path``, then wait until the window is idle again."""
    choose_file(monkeypatch, path)
    window.open_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)


# --- the window as a user drives it -------------------------------------------------------------


def test_empty_window_invites_to_open(window: MainWindow) -> None:
    assert shown_title(window) == "Neural Face Editor"
    assert window.canvas.image() is None
    assert not window.save_as_action.isEnabled()
    assert window.picture_info.text() == ""
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&Edit", "&View", "F&ace", "&Model", "&Help"]


def test_open_shows_picture_title_and_status(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "face.png"
    pixels = write_picture(source, (96, 64))

    open_through_menu(qtbot, window, monkeypatch, source)

    shown = window.canvas.image()
    assert shown is not None
    assert (shown.width(), shown.height()) == (96, 64)
    assert np.array_equal(qimage_pixels(shown), pixels)
    assert shown_title(window) == "face.png — Neural Face Editor"
    info = window.picture_info.text()
    assert "face.png" in info and "96 × 64" in info and "RGB" in info and "PNG" in info
    assert window.save_as_action.isEnabled()
    # Fitted: aspect ratio kept, centred, and larger than the small source.
    rect = window.canvas.image_rect()
    assert abs(rect.width() / rect.height() - 96 / 64) < 0.02
    assert window.canvas.rect().contains(rect)
    assert abs(rect.center().x() - window.canvas.rect().center().x()) <= 1


def test_save_as_png_writes_the_same_pixels(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    boxes: MessageBoxes,
) -> None:
    source = tmp_path / "face.png"
    pixels = write_picture(source)
    open_through_menu(qtbot, window, monkeypatch, source)
    out_folder = tmp_path / "out"
    out_folder.mkdir()
    png_filter = next(name for name in save_filters() if "*.png" in name)
    choose_save_target(monkeypatch, out_folder / "edited", png_filter)  # no extension typed

    window.save_as_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)

    written = out_folder / "edited.png"
    assert written.is_file()
    with Image.open(written) as saved:
        assert saved.format == "PNG"
        assert np.array_equal(np.asarray(saved.convert("RGB")), pixels)
    assert boxes.shown == []
    assert "Saved" in window.statusBar().currentMessage()
    assert window._settings.get(LAST_FOLDER) == str(out_folder.resolve())


def test_corrupt_file_shows_an_error_and_keeps_the_picture(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    boxes: MessageBoxes,
) -> None:
    good = tmp_path / "face.png"
    write_picture(good)
    open_through_menu(qtbot, window, monkeypatch, good)
    picture_before, image_before = window.picture(), window.canvas.image()
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(good.read_bytes()[:60])  # a PNG cut short

    open_through_menu(qtbot, window, monkeypatch, corrupt)

    assert len(boxes.shown) == 1
    kind, title, text = boxes.shown[0]
    assert kind == "warning" and title == "Could not open"
    assert "broken.png" in text and "Traceback" not in text
    assert window.picture() is picture_before
    assert window.canvas.image() is image_before
    assert shown_title(window) == "face.png — Neural Face Editor"
    assert "face.png" in window.picture_info.text()


def test_not_a_picture_is_refused_in_words(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    boxes: MessageBoxes,
) -> None:
    text_file = tmp_path / "notes.png"
    text_file.write_text("these are not pixels\n")

    open_through_menu(qtbot, window, monkeypatch, text_file)

    assert [(kind, title) for kind, title, _ in boxes.shown] == [("warning", "Could not open")]
    assert window.picture() is None and window.canvas.image() is None
    assert shown_title(window) == "Neural Face Editor"


def test_failed_save_shows_an_error_and_changes_nothing(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    boxes: MessageBoxes,
) -> None:
    source = tmp_path / "face.png"
    write_picture(source)
    open_through_menu(qtbot, window, monkeypatch, source)
    picture = window.picture()
    missing_folder = tmp_path / "no" / "such" / "folder"
    choose_save_target(monkeypatch, missing_folder / "face.png", next(iter(save_filters())))

    window.save_as_action.trigger()
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)

    assert [(kind, title) for kind, title, _ in boxes.shown] == [("warning", "Could not save")]
    assert not missing_folder.exists()
    assert window.picture() is picture
    assert shown_title(window) == "face.png — Neural Face Editor"


def test_dropping_a_picture_file_opens_it(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    source = tmp_path / "dropped.png"
    write_picture(source, (40, 30))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(source))])
    position = QPointF(window.canvas.geometry().center())
    enter = QDragEnterEvent(
        position,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        position,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.picture() is not None, timeout=WAIT_MS)
    assert shown_title(window) == "dropped.png — Neural Face Editor"


def test_dragging_a_non_picture_is_refused(window: MainWindow, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(notes))])
    enter = QDragEnterEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_the_newest_open_wins(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, boxes: MessageBoxes
) -> None:
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    write_picture(first, (300, 200), seed=1)
    write_picture(second, (50, 80), seed=2)

    window.open_path(first)
    window.open_path(second)
    qtbot.waitUntil(lambda: not window.busy(), timeout=WAIT_MS)

    picture = window.picture()
    assert picture is not None and picture.path == second
    assert shown_title(window) == "second.png — Neural Face Editor"
    assert boxes.shown == []


def test_view_modes_fit_and_actual_size(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "big.png"
    write_picture(source, (2400, 600))
    open_through_menu(qtbot, window, monkeypatch, source)
    canvas = window.canvas
    ratio = canvas.devicePixelRatioF()

    fitted = canvas.image_rect()
    assert fitted.width() <= canvas.width() and abs(fitted.width() / fitted.height() - 4) < 0.02

    window.actual_size_action.trigger()
    assert canvas.is_actual_size() and window.actual_size_action.isChecked()
    actual = canvas.image_rect()
    assert (actual.width(), actual.height()) == (round(2400 / ratio), round(600 / ratio))
    assert window._settings.get(VIEW_ACTUAL_SIZE) is True
    # Larger than the view: it can be dragged, but not out of sight.
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    qtbot.mouseMove(canvas, QPoint(5000, 300))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(5000, 300))
    assert canvas.image_rect().left() <= 16 + 1
    # the press was inside the face box: it moved, as far as a quarter past the right edge
    assert canvas.face_box() == FaceBox(1950, 0, 600, 600)

    window.fit_action.trigger()  # the picture and the box, fitted
    assert not canvas.is_actual_size()
    shown = canvas.image_rect()
    assert abs(shown.width() - fitted.width() * 2400 / 2550) <= 1
    assert canvas.picture_to_widget(QPointF(2550, 0)).x() <= canvas.width() - 16 + 1
    canvas.set_face_box(FaceBox(900, 0, 600, 600))
    assert canvas.image_rect() == fitted


def test_geometry_view_and_folder_are_remembered(
    qtbot: QtBot,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source = tmp_path / "face.png"
    write_picture(source)
    first = MainWindow(settings, load_model=False)
    qtbot.addWidget(first)
    size = (first.minimumSizeHint().width() + 4, 560)  # the offscreen screen is 800 wide
    assert size[0] <= 800
    first.resize(*size)
    first.show()
    open_through_menu(qtbot, first, monkeypatch, source)
    first.set_actual_size(True)
    first.close()
    assert settings.get(WINDOW_GEOMETRY)
    assert settings.get(LAST_FOLDER) == str(tmp_path.resolve())

    second = MainWindow(settings, load_model=False)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size
    assert second.canvas.is_actual_size() and second.actual_size_action.isChecked()
    seen: list[str] = []

    def open_dialog(parent: Any, caption: str, folder: str, filters: str) -> tuple[str, str]:
        seen.append(folder)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_dialog)
    second.open_action.trigger()
    assert seen == [str(tmp_path.resolve())]
    second.close()


def test_closing_while_opening_leaves_no_thread_running(
    qtbot: QtBot, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "big.png"
    write_picture(source, (1500, 1500))
    main_window = MainWindow(settings, load_model=False)
    qtbot.addWidget(main_window)
    main_window.show()
    worker = main_window.open_path(source)

    main_window.close()  # at once, while the picture is still loading

    assert not worker.is_running()
    assert not main_window.busy()
    # The dangling-thread fixture checks again after the test.


def test_about_box_names_the_app(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "about", lambda parent, title, text: shown.append((title, text))
    )
    window.about_action.trigger()
    assert shown and "Neural Face Editor" in shown[0][0]


# --- the canvas -----------------------------------------------------------------------------


def test_pil_to_qimage_copies_pixels_and_alpha() -> None:
    rgb = Image.fromarray(np.arange(5 * 3 * 3, dtype=np.uint8).reshape(3, 5, 3), "RGB")
    alpha = Image.new("L", (5, 3), 128)

    image = pil_to_qimage(rgb, alpha)
    del rgb  # the QImage must own its pixels

    assert image.format() == QImage.Format.Format_RGBA8888
    assert image.pixelColor(4, 2).alpha() == 128
    assert qimage_pixels(image)[2, 4].tolist() == [42, 43, 44]
    with pytest.raises(ValueError, match="RGB"):
        pil_to_qimage(Image.new("L", (2, 2)))


def test_empty_canvas_paints_the_hint(qtbot: QtBot) -> None:
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    grabbed = canvas.grab().toImage()
    corner = grabbed.pixelColor(2, 2)
    assert (corner.red(), corner.green(), corner.blue()) == (0x2B, 0x2B, 0x2B)
    assert canvas.image_rect().isNull()


# --- workers -------------------------------------------------------------------------------


def test_worker_reports_progress_and_result_on_the_ui_thread(qtbot: QtBot) -> None:
    ui_thread = threading.get_ident()
    seen: list[object] = []

    def task(progress: Callable[[int, int], None], should_stop: Callable[[], bool]) -> int:
        for step in range(3):
            progress(step + 1, 3)
        return threading.get_ident()

    worker = Worker(task, name="count")
    worker.progress.connect(lambda step, total: seen.append((step, total, threading.get_ident())))
    worker.succeeded.connect(lambda result: seen.append(("result", result, threading.get_ident())))
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        WorkerGroup().start(worker)

    assert [item[:2] for item in seen[:3]] == [(1, 3), (2, 3), (3, 3)]
    assert seen[3][0] == "result" and seen[3][1] != ui_thread  # the task ran elsewhere
    assert all(item[2] == ui_thread for item in seen)  # every slot ran on the UI thread
    assert not worker.is_running() and worker.is_finished()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        # an expected error carries its own words for the user
        (
            ValueError("strength: expected a number between -5 and 5, got 9"),
            "strength: expected a number between -5 and 5, got 9",
        ),
        # a bug is reported with its kind
        (KeyError("w_avg"), "KeyError: 'w_avg'"),
    ],
)
def test_worker_failure_is_a_message(qtbot: QtBot, error: Exception, message: str) -> None:
    def task(progress: Any, should_stop: Any) -> None:
        raise error

    worker = Worker(task, name="fail")
    with qtbot.waitSignal(worker.failed, timeout=WAIT_MS) as blocker:
        worker.start()
    assert blocker.args == [message]
    worker.wait()


def test_cancel_stops_the_task_and_drops_its_result(qtbot: QtBot) -> None:
    steps: list[int] = []
    outcomes: list[str] = []

    def task(progress: Any, should_stop: Callable[[], bool]) -> str:
        for step in range(1000):
            if should_stop():
                return "stopped early"
            steps.append(step)
            time.sleep(0.002)
        return "ran to the end"

    worker = Worker(task, name="long")
    worker.succeeded.connect(lambda result: outcomes.append(f"succeeded {result}"))
    worker.cancelled.connect(lambda: outcomes.append("cancelled"))
    group = WorkerGroup()
    group.start(worker)
    qtbot.waitUntil(lambda: len(steps) > 3, timeout=WAIT_MS)

    assert group.shutdown(WAIT_MS)  # what a closing window does

    assert not worker.is_running() and group.running() == []
    assert len(steps) < 1000
    qtbot.waitUntil(worker.is_finished, timeout=WAIT_MS)
    assert outcomes == ["cancelled"]


# --- the app ---------------------------------------------------------------------------------


def test_excepthook_logs_and_shows_the_error_in_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, qtbot: QtBot
) -> None:
    shown: list[tuple[str, str, str]] = []
    monkeypatch.setattr(desktop_app, "show_error_dialog", lambda *args: shown.append(args))
    log_path = desktop_app.configure_logging()
    assert log_path is not None
    previous: list[object] = []
    hook = desktop_app.ErrorHook(lambda *args: previous.append(args), log_path)

    try:
        raise RuntimeError("the generator lost its weights")
    except RuntimeError as error:
        hook(type(error), error, error.__traceback__)

    assert len(shown) == 1
    _title, text, details = shown[0]
    assert "RuntimeError: the generator lost its weights" in text
    assert str(log_path) in text and "Traceback" in details
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "the generator lost its weights" in log_path.read_text(encoding="utf-8")
    assert previous == []  # not a KeyboardInterrupt: handled here, not passed on


def test_main_starts_the_app_and_opens_the_picture_given(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "start.png"
    write_picture(source, (32, 32))
    app = QApplication.instance()
    assert app is not None
    titles: list[str] = []

    def quit_when_open() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.picture() is not None:
                titles.append(shown_title(widget))
                app.quit()
                return
        QTimer.singleShot(20, quit_when_open)

    QTimer.singleShot(0, quit_when_open)
    safety_net = QTimer()  # quits a hung test; stopped after, so it cannot end a later loop
    safety_net.setSingleShot(True)
    safety_net.timeout.connect(app.quit)
    safety_net.start(WAIT_MS)

    try:
        status = desktop_app.main([str(source)])
    finally:
        safety_net.stop()

    assert status == 0
    assert titles == ["start.png — Neural Face Editor"]
    assert QApplication.applicationName() == "Neural Face Editor"
    assert QApplication.organizationName() == "NFE"
    assert not QApplication.windowIcon().isNull()
