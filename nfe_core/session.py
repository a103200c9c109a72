"""The editor's state without Qt: which edits the sliders hold, and what a render needs.

An :class:`EditState` is immutable: every user action (drag a slider, pick a colour swatch,
toggle "keep", reset) gives a new state, so undo/redo is keeping old states, and the desktop's
undo commands only swap states. At most one edit per attribute; the edits apply in the order
their attributes were first touched; every edit preserves the attributes marked "keep"
(except itself). :func:`describe_change` words a change for the history panel.

:class:`AttributeSpec` says what the attribute dock shows for one attribute (its group,
classes, slider direction and range), :class:`ModelInfo` what the app knows of a loaded model,
and :class:`Session` is the document an editor window holds: the picture or seed, the face
box, the inverted or generated face, and the slider state. None of it imports torch, so the
desktop can hold it on its UI thread; the model work is :mod:`nfe_core.service`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nfe_core.edits import Edit, attribute_title, parse_edit
from nfe_core.facebox import FaceBox
from nfe_core.imageio import Picture

if TYPE_CHECKING:
    from nfe_core.editing import Boundaries


@dataclass(frozen=True)
class EditState:
    """Slider values: ``edits`` by attribute in first-touched order, and the kept attributes."""

    edits: tuple[Edit, ...] = ()
    keep: frozenset[str] = field(default_factory=frozenset)

    def edit_for(self, attribute: str) -> Edit | None:
        for edit in self.edits:
            if edit.attribute == attribute:
                return edit
        return None

    def _with(self, edit: Edit | None, attribute: str) -> EditState:
        edits = list(self.edits)
        index = next((i for i, e in enumerate(edits) if e.attribute == attribute), None)
        if edit is None:
            if index is not None:
                del edits[index]
        elif index is None:
            edits.append(edit)
        else:
            edits[index] = edit
        return replace(self, edits=tuple(edits))

    def with_strength(
        self, attribute: str, strength: float, direction: str | None = None
    ) -> EditState:
        """The attribute's slider at ``strength`` (0 removes the edit)."""
        if strength == 0:
            return self._with(None, attribute)
        return self._with(Edit(attribute, strength=float(strength), direction=direction), attribute)

    def with_target(self, attribute: str, target: str | None) -> EditState:
        """The attribute set to class ``target`` (None removes the edit)."""
        if target is None:
            return self._with(None, attribute)
        return self._with(Edit(attribute, target=target), attribute)

    def with_keep(self, attribute: str, keep: bool) -> EditState:
        kept = set(self.keep)
        (kept.add if keep else kept.discard)(attribute)
        return replace(self, keep=frozenset(kept))

    def reset(self, attribute: str | None = None) -> EditState:
        """One attribute's edit removed, or (None) every edit; the keep toggles stay."""
        return replace(self, edits=()) if attribute is None else self._with(None, attribute)

    def resolved(self) -> list[Edit]:
        """The edits to apply, each preserving the kept attributes other than itself."""
        return [replace(e, preserve=tuple(sorted(self.keep - {e.attribute}))) for e in self.edits]

    def to_record(self) -> dict[str, list[str]]:
        """JSON-able: the edits in the ``--set`` grammar, in order, and the kept attributes."""
        return {"edits": [str(e) for e in self.edits], "keep": sorted(self.keep)}

    @classmethod
    def from_record(cls, record: object) -> EditState:
        """The state :meth:`to_record` wrote; ValueError (EditError) saying what is wrong."""
        if not isinstance(record, dict):
            raise ValueError(f"edit state: expected an object, got {type(record).__name__}")
        edits, keep = record.get("edits", []), record.get("keep", [])
        if not isinstance(edits, list) or not all(isinstance(e, str) for e in edits):
            raise ValueError("edit state: 'edits' must be a list of edits such as hair_color=blue")
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            raise ValueError("edit state: 'keep' must be a list of attribute names")
        state = cls(keep=frozenset(keep))
        for text in edits:
            edit = parse_edit(text)
            if state.edit_for(edit.attribute) is not None:
                raise ValueError(f"edit state: {edit.attribute} is edited twice")
            state = state._with(edit, edit.attribute)
        return state

    def check(self, boundaries: Boundaries) -> None:
        """EditError when a model cannot do one of the edits (e.g. after a model switch)."""
        for edit in self.resolved():
            boundaries.check(edit)


def describe_change(before: EditState, after: EditState) -> str:
    """The history panel's words for going from ``before`` to ``after``: every change, in
    order (``Hair colour: blue, Hair length +1.5``), the first three and a count beyond."""
    parts = [f"Keep {attribute_title(name).lower()}" for name in sorted(after.keep - before.keep)]
    parts += [
        f"Release {attribute_title(name).lower()}" for name in sorted(before.keep - after.keep)
    ]
    parts += [edit.describe() for edit in after.edits if before.edit_for(edit.attribute) != edit]
    removed = [e.attribute for e in before.edits if after.edit_for(e.attribute) is None]
    if len(removed) > 1 and not after.edits:
        parts.append("Reset all")
    else:
        parts += [f"Reset {attribute_title(name).lower()}" for name in removed]
    if not parts:
        return "No change"
    if len(parts) > 3:
        return ", ".join(parts[:3]) + f" and {len(parts) - 3} more"
    return ", ".join(parts)


# --- what the app shows of a model ---------------------------------------------------------

_GROUPS = {"hair": "Hair", "eye": "Eyes", "eyes": "Eyes"}
OTHER_GROUP = "Face and accessories"
UNRELIABLE = 0.5  # an attribute's class targets reaching fewer of the report's faces: flagged


def attribute_group(name: str) -> str:
    """The dock's section for an attribute: ``hair_color`` -> ``Hair``, ``eye_color`` ->
    ``Eyes``, anything else -> ``Face and accessories``."""
    return _GROUPS.get(name.split("_", 1)[0], OTHER_GROUP)


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute as the dock shows it.

    Attributes:
        name: ``hair_color``; ``title``: ``Hair colour``; ``group``: ``Hair``.
        classes: the classes a face can be moved into (``ATTR=CLASS``), in the model's order.
        class_directions: each class has its own direction (``ATTR:CLASS=+X``): a per-class
            attribute such as ``hair_color``, whose slider moves towards one chosen class.
        direction: ``(negative, positive)`` classes of the attribute's single direction
            (``ATTR=+X``: ``("short", "long")``, ``("false", "true")``), or None.
        strength_range: the slider's range in spreads, e.g. ``(-3.0, 3.0)``.
        success: the share of the model's quality report's generated faces on which setting
            a class (others kept) reached it, or None without a report; ``success_inverted``
            the same on inverted pictures; ``success_by_class`` per class.
        drawn_whole: the classes that a chip draws whole on the user's own picture, whatever
            the model draws (the model segmenter's ``figures``: a bow, a hair clip).
    """

    name: str
    title: str
    group: str
    classes: tuple[str, ...]
    class_directions: bool
    direction: tuple[str, str] | None
    strength_range: tuple[float, float] = (-3.0, 3.0)
    success: float | None = None
    success_inverted: float | None = None
    success_by_class: tuple[tuple[str, float], ...] = ()
    drawn_whole: tuple[str, ...] = ()

    @property
    def unreliable(self) -> bool:
        """The report found that setting a class rarely works (under half the faces)."""
        return self.success is not None and self.success < UNRELIABLE

    def class_success(self, cls: str) -> float | None:
        """The report's share of faces set to ``cls`` that reached it, or None."""
        return dict(self.success_by_class).get(cls)

    def slider_edit(self, strength: float, toward: str | None = None) -> Edit | None:
        """The edit a slider at ``strength`` makes (None at 0): along the single direction,
        or towards class ``toward`` (default: the first class) for a per-class attribute."""
        if strength == 0:
            return None
        if self.direction is not None:
            return Edit(self.name, strength=float(strength))
        return Edit(self.name, strength=float(strength), direction=toward or self.classes[0])


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model as the app describes it (Help > About, the status bar, the dock).

    ``can_invert`` / ``can_edit`` are None when the model can, else the reason in words.
    """

    path: str
    name: str
    description: str
    resolution: int
    device: str
    fingerprint: str
    attributes: tuple[AttributeSpec, ...]
    cannot_invert: str | None
    cannot_edit: str | None
    can_find_faces: bool = False  # it has a segmenter to look for the face in a picture with
    latent_shape: tuple[int, int] = (0, 0)  # W+: (num_ws, w_dim)
    training: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None

    def attribute(self, name: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.name == name), None)

    def record(self) -> dict[str, str]:
        """``{"name", "fingerprint"}``, as latents, presets and projects store it."""
        return {"name": self.name, "fingerprint": self.fingerprint}


# --- the document ---------------------------------------------------------------------------

SourceKind = Literal["picture", "generated"]


@dataclass(frozen=True, eq=False)
class Face:
    """The face being edited: its W+ latent and unedited render, and where it came from.

    Attributes:
        latent: (num_ws, w_dim) float32, the unedited W+ code.
        reconstruction: its render, ``R x R x 3`` uint8 (for a picture: the inversion's
            reconstruction, which :func:`~nfe_core.facebox.paste_back_picture` subtracts).
        kind: ``picture`` (inverted from the open picture) or ``generated`` (from a seed).
        box: the face box in the picture (``picture`` only), as inverted (clamped).
        seed, truncation: what generated it (``generated`` only).
        steps: refinement steps the inversion ran; ``seconds`` how long it took.
        model: ``{"name", "fingerprint"}`` of the model that made it.
        tuned: the synthesis weights pivotal tuning found for a picture's face (float32
            arrays by parameter name), which draw it and its edits; None: the model's own.
        tune_steps: tuning steps that ran.
    """

    latent: np.ndarray
    reconstruction: np.ndarray
    kind: SourceKind
    model: dict[str, str]
    box: FaceBox | None = None
    seed: int | None = None
    truncation: float | None = None
    steps: int = 0
    seconds: float = 0.0
    tuned: dict[str, np.ndarray] | None = None
    tune_steps: int = 0

    def __post_init__(self) -> None:
        if self.latent.ndim != 2 or self.latent.dtype != np.float32:
            raise ValueError(
                f"face: the latent must be a (num_ws, w_dim) float32 array, got "
                f"{self.latent.dtype} {self.latent.shape}"
            )
        if self.reconstruction.ndim != 3 or self.reconstruction.dtype != np.uint8:
            raise ValueError("face: the reconstruction must be an R x R x 3 uint8 array")
        if (self.kind == "picture") != (self.box is not None):
            raise ValueError("face: a face from a picture has a box, a generated one has none")
        if self.tuned is not None and (
            self.kind != "picture"
            or not self.tuned
            or any(
                not isinstance(v, np.ndarray) or v.dtype != np.float32 for v in self.tuned.values()
            )
        ):
            raise ValueError(
                "face: tuned weights belong to a picture's face, as float32 arrays by name"
            )

    def describe(self) -> str:
        """For the status bar: ``seed 42`` or ``inverted 100 x 100 at 10,20 (100 steps)``."""
        if self.kind == "generated":
            return f"seed {self.seed}, truncation {self.truncation:g}"
        assert self.box is not None
        steps = f"{self.steps} steps" + (f", tuned {self.tune_steps}" if self.tuned else "")
        return f"face {self.box.w} x {self.box.h} at {self.box.x},{self.box.y} ({steps})"


class Session:
    """What one editor window works on; the undo commands change it through :meth:`set_state`.

    ``picture`` is the artist's picture (None for a generated face), ``box`` the face box
    they drew (None: the default), ``face`` the inverted or generated face (None until one
    exists) and ``state`` the sliders. A new picture or face starts a new state.
    """

    def __init__(self) -> None:
        self.picture: Picture | None = None
        self.box: FaceBox | None = None
        self.face: Face | None = None
        self.state = EditState()

    def open_picture(self, picture: Picture, box: FaceBox | None = None) -> None:
        """A new picture: no face yet, the sliders at rest (keep toggles stay)."""
        self.picture, self.box, self.face = picture, box, None
        self.state = EditState(keep=self.state.keep)

    def set_face(self, face: Face) -> None:
        """A freshly inverted or generated face; a generated one has no picture."""
        if face.kind == "generated":
            self.picture, self.box = None, None
        self.face = face
        self.state = EditState(keep=self.state.keep)

    def set_state(self, state: EditState) -> EditState:
        """Make ``state`` the slider state; returns the previous one."""
        previous, self.state = self.state, state
        return previous
