"""Attribute edits as words, with no torch: the grammar the command line, presets and the app
share, and the :class:`Edit` it reads into.

- ``ATTR=CLASS`` (``hair_color=blue``, ``glasses=true``): move the face into that class;
- ``ATTR=+X`` / ``ATTR=-X``: move by X spreads along the attribute's single direction
  (binary and ordinal attributes: ``hair_length=+1.5``);
- ``ATTR:CLASS=+X``: move by X spreads along one class's direction (``hair_color:blue=+2``).

What the edits do to a latent is :mod:`nfe_core.editing`; this module only reads and words
them, so the desktop app can hold edits without importing torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Edit", "EditError", "attribute_title", "is_attribute_name", "parse_edit", "parse_edits"]

_IDENT = r"[a-z][a-z0-9_]*"
_CLASS = r"[A-Za-z0-9][A-Za-z0-9_\-]*"
_NUMBER = r"[-+](?:\d+(?:\.\d*)?|\.\d+)"
_EDIT = re.compile(rf"^\s*({_IDENT})(?::({_CLASS}))?\s*=\s*(\S+)\s*$")
_STRENGTH = re.compile(rf"^{_NUMBER}$")
# Below this share of its length, a direction left after preserving is numerically nothing.


class EditError(ValueError):
    """An edit that cannot be parsed or applied; the message says why in plain words."""


@dataclass(frozen=True)
class Edit:
    """One edit: move ``attribute`` into class ``target``, or by ``strength`` spreads along
    ``direction`` (a class of a categorical attribute; None: the attribute's single direction),
    keeping the signed distances of the ``preserve``d attributes.

    ``distance`` (class targets only) lands the face that many spreads into the target
    class instead of the model's calibrated distance: :func:`nfe_core.editing.land` sets it
    per face to where the model's classifier sees the class. It is not part of the grammar."""

    attribute: str
    target: str | None = None
    strength: float | None = None
    direction: str | None = None
    preserve: tuple[str, ...] = ()
    distance: float | None = None

    def __post_init__(self) -> None:
        if (self.target is None) == (self.strength is None):
            raise EditError(f"{self.attribute}: an edit has either a target class or a strength")
        if self.strength is not None and not math.isfinite(self.strength):
            raise EditError(f"{self.attribute}: the strength must be a finite number")
        if self.target is not None and self.direction is not None:
            raise EditError(f"{self.attribute}: a class target takes no ':CLASS' direction")
        if self.distance is not None and (
            self.target is None or not math.isfinite(self.distance) or self.distance <= 0
        ):
            raise EditError(f"{self.attribute}: only a class target lands at a positive distance")
        object.__setattr__(self, "preserve", tuple(dict.fromkeys(self.preserve)))

    def __str__(self) -> str:
        """The edit in the grammar it was parsed from (without the preserved attributes)."""
        if self.target is not None:
            return f"{self.attribute}={self.target}"
        where = f"{self.attribute}:{self.direction}" if self.direction else self.attribute
        return f"{where}={self.strength:+g}"

    def describe(self) -> str:
        """For people: ``Hair length +1.5``, ``Eye colour: red``, ``Hair colour blue +2``."""
        title = attribute_title(self.attribute)
        if self.target is not None:
            text = f"{title}: {class_words(self.target)}"
        elif self.direction is not None:
            text = f"{title} {self.direction.replace('_', ' ')} {self.strength:+g}"
        else:
            text = f"{title} {self.strength:+g}"
        if self.preserve:
            text += " (keeping " + ", ".join(attribute_title(p).lower() for p in self.preserve)
            text += ")"
        return text


_CLASS_WORDS = {"false": "without", "true": "with"}


def class_words(name: str) -> str:
    """A class for people: ``light_blue`` -> ``light blue``; a binary attribute's ``true`` and
    ``false`` -> ``with`` and ``without`` (``Blush: with``)."""
    return _CLASS_WORDS.get(name, name.replace("_", " "))


def attribute_title(name: str) -> str:
    """``hair_color`` -> ``Hair colour`` (British spelling, as in the app)."""
    text = name.replace("_", " ").replace("color", "colour")
    return text[:1].upper() + text[1:]


def parse_edit(text: str, preserve: Iterable[str] = ()) -> Edit:
    """One edit in the grammar (``hair_color=blue``, ``hair_length=+1.5``,
    ``hair_color:blue=-2``); EditError says what is wrong. Not checked against a model: see
    :meth:`Boundaries.check`."""
    match = _EDIT.match(text)
    if match is None:
        raise EditError(
            f"cannot read the edit {text!r}: expected ATTR=CLASS (hair_color=blue), "
            "ATTR=+X (hair_length=+1.5) or ATTR:CLASS=+X (hair_color:blue=+2)"
        )
    attribute, direction, value = match.groups()
    if _STRENGTH.match(value):
        return Edit(attribute, strength=float(value), direction=direction, preserve=tuple(preserve))
    if direction is not None:
        raise EditError(
            f"{text!r}: after ATTR:CLASS= comes a signed strength such as +2 or -1.5, not {value!r}"
        )
    if re.match(r"^[-+]?[\d.]", value):
        raise EditError(f"{text!r}: a strength needs its sign, e.g. +{value.lstrip('+-')}")
    if not re.match(rf"^{_CLASS}$", value):
        raise EditError(f"{text!r}: {value!r} is not a class name")
    return Edit(attribute, target=value, preserve=tuple(preserve))


def parse_edits(texts: Iterable[str], preserve: Iterable[str] = ()) -> list[Edit]:
    """``--set`` values with the ``--preserve`` list (names, or comma-separated names)."""
    kept: list[str] = []
    for item in preserve:
        kept.extend(p.strip() for p in item.split(",") if p.strip())
    for name in kept:
        if not re.match(rf"^{_IDENT}$", name):
            raise EditError(f"--preserve: {name!r} is not an attribute name")
    return [parse_edit(text, kept) for text in texts]


def is_attribute_name(name: str) -> bool:
    """Whether ``name`` is spelled like an attribute (``hair_color``)."""
    return re.match(rf"^{_IDENT}$", name) is not None
