"""How batch results are named: one naming pattern, used by ``nfe batch`` and the app.

A pattern is a Python format string with the fields ``{stem}``, ``{name}``, ``{ext}`` and
``{index}`` (``{stem}_edited.{ext}``). No torch here, so the app's batch dialog can preview
names with the very function the batch uses.
"""

from __future__ import annotations

import string
from pathlib import Path

from nfe_core.imageio import WRITE_SUFFIXES

__all__ = ["BATCH_FORMATS", "DEFAULT_PATTERN", "PATTERN_FIELDS", "BatchError", "output_name"]

BATCH_FORMATS: dict[str, str] = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}
"""``format`` values and the extension each writes."""

DEFAULT_PATTERN = "{stem}_edited.{ext}"
PATTERN_FIELDS = ("stem", "name", "ext", "index")


class BatchError(ValueError):
    """A batch that cannot start (bad pattern, format, shard or output folder); the message
    says why."""


def output_name(pattern: str, source: Path, ext: str, index: int) -> str:
    """The file name ``pattern`` gives ``source``: fields ``{stem}`` (name without
    extension), ``{name}`` (with it), ``{ext}`` (the output format's) and ``{index}`` (the
    picture's place in the sorted batch, from 0; ``{index:04d}`` pads it).

    Raises:
        BatchError: an unknown field, a name with a folder in it, or an extension that
            does not match ``ext``.
    """
    fields = {"stem": source.stem, "name": source.name, "ext": ext, "index": index}
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
        unknown = sorted(f for f in names if f.split(".")[0].split("[")[0] not in fields)
        if unknown:
            raise BatchError(
                f"--pattern {pattern!r}: unknown field {{{unknown[0]}}} "
                f"(use {', '.join('{' + f + '}' for f in PATTERN_FIELDS)})"
            )
        name = pattern.format(**fields)
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        if isinstance(exc, BatchError):
            raise
        raise BatchError(
            f"--pattern {pattern!r}: cannot make a file name from it ({exc})"
        ) from None
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise BatchError(
            f"--pattern {pattern!r} gives {name!r} for {source.name}; expected a plain file "
            "name (no folders; the output folder is --out)"
        )
    suffix = Path(name).suffix.lower()
    if WRITE_SUFFIXES.get(suffix) != WRITE_SUFFIXES[f".{ext}"]:
        raise BatchError(
            f"--pattern {pattern!r} gives {name!r}, which does not end in .{ext}; "
            "end the pattern with .{ext}"
        )
    return name
