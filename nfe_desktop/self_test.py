"""``nfe-desktop --self-test``: do what a user does, through the real window, then exit.

Installers and CI run the packaged app with ``--self-test`` (offscreen) and expect exit
status 0 when it works. The self-test starts :class:`~nfe_desktop.main_window.MainWindow`
with the bundled default model (or ``--model PATH``), settings in a temporary INI file (the
user's settings are untouched; inversion set to 2 steps) and a temporary folder for files,
and then, as a user would:

1. waits for the model to load;
2. generates seed 0, edits the first attribute, checks the history entry and undoes it;
3. saves the face, makes a 96 x 80 picture of it, opens that, inverts it, edits it, saves
   the edited picture and reads it back at the picture's size.

Each check prints one line (``ok  model loaded: NAME (1.9 s)`` or ``FAIL ...``) and a
summary follows; the first failure ends the run. A message box the window would show (it
would block, offscreen) is recorded instead and fails the check; so does an unexpected
exception, or the hard time limit. The window is always closed, joining its workers.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from PIL import Image
from PySide6.QtCore import QEventLoop, QSettings, QTimer, SignalInstance
from PySide6.QtWidgets import QMessageBox

from nfe_core.imageio import load_image
from nfe_core.session import AttributeSpec, EditState
from nfe_desktop.main_window import MainWindow
from nfe_desktop.settings import INVERSION_STEPS, TUNING_STEPS, Settings
from nfe_desktop.workers import Worker

log = logging.getLogger(__name__)

TIMEOUT_S = 120.0
"""The whole self-test fails, instead of hanging, when it takes longer than this."""
INVERSION_TEST_STEPS = 2
PICTURE_SIZE = (96, 80)  # width, height: not square, so the face is pasted back into a box
FACE_SIDE = 80


class CheckFailed(Exception):
    """A check did not pass; the message says why, in words."""


def edit_for(spec: AttributeSpec, state: EditState) -> EditState:
    """``state`` with an edit of ``spec``: towards its last class, or +1 along its slider."""
    if spec.classes:
        return state.with_target(spec.name, spec.classes[-1])
    return state.with_strength(spec.name, 1.0)


def make_picture(face_path: Path, path: Path) -> Path:
    """A ``PICTURE_SIZE`` PNG at ``path``: the face enlarged and centred on a plain ground."""
    width, height = PICTURE_SIZE
    with Image.open(face_path) as face:
        enlarged = face.convert("RGB").resize((FACE_SIDE, FACE_SIDE), Image.Resampling.BICUBIC)
    picture = Image.new("RGB", PICTURE_SIZE, (236, 230, 222))
    picture.paste(enlarged, ((width - FACE_SIDE) // 2, (height - FACE_SIDE) // 2))
    picture.save(path)
    return path


class SelfTest:
    """One run of the self-test over ``window``, printing a line per check to ``out``."""

    def __init__(
        self, window: MainWindow, folder: Path, out: TextIO, timeout_s: float = TIMEOUT_S
    ) -> None:
        self.window = window
        self.folder = folder
        self.out = out
        self.timeout_s = timeout_s
        self.started = time.perf_counter()
        self.passed = 0
        self.failed = 0
        self._failure: str | None = None
        self._loop: QEventLoop | None = None

    # --- reporting ----------------------------------------------------------------------------

    def fail_now(self, message: str) -> None:
        """Make the running check fail with ``message`` (from a dialog, a hook, a signal)."""
        log.error("self-test: %s", message)
        if self._failure is None:
            self._failure = message
        if self._loop is not None:
            self._loop.quit()

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    @contextmanager
    def check(self, name: str) -> Iterator[dict[str, str]]:
        """Run one check: yields a dict whose ``"name"`` the check may refine for its line."""
        words = {"name": name}
        started = time.perf_counter()
        try:
            yield words
            if self._failure is not None:
                raise CheckFailed(self._failure)
        except CheckFailed as error:
            self.failed += 1
            self._print(f"FAIL {words['name']}: {error}")
            raise
        except Exception as error:  # a bug: still a FAIL line, the traceback in the log
            log.exception("self-test: %s", words["name"])
            self.failed += 1
            self._print(f"FAIL {words['name']}: unexpected {type(error).__name__}: {error}")
            raise CheckFailed(str(error)) from error
        self.passed += 1
        self._print(f"ok   {words['name']} ({time.perf_counter() - started:.1f} s)")

    def note(self, text: str) -> None:
        """A line that is neither a pass nor a failure (a skipped check)."""
        self._print(f"skip {text}")

    # --- waiting ------------------------------------------------------------------------------

    def remaining_s(self) -> float:
        return self.timeout_s - (time.perf_counter() - self.started)

    def wait(
        self,
        what: str,
        signals: Sequence[SignalInstance],
        action: Callable[[], Any] = lambda: None,
        *,
        starts_worker: bool = False,
    ) -> Any:
        """Connect to ``signals``, run ``action`` and process events until each has fired;
        returns what ``action`` returned. Fails on a recorded failure, at the time limit, or
        at once when an action that ``starts_worker`` returned None (the window refused)."""
        pending = set(range(len(signals)))
        loop = QEventLoop()

        def fired(index: int) -> None:
            pending.discard(index)
            if not pending:
                loop.quit()

        slots = [lambda *_, i=i: fired(i) for i in range(len(signals))]
        for signal, slot in zip(signals, slots, strict=True):
            signal.connect(slot)
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        self._loop = loop
        try:
            result = action()
            if starts_worker and result is None:
                raise CheckFailed(f"the window did not start the {what}")
            if pending and self._failure is None:
                timer.start(max(0, int(self.remaining_s() * 1000)))
                loop.exec()
        finally:
            self._loop = None
            timer.stop()
            for signal, slot in zip(signals, slots, strict=True):
                signal.disconnect(slot)
        if self._failure is not None:
            raise CheckFailed(self._failure)
        if pending:
            raise CheckFailed(
                f"no {what} within the self-test's {self.timeout_s:g} s "
                f"({time.perf_counter() - self.started:.1f} s gone)"
            )
        return result

    def save(self, path: Path, *, face_only: bool = False) -> Path:
        """Save through the window (as File > Save As does) and wait for the file."""
        worker: Worker | None = self.window.save_to(path, face_only=face_only)
        if worker is None:
            raise CheckFailed(f"the window did not save {path.name} (nothing to save)")
        self.wait(f"saved {path.name}", [worker.finished])
        if not path.is_file():
            raise CheckFailed(f"{path.name} was not written")
        return path

    # --- the checks ---------------------------------------------------------------------------

    def run(self) -> bool:
        """All the checks, in order; True when every one passed (the first failure stops)."""
        try:
            self.check_model_loads()
            self.check_generate_and_edit()
            self.check_invert_edit_and_save()
        except CheckFailed:
            pass
        seconds = time.perf_counter() - self.started
        if self.failed:
            self._print(f"self-test FAILED after {self.passed} passed checks ({seconds:.1f} s)")
        else:
            self._print(f"self-test passed: {self.passed} checks ({seconds:.1f} s)")
        return not self.failed

    def check_model_loads(self) -> None:
        window = self.window
        with self.check("model loaded") as words:
            window.show()
            if window.model_info() is None:
                self.wait("model", [window.model_loaded])
            info = window.model_info()
            words["name"] = f"model loaded: {info.name}"
            if not info.attributes:
                raise CheckFailed("the model has no attribute to edit")

    def check_generate_and_edit(self) -> None:
        window = self.window
        info = window.model_info()
        with self.check("generated seed 0"):
            self.wait(
                "generated face",
                [window.face_changed, window.rendered],
                lambda: window.generate(0, 0.7),
                starts_worker=True,
            )
        spec = info.attributes[0]
        with self.check(f"edited {spec.name}") as words:
            before = window.session.state
            state = edit_for(spec, before)
            self.wait("render of the edit", [window.rendered], lambda: window.request_state(state))
            if window.session.state != state:
                raise CheckFailed(f"the window shows {window.session.state}, not the edit")
            words["name"] = f"edited {state.edit_for(spec.name)}"
        with self.check("history and undo") as words:
            entries = window.history_panel.entries()
            if len(entries) != 2:
                raise CheckFailed(f"the history shows {entries}, not the face and one edit")
            self.wait("render after undo", [window.rendered], window.undo_stack.undo)
            if window.session.state != before:
                raise CheckFailed("Undo did not take the edit back")
            words["name"] = f"history “{entries[-1]}”, undone"

    def check_invert_edit_and_save(self) -> None:
        window = self.window
        info = window.model_info()
        with self.check("saved the face and opened a picture of it") as words:
            face = self.save(self.folder / "face.png", face_only=True)
            picture = make_picture(face, self.folder / "picture.png")
            worker = window.open_path(picture, ask=False)
            if worker is None:
                raise CheckFailed(f"the window did not open {picture.name}")
            self.wait(f"opened {picture.name}", [worker.finished])
            opened = window.session.picture
            if opened is None or opened.path != picture:
                raise CheckFailed(f"{picture.name} is not the picture shown")
            size = f"{opened.size[0]} × {opened.size[1]}"
            words["name"] = f"saved {face.name}, opened {picture.name} ({size})"
        if info.cannot_invert is not None:
            self.note(f"inversion: the model cannot invert ({info.cannot_invert})")
        else:
            with self.check(f"inverted ({INVERSION_TEST_STEPS} steps, tuned as many)"):
                self.wait(
                    "inversion",
                    [window.face_changed, window.rendered],
                    window.invert,
                    starts_worker=True,
                )
            spec = info.attributes[min(1, len(info.attributes) - 1)]
            with self.check(f"edited {spec.name} on the inverted face") as words:
                state = edit_for(spec, window.session.state)
                self.wait(
                    "render of the edit", [window.rendered], lambda: window.request_state(state)
                )
                words["name"] = f"edited {state.edit_for(spec.name)} on the inverted face"
        with self.check("saved the edited picture") as words:
            edited = self.save(self.folder / "edited.png")
            size = load_image(edited).size
            if size != PICTURE_SIZE:
                raise CheckFailed(f"{edited.name} is {size[0]} × {size[1]}, not the picture's size")
            words["name"] = f"saved {edited.name} and read it back ({size[0]} × {size[1]})"


@contextmanager
def failures_reported_to(test: SelfTest) -> Iterator[None]:
    """Message boxes and uncaught exceptions fail the running check instead of blocking."""
    names = ("warning", "critical", "question", "information")
    saved = {name: getattr(QMessageBox, name) for name in names}

    def recorder(kind: str) -> Callable[..., QMessageBox.StandardButton]:
        def record(parent: object, title: str, text: str, *args: object) -> Any:
            test.fail_now(f"{title}: {' '.join(text.split())}")
            if kind == "question":
                return QMessageBox.StandardButton.Discard  # close without asking
            return QMessageBox.StandardButton.Ok

        return record

    def excepthook(
        kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        log.critical("Unexpected error", exc_info=(kind, error, tb))
        test.fail_now(f"unexpected {kind.__name__}: {error}")

    def render_failure(message: str) -> None:
        if message.startswith("Could not render"):
            test.fail_now(message)

    previous_hook = sys.excepthook
    for name in names:
        setattr(QMessageBox, name, staticmethod(recorder(name)))
    sys.excepthook = excepthook
    test.window.statusBar().messageChanged.connect(render_failure)
    try:
        yield
    finally:
        test.window.statusBar().messageChanged.disconnect(render_failure)
        sys.excepthook = previous_hook
        for name, function in saved.items():
            setattr(QMessageBox, name, function)


def run_self_test(
    model_path: Path | None = None, out: TextIO | None = None, timeout_s: float = TIMEOUT_S
) -> int:
    """Run the self-test (a QApplication must exist); returns the exit status, 0 if passed."""
    out = out if out is not None else sys.stdout
    with tempfile.TemporaryDirectory(prefix="nfe-self-test-") as temp:
        folder = Path(temp)
        settings = Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        settings.set(INVERSION_STEPS, INVERSION_TEST_STEPS)
        settings.set(TUNING_STEPS, INVERSION_TEST_STEPS)
        window = MainWindow(settings, model_path=model_path)
        test = SelfTest(window, folder, out, timeout_s)
        with failures_reported_to(test):
            try:
                passed = test.run()
            finally:
                window.discard_changes()
                window.close()  # joins its workers
                window.deleteLater()
        return 0 if passed else 1
