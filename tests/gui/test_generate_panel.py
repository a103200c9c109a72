"""The generate panel as a user drives it: a seed, a truncation, Generate, Random, Enter."""

from __future__ import annotations

import random
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSlider, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from nfe_desktop.generate_panel import DEFAULT_TRUNCATION, MAX_SEED, GeneratePanel

pytestmark = pytest.mark.gui

W = TypeVar("W", bound=QWidget)


@pytest.fixture
def panel(qtbot: QtBot) -> GeneratePanel:
    widget = GeneratePanel(rng=random.Random(7))
    qtbot.addWidget(widget)
    widget.resize(290, widget.sizeHint().height())
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def child(panel: GeneratePanel, kind: type[W], name: str) -> W:
    """The panel's child widget of this type and object name."""
    found = panel.findChild(kind, name)
    assert found is not None, name
    return found


def test_defaults(panel: GeneratePanel) -> None:
    seed = child(panel, QSpinBox, "seed")
    assert (seed.minimum(), seed.maximum()) == (0, MAX_SEED) == (0, 2**31 - 1)
    assert panel.truncation() == pytest.approx(DEFAULT_TRUNCATION) == pytest.approx(0.7)
    assert "0.70" in [label.text() for label in panel.findChildren(QLabel)]


def test_generate_emits_seed_and_truncation(panel: GeneratePanel, qtbot: QtBot) -> None:
    panel.set_seed(1234)
    child(panel, QSlider, "truncation").setValue(55)
    assert "0.55" in [label.text() for label in panel.findChildren(QLabel)]
    with qtbot.waitSignal(panel.generate_requested) as blocker:
        qtbot.mouseClick(child(panel, QPushButton, "generate"), Qt.MouseButton.LeftButton)
    assert blocker.args == [1234, pytest.approx(0.55)]


def test_enter_in_the_seed_box_generates(panel: GeneratePanel, qtbot: QtBot) -> None:
    seed = child(panel, QSpinBox, "seed")
    seed.setFocus()
    seed.lineEdit().selectAll()
    qtbot.keyClicks(seed, "987")
    with qtbot.waitSignal(panel.generate_requested) as blocker:
        qtbot.keyClick(seed, Qt.Key.Key_Return)
    assert blocker.args == [987, pytest.approx(0.7)]
    assert panel.seed() == 987


def test_random_picks_a_new_seed_and_generates(panel: GeneratePanel, qtbot: QtBot) -> None:
    panel.set_seed(5)
    seeds = []
    for _ in range(3):
        with qtbot.waitSignal(panel.generate_requested) as blocker:
            qtbot.mouseClick(child(panel, QPushButton, "random"), Qt.MouseButton.LeftButton)
        seeds.append(blocker.args[0])
        assert blocker.args[0] == panel.seed()
    assert 5 not in seeds and len(set(seeds)) == 3
    assert all(0 <= s <= MAX_SEED for s in seeds)


def test_busy_disables_generating(panel: GeneratePanel, qtbot: QtBot) -> None:
    generate, rand = child(panel, QPushButton, "generate"), child(panel, QPushButton, "random")
    panel.set_busy(True)
    assert not generate.isEnabled() and not rand.isEnabled()
    with qtbot.assertNotEmitted(panel.generate_requested):
        seed = child(panel, QSpinBox, "seed")
        seed.setFocus()
        qtbot.keyClick(seed, Qt.Key.Key_Return)
    panel.set_busy(False)
    assert generate.isEnabled() and rand.isEnabled() and generate.text() == "Generate"


def test_setters_check_their_range(panel: GeneratePanel) -> None:
    panel.set_seed(MAX_SEED)
    assert panel.seed() == MAX_SEED
    panel.set_truncation(0.25)
    assert panel.truncation() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="seed"):
        panel.set_seed(-1)
    with pytest.raises(ValueError, match="truncation"):
        panel.set_truncation(1.5)
