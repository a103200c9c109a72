"""The canvas as a user drives it: zoom, pan, compare before and after, draw the face box."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from nfe_core.facebox import FaceBox
from nfe_desktop.canvas import MARGIN, Canvas, pil_to_qimage
from tests.mouse import drag, drag_picture, send_mouse

pytestmark = pytest.mark.gui

RED = QColor(220, 30, 30)
BLUE = QColor(30, 60, 220)
PICTURE = (200, 150)


# --- helpers ----------------------------------------------------------------------------------


def solid(color: QColor, size: tuple[int, int] = PICTURE) -> QImage:
    """A picture of one colour."""
    image = QImage(size[0], size[1], QImage.Format.Format_RGB888)
    image.fill(color)
    return image


def wheel(canvas: Canvas, position: QPointF, delta: int) -> None:
    """Turn the mouse wheel by ``delta`` eighths of a degree (120: one notch) at ``position``."""
    event = QWheelEvent(
        position,
        QPointF(canvas.mapToGlobal(position.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, event)


def key(canvas: Canvas, kind: QEvent.Type, which: Qt.Key) -> None:
    """Press or release a key on the canvas."""
    QApplication.sendEvent(canvas, QKeyEvent(kind, which, Qt.KeyboardModifier.NoModifier))


def shown_color(canvas: Canvas, picture_point: tuple[float, float]) -> tuple[int, int, int]:
    """The colour painted where a picture position is drawn."""
    where = canvas.picture_to_widget(QPointF(*picture_point)) * canvas.devicePixelRatioF()
    color = canvas.grab().toImage().pixelColor(where.toPoint())  # device pixels
    return color.red(), color.green(), color.blue()


def rgb(color: QColor) -> tuple[int, int, int]:
    return color.red(), color.green(), color.blue()


def close(a: QPointF, b: QPointF, tolerance: float = 1.0) -> bool:
    return abs(a.x() - b.x()) <= tolerance and abs(a.y() - b.y()) <= tolerance


@pytest.fixture
def canvas(qtbot: QtBot) -> Iterator[Canvas]:
    """A shown 600x450 canvas holding a red 200x150 picture, fitted."""
    widget = Canvas()
    qtbot.addWidget(widget)
    widget.resize(600, 450)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_image(solid(RED))
    yield widget


@pytest.fixture
def editing(canvas: Canvas) -> Canvas:
    """The canvas zoomed to 2 logical px per picture px, box editing on."""
    canvas.set_zoom(2.0 * canvas.devicePixelRatioF())
    canvas.set_box_editing(True)
    return canvas


# --- zoom -------------------------------------------------------------------------------------


def test_fitted_by_default_and_stays_fitted_on_resize(qtbot: QtBot, canvas: Canvas) -> None:
    assert canvas.is_fitted() and not canvas.is_actual_size()
    rect = canvas.image_rect()
    assert canvas.rect().contains(rect)
    assert rect.width() == 600 - 2 * MARGIN or rect.height() == 450 - 2 * MARGIN
    assert canvas.zoom() == pytest.approx(rect.width() * canvas.devicePixelRatioF() / 200, rel=0.01)

    with qtbot.waitSignal(canvas.zoom_changed) as blocker:
        canvas.resize(300, 450)
    assert canvas.is_fitted()
    assert canvas.image_rect().width() == 300 - 2 * MARGIN
    assert blocker.args == [pytest.approx(canvas.zoom())]


def test_actual_size_zoom_in_out_and_limits(canvas: Canvas) -> None:
    ratio = canvas.devicePixelRatioF()
    zooms: list[float] = []
    canvas.zoom_changed.connect(zooms.append)

    canvas.actual_size()
    assert canvas.is_actual_size() and canvas.zoom() == 1.0
    assert canvas.image_rect().size().toTuple() == (round(200 / ratio), round(150 / ratio))
    canvas.zoom_in()
    assert canvas.zoom() == pytest.approx(1.25) and not canvas.is_actual_size()
    canvas.zoom_out()
    assert canvas.zoom() == pytest.approx(1.0)
    canvas.set_zoom(1000)
    assert canvas.zoom() == 32
    canvas.set_zoom(0.0001)
    assert canvas.zoom() == 0.05
    canvas.fit()
    assert canvas.is_fitted() and not canvas.is_actual_size()
    canvas.set_actual_size(True)
    assert canvas.is_actual_size()
    canvas.set_actual_size(False)
    assert canvas.is_fitted()
    assert zooms[:5] == pytest.approx([1.0, 1.25, 1.0, 32, 0.05])
    with pytest.raises(ValueError, match="zoom"):
        canvas.set_zoom(float("nan"))


def test_wheel_zooms_around_the_cursor(canvas: Canvas) -> None:
    ratio = canvas.devicePixelRatioF()
    canvas.set_zoom(4.0 * ratio)  # 800x600 logical: larger than the view, nothing is re-centred
    cursor = QPointF(170, 130)
    under = canvas.widget_to_picture(cursor)

    wheel(canvas, cursor, 120)
    assert canvas.zoom() == pytest.approx(5.0 * ratio)
    assert close(canvas.picture_to_widget(under), cursor)

    wheel(canvas, cursor, -240)
    assert canvas.zoom() == pytest.approx(5.0 * ratio / 1.25**2)
    assert close(canvas.picture_to_widget(under), cursor)


def test_mapping_between_widget_and_picture(canvas: Canvas) -> None:
    canvas.set_zoom(2.0 * canvas.devicePixelRatioF())  # 2 logical px per picture px
    rect = canvas.image_rect()
    assert close(canvas.picture_to_widget(QPointF(0, 0)), QPointF(rect.topLeft()), 0.01)
    assert close(
        canvas.picture_to_widget(QPointF(10, 5)), QPointF(rect.left() + 20, rect.top() + 10)
    )
    point = QPointF(123.5, 77.25)
    assert close(canvas.widget_to_picture(canvas.picture_to_widget(point)), point, 1e-6)


def test_crisp_pixels_when_zoomed_in(canvas: Canvas) -> None:
    image = QImage(2, 1, QImage.Format.Format_RGB888)
    image.setPixelColor(0, 0, QColor(0, 0, 0))
    image.setPixelColor(1, 0, QColor(255, 255, 255))
    canvas.set_image(image)
    canvas.set_zoom(32)
    grabbed = canvas.grab().toImage()  # device pixels
    border = (canvas.picture_to_widget(QPointF(1, 0.5)) * canvas.devicePixelRatioF()).toPoint()
    row, boundary = border.y(), border.x()
    values = {grabbed.pixelColor(x, row).red() for x in range(boundary - 6, boundary + 6)}
    assert values == {0, 255}  # no blended greys at the pixel border


# --- panning ----------------------------------------------------------------------------------


def test_middle_button_pans_within_limits(canvas: Canvas) -> None:
    canvas.set_box_editing(True)  # middle-button panning works while editing the box too
    canvas.set_zoom(8.0)  # 1600x1200 logical
    before = canvas.image_rect()

    drag(canvas, QPointF(300, 200), QPointF(340, 170), Qt.MouseButton.MiddleButton)
    assert canvas.image_rect().topLeft() - before.topLeft() == QPoint(40, -30)
    assert canvas.face_box() is None

    drag(canvas, QPointF(300, 200), QPointF(5000, 5000), Qt.MouseButton.MiddleButton)
    rect = canvas.image_rect()
    assert rect.left() == MARGIN and rect.top() == MARGIN  # cannot leave the view uncovered
    drag(canvas, QPointF(300, 200), QPointF(-5000, -5000), Qt.MouseButton.MiddleButton)
    rect = canvas.image_rect()
    assert rect.right() + 1 == canvas.width() - MARGIN
    assert rect.bottom() + 1 == canvas.height() - MARGIN


def test_panning_reaches_a_box_past_the_picture_edge(canvas: Canvas) -> None:
    """Zoomed in, the picture can be panned as far as the face box reaching past its top
    (by 25 picture pixels, 200 logical at 8x), so that the box's top handles can be seen."""
    canvas.set_face_box(FaceBox(50, -25, 100, 100))
    canvas.set_zoom(8.0 * canvas.devicePixelRatioF())
    drag(canvas, QPointF(300, 200), QPointF(300, 5000), Qt.MouseButton.MiddleButton)
    assert canvas.picture_to_widget(QPointF(50, -25)).y() == pytest.approx(MARGIN, abs=1)
    drag(canvas, QPointF(300, 200), QPointF(5000, 200), Qt.MouseButton.MiddleButton)
    assert canvas.image_rect().left() == MARGIN  # no reach across: the picture's limit
    drag(canvas, QPointF(300, 200), QPointF(300, -5000), Qt.MouseButton.MiddleButton)
    assert canvas.image_rect().bottom() + 1 == canvas.height() - MARGIN


def test_a_picture_smaller_than_the_view_makes_room_for_the_box(canvas: Canvas) -> None:
    """Zoomed so that the picture fits the view but not with the face box reaching 35 picture
    pixels past its top: the picture and the box are centred together where they fit (the
    box's top handles on screen), and can be panned to either end where they do not."""
    canvas.set_face_box(FaceBox(30, -35, 140, 140))
    ratio = canvas.devicePixelRatioF()
    canvas.set_zoom(2.2 * ratio)  # 330 + 77 logical pixels high in a view 450 high
    top = canvas.picture_to_widget(QPointF(30, -35)).y()
    bottom = canvas.height() - (canvas.image_rect().bottom() + 1)
    assert top == pytest.approx(bottom, abs=1) and top > 0
    drag(canvas, QPointF(300, 200), QPointF(300, 5000), Qt.MouseButton.MiddleButton)
    assert canvas.picture_to_widget(QPointF(30, -35)).y() == pytest.approx(top, abs=1)

    canvas.set_zoom(2.5 * ratio)  # 375 + 87.5 high: more than the view
    drag(canvas, QPointF(300, 200), QPointF(300, 5000), Qt.MouseButton.MiddleButton)
    assert canvas.picture_to_widget(QPointF(30, -35)).y() == pytest.approx(MARGIN, abs=1)
    drag(canvas, QPointF(300, 200), QPointF(300, -5000), Qt.MouseButton.MiddleButton)
    assert canvas.image_rect().bottom() + 1 == canvas.height() - MARGIN
    left = canvas.image_rect().left()
    drag(canvas, QPointF(300, 200), QPointF(5000, 200), Qt.MouseButton.MiddleButton)
    assert canvas.image_rect().left() == left  # 500 wide in 600, the box inside: centred


def test_left_drag_pans_a_large_picture_unless_editing_the_box(canvas: Canvas) -> None:
    canvas.set_zoom(8.0)
    before = canvas.image_rect()
    drag(canvas, QPointF(300, 200), QPointF(320, 210))
    assert canvas.image_rect().topLeft() - before.topLeft() == QPoint(20, 10)

    canvas.set_box_editing(True)
    moved = canvas.image_rect()
    drag(canvas, QPointF(300, 200), QPointF(360, 260))
    assert canvas.image_rect() == moved  # it drew a box instead
    assert canvas.face_box() is not None


def test_space_and_left_button_pan_while_editing_the_box(canvas: Canvas) -> None:
    canvas.set_zoom(8.0)
    canvas.set_box_editing(True)
    before = canvas.image_rect()

    key(canvas, QEvent.Type.KeyPress, Qt.Key.Key_Space)
    assert canvas.cursor().shape() == Qt.CursorShape.OpenHandCursor
    drag(canvas, QPointF(300, 200), QPointF(280, 230))
    key(canvas, QEvent.Type.KeyRelease, Qt.Key.Key_Space)

    assert canvas.image_rect().topLeft() - before.topLeft() == QPoint(-20, 30)
    assert canvas.face_box() is None


def test_a_fitted_picture_does_not_pan(canvas: Canvas) -> None:
    before = canvas.image_rect()
    drag(canvas, QPointF(300, 200), QPointF(400, 300), Qt.MouseButton.MiddleButton)
    drag(canvas, QPointF(300, 200), QPointF(400, 300))
    assert canvas.image_rect() == before and canvas.is_fitted()


# --- the face box ---------------------------------------------------------------------------


def test_drawing_makes_a_square_box_announced_on_release(editing: Canvas) -> None:
    changed: list[object] = []
    edited: list[object] = []
    editing.face_box_changed.connect(changed.append)
    editing.face_box_edited.connect(edited.append)
    start = editing.picture_to_widget(QPointF(20, 30))
    end = editing.picture_to_widget(QPointF(80, 50))  # dx 60, dy 20: the larger wins

    send_mouse(
        editing,
        QEvent.Type.MouseButtonPress,
        start,
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
    )
    send_mouse(
        editing, QEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton
    )
    assert editing.face_box() == FaceBox(20, 30, 60, 60)  # shown while dragging
    assert changed == []  # but not announced yet
    send_mouse(
        editing,
        QEvent.Type.MouseButtonRelease,
        end,
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.NoButton,
    )

    assert changed == [FaceBox(20, 30, 60, 60)] and edited == changed
    assert editing.face_box().is_square


def test_drawing_up_and_left_and_the_smallest_box(editing: Canvas) -> None:
    drag_picture(editing, (100, 100), (60, 90))
    assert editing.face_box() == FaceBox(60, 60, 40, 40)

    drag_picture(editing, (150, 20), (152, 21))
    assert editing.face_box() == FaceBox(150, 20, 8, 8)


def test_a_click_without_dragging_keeps_the_box(editing: Canvas) -> None:
    editing.set_face_box(FaceBox(10, 10, 30, 30))
    changed: list[object] = []
    editing.face_box_changed.connect(changed.append)
    drag_picture(editing, (150, 100), (150.5, 100.5))
    assert editing.face_box() == FaceBox(10, 10, 30, 30) and changed == []


def test_the_box_reaches_out_of_the_picture_by_a_quarter_at_most(editing: Canvas) -> None:
    """A face cut by the picture's edge is framed whole: the box may reach past the edge by
    a quarter of its side (the 200 x 150 picture), no further."""
    drag(editing, editing.picture_to_widget(QPointF(180, 100)), QPointF(2000, 1000))
    assert editing.face_box() == FaceBox(180, 100, 26, 26)  # 6 of 26 past the right edge

    drag_picture(editing, (30, 40), (-50, 10))  # up-left, far past the left edge
    assert editing.face_box() == FaceBox(-10, 0, 40, 40)

    editing.set_face_box(FaceBox(40, 40, 50, 50))
    drag_picture(editing, (60, 60), (400, -300))  # moved far up-right
    assert editing.face_box() == FaceBox(162, -12, 50, 50)

    drag_picture(editing, (170, 10), (160, 0))  # the handle-free middle, moved again
    assert editing.face_box() == FaceBox(152, -12, 50, 50)


def test_a_fitted_view_makes_room_for_a_box_reaching_past_the_edge(canvas: Canvas) -> None:
    """The 200 x 150 picture fills the 600 x 450 view (less its margin); a box a quarter
    past its top is fitted with it, so that its handles stay on screen."""
    fitted = canvas.image_rect()
    canvas.set_face_box(FaceBox(50, 20, 100, 100))  # inside: the view as it was
    assert canvas.image_rect() == fitted
    zooms: list[float] = []
    canvas.zoom_changed.connect(zooms.append)
    canvas.set_face_box(FaceBox(50, -25, 100, 100))
    shown = canvas.image_rect()
    assert shown.height() < fitted.height() and zooms  # zoomed out to make room
    top = canvas.picture_to_widget(QPointF(50, -25))
    assert top.y() >= MARGIN - 1 and shown.bottom() <= canvas.height() - MARGIN + 1
    canvas.set_box_editing(True)
    drag_picture(canvas, (100, 25), (100, 75))  # moved back inside on release
    assert canvas.face_box() == FaceBox(50, 25, 100, 100)
    assert canvas.image_rect() == fitted


def test_moving_the_box_by_dragging_inside(editing: Canvas) -> None:
    editing.set_face_box(FaceBox(40, 40, 50, 50))
    changed: list[object] = []
    editing.face_box_changed.connect(changed.append)

    drag_picture(editing, (60, 60), (90, 70))

    assert editing.face_box() == FaceBox(70, 50, 50, 50)
    assert changed == [FaceBox(70, 50, 50, 50)]


def test_resizing_the_box_by_its_corners(editing: Canvas) -> None:
    editing.set_face_box(FaceBox(40, 40, 50, 50))

    drag_picture(editing, (90, 90), (120, 100))  # bottom right; top left stays
    assert editing.face_box() == FaceBox(40, 40, 80, 80)

    drag_picture(editing, (40, 40), (70, 60))  # top left; bottom right (120, 120) stays
    assert editing.face_box() == FaceBox(60, 60, 60, 60)

    drag_picture(editing, (120, 60), (122, 40))  # top right; bottom left (60, 120) stays
    assert editing.face_box() == FaceBox(60, 40, 80, 80)

    drag_picture(editing, (60, 120), (141, 41))  # bottom left past top right: at least 8
    assert editing.face_box() == FaceBox(140, 40, 8, 8)


def test_set_face_box_is_not_an_edit(editing: Canvas) -> None:
    changed: list[object] = []
    editing.face_box_changed.connect(changed.append)
    editing.face_box_edited.connect(changed.append)
    editing.set_face_box((10, 20, 30, 30))
    assert editing.face_box() == FaceBox(10, 20, 30, 30)
    editing.set_face_box(None)
    assert editing.face_box() is None and changed == []
    with pytest.raises(ValueError, match="face box"):
        editing.set_face_box((1, 2, 3))  # type: ignore[arg-type]


def test_without_box_editing_the_box_cannot_be_changed(editing: Canvas) -> None:
    editing.set_face_box(FaceBox(40, 40, 50, 50))
    editing.set_box_editing(False)
    drag_picture(editing, (60, 60), (90, 70))
    drag_picture(editing, (90, 90), (120, 100))
    assert editing.face_box() == FaceBox(40, 40, 50, 50)


def test_cursor_shows_what_a_drag_would_do(editing: Canvas) -> None:
    editing.set_face_box(FaceBox(40, 40, 50, 50))

    def cursor_at(x: float, y: float) -> Qt.CursorShape:
        where = editing.picture_to_widget(QPointF(x, y))
        send_mouse(
            editing, QEvent.Type.MouseMove, where, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton
        )
        return editing.cursor().shape()

    assert cursor_at(60, 60) == Qt.CursorShape.SizeAllCursor
    assert cursor_at(40, 40) == Qt.CursorShape.SizeFDiagCursor
    assert cursor_at(90, 40) == Qt.CursorShape.SizeBDiagCursor
    assert cursor_at(150, 120) == Qt.CursorShape.CrossCursor


def test_set_image_drops_the_box(editing: Canvas) -> None:
    editing.set_face_box(FaceBox(40, 40, 50, 50))
    editing.set_image(solid(BLUE))
    assert editing.face_box() is None


# --- before and after -----------------------------------------------------------------------


def test_split_shows_before_left_and_after_right(canvas: Canvas) -> None:
    canvas.set_after(solid(BLUE))
    assert canvas.compare_mode() == "after"
    assert shown_color(canvas, (50, 75)) == rgb(BLUE)
    assert shown_color(canvas, (150, 75)) == rgb(BLUE)

    modes: list[str] = []
    canvas.compare_mode_changed.connect(modes.append)
    canvas.set_compare_mode("split")
    assert modes == ["split"] and canvas.split_position() == 0.5
    assert shown_color(canvas, (50, 110)) == rgb(RED)
    assert shown_color(canvas, (150, 110)) == rgb(BLUE)

    canvas.set_split_position(0.8)
    assert shown_color(canvas, (150, 110)) == rgb(RED)
    assert shown_color(canvas, (175, 110)) == rgb(BLUE)

    canvas.set_compare_mode("before")
    assert shown_color(canvas, (150, 75)) == rgb(RED)
    assert modes == ["split", "before"]
    with pytest.raises(ValueError, match="compare mode"):
        canvas.set_compare_mode("sideways")


def test_dragging_the_divider_moves_it(canvas: Canvas) -> None:
    canvas.set_after(solid(BLUE))
    canvas.set_compare_mode("split")
    rect = canvas.image_rect()
    start = canvas.picture_to_widget(QPointF(100, 110))
    end = QPointF(rect.left() + 0.2 * rect.width(), start.y() + 15)

    drag(canvas, start, end)

    assert canvas.split_position() == pytest.approx(0.2, abs=0.01)
    assert shown_color(canvas, (30, 110)) == rgb(RED)
    assert shown_color(canvas, (60, 110)) == rgb(BLUE)
    drag(canvas, end, QPointF(-100, end.y()))
    assert canvas.split_position() == 0.0


def test_without_an_edit_every_mode_shows_the_picture(canvas: Canvas) -> None:
    for mode in ("after", "before", "split"):
        canvas.set_compare_mode(mode)
        assert shown_color(canvas, (30, 75)) == rgb(RED)
        assert shown_color(canvas, (170, 75)) == rgb(RED)


def test_set_image_resets_the_after_image(canvas: Canvas) -> None:
    canvas.set_after(solid(BLUE))
    assert canvas.after() is not None
    canvas.set_image(solid(QColor(0, 200, 0)))
    assert canvas.after() is None
    assert shown_color(canvas, (100, 75)) == (0, 200, 0)


def test_set_after_needs_the_picture_size(canvas: Canvas) -> None:
    with pytest.raises(ValueError, match="200 x 150"):
        canvas.set_after(solid(BLUE, (100, 100)))
    canvas.clear()
    with pytest.raises(ValueError, match="no picture"):
        canvas.set_after(solid(BLUE))


# --- painting -----------------------------------------------------------------------------------


def test_checkerboard_under_a_transparent_picture(canvas: Canvas) -> None:
    clear = QImage(200, 150, QImage.Format.Format_ARGB32)
    clear.fill(QColor(0, 0, 0, 0))
    canvas.set_image(clear)
    canvas.actual_size()
    grabbed = canvas.grab().toImage()
    origin = (QPointF(canvas.image_rect().topLeft()) * canvas.devicePixelRatioF()).toPoint()
    seen = {rgb(grabbed.pixelColor(origin + QPoint(dx, 4))) for dx in range(0, 32, 4)}
    assert len(seen) == 2 and (0x2B, 0x2B, 0x2B) not in seen


def test_box_outline_and_dimming(editing: Canvas) -> None:
    editing.set_image(solid(QColor(128, 128, 128)))
    editing.set_zoom(2.0 * editing.devicePixelRatioF())
    editing.set_face_box(FaceBox(50, 40, 60, 60))
    inside = shown_color(editing, (80, 70))
    outside = shown_color(editing, (20, 20))
    assert inside == (128, 128, 128)
    assert outside[0] < 128  # dimmed around the box while editing
    editing.set_box_editing(False)
    assert shown_color(editing, (20, 20)) == (128, 128, 128)


def test_screenshot_split_with_a_box(qtbot: QtBot) -> None:
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(640, 480)
    canvas.show()
    qtbot.waitExposed(canvas)
    ys, xs = np.mgrid[0:192, 0:256].astype(np.uint8)
    before = np.stack([xs, 80 + ys // 3, np.full_like(xs, 120)], axis=2)
    after = np.stack([np.full_like(xs, 60), ys, 255 - xs], axis=2)
    canvas.set_image(pil_to_qimage(Image.fromarray(before, "RGB")))
    canvas.set_after(pil_to_qimage(Image.fromarray(after, "RGB")))
    canvas.set_compare_mode("split")
    canvas.set_split_position(0.55)
    canvas.set_box_editing(True)
    drag_picture(canvas, (70, 40), (180, 120))
    assert canvas.face_box() == FaceBox(70, 40, 110, 110)
    assert canvas.grab().save("/tmp/canvas_split.png")
