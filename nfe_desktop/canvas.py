"""The picture view: paints one image fitted to the widget or at actual size, nothing else."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor(0x2B, 0x2B, 0x2B)
HINT_COLOR = QColor(0xA0, 0xA0, 0xA0)
EMPTY_HINT = "Open a picture (Ctrl+O) or drop one here"
MARGIN = 16
"""Space in logical pixels left around a fitted picture."""


def pil_to_qimage(rgb: Image.Image, alpha: Image.Image | None = None) -> QImage:
    """A QImage that owns a copy of the pixels of ``rgb`` (mode RGB) plus optional ``alpha`` (L).

    Safe to call off the UI thread (QImage, unlike QPixmap, is not tied to it). The returned
    image does not share memory with the PIL images or a temporary ``bytes`` object.
    """
    if rgb.mode != "RGB":
        raise ValueError(f"expected an RGB image, got mode {rgb.mode}")
    if alpha is not None:
        if alpha.mode != "L" or alpha.size != rgb.size:
            raise ValueError(
                f"expected an L alpha of size {rgb.size}, got mode {alpha.mode} size {alpha.size}"
            )
        rgba = rgb.copy()
        rgba.putalpha(alpha)
        data, fmt, channels = rgba.tobytes(), QImage.Format.Format_RGBA8888, 4
    else:
        data, fmt, channels = rgb.tobytes(), QImage.Format.Format_RGB888, 3
    width, height = rgb.size
    # QImage(bytes, ...) borrows the buffer: .copy() makes it own its pixels before `data` dies.
    return QImage(data, width, height, width * channels, fmt).copy()


class Canvas(QWidget):
    """Shows a picture scaled to fit (smooth, aspect kept, centred) or at actual size (panned)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, BACKGROUND)
        self.setPalette(palette)
        self._image: QImage | None = None
        self._actual_size = False
        self._scaled: QImage | None = None  # the fitted image, cached for the current size
        self._pan = QPointF(0.0, 0.0)  # actual-size mode: offset of the image centre, logical px
        self._drag_from: QPoint | None = None

    # --- the model ------------------------------------------------------------------------

    def image(self) -> QImage | None:
        """The picture shown, or None when empty."""
        return self._image

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: show the empty hint)."""
        self._image = image if image is not None and not image.isNull() else None
        self._scaled = None
        self._pan = QPointF(0.0, 0.0)
        self._update_cursor()
        self.update()

    def clear(self) -> None:
        """Show nothing but the hint."""
        self.set_image(None)

    def is_actual_size(self) -> bool:
        """Whether one picture pixel is drawn on one screen pixel (else: fitted)."""
        return self._actual_size

    def set_actual_size(self, actual: bool) -> None:
        """Switch between actual size and fit to window."""
        if actual == self._actual_size:
            return
        self._actual_size = actual
        self._pan = QPointF(0.0, 0.0)
        self._update_cursor()
        self.update()

    # --- geometry ---------------------------------------------------------------------------

    def _actual_display_size(self) -> QSize:
        """The picture's size in logical pixels when one picture pixel is one device pixel."""
        assert self._image is not None
        ratio = self.devicePixelRatioF()
        return QSize(round(self._image.width() / ratio), round(self._image.height() / ratio))

    def image_rect(self) -> QRect:
        """Where the picture is drawn, in the widget's logical pixels (empty when no picture)."""
        if self._image is None:
            return QRect()
        if self._actual_size:
            size = self._actual_display_size()
            pan = self._clamped_pan(self._pan, size)
        else:
            available = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN).size()
            size = self._image.size().scaled(
                available.expandedTo(QSize(1, 1)), Qt.AspectRatioMode.KeepAspectRatio
            )
            pan = QPointF(0.0, 0.0)
        centre = QPointF(self.width() / 2, self.height() / 2) + pan
        top_left = QPoint(
            round(centre.x() - size.width() / 2), round(centre.y() - size.height() / 2)
        )
        return QRect(top_left, size)

    def _clamped_pan(self, pan: QPointF, size: QSize) -> QPointF:
        """Limit panning so that a picture larger than the view always covers it."""
        slack_x = max(0.0, (size.width() - self.width()) / 2 + MARGIN)
        slack_y = max(0.0, (size.height() - self.height()) / 2 + MARGIN)
        if size.width() <= self.width():
            slack_x = 0.0
        if size.height() <= self.height():
            slack_y = 0.0
        return QPointF(min(slack_x, max(-slack_x, pan.x())), min(slack_y, max(-slack_y, pan.y())))

    def _can_pan(self) -> bool:
        """Whether the picture is larger than the view (actual-size mode only)."""
        if self._image is None or not self._actual_size:
            return False
        ratio = self.devicePixelRatioF()
        return (
            self._image.width() / ratio > self.width()
            or self._image.height() / ratio > self.height()
        )

    def _update_cursor(self) -> None:
        """An open hand where the picture can be dragged, the normal arrow elsewhere."""
        if self._can_pan():
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    # --- painting ---------------------------------------------------------------------------

    def _fitted_image(self, target: QRect) -> QImage:
        """The picture resampled (smoothly) to ``target`` in device pixels, cached."""
        assert self._image is not None
        ratio = self.devicePixelRatioF()
        device_size = QSize(round(target.width() * ratio), round(target.height() * ratio))
        if device_size == self._image.size():
            return self._image
        if self._scaled is None or self._scaled.size() != device_size:
            self._scaled = self._image.scaled(
                device_size,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._scaled.setDevicePixelRatio(ratio)
        return self._scaled

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the background, then the picture or the empty hint."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            painter.setPen(HINT_COLOR)
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.25)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)
            painter.end()
            return
        target = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._actual_size:
            painter.drawImage(target, self._image)
        else:
            painter.drawImage(target.topLeft(), self._fitted_image(target))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the cursor right when the view grows or shrinks."""
        super().resizeEvent(event)
        self._update_cursor()

    # --- panning (actual size) --------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start dragging the picture around when it is larger than the view."""
        if event.button() == Qt.MouseButton.LeftButton and self._can_pan():
            self._drag_from = event.position().toPoint()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Move the picture with the mouse while dragging."""
        if self._drag_from is not None:
            position = event.position().toPoint()
            moved = self._pan + QPointF(position - self._drag_from)
            self._pan = self._clamped_pan(moved, self._actual_display_size())
            self._drag_from = position
            self.update()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Stop dragging."""
        if self._drag_from is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = None
            self._update_cursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)
