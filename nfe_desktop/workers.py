"""The one adapter from Qt-free core functions to threads and signals.

Core functions (``nfe_core``) know nothing of Qt: long ones take two plain callables,
``progress(step, total)`` and ``should_stop() -> bool``, and check ``should_stop`` between
steps. :class:`Worker` runs such a function on its own ``QThread`` and reports through typed
signals; :class:`WorkerGroup` owns the running workers of a window so that closing it cancels
and waits for them.

Why a QObject moved to a QThread rather than a QRunnable on the global QThreadPool: every
worker has its own thread handle that can be waited for on its own (``QThread.wait``), so a
window can cancel and join exactly its workers when it closes, and tests can prove no thread
outlives them. A QRunnable cannot be joined individually (only the whole pool, with
``waitForDone``), and its signals need a separate QObject anyway. Our tasks (open, save, later
render and invert) are few and long, so a thread per task costs nothing noticeable.

Results are delivered as queued signals on the UI thread, in order: ``progress`` (any
number), then exactly one of ``succeeded(result)``, ``failed(message)`` or ``cancelled()``,
then ``finished()``. Once :meth:`Worker.cancel` was called the outcome is ``cancelled`` even
if the function ran to its end: a superseded request's result is dropped, so the newest wins.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from nfe_core.fileio import FileWriteError
from nfe_core.imageio import ImageError
from nfe_core.jobs import Cancelled, ProgressFn, StopFn

log = logging.getLogger(__name__)


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ImageError, FileWriteError, OSError, ValueError)
"""Errors with a message meant for the user; anything else is a bug and is logged in full."""


class Task(Protocol):
    """A core function bound to its arguments: it receives the progress and stop callables."""

    def __call__(self, progress: ProgressFn, should_stop: StopFn) -> Any: ...


def plain_task(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
    """Wrap a quick core function that takes no progress/stop callables (e.g. ``load_image``)."""

    def task(progress: ProgressFn, should_stop: StopFn) -> Any:
        return function(*args, **kwargs)

    return task


def describe_error(error: BaseException) -> str:
    """The message to show the user for ``error``: its own words, or its kind when it has none."""
    text = str(error).strip()
    if isinstance(error, EXPECTED_ERRORS) and text:
        return text
    kind = type(error).__name__
    return f"{kind}: {text}" if text else kind


class _Runner(QObject):
    """Lives on the worker thread: runs the task and reports to its :class:`Worker`."""

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(
        self,
        task: Task,
        name: str,
        stop: threading.Event,
        expected: tuple[type[BaseException], ...],
    ) -> None:
        super().__init__()
        self._task = task
        self._name = name
        self._stop = stop
        self._expected = expected

    @Slot()
    def run(self) -> None:
        """Run the task and emit exactly one outcome, then ``done``; never raises."""
        threading.current_thread().name = f"worker: {self._name}"  # for the log
        try:
            result = self._task(self._emit_progress, self._stop.is_set)
        except BaseException as error:  # reported, never lost in the thread
            if self._stop.is_set() or isinstance(error, Cancelled):
                log.info("%s: cancelled (ended with %r)", self._name, error)
                self.cancelled.emit()
            elif isinstance(error, self._expected):
                log.info("%s failed: %s", self._name, error)
                self.failed.emit(describe_error(error))
            else:
                log.error("%s failed unexpectedly", self._name, exc_info=error)
                self.failed.emit(describe_error(error))
        else:
            if self._stop.is_set():
                log.info("%s: cancelled", self._name)
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        finally:
            self.done.emit()

    def _emit_progress(self, step: int, total: int) -> None:
        """The ``progress`` callable handed to the task."""
        self.progress.emit(int(step), int(total))


class Worker(QObject):
    """Runs one task on its own QThread; create it, connect its signals, then :meth:`start`.

    The Worker itself stays on the thread that made it (the UI thread): a private runner
    object on the worker thread reports to it through queued connections, and the Worker
    re-emits from its own thread. So whatever is connected to its signals, lambdas included,
    runs on the UI thread and may touch widgets.
    """

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self, task: Task, *, name: str = "task", expected: tuple[type[BaseException], ...] = ()
    ) -> None:
        super().__init__()
        self._name = name
        self._stop = threading.Event()
        self._runner: _Runner | None = _Runner(task, name, self._stop, EXPECTED_ERRORS + expected)
        self._thread: QThread | None = None
        self._finished = False

    @property
    def name(self) -> str:
        """What this worker does, for logs (e.g. "open face.png")."""
        return self._name

    def start(self) -> None:
        """Start the task on a new thread; a worker runs once."""
        if self._thread is not None or self._runner is None:
            raise RuntimeError(f"worker {self._name!r} was already started")
        runner = self._runner
        thread = QThread()
        thread.setObjectName(f"nfe-worker: {self._name}")
        runner.moveToThread(thread)
        # Bound methods of this UI-thread object: queued, so they run on the UI thread.
        runner.progress.connect(self._relay_progress)
        runner.succeeded.connect(self._relay_succeeded)
        runner.failed.connect(self._relay_failed)
        runner.cancelled.connect(self._relay_cancelled)
        # Direct: quit the thread's loop from the thread itself, so a UI thread blocked in
        # wait() (window closing) is never needed to end it.
        runner.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        thread.started.connect(runner.run)
        self._thread = thread
        thread.start()

    def cancel(self) -> None:
        """Ask the task to stop (it sees ``should_stop() -> True``); its result will be dropped."""
        self._stop.set()

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._stop.is_set()

    def is_running(self) -> bool:
        """Whether the thread was started and has not ended yet."""
        return self._thread is not None and self._thread.isRunning()

    def is_finished(self) -> bool:
        """Whether ``finished`` was emitted: the outcome is delivered and the thread has ended."""
        return self._finished

    def wait(self, msecs: int | None = None) -> bool:
        """Block until the thread has ended (at most ``msecs`` ms); True if it has ended."""
        if self._thread is None:
            return True
        if msecs is None:
            return self._thread.wait()
        return self._thread.wait(msecs)

    @Slot(int, int)
    def _relay_progress(self, step: int, total: int) -> None:
        """Pass progress on, unless cancelled."""
        if not self._stop.is_set():
            self.progress.emit(step, total)

    @Slot(object)
    def _relay_succeeded(self, result: object) -> None:
        """Pass the result on, unless cancelled after the task returned (then: cancelled)."""
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.succeeded.emit(result)

    @Slot(str)
    def _relay_failed(self, message: str) -> None:
        """Pass the failure on, unless cancelled meanwhile (then: cancelled)."""
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.failed.emit(message)

    @Slot()
    def _relay_cancelled(self) -> None:
        """Pass the cancellation on."""
        self.cancelled.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        """The thread has ended: drop the runner and say ``finished``."""
        if self._thread is not None:
            self._thread.wait()  # finished is emitted just before the thread really returns
        self._runner = None
        self._finished = True
        self.finished.emit()


class WorkerGroup(QObject):
    """Keeps a window's workers alive while they run; cancels and joins them all on close."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: list[Worker] = []

    def start(self, worker: Worker) -> Worker:
        """Start ``worker`` and hold it until its thread has ended."""
        self._workers.append(worker)
        worker.finished.connect(self._forget)
        worker.start()
        return worker

    def running(self) -> list[Worker]:
        """The workers started here whose threads have not been joined yet."""
        return list(self._workers)

    def cancel_all(self) -> None:
        """Ask every worker to stop."""
        for worker in self._workers:
            worker.cancel()

    def shutdown(self, msecs: int | None = None) -> bool:
        """Cancel all workers and wait for their threads to end; True if all ended in time."""
        self.cancel_all()
        all_ended = True
        for worker in list(self._workers):
            ended = worker.wait(msecs)
            all_ended = all_ended and ended
            if ended:
                self._workers.remove(worker)
            else:
                log.warning("%s is still running after %s ms", worker.name, msecs)
        return all_ended

    @Slot()
    def _forget(self) -> None:
        """Drop a worker once its thread has ended."""
        worker = self.sender()
        if isinstance(worker, Worker) and worker in self._workers:
            self._workers.remove(worker)


class LatestOnly(QObject):
    """Runs tasks of one kind one at a time, keeping only the newest waiting one.

    A slider drag asks for a render on every mouse move. Rendering them all would fall
    behind the mouse; so while one task runs, a new request replaces the one waiting (if
    any), and when the running task ends the newest waiting one starts. Results arrive in
    request order; :meth:`cancel` drops the waiting request and cancels the running one.
    ``succeeded``/``failed`` carry the results of the tasks that were not cancelled.
    """

    succeeded = Signal(object)
    failed = Signal(str)
    idle = Signal()  # nothing running and nothing waiting

    def __init__(self, group: WorkerGroup, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._group = group
        self._name = name
        self._running: Worker | None = None
        self._waiting: Task | None = None

    def submit(self, task: Task) -> None:
        """Run ``task`` now, or after the running one (replacing any task still waiting)."""
        if self._running is None:
            self._start(task)
        else:
            self._waiting = task

    def cancel(self) -> None:
        """Forget the waiting task and cancel the running one (its result is dropped)."""
        self._waiting = None
        if self._running is not None:
            self._running.cancel()

    def is_idle(self) -> bool:
        """Whether nothing runs and nothing waits."""
        return self._running is None and self._waiting is None

    def _start(self, task: Task) -> None:
        worker = Worker(task, name=self._name)
        worker.succeeded.connect(self.succeeded)
        worker.failed.connect(self.failed)
        worker.finished.connect(self._next)
        self._running = worker
        self._group.start(worker)

    @Slot()
    def _next(self) -> None:
        """The running task ended: start the newest waiting one, if any."""
        self._running = None
        task, self._waiting = self._waiting, None
        if task is not None:
            self._start(task)
        else:
            self.idle.emit()
