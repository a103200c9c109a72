"""File > Batch Export: the dialog, a worker with a progress dialog that cancels, a summary.

:class:`BatchExport` is owned by the main window. It asks for a
:class:`~nfe_desktop.batch_dialog.BatchRequest`, runs it in a worker of the window's
:class:`~nfe_desktop.workers.WorkerGroup` (so closing the window joins it) and shows a
:class:`~nfe_desktop.batch_dialog.BatchResultDialog` that lists what failed.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox, QProgressDialog

from nfe_core.session import EditState
from nfe_desktop import tasks
from nfe_desktop.settings import (
    EXPORT_FORMAT,
    EXPORT_PATTERN,
    EXPORT_QUALITY,
    INVERSION_STEPS,
    TUNING_STEPS,
    Settings,
)
from nfe_desktop.workers import Worker, WorkerGroup

if TYPE_CHECKING:
    from nfe_core.batch import BatchSummary
    from nfe_desktop.batch_dialog import BatchResultDialog

log = logging.getLogger(__name__)


class BatchExport(QObject):
    """The batch export flow of ``window``: its workers run in ``workers``.

    ``progress`` is the progress dialog of the last batch started and ``result`` the
    summary dialog shown last (None before the first).
    """

    def __init__(self, window: QMainWindow, workers: WorkerGroup, settings: Settings) -> None:
        super().__init__(window)
        self._window = window
        self._workers = workers
        self._settings = settings
        self._worker: Worker | None = None
        self.progress: QProgressDialog | None = None
        self.result: BatchResultDialog | None = None

    def ask(self, model: tasks.LoadedModel | None, state: EditState) -> None:
        """Choose pictures and options (the current edits offered), then run them."""
        from nfe_desktop.batch_dialog import BatchDialog

        if model is None:
            return
        current = [str(e) for e in state.edits]
        dialog = BatchDialog(
            self._window,
            current_edits=current,
            current_preserve=sorted(state.keep),
            settings=self._settings,
            format=self._settings.get(EXPORT_FORMAT),
            pattern=self._settings.get(EXPORT_PATTERN),
        )
        if dialog.exec():
            self.run(model, dialog.request())

    def run(self, model: tasks.LoadedModel | None, request: Any) -> Worker | None:
        """Run a :class:`~nfe_desktop.batch_dialog.BatchRequest` in a worker with a progress
        dialog that can cancel it; a summary lists what failed."""
        if model is None:
            return None
        window = self._window
        try:
            edits = tasks.batch_edits(request.edits, request.preserve, request.preset)
        except ValueError as error:
            QMessageBox.warning(window, "Batch export", f"The edits cannot be used.\n\n{error}")
            return None
        task = tasks.export_batch(
            model.model,
            tuple(request.inputs),
            edits,
            request.out_dir,
            fmt=request.format,
            pattern=request.pattern,
            find=request.find_faces,
            steps=self._settings.get(INVERSION_STEPS),
            tune_steps=self._settings.get(TUNING_STEPS),
            quality=self._settings.get(EXPORT_QUALITY),
        )
        worker = Worker(task, name="batch export")
        progress = QProgressDialog("Editing the pictures…", "Cancel", 0, 0, window)
        progress.setWindowTitle("Batch Export")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.canceled.connect(worker.cancel)
        self.progress = progress
        started = time.perf_counter()

        def on_progress(done: int, total: int) -> None:
            progress.setMaximum(total)
            progress.setValue(done)
            progress.setLabelText(f"Edited {done} of {total} pictures…")

        worker.progress.connect(on_progress)
        worker.succeeded.connect(lambda summary: self._on_done(request, summary))
        worker.failed.connect(
            lambda message: QMessageBox.warning(
                window, "Batch export", f"The batch could not run.\n\n{message}"
            )
        )
        worker.cancelled.connect(
            lambda: window.statusBar().showMessage("Batch export cancelled", 8000)
        )
        worker.finished.connect(progress.reset)
        worker.finished.connect(lambda: self._forget(worker, started))
        self._worker = worker
        self._settings.set(EXPORT_FORMAT, request.format)
        self._settings.set(EXPORT_PATTERN, request.pattern)
        self._workers.start(worker)
        progress.show()
        return worker

    def _forget(self, worker: Worker, started: float) -> None:
        if worker is self._worker:
            self._worker = None
            log.info("batch export ended after %.1f s", time.perf_counter() - started)

    def _on_done(self, request: Any, summary: BatchSummary) -> None:
        from nfe_desktop.batch_dialog import BatchResultDialog

        self._window.statusBar().showMessage(
            f"Batch export: {len(summary.done)} written, {len(summary.failed)} failed", 10000
        )
        self.result = BatchResultDialog(
            [written for _, written in summary.done],
            [(source, reason) for source, reason in summary.failed],
            summary.cancelled,
            request.out_dir,
            self._window,
            unfound=summary.unfound,
        )
        self.result.open()
