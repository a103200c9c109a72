"""The mouse as a user moves it over a widget (the canvas): press, move, release."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from nfe_desktop.canvas import Canvas


def send_mouse(
    canvas: QWidget,
    kind: QEvent.Type,
    position: QPointF,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
) -> None:
    """Deliver one mouse event to the canvas, with the buttons held as a real mouse says."""
    global_position = QPointF(canvas.mapToGlobal(position.toPoint()))
    event = QMouseEvent(
        kind, position, global_position, button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(canvas, event)


def drag(
    canvas: QWidget,
    start: QPointF,
    end: QPointF,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    steps: int = 4,
) -> None:
    """Press at ``start``, move to ``end`` in a few steps, release there (widget coordinates)."""
    no_button = Qt.MouseButton.NoButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, start, button, button)
    for step in range(1, steps + 1):
        point = start + (end - start) * (step / steps)
        send_mouse(canvas, QEvent.Type.MouseMove, point, no_button, button)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, end, button, no_button)


def drag_picture(canvas: Canvas, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A left drag between two picture positions."""
    drag(
        canvas,
        canvas.picture_to_widget(QPointF(*start)),
        canvas.picture_to_widget(QPointF(*end)),
    )
