"""The history panel: every edit of the face in order; clicking an entry goes back there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDockWidget, QUndoView, QWidget

EMPTY_LABEL = "Unedited face"


class HistoryPanel(QDockWidget):
    """A dock showing a ``QUndoStack`` as a list ("Hair length +1.5", "Eye colour: red").

    The first row is the face before any edit; the current entry is selected; clicking an
    entry undoes or redoes up to it (``QUndoView`` does this through the stack itself, so
    the window needs no extra wiring).
    """

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__("History", parent)
        self.setObjectName("historyDock")
        self.setAllowedAreas(
            Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.view = QUndoView(stack, self)
        self.view.setObjectName("historyView")
        self.view.setEmptyLabel(EMPTY_LABEL)
        self.view.setAlternatingRowColors(True)
        self.setWidget(self.view)

    def entries(self) -> list[str]:
        """The rows as shown, the unedited face first."""
        model = self.view.model()
        return [str(model.index(row, 0).data()) for row in range(model.rowCount())]
