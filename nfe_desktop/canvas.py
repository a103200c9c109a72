"""The picture view: before/after comparison, zoom and pan, and the face box the GAN sees.

One widget paints everything in one ``paintEvent``: the dark background (or the empty hint),
a checkerboard under transparent pictures, the picture (the artist's original, "before") or
its edited version ("after"), or both side by side around a draggable divider ("split"),
and the face box. Picture geometry is kept in two coordinate systems: the widget's logical
pixels and picture pixels; :meth:`Canvas.widget_to_picture` and
:meth:`Canvas.picture_to_widget` convert between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFocusEvent,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from nfe_core.facebox import FaceBox, box_reach, fit_box, largest_side, overhang

BACKGROUND = QColor(0x2B, 0x2B, 0x2B)
HINT_COLOR = QColor(0xA0, 0xA0, 0xA0)
EMPTY_HINT = "Open a picture (Ctrl+O) or drop one here"
MARGIN = 16
"""Space in logical pixels left around a fitted picture."""

MIN_ZOOM = 0.05
MAX_ZOOM = 32.0
ZOOM_STEP = 1.25
"""Zoom factor of one wheel notch, :meth:`Canvas.zoom_in` and :meth:`Canvas.zoom_out`."""
CRISP_ZOOM = 2.0
"""From this zoom on, picture pixels are drawn as crisp squares (nearest neighbour) when the
user zoomed in to look at them; a picture fitted to the window is always drawn smoothly."""
MIN_BOX = 8
"""The smallest face box side the user can draw, in picture pixels."""
COMPARE_MODES = ("after", "before", "split")

LIGHT = QColor(0xF2, 0xF2, 0xF2)
SHADOW = QColor(0, 0, 0, 170)
DIM = QColor(0, 0, 0, 100)
LABEL_BACKGROUND = QColor(0, 0, 0, 150)
CHECKER_LIGHT = QColor(0x99, 0x99, 0x99)
CHECKER_DARK = QColor(0x66, 0x66, 0x66)
CHECKER_SQUARE = 8
HANDLE_SIZE = 8.0
"""Side of a face box corner handle, logical pixels."""
HANDLE_REACH = 7.0
"""How far from a corner (logical pixels) a press still grabs its handle."""
DIVIDER_REACH = 6.0
"""How far from the split divider (logical pixels) a press still grabs it."""
KNOB_RADIUS = 11.0
DRAG_THRESHOLD = 3.0
"""Logical pixels the pointer must travel before a press on the picture draws a new box."""


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


class _DragKind(Enum):
    """What a mouse drag on the canvas does."""

    PAN = "pan"
    DRAW = "draw"
    MOVE = "move"
    RESIZE = "resize"
    SPLIT = "split"


@dataclass
class _Drag:
    """A drag in progress: what it does, where it began and the box as it was then."""

    kind: _DragKind
    button: Qt.MouseButton
    press: QPointF
    """Widget position of the press."""
    last: QPointF
    """Widget position of the latest move (panning)."""
    box: FaceBox | None
    """The face box when the drag began (restored by Escape)."""
    anchor: QPointF
    """Picture point that stays fixed while drawing or resizing (the opposite corner)."""
    grab_offset: QPointF
    """Picture offset from the pointer to the grabbed corner at the press (resizing)."""
    corner: int = -1
    started: bool = False


_CORNER_CURSORS = (
    Qt.CursorShape.SizeFDiagCursor,  # top left
    Qt.CursorShape.SizeBDiagCursor,  # top right
    Qt.CursorShape.SizeFDiagCursor,  # bottom right
    Qt.CursorShape.SizeBDiagCursor,  # bottom left
)


def _box_corners(box: FaceBox) -> tuple[QPointF, QPointF, QPointF, QPointF]:
    """The box's corners in picture pixels: top left, top right, bottom right, bottom left."""
    return (
        QPointF(box.x, box.y),
        QPointF(box.right, box.y),
        QPointF(box.right, box.bottom),
        QPointF(box.x, box.bottom),
    )


def _room(anchor: int, forward: bool, length: int) -> int:
    """The largest side of a box from ``anchor`` onwards (``forward``) or back along an axis
    of ``length`` pixels that reaches out of it by at most its
    :func:`~nfe_core.facebox.box_reach`."""
    start = anchor if forward else length - anchor
    side = largest_side(length - max(start, 0))
    while side > 0 and max(0, -start) + max(0, start + side - length) > box_reach(side):
        side -= 1
    return side


def _square_box(anchor: QPointF, pointer: QPointF, width: int, height: int) -> FaceBox:
    """The square box spanned from the ``anchor`` corner towards ``pointer`` (picture pixels).

    The side is the larger of the two distances, at least :data:`MIN_BOX`, and limited so
    that the box reaches outside a ``width x height`` picture by at most
    :data:`~nfe_core.facebox.OUTSIDE` of its side (a face cut by the picture's edge is
    framed whole).
    """
    ax, ay = round(anchor.x()), round(anchor.y())
    dx, dy = pointer.x() - ax, pointer.y() - ay
    right, down = dx >= 0, dy >= 0
    side = round(max(abs(dx), abs(dy)))
    side = min(side, _room(ax, right, width), _room(ay, down, height))
    side = max(side, MIN_BOX)
    x = ax if right else ax - side
    y = ay if down else ay - side
    return fit_box(FaceBox(x, y, side, side), width, height)


class Canvas(QWidget):
    """Shows the picture (and its edit) with zoom, pan, a before/after split and the face box.

    Signals:
        zoom_changed(float): the effective zoom changed (also while fitted, e.g. on resize).
        compare_mode_changed(str): ``"after"``, ``"before"`` or ``"split"``.
        face_box_changed(object): the user finished drawing, moving or resizing the face box
            (emitted on mouse release with the new :class:`FaceBox`; never during a drag, never
            for :meth:`set_face_box`).
        face_box_edited(object): the same event as ``face_box_changed``, for code that wants
            to say "a user edit" explicitly.
    """

    zoom_changed = Signal(float)
    compare_mode_changed = Signal(str)
    face_box_changed = Signal(object)
    face_box_edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setAutoFillBackground(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, BACKGROUND)
        self.setPalette(palette)
        self._image: QImage | None = None
        self._patch: QImage | None = None  # the edited face box (or the whole edited picture)
        self._patch_box: FaceBox | None = None  # where the patch goes, in picture pixels
        self._after: QImage | None = None  # the whole edited picture, made on demand
        self._scaled: dict[str, QImage] = {}  # zoomed-out images, cached for the current size
        self._mode = "after"
        self._split = 0.5
        self._fitted = True
        self._zoom = 1.0  # when not fitted: picture pixels to device pixels
        self._pan = QPointF(0.0, 0.0)  # offset of the picture centre from the view's, logical px
        self._emitted_zoom = 1.0
        self._box: FaceBox | None = None
        self._fit_box: FaceBox | None = None  # the box a fitted view makes room for
        self._box_editing = False
        self._space_held = False
        self._drag: _Drag | None = None
        self._checker: QBrush | None = None

    # --- the pictures -----------------------------------------------------------------------

    def image(self) -> QImage | None:
        """The picture (the artist's original, "before"), or None when empty."""
        return self._image

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: show the empty hint).

        Drops the edited image and the face box (they belong to the previous picture) and
        re-centres the view; the zoom (fitted or a factor) is kept.
        """
        self._image = image if image is not None and not image.isNull() else None
        self._patch, self._patch_box, self._after = None, None, None
        self._box = self._fit_box = None
        self._drag = None
        self._scaled.clear()
        self._pan = QPointF(0.0, 0.0)
        self._view_changed()

    def clear(self) -> None:
        """Show nothing but the hint."""
        self.set_image(None)

    def after(self) -> QImage | None:
        """The whole edited picture (the picture with the edited box drawn in), or None when
        there is no edit yet. Made on demand and kept until the edit changes."""
        if self._patch is None or self._image is None or self._patch_box is None:
            return None
        if self._after is None:
            box = self._patch_box
            if box == FaceBox(0, 0, self._image.width(), self._image.height()) and (
                self._patch.size() == self._image.size()
            ):
                self._after = self._patch
            else:
                after = self._image.convertToFormat(QImage.Format.Format_ARGB32)
                painter = QPainter(after)
                painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                painter.drawImage(QRectF(box.x, box.y, box.w, box.h), self._patch)
                painter.end()
                self._after = after
        return self._after

    def set_after(self, image: QImage | None) -> None:
        """Show ``image`` as the edited version of the whole picture (None: no edit yet).

        Raises:
            ValueError: there is no picture, or ``image`` is not the picture's size.
        """
        if image is not None and image.isNull():
            image = None
        if image is not None:
            if self._image is None:
                raise ValueError("set_after: there is no picture to show an edit of")
            if image.size() != self._image.size():
                raise ValueError(
                    f"set_after: expected an image of the picture's size "
                    f"{self._image.width()} x {self._image.height()}, "
                    f"got {image.width()} x {image.height()}"
                )
            self.set_after_patch(image, FaceBox(0, 0, image.width(), image.height()))
        else:
            self.set_after_patch(None, None)

    def set_after_patch(self, patch: QImage | None, box: FaceBox | None) -> None:
        """Show the edit as ``patch`` drawn over ``box`` of the picture (scaled to it: a
        shrunk patch is a quick preview of a big picture's face). None: no edit yet.

        Only the box is redrawn per edit; the picture's scaled copy stays cached.

        Raises:
            ValueError: there is no picture, or the box is not inside it.
        """
        if patch is not None and (patch.isNull() or box is None):
            raise ValueError("set_after_patch: a patch needs an image and a box")
        if patch is not None and box is not None:
            if self._image is None:
                raise ValueError("set_after_patch: there is no picture to show an edit of")
            if box.right > self._image.width() or box.bottom > self._image.height():
                raise ValueError(f"set_after_patch: the box {box} is not inside the picture")
        self._patch, self._patch_box = (patch, box) if patch is not None else (None, None)
        self._after = None
        self._update_cursor()
        self.update()

    def compare_mode(self) -> str:
        """``"after"`` (the edit), ``"before"`` (the original) or ``"split"`` (both)."""
        return self._mode

    def set_compare_mode(self, mode: str) -> None:
        """Show the edit, the original, or the original left and the edit right of a divider.

        Without an edited image every mode shows the picture.

        Raises:
            ValueError: ``mode`` is not one of ``"after"``, ``"before"``, ``"split"``.
        """
        if mode not in COMPARE_MODES:
            raise ValueError(f"compare mode: expected one of {COMPARE_MODES}, got {mode!r}")
        if mode == self._mode:
            return
        self._mode = mode
        self._update_cursor()
        self.update()
        self.compare_mode_changed.emit(mode)

    def split_position(self) -> float:
        """Where the split divider is, as a share of the picture's width (0: left edge)."""
        return self._split

    def set_split_position(self, position: float) -> None:
        """Move the split divider to ``position`` (a share of the width, clamped to 0..1)."""
        if not math.isfinite(position):
            raise ValueError(f"split position: expected a number from 0 to 1, got {position!r}")
        self._split = min(max(float(position), 0.0), 1.0)
        self.update()

    # --- zoom -------------------------------------------------------------------------------

    def zoom(self) -> float:
        """The effective zoom: device pixels per picture pixel (also when fitted)."""
        if self._fitted and self._image is not None:
            return self._target().width() * self.devicePixelRatioF() / self._image.width()
        return self._zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` (clamped to 0.05..32), keeping the picture point under ``anchor``.

        ``anchor`` is a widget position (logical pixels); None means the view's centre. A
        picture smaller than the view is centred instead.
        """
        if not math.isfinite(zoom) or zoom <= 0:
            raise ValueError(f"zoom: expected a positive number, got {zoom!r}")
        zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        if self._image is None:
            self._fitted, self._zoom, self._pan = False, zoom, QPointF(0.0, 0.0)
            self._view_changed()
            return
        point = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        under = self.widget_to_picture(point)
        self._fitted, self._zoom = False, zoom
        width, height = self._zoomed_size()
        pan = QPointF(
            point.x() - under.x() * width / self._image.width() - (self.width() - width) / 2,
            point.y() - under.y() * height / self._image.height() - (self.height() - height) / 2,
        )
        self._pan = self._clamped_pan(pan, width, height)
        self._view_changed()

    def zoom_in(self) -> None:
        """Zoom in one step around the view's centre."""
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        """Zoom out one step around the view's centre."""
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def fit(self) -> None:
        """Fit the picture to the view (the default); it stays fitted as the view resizes."""
        self._fitted, self._zoom, self._pan = True, 1.0, QPointF(0.0, 0.0)
        self._view_changed()

    def is_fitted(self) -> bool:
        """Whether the picture is fitted to the view."""
        return self._fitted

    def actual_size(self) -> None:
        """Zoom to 100%: one picture pixel on one device pixel."""
        self.set_zoom(1.0)

    def is_actual_size(self) -> bool:
        """Whether one picture pixel is drawn on one device pixel (and not merely fitted so)."""
        return not self._fitted and abs(self._zoom - 1.0) < 1e-9

    def set_actual_size(self, actual: bool) -> None:
        """Switch between actual size (True) and fit to window (False)."""
        if actual:
            self.actual_size()
        else:
            self.fit()

    # --- the face box -----------------------------------------------------------------------

    def face_box(self) -> FaceBox | None:
        """The face box in picture pixels, or None."""
        return self._box

    def set_face_box(self, box: FaceBox | tuple[int, int, int, int] | None) -> None:
        """Show ``box`` (picture pixels, or an ``(x, y, w, h)`` tuple) as the face box.

        Emits no signal: those are for the user's edits.
        """
        if box is not None and not isinstance(box, FaceBox):
            if not isinstance(box, tuple | list) or len(box) != 4:
                raise ValueError(f"face box: expected a FaceBox or (x, y, w, h), got {box!r}")
            box = FaceBox(*box)
        self._box = box
        self._fit_to(box)

    def _fit_to(self, box: FaceBox | None) -> None:
        """Make room in a fitted view for ``box`` where it reaches past the picture's edge
        (its handles stay on screen); then repaint. Not during a drag: the view would move
        under the pointer."""
        self._fit_box = box
        self._view_changed()

    def box_editing(self) -> bool:
        """Whether the user can draw, move and resize the face box with the mouse."""
        return self._box_editing

    def set_box_editing(self, editing: bool) -> None:
        """Let the user draw, move and resize the face box (True), or only show it (False)."""
        self._box_editing = bool(editing)
        self._update_cursor()
        self.update()

    # --- geometry ---------------------------------------------------------------------------

    def image_rect(self) -> QRect:
        """Where the picture is drawn, in the widget's logical pixels (empty when no picture)."""
        if self._image is None:
            return QRect()
        if self._fitted:
            return self._fitted_rect()
        target = self._target()
        return QRect(
            QPoint(round(target.left()), round(target.top())),
            QSize(round(target.width()), round(target.height())),
        )

    def widget_to_picture(self, point: QPointF) -> QPointF:
        """The picture position (pixels, fractional) under widget ``point`` (logical pixels).

        Without a picture, ``point`` itself.
        """
        if self._image is None:
            return QPointF(point)
        target = self._target()
        return QPointF(
            (point.x() - target.left()) * self._image.width() / target.width(),
            (point.y() - target.top()) * self._image.height() / target.height(),
        )

    def picture_to_widget(self, point: QPointF) -> QPointF:
        """Where picture position ``point`` (pixels) is drawn in the widget (logical pixels).

        Without a picture, ``point`` itself.
        """
        if self._image is None:
            return QPointF(point)
        target = self._target()
        return QPointF(
            target.left() + point.x() * target.width() / self._image.width(),
            target.top() + point.y() * target.height() / self._image.height(),
        )

    def _fitted_rect(self) -> QRect:
        """The picture fitted into the view less :data:`MARGIN`, aspect kept, centred; with
        the face box where it reaches past the picture's edge (both fitted and centred)."""
        assert self._image is not None
        available = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN).size()
        available = available.expandedTo(QSize(1, 1))
        width, height = self._image.width(), self._image.height()
        shown = QRectF(0, 0, width, height)
        if self._fit_box is not None:
            box = self._fit_box
            shown = shown.united(QRectF(box.x, box.y, box.w, box.h))
        scale = min(available.width() / shown.width(), available.height() / shown.height())
        # Rounded, not truncated (as QSize.scaled does), to keep the aspect ratio closest.
        size = QSize(max(1, round(width * scale)), max(1, round(height * scale)))
        # the middle of what is shown at the view's middle
        off_x = (shown.center().x() - width / 2) * scale
        off_y = (shown.center().y() - height / 2) * scale
        top_left = QPoint(
            round(self.width() / 2 - size.width() / 2 - off_x),
            round(self.height() / 2 - size.height() / 2 - off_y),
        )
        return QRect(top_left, size)

    def _zoomed_size(self) -> tuple[float, float]:
        """The picture's size in logical pixels at the zoom factor."""
        assert self._image is not None
        scale = self._zoom / self.devicePixelRatioF()
        return self._image.width() * scale, self._image.height() * scale

    def _target(self) -> QRectF:
        """Where the picture is drawn, exactly, in logical pixels (empty when no picture)."""
        if self._image is None:
            return QRectF()
        if self._fitted:
            return QRectF(self._fitted_rect())
        width, height = self._zoomed_size()
        pan = self._clamped_pan(self._pan, width, height)
        ratio = self.devicePixelRatioF()
        left = round((self.width() / 2 + pan.x() - width / 2) * ratio) / ratio
        top = round((self.height() / 2 + pan.y() - height / 2) * ratio) / ratio
        return QRectF(left, top, width, height)

    def _clamped_pan(self, pan: QPointF, width: float, height: float) -> QPointF:
        """Limit panning: the picture, with the face box where it reaches past the picture's
        edge, covers the view when larger (and can be panned as far as either end), and is
        centred when smaller."""
        before_x, before_y, after_x, after_y = self._reach(width)
        x = self._pan_along(pan.x(), width, self.width(), before_x, after_x)
        y = self._pan_along(pan.y(), height, self.height(), before_y, after_y)
        return QPointF(x, y)

    def _reach(self, width: float) -> tuple[float, float, float, float]:
        """How far the face box reaches past the picture's left, top, right and bottom edges
        (0 where it does not), in logical pixels with the picture ``width`` long."""
        if self._image is None or self._fit_box is None:
            return 0.0, 0.0, 0.0, 0.0
        k = width / self._image.width()
        left, top, right, bottom = overhang(
            self._fit_box, self._image.width(), self._image.height()
        )
        return left * k, top * k, right * k, bottom * k

    @staticmethod
    def _pan_along(pan: float, size: float, view: int, before: float, after: float) -> float:
        """:meth:`_clamped_pan` along one axis: the picture ``size`` long in a ``view`` as
        long, the box reaching ``before`` and ``after`` past its two ends."""
        if before + size + after <= view:
            return (before - after) / 2  # the picture and the box, centred
        slack = (size - view) / 2 + MARGIN
        return min(slack + before, max(-slack - after, pan))

    def _can_pan(self) -> bool:
        """Whether the picture (with the face box reaching past its edge) is larger than the
        view."""
        if self._image is None or self._fitted:
            return False
        width, height = self._zoomed_size()
        before_x, before_y, after_x, after_y = self._reach(width)
        return (
            before_x + width + after_x > self.width() or before_y + height + after_y > self.height()
        )

    def _split_shown(self) -> bool:
        """Whether the before/after divider is on screen."""
        return self._image is not None and self._patch is not None and self._mode == "split"

    def _divider_x(self, target: QRectF) -> float:
        """The divider's x in the widget, on a whole device pixel."""
        ratio = self.devicePixelRatioF()
        return round((target.left() + self._split * target.width()) * ratio) / ratio

    def _box_widget_rect(self, box: FaceBox) -> QRectF:
        """The face box in widget coordinates (logical pixels)."""
        return QRectF(
            self.picture_to_widget(QPointF(box.x, box.y)),
            self.picture_to_widget(QPointF(box.right, box.bottom)),
        )

    def _view_changed(self) -> None:
        """Repaint, fix the cursor, and say if the effective zoom changed."""
        self._update_cursor()
        self.update()
        zoom = self.zoom()
        if abs(zoom - self._emitted_zoom) > 1e-9:
            self._emitted_zoom = zoom
            self.zoom_changed.emit(zoom)

    # --- hit testing and cursors ------------------------------------------------------------

    def _hit(self, position: QPointF) -> tuple[_DragKind | None, int]:
        """What a left press at widget ``position`` would do, and which corner it grabs."""
        if self._image is None:
            return None, -1
        target = self._target()
        visible = target.intersected(QRectF(self.rect()))
        box = self._box if self._box_editing else None
        if box is not None:
            for corner, point in enumerate(_box_corners(box)):
                where = self.picture_to_widget(point)
                if (
                    abs(where.x() - position.x()) <= HANDLE_REACH
                    and abs(where.y() - position.y()) <= HANDLE_REACH
                ):
                    return _DragKind.RESIZE, corner
        if (
            self._split_shown()
            and visible.top() <= position.y() <= visible.bottom()
            and abs(position.x() - self._divider_x(target)) <= DIVIDER_REACH
        ):
            return _DragKind.SPLIT, -1
        if box is not None and self._box_widget_rect(box).contains(position):
            return _DragKind.MOVE, -1
        if self._box_editing and target.contains(position):
            return _DragKind.DRAW, -1
        if self._can_pan():
            return _DragKind.PAN, -1
        return None, -1

    def _cursor_for(self, kind: _DragKind | None, corner: int, dragging: bool) -> Qt.CursorShape:
        """The cursor shape that says what a drag of ``kind`` does."""
        if kind is _DragKind.PAN:
            return Qt.CursorShape.ClosedHandCursor if dragging else Qt.CursorShape.OpenHandCursor
        if kind is _DragKind.RESIZE:
            return _CORNER_CURSORS[corner]
        if kind is _DragKind.MOVE:
            return Qt.CursorShape.SizeAllCursor
        if kind is _DragKind.DRAW:
            return Qt.CursorShape.CrossCursor
        if kind is _DragKind.SPLIT:
            return Qt.CursorShape.SplitHCursor
        return Qt.CursorShape.ArrowCursor

    def _update_cursor(self, position: QPointF | None = None) -> None:
        """Set the cursor for the drag in progress, or for what a press under it would do."""
        if self._drag is not None:
            self.setCursor(self._cursor_for(self._drag.kind, self._drag.corner, True))
            return
        if self._image is None:
            self.unsetCursor()
            return
        if self._space_held:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if position is None:
            position = QPointF(self.mapFromGlobal(QCursor.pos()))
        kind, corner = self._hit(position)
        if kind is None:
            self.unsetCursor()
        else:
            self.setCursor(self._cursor_for(kind, corner, False))

    # --- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the background, then the picture(s), the face box and the divider."""
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
        target = self._target()
        visible = target.intersected(QRectF(self.rect()))
        if visible.isEmpty():
            painter.end()
            return
        patch = self._patch
        if self._image.hasAlphaChannel() or (patch is not None and patch.hasAlphaChannel()):
            painter.setBrushOrigin(target.topLeft())
            painter.fillRect(visible, self._checker_brush())
        self._paint_picture(painter, self._image, "before", target, visible)
        if patch is not None and self._mode != "before":
            edited = visible
            if self._mode == "split":
                x = min(max(self._divider_x(target), visible.left()), visible.right())
                edited = QRectF(x, visible.top(), visible.right() - x, visible.height())
            self._paint_patch(painter, patch, edited)
        if self._box is not None:
            self._paint_box(painter, self._box, visible)
        if self._split_shown():
            self._paint_divider(painter, target, visible)
        painter.end()

    def _paint_picture(
        self, painter: QPainter, image: QImage, key: str, target: QRectF, clip: QRectF
    ) -> None:
        """Draw ``image`` onto ``target``, only inside ``clip``.

        Zoomed out, a smoothly shrunk copy is cached per image; zoomed in, only the visible
        pixels are drawn, smoothly below :data:`CRISP_ZOOM` and as crisp squares from it.
        """
        if clip.width() <= 0 or clip.height() <= 0:
            return
        painter.save()
        painter.setClipRect(clip)
        ratio = self.devicePixelRatioF()
        device = QSize(round(target.width() * ratio), round(target.height() * ratio))
        if device.width() < image.width() and device.height() >= 1:
            scaled = self._scaled.get(key)
            if scaled is None or scaled.size() != device:
                scaled = image.scaled(
                    device,
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                self._scaled[key] = scaled
            painter.drawImage(target, scaled)
        else:
            crisp = not self._fitted and device.width() >= CRISP_ZOOM * image.width()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not crisp)
            scale_x = image.width() / target.width()
            scale_y = image.height() / target.height()
            left = max(0, math.floor((clip.left() - target.left()) * scale_x))
            top = max(0, math.floor((clip.top() - target.top()) * scale_y))
            right = min(image.width(), math.ceil((clip.right() - target.left()) * scale_x))
            bottom = min(image.height(), math.ceil((clip.bottom() - target.top()) * scale_y))
            if right > left and bottom > top:
                source = QRectF(left, top, right - left, bottom - top)
                destination = QRectF(
                    target.left() + left / scale_x,
                    target.top() + top / scale_y,
                    (right - left) / scale_x,
                    (bottom - top) / scale_y,
                )
                painter.drawImage(destination, image, source)
        painter.restore()

    def _paint_patch(self, painter: QPainter, patch: QImage, clip: QRectF) -> None:
        """Draw the edited box over the picture, inside ``clip``: crisp pixels when each
        of the patch's pixels covers at least :data:`CRISP_ZOOM` device pixels."""
        assert self._patch_box is not None
        rect = self._box_widget_rect(self._patch_box)
        area = clip.intersected(rect)
        if area.isEmpty():
            return
        painter.save()
        painter.setClipRect(area)
        if patch.hasAlphaChannel():  # the box's transparent pixels replace, not blend
            painter.fillRect(area, self._checker_brush())
        device_width = rect.width() * self.devicePixelRatioF()
        crisp = not self._fitted and device_width >= CRISP_ZOOM * patch.width()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not crisp)
        painter.drawImage(rect, patch)
        painter.restore()

    def _checker_brush(self) -> QBrush:
        """A grey checkerboard brush, shown under transparent pixels."""
        if self._checker is None:
            tile = QImage(2 * CHECKER_SQUARE, 2 * CHECKER_SQUARE, QImage.Format.Format_RGB32)
            tile.fill(CHECKER_LIGHT)
            tile_painter = QPainter(tile)
            tile_painter.fillRect(0, 0, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_DARK)
            tile_painter.fillRect(
                CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_DARK
            )
            tile_painter.end()
            self._checker = QBrush(tile)
        return self._checker

    def _paint_box(self, painter: QPainter, box: FaceBox, visible: QRectF) -> None:
        """The face box: dimmed outside, outlined and with corner handles while editing;
        a thin dashed outline otherwise."""
        exact = self._box_widget_rect(box)
        rect = QRectF(exact.toRect())
        painter.save()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if not self._box_editing:
            painter.setPen(QPen(SHADOW, 1))
            painter.drawRect(rect)
            dashed = QPen(LIGHT, 1, Qt.PenStyle.CustomDashLine)
            dashed.setDashPattern([4.0, 4.0])
            painter.setPen(dashed)
            painter.drawRect(rect)
            painter.restore()
            return
        outside = QPainterPath()
        outside.setFillRule(Qt.FillRule.OddEvenFill)
        outside.addRect(visible)
        outside.addRect(rect.intersected(visible))
        painter.fillPath(outside, DIM)
        painter.setPen(QPen(SHADOW, 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.SquareCap))
        painter.drawRect(rect)
        painter.setPen(QPen(LIGHT, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.SquareCap))
        painter.drawRect(rect)
        painter.setPen(QPen(SHADOW, 1))
        painter.setBrush(LIGHT)
        half = HANDLE_SIZE / 2
        for corner in (rect.topLeft(), rect.topRight(), rect.bottomRight(), rect.bottomLeft()):
            painter.drawRect(QRectF(corner.x() - half, corner.y() - half, HANDLE_SIZE, HANDLE_SIZE))
        painter.restore()

    def _paint_divider(self, painter: QPainter, target: QRectF, visible: QRectF) -> None:
        """The split divider with its knob, and the "Before" / "After" labels."""
        x = self._divider_x(target)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        pad, inset = 5.0, 8.0
        for text, on_left in (("Before", True), ("After", False)):
            width = metrics.horizontalAdvance(text) + 2 * pad
            height = metrics.height() + pad
            left = visible.left() + inset if on_left else visible.right() - inset - width
            label = QRectF(left, visible.top() + inset, width, height)
            side = (
                QRectF(visible.left(), visible.top(), x - visible.left(), visible.height())
                if on_left
                else QRectF(x, visible.top(), visible.right() - x, visible.height())
            )
            painter.setClipRect(side)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(LABEL_BACKGROUND)
            painter.drawRoundedRect(label, 4.0, 4.0)
            painter.setPen(LIGHT)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)
        painter.setClipping(False)
        if visible.left() <= x <= visible.right():
            painter.setPen(QPen(SHADOW, 3))
            painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))
            painter.setPen(QPen(LIGHT, 1))
            painter.drawLine(QPointF(x, visible.top()), QPointF(x, visible.bottom()))
            centre = QPointF(x, visible.center().y())
            painter.setPen(QPen(SHADOW, 1))
            painter.setBrush(LIGHT)
            painter.drawEllipse(centre, KNOB_RADIUS, KNOB_RADIUS)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0x40, 0x40, 0x40))
            for direction in (-1.0, 1.0):
                tip = centre.x() + direction * 7.0
                base = centre.x() + direction * 2.5
                painter.drawPolygon(
                    QPolygonF(
                        [
                            QPointF(tip, centre.y()),
                            QPointF(base, centre.y() - 4.0),
                            QPointF(base, centre.y() + 4.0),
                        ]
                    )
                )
        painter.restore()

    # --- events -----------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep a fitted picture fitted, and a panned one inside its limits."""
        super().resizeEvent(event)
        if self._image is not None and not self._fitted:
            self._pan = self._clamped_pan(self._pan, *self._zoomed_size())
        self._view_changed()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Zoom in or out by :data:`ZOOM_STEP` per notch around the pointer."""
        notches = event.angleDelta().y() / 120
        if self._image is None or notches == 0:
            super().wheelEvent(event)
            return
        self.set_zoom(self.zoom() * ZOOM_STEP**notches, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Space held: the left button pans. Escape: cancel the box drag in progress."""
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                self._update_cursor()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self._drag is not None:
            if self._drag.kind in (_DragKind.DRAW, _DragKind.MOVE, _DragKind.RESIZE):
                self._box = self._drag.box
            self._drag = None
            self._update_cursor()
            self.update()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        """Space released: the left button no longer pans."""
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = False
                self._update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Forget a held Space: its release will go elsewhere."""
        self._space_held = False
        self._update_cursor()
        super().focusOutEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start panning, drawing, moving or resizing the box, or dragging the divider."""
        button = event.button()
        position = event.position()
        if self._image is None or self._drag is not None:
            super().mousePressEvent(event)
            return
        kind, corner = None, -1
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            kind = _DragKind.PAN
        elif button == Qt.MouseButton.LeftButton:
            kind, corner = self._hit(position)
        if kind is None:
            super().mousePressEvent(event)
            return
        under = self.widget_to_picture(position)
        drag = _Drag(kind, button, position, position, self._box, under, QPointF(), corner)
        if kind is _DragKind.RESIZE and self._box is not None:
            corners = _box_corners(self._box)
            drag.anchor = corners[(corner + 2) % 4]
            drag.grab_offset = corners[corner] - under
        self._drag = drag
        if kind is _DragKind.SPLIT:
            self._drag_split(position)
        self._update_cursor()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Carry on the drag in progress, or show what a press would do."""
        position = event.position()
        drag = self._drag
        if drag is None or self._image is None:
            self._update_cursor(position)
            super().mouseMoveEvent(event)
            return
        if drag.kind is _DragKind.PAN:
            width, height = self._zoomed_size()
            if not self._fitted:
                self._pan = self._clamped_pan(self._pan + (position - drag.last), width, height)
            drag.last = position
        elif drag.kind is _DragKind.SPLIT:
            self._drag_split(position)
        else:
            self._drag_box(drag, position)
        self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish the drag; a changed face box is announced now."""
        drag = self._drag
        if drag is None or event.button() != drag.button:
            super().mouseReleaseEvent(event)
            return
        self._drag = None
        self._update_cursor(event.position())
        self.update()
        event.accept()
        if drag.kind in (_DragKind.DRAW, _DragKind.MOVE, _DragKind.RESIZE):
            box = self._box
            self._fit_to(box)
            if box is not None and box != drag.box:
                self.face_box_changed.emit(box)
                self.face_box_edited.emit(box)

    def _drag_split(self, position: QPointF) -> None:
        """Put the divider under the pointer."""
        target = self._target()
        if target.width() > 0:
            self._split = min(max((position.x() - target.left()) / target.width(), 0.0), 1.0)

    def _drag_box(self, drag: _Drag, position: QPointF) -> None:
        """Draw, move or resize the face box as the pointer is now at widget ``position``."""
        assert self._image is not None
        width, height = self._image.width(), self._image.height()
        if not drag.started:
            moved = position - drag.press
            if drag.kind is _DragKind.DRAW and max(abs(moved.x()), abs(moved.y())) < DRAG_THRESHOLD:
                return
            drag.started = True
        under = self.widget_to_picture(position)
        if drag.kind is _DragKind.DRAW:
            self._box = _square_box(drag.anchor, under, width, height)
        elif drag.kind is _DragKind.RESIZE:
            self._box = _square_box(drag.anchor, under + drag.grab_offset, width, height)
        elif drag.box is not None:  # moving
            shift = under - drag.anchor
            moved_box = FaceBox(
                drag.box.x + round(shift.x()), drag.box.y + round(shift.y()), drag.box.w, drag.box.h
            )
            self._box = fit_box(moved_box, width, height)
