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
