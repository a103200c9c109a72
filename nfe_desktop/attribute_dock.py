"""The slider panel: one row per attribute of the model, grouped, proposing new edit states.

The dock shows an :class:`~nfe_core.session.EditState` (:meth:`AttributeDock.set_state`) and
never changes it: every drag, click and toggle is proposed as a whole new state through
:attr:`AttributeDock.state_requested`, which the window turns into an undo command and then
shows back with :meth:`~AttributeDock.set_state`. A slider drag proposes a state for every
value it passes (``merge=True``, so the undo stack merges them into one step) and one last
time on release (``merge=False``).

A row holds the attribute's title, its value, a "keep" toggle and a reset button, the
strength slider labelled at its ends, and a row of class chips: colour swatches for colours,
words otherwise (``with`` and ``without`` for a binary attribute's classes). Clicking a chip
sets the attribute to that class (``hair_color=blue``, ``glasses=true``); for an attribute
without a single direction the slider then moves towards the chip's class
(``hair_color:blue=+2``). On the user's own picture a chip is what draws a part whole (an
open mouth, glasses' frames round the eyes, a bow); the slider moves the face as the model
draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QDockWidget,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nfe_core.edits import Edit, class_words
from nfe_core.session import AttributeSpec, EditState, describe_change

__all__ = ["COLOR_NAMES", "SLIDER_SCALE", "AttributeDock", "chip_color"]

SLIDER_SCALE = 100
"""Slider ticks per spread: the slider's integer value is ``round(strength * SLIDER_SCALE)``."""

EMPTY_MESSAGE = "This model has no attribute sliders"
KEEP_TOOLTIP = "Keep this attribute while editing others"
DOCK_WIDTH = 290

COLOR_NAMES: dict[str, str] = {
    # hair and eye colours as anime faces have them: a little softer than the pure colours
    "black": "#26222b",
    "brown": "#7a4b2e",
    "dark_brown": "#4e3020",
    "light_brown": "#a8774f",
    "blonde": "#f1d27a",
    "blond": "#f1d27a",
    "gold": "#e0b23c",
    "golden": "#e0b23c",
    "amber": "#e89a2c",
    "red": "#d23a3f",
    "dark_red": "#8e1f2a",
    "orange": "#f08a2c",
    "pink": "#f3a0c4",
    "magenta": "#d6459a",
    "purple": "#8f57c2",
    "violet": "#a57be0",
    "lavender": "#c4b0ec",
    "blue": "#3f6fd6",
    "light_blue": "#8cc4f0",
    "dark_blue": "#263f8f",
    "navy": "#22305f",
    "aqua": "#4fd3d6",
    "cyan": "#4fd3d6",
    "teal": "#2a9d9a",
    "green": "#4ca64f",
    "light_green": "#9ed67a",
    "dark_green": "#2e6b3a",
    "silver": "#c8ccd6",
    "gray": "#8d8d96",
    "grey": "#8d8d96",
    "white": "#f4f4f4",
    "yellow": "#f3d13a",
    "hazel": "#9a7b3c",
}
"""Swatch colours for class names (lower case, ``_`` between words)."""

_CHIP_STYLE = """
QToolButton#chip, QToolButton#keep {
    border: 1px solid palette(mid);
    border-radius: 8px;
    padding: 0px 6px;
    min-height: 15px;
}
QToolButton#chip:hover, QToolButton#keep:hover { border-color: palette(highlight); }
QToolButton#chip:checked, QToolButton#keep:checked {
    background: palette(highlight);
    color: palette(highlighted-text);
    border-color: palette(highlight);
}
QToolButton#chip:disabled, QToolButton#keep:disabled { color: palette(mid); }
"""


def _normal(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def chip_color(name: str) -> QColor | None:
    """The swatch colour of class ``name`` (``blonde``, ``Light-Blue``), or None if not a colour."""
    value = COLOR_NAMES.get(_normal(name))
    return QColor(value) if value is not None else None


def _success_words(spec: AttributeSpec) -> str:
    """What the model's quality report measured of setting a class of ``spec``."""
    text = (
        f"The model's quality report: setting {spec.title.lower()} to a class (the other "
        f"attributes kept) reached it on {spec.success:.0%} of generated faces"
    )
    if spec.success_inverted is not None:
        text += f" and {spec.success_inverted:.0%} of inverted pictures"
    text += "."
    if spec.unreliable:
        text += " This model has not learned it well: expect little or no change"
        if spec.drawn_whole:
            classes = ", ".join(class_words(c) for c in spec.drawn_whole)
            text += f" on a generated face (on your own picture, a click on {classes} draws it)"
        text += "."
    return text


def _is_colour_attribute(spec: AttributeSpec) -> bool:
    """Swatches for an attribute whose classes are all colours, or a ``*_color`` one with some."""
    known = [chip_color(c) is not None for c in spec.classes]
    named = "colo" in spec.name
    return bool(known) and (all(known) or (named and any(known)))


def _end_words(spec: AttributeSpec, toward: str) -> tuple[str, str]:
    """The words under the slider's two ends."""
    if spec.direction is not None:
        low, high = spec.direction
        return class_words(low), class_words(high)
    return f"less {class_words(toward)}", f"more {class_words(toward)}"


class _Swatch(QAbstractButton):
    """A round checkable colour button; checked draws a ring in the highlight colour."""

    SIZE = 20

    def __init__(self, color: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = color
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedSize(self.SIZE, self.SIZE)

    def sizeHint(self) -> QSize:
        return QSize(self.SIZE, self.SIZE)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        outer = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        color = QColor(self._color)
        if not self.isEnabled():
            color.setAlpha(70)
        if self.isChecked():
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(outer)
            inner = outer.adjusted(3.5, 3.5, -3.5, -3.5)
        else:
            inner = outer.adjusted(2, 2, -2, -2)
        if self.underMouse() and self.isEnabled():
            edge = palette.color(QPalette.ColorRole.Highlight)
        else:  # a thin edge in the text colour: dark swatches on dark panels stay visible
            edge = QColor(palette.color(QPalette.ColorRole.WindowText))
            edge.setAlpha(90)
        painter.setPen(QPen(edge, 1))
        painter.setBrush(color)
        painter.drawEllipse(inner)


class _StrengthSlider(QSlider):
    """A horizontal slider that lets the wheel scroll the panel unless it has the focus."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()

    def paintEvent(self, event: QPaintEvent) -> None:
        """A groove filled from 0 (marked) to the handle, then the style's own handle."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = max(self.width() - handle.width(), 1)

        def x_of(value: int) -> float:
            position = QStyle.sliderPositionFromValue(
                self.minimum(), self.maximum(), value, span, option.upsideDown
            )
            return position + handle.width() / 2

        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        mid_y = handle.center().y() + 0.5
        groove = QRectF(handle.width() / 2, mid_y - 2, span, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(groove, 2, 2)
        zero = x_of(min(max(0, self.minimum()), self.maximum()))
        here = x_of(self.sliderPosition())
        if self.sliderPosition() != 0:
            fill = palette.color(QPalette.ColorRole.Highlight)
            if not self.isEnabled():
                fill.setAlpha(90)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(min(zero, here), mid_y - 2, abs(here - zero), 4), 2, 2)
        painter.setBrush(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawRect(QRectF(zero - 0.75, mid_y - 5, 1.5, 10))
        painter.end()
        option.subControls = QStyle.SubControl.SC_SliderHandle
        painter = QPainter(self)
        style.drawComplexControl(QStyle.ComplexControl.CC_Slider, option, painter, self)


@dataclass
class _Row:
    """The widgets of one attribute's row."""

    spec: AttributeSpec
    widget: QWidget
    title: QLabel
    value: QLabel
    keep: QToolButton
    reset: QToolButton
    slider: QSlider
    low: QLabel
    high: QLabel
    chips: dict[str, QAbstractButton]
    toward: str | None
    """The class a per-class slider moves towards (None for a single direction)."""


class AttributeDock(QDockWidget):
    """The attribute sliders, grouped; proposes new edit states, never applies them.

    Signals:
        state_requested(EditState, str, bool): a proposed state, its history text
            (``Hair length +1.5``), and whether it merges with the previous proposal (True
            for each value while a slider is dragged, False on release and for clicks).
        drag_started(str) / drag_finished(str): a slider of that attribute is pressed /
            released; the release's ``state_requested`` comes just before ``drag_finished``.
    """

    state_requested = Signal(object, str, bool)
    drag_started = Signal(str)
    drag_finished = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Attributes", parent)
        self.setObjectName("attribute_dock")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self._state = EditState()
        self._specs: tuple[AttributeSpec, ...] = ()
        self._rows: dict[str, _Row] = {}
        self._editing = True
        self._drag_base: EditState | None = None
        """The state when the slider being dragged was pressed: what its history text is from."""

        body = QWidget(self)
        body.setStyleSheet(_CHIP_STYLE)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 4, 0, 0)
        outer.setSpacing(2)

        top = QHBoxLayout()
        top.setContentsMargins(10, 0, 10, 0)
        self._hint = QLabel("Drag a slider, or click a class", body)
        self._hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._hint.setFont(self._small_font())
        self._reset_all = QToolButton(body)
        self._reset_all.setText("Reset all")
        self._reset_all.setObjectName("reset_all")
        self._reset_all.setToolTip("Reset every slider (the keep toggles stay)")
        self._reset_all.clicked.connect(self._on_reset_all)
        top.addWidget(self._hint, 1)
        top.addWidget(self._reset_all)
        outer.addLayout(top)

        self._scroll = QScrollArea(body)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self._scroll, 1)
        self.setWidget(body)
        self.setMinimumWidth(240)
        self._build()

    # --- public API -------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(DOCK_WIDTH, super().sizeHint().height())

    def set_attributes(self, specs: Sequence[AttributeSpec]) -> None:
        """Rebuild the rows for ``specs`` (a model's attributes), grouped in first-seen order."""
        self._specs = tuple(specs)
        self._build()
        self.set_state(self._state)

    def spec_names(self) -> list[str]:
        """The attributes the dock shows, in the order given to :meth:`set_attributes`."""
        return [spec.name for spec in self._specs]

    def state(self) -> EditState:
        """The state last given to :meth:`set_state`."""
        return self._state

    def set_state(self, state: EditState) -> None:
        """Show ``state`` on every row without emitting; a slider being dragged keeps its place."""
        self._state = state
        for row in self._rows.values():
            self._show_row(row)
        self._reset_all.setEnabled(self._editing and bool(state.edits))

    def set_enabled_editing(self, enabled: bool) -> None:
        """Grey out every control (False: there is no face to edit yet)."""
        self._editing = enabled
        self._scroll.widget().setEnabled(enabled)
        self._hint.setText("Drag a slider, or click a class" if enabled else "Open a face to edit")
        self._reset_all.setEnabled(enabled and bool(self._state.edits))

    def slider(self, attribute: str) -> QSlider:
        """The strength slider of ``attribute`` (KeyError if the dock has no such row)."""
        return self._rows[attribute].slider

    def chips(self, attribute: str) -> dict[str, QAbstractButton]:
        """The class chips of ``attribute`` by class name (empty if it has none)."""
        return dict(self._rows[attribute].chips)

    def keep_button(self, attribute: str) -> QToolButton:
        return self._rows[attribute].keep

    def reset_button(self, attribute: str) -> QToolButton:
        return self._rows[attribute].reset

    def reset_all_button(self) -> QToolButton:
        return self._reset_all

    def value_text(self, attribute: str) -> str:
        """What the row's value label says: ``+1.50``, ``→ blue``."""
        return self._rows[attribute].value.text()

    def slider_class(self, attribute: str) -> str | None:
        """The class a per-class slider moves towards (None for a single-direction one)."""
        return self._rows[attribute].toward

    # --- building ---------------------------------------------------------------------------

    @staticmethod
    def _small_font() -> QFont:
        font = QFont()
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        return font

    def _build(self) -> None:
        """A fresh content widget for the current specs (the old one and its rows go)."""
        self._rows = {}
        content = QWidget()
        content.setObjectName("attribute_rows")
        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 4, 10, 10)
        layout.setSpacing(4)
        if not self._specs:
            empty = QLabel(EMPTY_MESSAGE, content)
            empty.setObjectName("empty_message")
            empty.setWordWrap(True)
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            layout.addSpacing(24)
            layout.addWidget(empty)
        groups: dict[str, list[AttributeSpec]] = {}
        for spec in self._specs:
            groups.setdefault(spec.group, []).append(spec)
        for index, (group, specs) in enumerate(groups.items()):
            if index:
                layout.addSpacing(6)
            layout.addWidget(self._group_header(group, content))
            for spec in specs:
                row = self._make_row(spec, content)
                self._rows[spec.name] = row
                layout.addWidget(row.widget)
        layout.addStretch(1)
        content.setEnabled(self._editing)
        old = self._scroll.takeWidget()
        self._scroll.setWidget(content)
        if old is not None:
            old.deleteLater()
        self._reset_all.setVisible(bool(self._specs))
        self._hint.setVisible(bool(self._specs))

    @staticmethod
    def _group_header(group: str, parent: QWidget) -> QWidget:
        header = QWidget(parent)
        layout = QHBoxLayout(header)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        label = QLabel(group.upper(), header)
        label.setObjectName("group_header")
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
        label.setFont(font)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        line = QFrame(header)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Plain)
        line.setForegroundRole(QPalette.ColorRole.Mid)
        layout.addWidget(label)
        layout.addWidget(line, 1)
        return header

    def _make_row(self, spec: AttributeSpec, parent: QWidget) -> _Row:
        widget = QWidget(parent)
        widget.setObjectName(f"row_{spec.name}")
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(0, 2, 0, 4)
        layout.setSpacing(1)

        head = QHBoxLayout()
        head.setSpacing(4)
        title = QLabel(spec.title, widget)
        value = QLabel(widget)
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        value.setMinimumWidth(value.fontMetrics().horizontalAdvance("+0.00") + 4)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        keep = QToolButton(widget)
        keep.setObjectName("keep")
        keep.setText("Keep")
        keep.setCheckable(True)
        keep.setToolTip(KEEP_TOOLTIP)
        keep.setFont(self._small_font())
        reset = QToolButton(widget)
        reset.setObjectName("reset")
        reset.setText("↺")
        reset.setAutoRaise(True)
        reset.setToolTip(f"Reset {spec.title.lower()}")
        reset.setFixedWidth(22)
        head.addWidget(title)
        if spec.success is not None:
            title.setToolTip(_success_words(spec))
        if spec.unreliable:
            # the report found this slider's class targets rarely work on this model: say so
            # where the artist looks, rather than let them drag a slider that does nothing
            warning = QLabel("⚠ rarely works", widget)
            warning.setObjectName("unreliable")
            warning.setFont(self._small_font())
            warning.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            warning.setToolTip(_success_words(spec))
            head.addWidget(warning)
        head.addStretch(1)
        head.addWidget(value)
        head.addSpacing(2)
        head.addWidget(keep)
        head.addWidget(reset)
        layout.addLayout(head)

        low_value = round(spec.strength_range[0] * SLIDER_SCALE)
        high_value = round(spec.strength_range[1] * SLIDER_SCALE)
        slider = _StrengthSlider(widget)
        slider.setObjectName(f"slider_{spec.name}")
        slider.setRange(min(low_value, high_value), max(low_value, high_value))
        slider.setSingleStep(SLIDER_SCALE // 10)
        slider.setPageStep(SLIDER_SCALE // 2)
        slider.setTickPosition(QSlider.TickPosition.NoTicks)
        slider.setValue(0)
        slider.setAccessibleName(spec.title)
        layout.addWidget(slider)

        ends = QHBoxLayout()
        ends.setContentsMargins(0, 0, 0, 0)
        low, high = QLabel(widget), QLabel(widget)
        for label in (low, high):
            label.setFont(self._small_font())
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        high.setAlignment(Qt.AlignmentFlag.AlignRight)
        ends.addWidget(low)
        ends.addStretch(1)
        ends.addWidget(high)
        layout.addLayout(ends)

        chips: dict[str, QAbstractButton] = {}
        if spec.classes and (spec.class_directions or spec.direction is not None):
            layout.addSpacing(2)
            layout.addWidget(self._make_chips(spec, widget, chips))

        toward = spec.classes[0] if spec.direction is None and spec.classes else None
        row = _Row(spec, widget, title, value, keep, reset, slider, low, high, chips, toward)
        name = spec.name
        slider.valueChanged.connect(lambda v, n=name: self._on_slider_value(n, v))
        slider.sliderPressed.connect(lambda n=name: self._on_slider_pressed(n))
        slider.sliderReleased.connect(lambda n=name: self._on_slider_released(n))
        keep.clicked.connect(lambda checked, n=name: self._on_keep(n, checked))
        reset.clicked.connect(lambda _=False, n=name: self._on_reset(n))
        for cls, chip in chips.items():
            chip.clicked.connect(lambda _=False, n=name, c=cls: self._on_chip(n, c))
        return row

    def _make_chips(
        self, spec: AttributeSpec, parent: QWidget, chips: dict[str, QAbstractButton]
    ) -> QWidget:
        """The class chips in a wrapping grid: swatches for colours, words otherwise."""
        box = QWidget(parent)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        swatches = _is_colour_attribute(spec)
        per_line = 10 if swatches else 4
        single = spec.direction is not None
        for index, cls in enumerate(spec.classes):
            color = chip_color(cls) if swatches else None
            chip: QAbstractButton
            if color is not None:
                chip = _Swatch(color, box)
            else:
                chip = QToolButton(box)
                chip.setObjectName("chip")
                chip.setText(class_words(cls))
                chip.setCheckable(True)
                chip.setFont(self._small_font())
                chip.setCursor(Qt.CursorShape.PointingHandCursor)
            then = "" if single else "; the slider then moves towards it"
            share = spec.class_success(cls)
            measured = (
                f" (the model's quality report: reached on {share:.0%} of generated faces)"
                if share is not None
                else ""
            )
            words = class_words(cls)
            chip.setToolTip(f"{words} — click to set {spec.title.lower()}{then}{measured}")
            chip.setAccessibleName(f"{spec.title}: {words}")
            grid.addWidget(chip, index // per_line, index % per_line)
            chips[cls] = chip
        grid.setColumnStretch(min(len(spec.classes), per_line), 1)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        return box

    # --- showing ----------------------------------------------------------------------------

    def _show_row(self, row: _Row) -> None:
        """Set ``row``'s widgets from the current state, emitting nothing."""
        spec, edit = row.spec, self._state.edit_for(row.spec.name)
        if spec.direction is None and edit is not None:
            chosen = edit.target if edit.target is not None else edit.direction
            if chosen in spec.classes:
                row.toward = chosen
        checked = None
        if edit is not None:
            checked = edit.target if edit.target is not None else edit.direction
        if checked is None and edit is not None and spec.direction is None:
            checked = row.toward
        for cls, chip in row.chips.items():
            chip.blockSignals(True)
            chip.setChecked(cls == checked)
            chip.blockSignals(False)
        row.keep.blockSignals(True)
        row.keep.setChecked(spec.name in self._state.keep)
        row.keep.blockSignals(False)
        row.reset.setEnabled(edit is not None)
        low, high = _end_words(spec, row.toward or "")
        row.low.setText(low)
        row.high.setText(high)
        if spec.direction is None and row.toward is not None:
            toward = class_words(row.toward)
            row.slider.setToolTip(f"Move towards {toward} (click a class to change)")
        else:
            row.slider.setToolTip(f"{spec.title}: towards {low} or {high}")
        if row.slider.isSliderDown():
            return  # the user is dragging it: leave the handle and its label where they are
        strength = edit.strength if edit is not None and edit.strength is not None else 0.0
        row.slider.blockSignals(True)
        row.slider.setValue(round(strength * SLIDER_SCALE))
        row.slider.blockSignals(False)
        self._show_value(row, edit)

    @staticmethod
    def _show_value(row: _Row, edit: Edit | None) -> None:
        if edit is not None and edit.target is not None:
            row.value.setText(f"→ {class_words(edit.target)}")
        elif edit is not None and edit.strength is not None:
            row.value.setText(f"{edit.strength:+.2f}")
        else:
            row.value.setText("0.00")
        role = (
            QPalette.ColorRole.WindowText
            if edit is not None
            else QPalette.ColorRole.PlaceholderText
        )
        row.value.setForegroundRole(role)
        font = row.value.font()
        font.setBold(edit is not None)
        row.value.setFont(font)

    # --- proposing --------------------------------------------------------------------------

    def _propose(self, new: EditState, merge: bool, since: EditState | None = None) -> None:
        """Emit ``new``, worded as the change from ``since`` (default: the shown state)."""
        before = since if since is not None else self._state
        self.state_requested.emit(new, describe_change(before, new), merge)

    def _slider_state(self, row: _Row, value: int) -> EditState:
        strength = value / SLIDER_SCALE
        edit = row.spec.slider_edit(strength, row.toward)
        if edit is None:
            return self._state.with_strength(row.spec.name, 0)
        return self._state.with_strength(row.spec.name, strength, edit.direction)

    def _on_slider_value(self, name: str, value: int) -> None:
        row = self._rows[name]
        new = self._slider_state(row, value)
        self._show_value(row, new.edit_for(name))
        # while the handle is held, every value merges; a key, wheel or groove click is final
        if row.slider.isSliderDown():
            self._propose(new, merge=True, since=self._drag_base)
        else:
            self._propose(new, merge=False)

    def _on_slider_pressed(self, name: str) -> None:
        self._drag_base = self._state
        self.drag_started.emit(name)

    def _on_slider_released(self, name: str) -> None:
        row = self._rows[name]
        base, self._drag_base = self._drag_base, None
        self._propose(self._slider_state(row, row.slider.value()), merge=False, since=base)
        self.drag_finished.emit(name)

    def _on_chip(self, name: str, cls: str) -> None:
        row = self._rows[name]
        if row.spec.direction is None:
            row.toward = cls
        self._show_row(row)  # until the window shows the new state, keep showing the old one
        if self._state.edit_for(name) == Edit(name, target=cls):
            return
        self._propose(self._state.with_target(name, cls), merge=False)

    def _on_keep(self, name: str, keep: bool) -> None:
        self._show_row(self._rows[name])
        self._propose(self._state.with_keep(name, keep), merge=False)

    def _on_reset(self, name: str) -> None:
        if self._state.edit_for(name) is not None:
            self._propose(self._state.reset(name), merge=False)

    def _on_reset_all(self) -> None:
        if self._state.edits:
            self._propose(self._state.reset(), merge=False)
