"""What every network config shares: building a frozen config dataclass from saved JSON."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


def config_from_dict(cls: type[T], d: object) -> T:
    """``cls(**d)`` for a config dataclass, refusing a non-dict, unknown and missing keys
    with a ValueError that names them (field values are checked by the class itself)."""
    if not isinstance(d, dict):
        raise ValueError(f"{cls.__name__} must be a JSON object, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(
            f"{cls.__name__}: unknown keys {unknown}; expected some of {sorted(names)}"
        )
    missing = sorted(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.name not in d
    )
    if missing:
        raise ValueError(f"{cls.__name__}: missing keys {missing}")
    return cls(**d)


def is_int(value: object) -> bool:
    """A whole number that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_resolution(resolution: object, low: int, high: int) -> int:
    """``resolution`` if it is a power of two from ``low`` to ``high``, else ValueError."""
    if not is_int(resolution) or not low <= resolution <= high or resolution & (resolution - 1):
        raise ValueError(
            f"resolution must be a power of two from {low} to {high}, got {resolution!r}"
        )
    return resolution


def check_positive_int(name: str, value: object) -> None:
    """ValueError unless ``value`` is a whole number of at least 1."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
