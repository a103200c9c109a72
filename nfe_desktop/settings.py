"""Every desktop setting, declared once (key, type, default, doc), stored through QSettings.

As in Orange's ``config.py``: a setting is a declaration, not a string scattered through the
widgets. Read and write them only through :class:`Settings` with the declared constants::

    settings = Settings()
    folder = settings.get(LAST_FOLDER)
    settings.set(LAST_FOLDER, "/home/me/pictures")

A stored value that cannot be read back as the declared type gives the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "NFE"
APPLICATION = "Neural Face Editor"

T = TypeVar("T", str, int, float, bool, bytes)


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One declared setting: its QSettings key, Python type, default value and meaning."""

    key: str
    type: type[T]
    default: T
    doc: str


WINDOW_GEOMETRY: Setting[bytes] = Setting(
    "window/geometry", bytes, b"", "The main window's size and position (QWidget.saveGeometry)."
)
LAST_FOLDER: Setting[str] = Setting(
    "paths/last_folder", str, "", "The folder of the last picture opened or saved; '' for home."
)
VIEW_ACTUAL_SIZE: Setting[bool] = Setting(
    "view/actual_size", bool, False, "Show pictures at actual size (True) or fitted (False)."
)

ALL_SETTINGS: tuple[Setting[Any], ...] = (WINDOW_GEOMETRY, LAST_FOLDER, VIEW_ACTUAL_SIZE)


def _convert(setting: Setting[T], raw: object) -> T:
    """Turn a value as QSettings stores it (often a string in INI files) into the declared type."""
    kind = setting.type
    if kind is bytes:
        if isinstance(raw, QByteArray):
            return bytes(raw.data())  # type: ignore[return-value]
        if isinstance(raw, bytes | bytearray):
            return bytes(raw)  # type: ignore[return-value]
        raise TypeError(f"expected bytes, got {type(raw).__name__}")
    if kind is bool:
        if isinstance(raw, bool):
            return raw  # type: ignore[return-value]
        if isinstance(raw, str) and raw.lower() in {"true", "false", "1", "0"}:
            return raw.lower() in {"true", "1"}  # type: ignore[return-value]
        if isinstance(raw, int):
            return bool(raw)  # type: ignore[return-value]
        raise TypeError(f"expected a boolean, got {raw!r}")
    if kind is str:
        if isinstance(raw, str):
            return raw  # type: ignore[return-value]
        raise TypeError(f"expected text, got {type(raw).__name__}")
    if kind in (int, float) and isinstance(raw, int | float | str) and not isinstance(raw, bool):
        return kind(raw)  # type: ignore[return-value]
    raise TypeError(f"expected {kind.__name__}, got {raw!r}")


class Settings:
    """Typed access to the declared settings, over a QSettings store (the user's by default)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    @property
    def store(self) -> QSettings:
        """The QSettings underneath (for tests and diagnostics)."""
        return self._store

    def get(self, setting: Setting[T]) -> T:
        """The stored value of ``setting``, or its default when unset or unreadable."""
        if setting not in ALL_SETTINGS:
            raise KeyError(f"undeclared setting {setting.key!r}: declare it in settings.py")
        raw = self._store.value(setting.key)
        if raw is None:
            return setting.default
        try:
            return _convert(setting, raw)
        except (TypeError, ValueError):
            return setting.default

    def set(self, setting: Setting[T], value: T) -> None:
        """Store ``value`` for ``setting``; it must have the declared type."""
        if setting not in ALL_SETTINGS:
            raise KeyError(f"undeclared setting {setting.key!r}: declare it in settings.py")
        if not isinstance(value, setting.type) or (
            setting.type is not bool and isinstance(value, bool)
        ):
            raise TypeError(
                f"setting {setting.key!r} takes {setting.type.__name__}, got {type(value).__name__}"
            )
        stored: object = QByteArray(value) if isinstance(value, bytes) else value
        self._store.setValue(setting.key, stored)

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._store.sync()
