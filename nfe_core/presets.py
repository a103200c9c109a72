"""Edit presets: a named list of edits in one small JSON file, shared by the CLI and the app.

::

    {
      "format": "nfe-preset",
      "version": 1,
      "name": "pink and long",
      "edits": ["hair_color=pink", "hair_length=+1.5"],
      "preserve": ["eye_color"],
      "model": {"name": "anime64", "fingerprint": "3f2a..."}
    }

``edits`` are in the ``--set`` grammar and ``preserve`` in the ``--preserve`` one (see
:mod:`nfe_core.editing`); ``model`` names the model the preset was made for (``null`` when it
was made without one). A preset made for another model still loads: :meth:`Preset.matches`
says whether it fits, and callers warn - the attribute names may mean the same there, or not.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nfe_core.edits import Edit, EditError, parse_edits
from nfe_core.fileio import describe_os_error, write_atomically

if TYPE_CHECKING:
    from nfe_core.bundle import Bundle

__all__ = [
    "PRESET_FORMAT",
    "PRESET_SUFFIX",
    "PRESET_VERSION",
    "Preset",
    "PresetError",
    "edits_with_preserve",
    "load_preset",
    "preset_for_model",
    "save_preset",
]

PRESET_FORMAT = "nfe-preset"
PRESET_VERSION = 1
PRESET_SUFFIX = ".json"
MAX_PRESET_BYTES = 1024 * 1024


class PresetError(ValueError):
    """A preset that cannot be used; ``str(e)`` is ``"<path>: <reason>"`` (or the reason
    alone for a preset not read from a file)."""

    def __init__(self, path: str | os.PathLike[str] | None, reason: str) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path is not None else reason)


def edits_with_preserve(sets: list[str] | tuple[str, ...], preserve: Any = ()) -> list[Edit]:
    """``--set`` strings and ``--preserve`` names as edits; each edit preserves the listed
    attributes except its own (so ``--preserve hair_color`` never blocks a hair colour edit).

    Raises:
        EditError: an edit or attribute name cannot be read.
    """
    edits = parse_edits(sets, preserve)
    return [
        dataclasses.replace(edit, preserve=tuple(p for p in edit.preserve if p != edit.attribute))
        for edit in edits
    ]


@dataclass(frozen=True)
class Preset:
    """A named list of edits (``--set`` strings) and preserved attributes, and the model
    (``{"name", "fingerprint"}``, or None) it was made for.

    Raises:
        PresetError: a field has the wrong type, there are no edits, or an edit or attribute
            name cannot be read.
    """

    name: str
    sets: tuple[str, ...]
    preserve: tuple[str, ...] = ()
    model: dict[str, str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PresetError(None, "the preset's name must be a non-empty text")
        for label, values in (("edits", self.sets), ("preserve", self.preserve)):
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise PresetError(None, f"'{label}' must be a list of texts")
            object.__setattr__(self, "sets" if label == "edits" else label, tuple(values))
        if not self.sets:
            raise PresetError(None, "the preset has no edits")
        if self.model is not None and not (
            isinstance(self.model, dict)
            and all(isinstance(self.model.get(k), str) for k in ("name", "fingerprint"))
        ):
            raise PresetError(None, "'model' must be null or {'name': ..., 'fingerprint': ...}")
        try:
            self.edits()
        except EditError as exc:
            raise PresetError(None, str(exc)) from None

    def edits(self) -> list[Edit]:
        """The edits, in order, each preserving the preset's ``preserve`` list (less its own
        attribute)."""
        return edits_with_preserve(self.sets, self.preserve)

    def matches(self, bundle: Bundle) -> bool:
        """Whether the preset was made for ``bundle``'s generator (same weights' fingerprint).
        A preset that names no model matches none."""
        from nfe_core.pipeline import model_record

        return (
            self.model is not None
            and self.model["fingerprint"] == (model_record(bundle)["fingerprint"])
        )

    def describe_model(self) -> str:
        """The model it was made for, in words: ``'anime64' (3f2a...)`` or ``no model``."""
        if self.model is None:
            return "no model"
        return f"{self.model['name']!r} ({self.model['fingerprint']})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object :func:`save_preset` writes."""
        return {
            "format": PRESET_FORMAT,
            "version": PRESET_VERSION,
            "name": self.name,
            "edits": list(self.sets),
            "preserve": list(self.preserve),
            "model": dict(self.model) if self.model is not None else None,
        }


def preset_for_model(
    name: str, sets: list[str] | tuple[str, ...], preserve: Any, bundle: Bundle
) -> Preset:
    """A preset of these ``--set``/``--preserve`` values made for ``bundle``; the preserve
    list is flattened (``"a,b"`` -> ``a``, ``b``) and each edit is checked against the model.

    Raises:
        PresetError: an edit cannot be read; EditError: the model cannot make it.
    """
    from nfe_core.pipeline import check_can_edit, model_record

    names = tuple(
        dict.fromkeys(p.strip() for item in preserve for p in item.split(",") if p.strip())
    )
    preset = Preset(name, tuple(sets), names, model_record(bundle))
    check_can_edit(bundle, preset.edits())
    return preset


def save_preset(path: str | os.PathLike[str], preset: Preset) -> Path:
    """Write ``preset`` to ``path`` as JSON, atomically; FileWriteError if it cannot be."""
    path = Path(path)
    text = json.dumps(preset.to_dict(), indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, lambda stream: stream.write(text.encode("utf-8")))
    return path


def load_preset(path: str | os.PathLike[str]) -> Preset:
    """The preset in ``path``.

    Raises:
        PresetError: the file is missing, unreadable, not JSON, not an NFE preset, of
            another version, or holds an edit that cannot be read - in words, with the file.
    """
    path = Path(path)
    if path.is_dir():
        raise PresetError(path, "this is a folder; expected a preset file (.json)")
    try:
        if path.stat().st_size > MAX_PRESET_BYTES:
            raise PresetError(path, "too large to be a preset file")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PresetError(path, "no such file") from None
    except OSError as exc:
        raise PresetError(path, f"cannot be read ({describe_os_error(exc)})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PresetError(path, "not a preset file (it is not text)") from None
    except json.JSONDecodeError as exc:
        raise PresetError(
            path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != PRESET_FORMAT:
        raise PresetError(path, f'not an NFE edit preset (no "format": "{PRESET_FORMAT}")')
    if data.get("version") != PRESET_VERSION:
        raise PresetError(
            path,
            f"preset version {data.get('version')!r} is not one this NFE reads "
            f"(it reads version {PRESET_VERSION})",
        )
    name = data.get("name", path.stem)
    edits = data.get("edits")
    preserve = data.get("preserve", [])
    model = data.get("model")
    for label, value in (("edits", edits), ("preserve", preserve)):
        if not isinstance(value, list):
            raise PresetError(path, f"'{label}' must be a list of texts")
    try:
        return Preset(name, tuple(edits), tuple(preserve), model)
    except PresetError as exc:
        raise PresetError(path, exc.reason) from None
