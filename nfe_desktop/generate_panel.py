"""Generate a face instead of opening a picture: a seed, a truncation, and a button."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nfe_core.defaults import DEFAULT_TRUNCATION

__all__ = ["DEFAULT_TRUNCATION", "MAX_SEED", "GeneratePanel"]

MAX_SEED = 2**31 - 1
_TRUNCATION_SCALE = 100
"""Truncation slider ticks per 1.0."""


class GeneratePanel(QWidget):
    """Seed, truncation and "Generate"; proposes a generation, does no model work itself.

    Signals:
        generate_requested(int, float): generate the face of this seed at this truncation
            (from "Generate", "Random" after it picked a new seed, or Enter in the seed box).
    """

    generate_requested = Signal(int, float)

    def __init__(self, parent: QWidget | None = None, *, rng: random.Random | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generate_panel")
        self._rng = rng if rng is not None else random.Random()
        self._busy = False

        self._seed = QSpinBox(self)
        self._seed.setObjectName("seed")
        self._seed.setRange(0, MAX_SEED)
        self._seed.setValue(0)
        self._seed.setAccelerated(True)
        self._seed.setToolTip("The same seed and truncation always give the same face")
        self._seed.lineEdit().returnPressed.connect(self._on_generate)
        self._random = QPushButton("Random", self)
        self._random.setObjectName("random")
        self._random.setToolTip("Pick a new random seed and generate its face")
        self._random.clicked.connect(self._on_random)
        seed_row = QHBoxLayout()
        seed_row.setSpacing(6)
        seed_row.addWidget(self._seed, 1)
        seed_row.addWidget(self._random)

        self._truncation = QSlider(Qt.Orientation.Horizontal, self)
        self._truncation.setObjectName("truncation")
        self._truncation.setRange(0, _TRUNCATION_SCALE)
        self._truncation.setSingleStep(5)
        self._truncation.setPageStep(10)
        self._truncation.setValue(round(DEFAULT_TRUNCATION * _TRUNCATION_SCALE))
        self._truncation.setToolTip(
            "Lower: more typical, cleaner faces; higher: more varied, less reliable ones"
        )
        self._truncation_label = QLabel(self)
        self._truncation_label.setMinimumWidth(
            self._truncation_label.fontMetrics().horizontalAdvance("0.00") + 4
        )
        self._truncation_label.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        self._truncation.valueChanged.connect(self._show_truncation)
        truncation_row = QHBoxLayout()
        truncation_row.setSpacing(6)
        truncation_row.addWidget(self._truncation, 1)
        truncation_row.addWidget(self._truncation_label)
        self._show_truncation()

        self._generate = QPushButton("Generate", self)
        self._generate.setObjectName("generate")
        self._generate.setToolTip("Generate the face of this seed (Enter in the seed box)")
        self._generate.clicked.connect(self._on_generate)

        hint = QLabel("No picture? Generate a face to edit.", self)
        hint.setWordWrap(True)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        font = QFont(hint.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.9, 7.0))
        hint.setFont(font)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Seed", seed_row)
        form.addRow("Truncation", truncation_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self._generate)

    # --- public API -------------------------------------------------------------------------

    def seed(self) -> int:
        return self._seed.value()

    def set_seed(self, seed: int) -> None:
        """Show ``seed`` (e.g. a loaded project's); emits nothing. ValueError if out of range."""
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed: expected 0 to {MAX_SEED}, got {seed}")
        self._seed.setValue(seed)

    def truncation(self) -> float:
        """The truncation, 0.0 (the average face) to 1.0 (none), in steps of 0.01."""
        return self._truncation.value() / _TRUNCATION_SCALE

    def set_truncation(self, truncation: float) -> None:
        """Show ``truncation``; ValueError outside 0..1."""
        if not 0.0 <= truncation <= 1.0:
            raise ValueError(f"truncation: expected 0.0 to 1.0, got {truncation}")
        self._truncation.setValue(round(truncation * _TRUNCATION_SCALE))

    def set_busy(self, busy: bool) -> None:
        """While a model call runs, Generate and Random (and Enter) do nothing."""
        self._busy = busy
        self._generate.setEnabled(not busy)
        self._random.setEnabled(not busy)
        self._generate.setText("Generating…" if busy else "Generate")

    def is_busy(self) -> bool:
        return self._busy

    # --- slots ------------------------------------------------------------------------------

    def _show_truncation(self) -> None:
        self._truncation_label.setText(f"{self.truncation():.2f}")

    def _on_generate(self) -> None:
        if self._busy:
            return
        self._seed.interpretText()  # a typed seed not yet committed by Enter or focus loss
        self.generate_requested.emit(self.seed(), self.truncation())

    def _on_random(self) -> None:
        if self._busy:
            return
        current = self.seed()
        seed = current
        while seed == current:
            seed = self._rng.randint(0, MAX_SEED)
        self._seed.setValue(seed)
        self._on_generate()
