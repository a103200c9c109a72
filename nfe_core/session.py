"""The editor's state without Qt: which edits the sliders hold, and what a render needs.

An :class:`EditState` is immutable: every user action (drag a slider, pick a colour swatch,
toggle "keep", reset) gives a new state, so undo/redo is keeping old states, and the desktop's
undo commands only swap states. At most one edit per attribute; the edits apply in the order
their attributes were first touched; every edit preserves the attributes marked "keep"
(except itself). :func:`describe_change` words a change for the history panel.

A :class:`RenderRequest` is the frozen input of one render (latent, edits, layers); the app
sends the newest and drops stale results, :func:`render_request` is the pure call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from nfe_core.editing import Boundaries, Edit, apply, attribute_title
from nfe_core.models import Generator
from nfe_core.sampling import images_to_uint8


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

    def check(self, boundaries: Boundaries) -> None:
        """EditError when a model cannot do one of the edits (e.g. after a model switch)."""
        for edit in self.resolved():
            boundaries.check(edit)


def describe_change(before: EditState, after: EditState) -> str:
    """The history panel's words for going from ``before`` to ``after``."""
    if after.keep != before.keep:
        added, removed = after.keep - before.keep, before.keep - after.keep
        name = next(iter(added or removed))
        return f"{'Keep' if added else 'Release'} {attribute_title(name).lower()}"
    for edit in after.edits:
        if before.edit_for(edit.attribute) != edit:
            return edit.describe()
    removed = [e.attribute for e in before.edits if after.edit_for(e.attribute) is None]
    if len(removed) > 1:
        return "Reset all"
    if removed:
        return f"Reset {attribute_title(removed[0]).lower()}"
    return "No change"


@dataclass(frozen=True, eq=False)
class RenderRequest:
    """One render: W (w_dim,) or W+ (num_ws, w_dim) on the CPU, the edits, a W+ layer range.
    ``serial`` orders requests so a consumer can drop results older than the newest."""

    latent: Tensor
    edits: tuple[Edit, ...]
    layers: tuple[int, int] | None = None
    serial: int = 0


def render_request(
    request: RenderRequest, generator: Generator, boundaries: Boundaries
) -> tuple[np.ndarray, Tensor]:
    """The face (R, R, 3) uint8 and the edited latent for ``request`` (fixed noise)."""
    device = next(generator.parameters()).device
    edited = apply(
        request.latent.float(),
        list(request.edits),
        boundaries,
        layers=request.layers,
        num_ws=generator.num_ws,
    )
    with torch.inference_mode():
        image = generator.synthesis(edited[None].to(device), noise_mode="const")
    return images_to_uint8(image)[0], edited
