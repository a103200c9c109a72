"""The editor's undo commands: each one swaps the session's slider state, and nothing else.

As in Orange's canvas: one small ``QUndoCommand`` per kind of change, changing the model only
through its API (:meth:`nfe_core.session.Session.set_state`, via the window's ``apply``
callable so the view follows), storing the states before and after. A slider drag pushes a
command on its first move and merges every later move of the same drag into it (``id`` and
``mergeWith``), so the history shows one entry per drag ("Hair length +1.5"); a drag that
ends where it started leaves no entry.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from nfe_core.session import EditState, describe_change

EDIT_COMMAND_ID = 1001


class EditCommand(QUndoCommand):
    """Go from one :class:`EditState` to another.

    ``drag`` names the attribute of a slider drag still in progress (later moves of the same
    drag merge into this command); None for a finished change (a click, a release, a reset).
    """

    def __init__(
        self,
        apply: Callable[[EditState], None],
        before: EditState,
        after: EditState,
        drag: str | None = None,
    ) -> None:
        super().__init__(describe_change(before, after))
        self._apply = apply
        self.before = before
        self.after = after
        self.drag = drag

    def redo(self) -> None:
        """Show the state after the change."""
        self._apply(self.after)

    def undo(self) -> None:
        """Show the state before the change."""
        self._apply(self.before)

    def id(self) -> int:
        """Commands of a drag share an id so Qt offers them to :meth:`mergeWith`."""
        return EDIT_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Take in the next move of this command's drag (or its release); a drag back to the
        start makes the command obsolete, so the history drops it."""
        if not isinstance(other, EditCommand) or self.drag is None:
            return False
        if other.drag not in (self.drag, None) or other.before != self.after:
            return False
        if other.drag is None and not _same_attribute(self, other):
            return False
        self.after = other.after
        self.drag = other.drag
        self.setText(describe_change(self.before, self.after))
        self.setObsolete(self.after == self.before)
        return True


def _same_attribute(drag: EditCommand, release: EditCommand) -> bool:
    """Whether ``release`` changes only the dragged attribute (the release of that drag)."""
    assert drag.drag is not None
    changed = {
        e.attribute for e in release.after.edits if release.before.edit_for(e.attribute) != e
    }
    changed |= {
        e.attribute for e in release.before.edits if release.after.edit_for(e.attribute) is None
    }
    return changed <= {drag.drag} and release.after.keep == release.before.keep
