"""Edit > Preferences: one row per declared preference, built from its declaration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nfe_desktop.settings import DEVICE, PREFERENCES, Setting, Settings


class PreferencesDialog(QDialog):
    """Shows every preference of :data:`~nfe_desktop.settings.PREFERENCES` with its stored
    value and description; OK stores the changed ones (Cancel: nothing changes).

    ``devices`` are the devices this build of torch can use (known once the model loaded);
    the device list offers only those.
    """

    def __init__(
        self, settings: Settings, devices: Sequence[str] = ("cpu",), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        self._editors: dict[str, tuple[Setting[Any], QWidget]] = {}
        form = QFormLayout()
        for setting in PREFERENCES:
            editor = self._editor(setting, devices)
            editor.setToolTip(setting.doc)
            editor.setObjectName(setting.key)
            self._editors[setting.key] = (setting, editor)
            form.addRow(setting.label + ":", editor)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _editor(self, setting: Setting[Any], devices: Sequence[str]) -> QWidget:
        value = self._settings.get(setting)
        if setting.choices:
            combo = QComboBox(self)
            for choice, words in setting.choices:
                if setting is DEVICE and choice not in ("auto", *devices):
                    continue
                combo.addItem(words, choice)
            index = combo.findData(value)
            combo.setCurrentIndex(max(0, index))
            return combo
        if setting.type is bool:
            box = QCheckBox(self)
            box.setChecked(bool(value))
            return box
        if setting.type is int:
            spin = QSpinBox(self)
            low, high = setting.bounds or (-(2**31), 2**31 - 1)
            spin.setRange(int(low), int(high))
            spin.setValue(int(value))
            return spin
        if setting.type is float:
            dspin = QDoubleSpinBox(self)
            low, high = setting.bounds or (-1e9, 1e9)
            dspin.setRange(low, high)
            dspin.setValue(float(value))
            return dspin
        line = QLineEdit(str(value), self)
        return line

    def editor(self, setting: Setting[Any]) -> QWidget:
        """The widget editing ``setting`` (for tests)."""
        return self._editors[setting.key][1]

    def values(self) -> dict[str, Any]:
        """The values shown, by setting key."""
        out: dict[str, Any] = {}
        for key, (setting, editor) in self._editors.items():
            if isinstance(editor, QComboBox):
                out[key] = editor.currentData()
            elif isinstance(editor, QCheckBox):
                out[key] = editor.isChecked()
            elif isinstance(editor, QSpinBox | QDoubleSpinBox):
                out[key] = setting.type(editor.value())
            elif isinstance(editor, QLineEdit):
                out[key] = editor.text().strip() or setting.default
        return out

    def accept(self) -> None:
        """Store every valid value shown, then close."""
        for key, value in self.values().items():
            setting = self._editors[key][0]
            if setting.accepts(value):
                self._settings.set(setting, value)
        super().accept()
