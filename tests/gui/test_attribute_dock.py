"""The attribute dock as a user drives it: drag, type, click a swatch, keep, reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QSlider, QStyle, QStyleOptionSlider, QWidget
from pytestqt.qtbot import QtBot

from nfe_core.edits import Edit
from nfe_core.session import AttributeSpec, EditState
from nfe_desktop.attribute_dock import (
    EMPTY_MESSAGE,
    KEEP_TOOLTIP,
    SLIDER_SCALE,
    AttributeDock,
    _Swatch,
    chip_color,
)

pytestmark = pytest.mark.gui

HAIR = ("black", "brown", "blonde", "red", "orange", "pink", "purple", "blue", "green", "silver")
EYES = ("blue", "green", "red", "brown", "purple", "yellow", "pink", "gray")
OTHER = "Face and accessories"
SPECS = (
    AttributeSpec("hair_color", "Hair colour", "Hair", HAIR, True, None),
    AttributeSpec(
        "hair_length", "Hair length", "Hair", ("short", "medium", "long"), True, ("short", "long")
    ),
    AttributeSpec("eye_color", "Eye colour", "Eyes", EYES, True, None),
    AttributeSpec("mouth", "Mouth", OTHER, ("closed", "open"), False, ("closed", "open")),
    AttributeSpec("blush", "Blush", OTHER, ("false", "true"), False, ("false", "true")),
    AttributeSpec("glasses", "Glasses", OTHER, ("false", "true"), False, ("false", "true")),
    AttributeSpec(
        "accessory", "Accessory", OTHER, ("none", "bow", "hairclip", "flower"), True, None
    ),
)

Request = tuple[EditState, str, bool]


class Recorder:
    """Records the dock's signals; optionally applies each proposed state, as the window does."""

    def __init__(self, dock: AttributeDock, *, apply: bool = True) -> None:
        self.requests: list[Request] = []
        self.events: list[str] = []
        self._dock, self._apply = dock, apply
        dock.state_requested.connect(self._on_state)
        dock.drag_started.connect(lambda name: self.events.append(f"start {name}"))
        dock.drag_finished.connect(lambda name: self.events.append(f"finish {name}"))

    def _on_state(self, state: EditState, text: str, merge: bool) -> None:
        self.requests.append((state, text, merge))
        self.events.append(f"state {text} {merge}")
        if self._apply:
            self._dock.set_state(state)

    @property
    def last(self) -> Request:
        assert self.requests, "the dock proposed nothing"
        return self.requests[-1]


@pytest.fixture
def dock(qtbot: QtBot) -> Iterator[AttributeDock]:
    """The dock with the seven attributes, shown at the panel's usual size."""
    widget = AttributeDock()
    qtbot.addWidget(widget)
    widget.set_attributes(SPECS)
    widget.resize(290, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


@pytest.fixture
def recorder(dock: AttributeDock) -> Recorder:
    return Recorder(dock)


def handle_center(slider: QSlider) -> QPoint:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    rect = slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, slider
    )
    return rect.center()


def drag(slider: QSlider, values: list[int]) -> None:
    """Hold the handle down, pass through ``values``, let go (as a mouse drag does)."""
    slider.setSliderDown(True)
    for value in values:
        slider.setSliderPosition(value)
    slider.setSliderDown(False)


def labels(widget: AttributeDock) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


# --- building -------------------------------------------------------------------------------


def test_rows_grouped_in_first_seen_order(dock: AttributeDock) -> None:
    texts = labels(dock)
    assert dock.spec_names() == [spec.name for spec in SPECS]
    headers = [t for t in texts if t in ("HAIR", "EYES", OTHER.upper())]
    assert headers == ["HAIR", "EYES", "FACE AND ACCESSORIES"]
    for spec in SPECS:
        assert spec.title in texts
    assert texts.index("HAIR") < texts.index("Hair colour") < texts.index("Hair length")
    assert texts.index("Hair length") < texts.index("EYES") < texts.index("Eye colour")
    slider = dock.slider("hair_length")
    assert (slider.minimum(), slider.maximum()) == (-3 * SLIDER_SCALE, 3 * SLIDER_SCALE)
    assert "short" in texts and "long" in texts  # the single direction's ends
    assert dock.keep_button("mouth").toolTip() == KEEP_TOOLTIP
    assert not dock.reset_button("mouth").isEnabled()


def test_chips_are_swatches_for_colours_and_words_otherwise(dock: AttributeDock) -> None:
    hair = dock.chips("hair_color")
    assert list(hair) == list(HAIR)
    assert all(isinstance(chip, _Swatch) for chip in hair.values())
    assert all(cls in chip.toolTip() for cls, chip in hair.items())
    accessory = dock.chips("accessory")
    assert [chip.text() for chip in accessory.values()] == ["none", "bow", "hairclip", "flower"]
    assert all(cls in chip.toolTip() for cls, chip in accessory.items())
    assert [c.text() for c in dock.chips("hair_length").values()] == ["short", "medium", "long"]
    assert [c.text() for c in dock.chips("mouth").values()] == ["closed", "open"]
    assert [c.text() for c in dock.chips("glasses").values()] == ["without", "with"]
    assert "with — click to set glasses" in dock.chips("glasses")["true"].toolTip()
    assert chip_color("Light-Blue") is not None and chip_color("bow") is None


def test_a_slider_the_report_found_rarely_works_says_so(qtbot: QtBot) -> None:
    """The model's quality report travels with the sliders: an attribute whose class targets
    reached few faces is flagged beside its title, and each chip says how often it works."""
    from dataclasses import replace

    measured = [
        replace(SPECS[0], success=0.99, success_by_class=(("pink", 1.0), ("blonde", 0.9))),
        replace(SPECS[6], success=0.03, success_inverted=0.0, success_by_class=(("bow", 0.01),)),
    ]
    widget = AttributeDock()
    qtbot.addWidget(widget)
    widget.set_attributes(measured)
    warnings = widget.findChildren(QLabel, "unreliable")
    assert len(warnings) == 1 and warnings[0].text() == "⚠ rarely works"
    row = widget.findChild(QWidget, "row_accessory")
    assert warnings[0].parent() is row
    assert "3% of generated faces and 0% of inverted pictures" in warnings[0].toolTip()
    assert "expect little or no change." in warnings[0].toolTip()
    # a model that draws the classes whole on a picture says so
    whole = [measured[0], replace(measured[1], drawn_whole=("bow", "flower"))]
    widget.set_attributes(whole)
    (warning,) = widget.findChildren(QLabel, "unreliable")
    assert "on your own picture, a click on bow, flower draws it" in warning.toolTip()
    widget.set_attributes(measured)
    assert "100% of generated faces" in widget.chips("hair_color")["pink"].toolTip()
    assert "1% of generated faces" in widget.chips("accessory")["bow"].toolTip()
    assert "report" not in widget.chips("hair_color")["red"].toolTip()  # not measured
    title = next(label for label in row.findChildren(QLabel) if label.text() == "Accessory")
    assert "3%" in title.toolTip()
    widget.set_attributes(SPECS)  # a model without a report: nothing flagged
    qtbot.wait(1)
    assert not [w for w in widget.findChildren(QLabel, "unreliable") if w.isVisibleTo(widget)]


def test_empty_spec_list_says_so(qtbot: QtBot) -> None:
    widget = AttributeDock()
    qtbot.addWidget(widget)
    widget.set_attributes([])
    assert EMPTY_MESSAGE in labels(widget)
    assert widget.spec_names() == []


def test_set_attributes_rebuilds_the_rows(dock: AttributeDock, qtbot: QtBot) -> None:
    dock.set_state(EditState((Edit("mouth", strength=1.0),)))
    other = [
        AttributeSpec("smile", "Smile", OTHER, ("false", "true"), False, ("false", "true")),
    ]
    dock.set_attributes(other)
    qtbot.wait(1)  # let the old rows' deleteLater run
    assert dock.spec_names() == ["smile"]
    texts = labels(dock)
    assert "Smile" in texts and "Hair colour" not in texts and "HAIR" not in texts
    with pytest.raises(KeyError):
        dock.slider("hair_color")
    assert len(dock.findChildren(QSlider)) == 1


# --- sliders ----------------------------------------------------------------------------------


def test_drag_merges_then_finishes(dock: AttributeDock, recorder: Recorder) -> None:
    drag(dock.slider("hair_length"), [50, 100, 150])
    assert [(str(s.edits[0]), text, merge) for s, text, merge in recorder.requests] == [
        ("hair_length=+0.5", "Hair length +0.5", True),
        ("hair_length=+1", "Hair length +1", True),
        ("hair_length=+1.5", "Hair length +1.5", True),
        ("hair_length=+1.5", "Hair length +1.5", False),
    ]
    assert recorder.events[0] == "start hair_length"
    assert recorder.events[-2:] == ["state Hair length +1.5 False", "finish hair_length"]
    assert dock.value_text("hair_length") == "+1.50"
    assert dock.reset_button("hair_length").isEnabled()


def test_mouse_drag_on_the_handle(dock: AttributeDock, recorder: Recorder, qtbot: QtBot) -> None:
    slider = dock.slider("mouth")
    start = handle_center(slider)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    for dx in (10, 30, 60):
        qtbot.mouseMove(slider, start + QPoint(dx, 0))
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 0))
    assert recorder.events[0] == "start mouth"
    assert recorder.events[-1] == "finish mouth"
    merges = [merge for _, _, merge in recorder.requests]
    assert merges[-1] is False and all(merges[:-1]) and len(merges) >= 2
    final = recorder.last[0].edit_for("mouth")
    assert final is not None and final.strength is not None and final.strength > 0


def test_keyboard_moves_are_final(dock: AttributeDock, recorder: Recorder, qtbot: QtBot) -> None:
    slider = dock.slider("glasses")
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert [(text, merge) for _, text, merge in recorder.requests] == [
        ("Glasses +0.1", False),
        ("Glasses +0.2", False),
    ]
    assert recorder.events == ["state Glasses +0.1 False", "state Glasses +0.2 False"]
    qtbot.keyClick(slider, Qt.Key.Key_Home)  # to the minimum
    assert recorder.last[0].edit_for("glasses") == Edit("glasses", strength=-3.0)


def test_slider_back_to_zero_removes_the_edit(dock: AttributeDock, recorder: Recorder) -> None:
    dock.set_state(EditState((Edit("blush", strength=1.0),)))
    drag(dock.slider("blush"), [80, 0])
    state, text, merge = recorder.last
    assert state.edits == () and text == "Reset blush" and merge is False
    assert dock.value_text("blush") == "0.00"


def test_drag_texts_are_from_where_the_drag_began(dock: AttributeDock) -> None:
    """Whether or not the window shows each value, a drag is worded as one change."""
    for apply in (True, False):
        dock.set_state(EditState())
        recorder = Recorder(dock, apply=apply)
        drag(dock.slider("mouth"), [40, 90])
        texts = [text for _, text, _ in recorder.requests]
        assert texts == ["Mouth +0.4", "Mouth +0.9", "Mouth +0.9"]
        dock.state_requested.disconnect()


# --- chips --------------------------------------------------------------------------------------


def test_swatch_then_slider_moves_towards_it(
    dock: AttributeDock, recorder: Recorder, qtbot: QtBot
) -> None:
    qtbot.mouseClick(dock.chips("hair_color")["blue"], Qt.MouseButton.LeftButton)
    state, text, merge = recorder.last
    assert [str(e) for e in state.edits] == ["hair_color=blue"]
    assert (text, merge) == ("Hair colour: blue", False)
    assert dock.value_text("hair_color") == "→ blue"
    assert dock.chips("hair_color")["blue"].isChecked()
    assert dock.slider_class("hair_color") == "blue"
    assert dock.slider("hair_color").value() == 0

    drag(dock.slider("hair_color"), [100, 200])
    state, text, merge = recorder.last
    assert [str(e) for e in state.edits] == ["hair_color:blue=+2"]
    assert (text, merge) == ("Hair colour blue +2", False)
    assert dock.chips("hair_color")["blue"].isChecked()
    assert not dock.chips("hair_color")["black"].isChecked()


def test_per_class_slider_defaults_to_the_first_class(
    dock: AttributeDock, recorder: Recorder
) -> None:
    assert dock.slider_class("eye_color") == "blue"
    assert dock.slider_class("hair_length") is None
    drag(dock.slider("eye_color"), [-70])
    assert str(recorder.last[0].edits[0]) == "eye_color:blue=-0.7"


def test_word_chip_on_a_single_direction_attribute(
    dock: AttributeDock, recorder: Recorder, qtbot: QtBot
) -> None:
    qtbot.mouseClick(dock.chips("hair_length")["medium"], Qt.MouseButton.LeftButton)
    assert str(recorder.last[0].edits[0]) == "hair_length=medium"
    drag(dock.slider("hair_length"), [-120])  # the slider stays the single direction
    assert str(recorder.last[0].edits[0]) == "hair_length=-1.2"
    assert not any(chip.isChecked() for chip in dock.chips("hair_length").values())


def test_a_binary_attributes_chip_sets_its_class(
    dock: AttributeDock, recorder: Recorder, qtbot: QtBot
) -> None:
    """Glasses "with" sets ``glasses=true`` (on a picture, frames drawn round its eyes), worded
    with and without in the value and the history; the slider stays a strength."""
    qtbot.mouseClick(dock.chips("glasses")["true"], Qt.MouseButton.LeftButton)
    state, text, merge = recorder.last
    assert [str(e) for e in state.edits] == ["glasses=true"]
    assert (text, merge) == ("Glasses: with", False)
    assert dock.value_text("glasses") == "→ with"
    assert dock.chips("glasses")["true"].isChecked()
    assert not dock.chips("glasses")["false"].isChecked()
    qtbot.mouseClick(dock.chips("blush")["false"], Qt.MouseButton.LeftButton)
    assert recorder.last[1] == "Blush: without"
    assert [str(e) for e in recorder.last[0].edits] == ["glasses=true", "blush=false"]
    drag(dock.slider("glasses"), [-50])
    assert str(recorder.last[0].edits[0]) == "glasses=-0.5"
    assert not any(chip.isChecked() for chip in dock.chips("glasses").values())


def test_clicking_the_current_target_again_proposes_nothing(
    dock: AttributeDock, recorder: Recorder, qtbot: QtBot
) -> None:
    bow = dock.chips("accessory")["bow"]
    qtbot.mouseClick(bow, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(bow, Qt.MouseButton.LeftButton)
    assert len(recorder.requests) == 1
    assert bow.isChecked()


def test_a_refused_click_keeps_showing_the_old_state(dock: AttributeDock, qtbot: QtBot) -> None:
    recorder = Recorder(dock, apply=False)  # the window does not take the proposal
    qtbot.mouseClick(dock.chips("accessory")["flower"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dock.keep_button("mouth"), Qt.MouseButton.LeftButton)
    assert len(recorder.requests) == 2
    assert not dock.chips("accessory")["flower"].isChecked()
    assert not dock.keep_button("mouth").isChecked()


# --- keep and reset -----------------------------------------------------------------------------


def test_keep_toggle(dock: AttributeDock, recorder: Recorder, qtbot: QtBot) -> None:
    keep = dock.keep_button("eye_color")
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    state, text, merge = recorder.last
    assert state.keep == frozenset({"eye_color"}) and text == "Keep eye colour" and not merge
    assert keep.isChecked()
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    assert recorder.last[0].keep == frozenset() and recorder.last[1] == "Release eye colour"


def test_reset_row_and_reset_all(dock: AttributeDock, recorder: Recorder, qtbot: QtBot) -> None:
    start = EditState(
        (Edit("hair_color", target="red"), Edit("mouth", strength=1.0)), frozenset({"glasses"})
    )
    dock.set_state(start)
    assert dock.reset_all_button().isEnabled()
    assert dock.reset_button("mouth").isEnabled() and not dock.reset_button("blush").isEnabled()
    qtbot.mouseClick(dock.reset_button("mouth"), Qt.MouseButton.LeftButton)
    state, text, merge = recorder.last
    assert [str(e) for e in state.edits] == ["hair_color=red"] and text == "Reset mouth"
    assert not merge and dock.slider("mouth").value() == 0

    dock.set_state(start)
    qtbot.mouseClick(dock.reset_all_button(), Qt.MouseButton.LeftButton)
    state, text, _ = recorder.last
    assert state == EditState(keep=frozenset({"glasses"})) and text == "Reset all"
    assert not dock.reset_all_button().isEnabled()
    assert dock.keep_button("glasses").isChecked()


# --- set_state ----------------------------------------------------------------------------------


def test_set_state_shows_without_emitting(dock: AttributeDock, qtbot: QtBot) -> None:
    state = EditState(
        (
            Edit("hair_color", target="blue"),
            Edit("hair_length", strength=1.5),
            Edit("eye_color", strength=-0.8, direction="red"),
        ),
        frozenset({"eye_color"}),
    )
    with (
        qtbot.assertNotEmitted(dock.state_requested),
        qtbot.assertNotEmitted(dock.drag_started),
        qtbot.assertNotEmitted(dock.drag_finished),
    ):
        dock.set_state(state)
        dock.set_state(state)
    assert dock.state() is state
    assert dock.value_text("hair_color") == "→ blue" and dock.slider("hair_color").value() == 0
    assert dock.chips("hair_color")["blue"].isChecked()
    assert dock.slider("hair_length").value() == 150 and dock.value_text("hair_length") == "+1.50"
    assert dock.slider("eye_color").value() == -80 and dock.slider_class("eye_color") == "red"
    assert dock.chips("eye_color")["red"].isChecked()
    assert dock.keep_button("eye_color").isChecked() and not dock.keep_button("mouth").isChecked()
    assert dock.reset_button("hair_length").isEnabled()
    assert not dock.reset_button("glasses").isEnabled()

    with qtbot.assertNotEmitted(dock.state_requested):
        dock.set_state(EditState())
    assert dock.slider("hair_length").value() == 0 and dock.value_text("hair_color") == "0.00"
    assert not any(chip.isChecked() for chip in dock.chips("hair_color").values())


def test_set_state_during_a_drag_leaves_the_handle(dock: AttributeDock, qtbot: QtBot) -> None:
    recorder = Recorder(dock, apply=False)
    slider = dock.slider("hair_length")
    slider.setSliderDown(True)
    slider.setSliderPosition(120)
    with qtbot.assertNotEmitted(dock.state_requested):
        dock.set_state(EditState((Edit("hair_length", strength=0.5), Edit("blush", strength=1.0))))
    assert slider.sliderPosition() == 120  # the user's drag wins
    assert dock.slider("blush").value() == 100  # the other rows follow the state
    slider.setSliderDown(False)
    assert str(recorder.last[0].edit_for("hair_length")) == "hair_length=+1.2"
    assert recorder.last[2] is False


def test_set_enabled_editing(dock: AttributeDock, recorder: Recorder, qtbot: QtBot) -> None:
    dock.set_state(EditState((Edit("mouth", strength=1.0),)))
    dock.set_enabled_editing(False)
    assert not dock.slider("mouth").isEnabled()
    assert not dock.chips("hair_color")["blue"].isEnabled()
    assert not dock.reset_all_button().isEnabled()
    qtbot.mouseClick(dock.chips("hair_color")["blue"], Qt.MouseButton.LeftButton)
    assert recorder.requests == []
    dock.set_attributes(SPECS)  # a rebuild stays disabled
    assert not dock.slider("mouth").isEnabled()
    dock.set_enabled_editing(True)
    assert dock.slider("mouth").isEnabled() and dock.reset_all_button().isEnabled()


def test_screenshot(dock: AttributeDock, qtbot: QtBot, tmp_path: Path) -> None:
    """The filled dock renders (the picture is for people to look at)."""
    dock.set_state(
        EditState(
            (Edit("hair_color", target="blue"), Edit("hair_length", strength=1.5)),
            frozenset({"eye_color"}),
        )
    )
    path = tmp_path / "dock.png"
    assert dock.grab().save(str(path))
    assert path.stat().st_size > 0
