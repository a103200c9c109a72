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

from nfe_core.defaults import DEFAULT_STEPS, DEFAULT_TRUNCATION, DEFAULT_TUNE_STEPS

ORGANIZATION = "NFE"
APPLICATION = "Neural Face Editor"

T = TypeVar("T", str, int, float, bool, bytes)


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One declared setting: its QSettings key, Python type, default value and meaning.

    A *preference* (``label`` set) appears in Edit > Preferences, built from this declaration:
    ``choices`` (value, words) make a list to pick from, ``bounds`` limit a number.
    """

    key: str
    type: type[T]
    default: T
    doc: str
    label: str = ""
    choices: tuple[tuple[T, str], ...] = ()
    bounds: tuple[float, float] | None = None

    @property
    def is_preference(self) -> bool:
        return bool(self.label)

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is a valid value of this setting (type, choices, bounds)."""
        if not isinstance(value, self.type) or (self.type is not bool and isinstance(value, bool)):
            return False
        if self.choices and value not in [c for c, _ in self.choices]:
            return False
        if self.bounds is not None and isinstance(value, int | float):
            return self.bounds[0] <= value <= self.bounds[1]
        return True


WINDOW_GEOMETRY: Setting[bytes] = Setting(
    "window/geometry", bytes, b"", "The main window's size and position (QWidget.saveGeometry)."
)
LAST_FOLDER: Setting[str] = Setting(
    "paths/last_folder", str, "", "The folder of the last picture opened or saved; '' for home."
)
VIEW_ACTUAL_SIZE: Setting[bool] = Setting(
    "view/actual_size", bool, False, "Show pictures at actual size (True) or fitted (False)."
)

WINDOW_STATE: Setting[bytes] = Setting(
    "window/state", bytes, b"", "The docks' and toolbars' layout (QMainWindow.saveState)."
)
RECENT_FILES: Setting[str] = Setting(
    "paths/recent_files", str, "", "Pictures and projects opened lately, newest first, one a line."
)
LAST_MODEL: Setting[str] = Setting(
    "model/last_bundle", str, "", "The model bundle opened last; '' for the bundled default."
)
TRUNCATION: Setting[float] = Setting(
    "generate/truncation",
    float,
    DEFAULT_TRUNCATION,
    "The Generate panel's truncation (0: the mean face).",
)

MAX_RECENT_FILES = 10

DEVICE: Setting[str] = Setting(
    "model/device",
    str,
    "auto",
    "Where the model runs; 'auto' picks the fastest this machine and build of PyTorch have.",
    label="Run the model on",
    choices=(
        ("auto", "The fastest available"),
        ("cpu", "CPU"),
        ("cuda", "NVIDIA GPU (CUDA)"),
        ("mps", "Apple GPU (MPS)"),
    ),
)
INVERSION_STEPS: Setting[int] = Setting(
    "invert/steps",
    int,
    DEFAULT_STEPS,
    "Refinement steps after the encoder when inverting a picture: more is closer, slower.",
    label="Inversion steps",
    bounds=(0, 1000),
)
TUNING_STEPS: Setting[int] = Setting(
    "invert/tune_steps",
    int,
    DEFAULT_TUNE_STEPS,
    "Pivotal tuning steps after those: a copy of the model learns the picture's own details, "
    "so edits keep them; 0 is none.",
    label="Tuning steps",
    bounds=(0, 1000),
)
EXPORT_FORMAT: Setting[str] = Setting(
    "export/format",
    str,
    "png",
    "The picture format Save As and Batch Export suggest.",
    label="Export format",
    choices=(("png", "PNG"), ("jpg", "JPEG"), ("webp", "WebP")),
)
EXPORT_PATTERN: Setting[str] = Setting(
    "export/pattern",
    str,
    "{stem}_edited.{ext}",
    "How Batch Export names its files: {stem}, {name}, {ext}, {index}.",
    label="Batch file names",
)
EXPORT_QUALITY: Setting[int] = Setting(
    "export/quality",
    int,
    95,
    "JPEG and WebP quality, 1 to 100 (PNG is lossless).",
    label="JPEG/WebP quality",
    bounds=(1, 100),
)

ALL_SETTINGS: tuple[Setting[Any], ...] = (
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    LAST_FOLDER,
    VIEW_ACTUAL_SIZE,
    RECENT_FILES,
    LAST_MODEL,
    TRUNCATION,
    DEVICE,
    INVERSION_STEPS,
    TUNING_STEPS,
    EXPORT_FORMAT,
    EXPORT_PATTERN,
    EXPORT_QUALITY,
)
PREFERENCES: tuple[Setting[Any], ...] = tuple(s for s in ALL_SETTINGS if s.is_preference)


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
            value = _convert(setting, raw)
        except (TypeError, ValueError):
            return setting.default
        return value if setting.accepts(value) else setting.default

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
        if not setting.accepts(value):
            raise ValueError(f"setting {setting.key!r}: {value!r} is not one of its values")
        stored: object = QByteArray(value) if isinstance(value, bytes) else value
        self._store.setValue(setting.key, stored)

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._store.sync()


def recent_files(settings: Settings) -> list[str]:
    """The recent files list, newest first."""
    return [line for line in settings.get(RECENT_FILES).splitlines() if line.strip()]


def add_recent_file(settings: Settings, path: str) -> list[str]:
    """Put ``path`` first in the recent files (once; at most MAX_RECENT_FILES); the new list."""
    files = [path, *(f for f in recent_files(settings) if f != path)][:MAX_RECENT_FILES]
    settings.set(RECENT_FILES, "\n".join(files))
    return files
