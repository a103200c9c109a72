"""What the window's workers run: calls into :mod:`nfe_core.service`, on worker threads.

Each function here binds its arguments and returns a :class:`~nfe_desktop.workers.Task`
for a :class:`~nfe_desktop.workers.Worker`. ``nfe_core.service`` imports torch (about 1.7 s
on 2 CPU cores), so it is imported inside the tasks, on a worker thread, never while the
window starts. What the tasks return is plain data plus ready-made ``QImage``s (safe to make
off the UI thread), so the UI thread only paints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from nfe_core.edits import Edit
from nfe_core.facebox import FaceBox
from nfe_core.imageio import Picture, load_image, save_image, save_picture
from nfe_core.jobs import ProgressFn, StopFn
from nfe_core.presets import edits_with_preserve, load_preset
from nfe_core.session import EditState, Face, ModelInfo, Session
from nfe_desktop.canvas import pil_to_qimage
from nfe_desktop.workers import Task

if TYPE_CHECKING:
    from nfe_core.batch import BatchSummary
    from nfe_core.project import Project
    from nfe_core.service import EditorModel


def face_qimage(pixels: np.ndarray) -> QImage:
    """A QImage of an ``R x R x 3`` uint8 face."""
    return pil_to_qimage(Image.fromarray(pixels, "RGB"))


@dataclass(frozen=True)
class LoadedModel:
    """A model loaded by :func:`load_model`: the model object (opaque to the UI), what the
    app shows of it, the devices this build of torch can use, versions for Help > About."""

    model: EditorModel
    info: ModelInfo
    devices: tuple[str, ...]
    versions: dict[str, str]
    seconds: float


def load_model(path: Path | None, device: str) -> Task:
    """Load the bundle at ``path`` (None: the default model) on ``device`` ("auto": best)."""

    def task(progress: ProgressFn, should_stop: StopFn) -> LoadedModel:
        started = time.perf_counter()
        from nfe_core.service import EditorModel, available_devices, runtime_versions

        devices = tuple(available_devices())
        wanted = device if device == "auto" or device in devices else "auto"
        model = EditorModel.load(path, wanted, progress, should_stop)
        return LoadedModel(
            model, model.info, devices, runtime_versions(), time.perf_counter() - started
        )

    return task


@dataclass(frozen=True)
class NewFace:
    """A generated or inverted face with its picture for the face panel."""

    face: Face
    image: QImage


def generate(model: EditorModel, seed: int, truncation: float) -> Task:
    """The face ``seed`` stands for."""

    def task(progress: ProgressFn, should_stop: StopFn) -> NewFace:
        face = model.generate(seed, truncation)
        return NewFace(face, face_qimage(face.reconstruction))

    return task


def invert(model: EditorModel, picture: Picture, box: FaceBox | None, steps: int) -> Task:
    """Invert the face in ``box`` of ``picture``; progress per refinement step; cancellable."""

    def task(progress: ProgressFn, should_stop: StopFn) -> NewFace:
        face = model.invert(picture, box, steps, progress, should_stop)
        return NewFace(face, face_qimage(face.reconstruction))

    return task


@dataclass(frozen=True)
class RenderView:
    """One render for the canvas: the whole picture with the edit pasted back (or the face
    itself when generated), the edited face alone, and the render's serial and time."""

    serial: int
    face: Face
    state: EditState
    after: QImage
    edited_face: QImage
    seconds: float


def compose_picture(model: EditorModel, picture: Picture | None, face: Face, pixels: Any) -> Any:
    """The picture with the edited face pasted back, or (no picture) the face as a Picture."""
    if picture is None or face.box is None:
        return Picture(rgb=Image.fromarray(pixels, "RGB"))
    from nfe_core.service import compose

    return compose(picture, face, pixels)


def render(
    model: EditorModel, picture: Picture | None, face: Face, state: EditState, serial: int
) -> Task:
    """Render ``face`` with ``state``'s edits and paste it back into ``picture``."""

    def task(progress: ProgressFn, should_stop: StopFn) -> RenderView:
        started = time.perf_counter()
        rendered = model.render(face, state, serial=serial)
        composed = compose_picture(model, picture, face, rendered.image)
        after = pil_to_qimage(composed.rgb, composed.alpha)
        return RenderView(
            serial, face, state, after, face_qimage(rendered.image), time.perf_counter() - started
        )

    return task


def export_picture(
    model: EditorModel,
    picture: Picture | None,
    face: Face,
    state: EditState,
    path: Path,
    *,
    face_only: bool,
    quality: int,
) -> Task:
    """Render the edit and save the whole picture (or the edited face alone) to ``path``,
    atomically: a failed save leaves no file and changes no existing one."""

    def task(progress: ProgressFn, should_stop: StopFn) -> Path:
        rendered = model.render(face, state)
        if face_only:
            return save_image(rendered.image, path, quality=quality)
        composed = compose_picture(model, picture, face, rendered.image)
        return save_picture(composed, path, quality=quality)

    return task


def save_project(path: Path, session: Session, model: dict[str, str]) -> Task:
    """Write the session to a ``.nfe`` project file (atomically)."""

    def task(progress: ProgressFn, should_stop: StopFn) -> Path:
        from nfe_core.project import save_project as save

        return save(path, session, model)

    return task


@dataclass(frozen=True)
class OpenedProject:
    """A project read back, with display images made off the UI thread."""

    path: Path
    project: Project
    picture: QImage | None
    face: QImage | None


def load_project(path: Path) -> Task:
    """Read a ``.nfe`` project file."""

    def task(progress: ProgressFn, should_stop: StopFn) -> OpenedProject:
        from nfe_core.project import load_project as load

        project = load(path)
        session = project.session
        picture = session.picture
        image = pil_to_qimage(picture.rgb, picture.alpha) if picture is not None else None
        face = face_qimage(session.face.reconstruction) if session.face is not None else None
        return OpenedProject(path, project, image, face)

    return task


@dataclass(frozen=True)
class OpenedPicture:
    """A loaded picture plus its display image, both made off the UI thread."""

    picture: Picture
    image: QImage


def open_picture(path: Path) -> OpenedPicture:
    """Load ``path`` through imageio and make its display image (runs in a worker)."""
    picture = load_image(path)
    return OpenedPicture(picture, pil_to_qimage(picture.rgb, picture.alpha))


def batch_edits(
    edits: tuple[str, ...], preserve: tuple[str, ...], preset: Path | None
) -> list[Edit]:
    """The edits a batch applies: a preset file's, or ``--set``-style texts with the kept
    attributes (PresetError / EditError in words when they cannot be read)."""
    if preset is not None:
        return load_preset(preset).edits()
    return edits_with_preserve(list(edits), list(preserve))


def export_batch(
    model: EditorModel,
    inputs: tuple[Path, ...],
    edits: list[Edit],
    out_dir: Path,
    *,
    fmt: str,
    pattern: str,
    steps: int,
    quality: int,
) -> Task:
    """Apply ``edits`` to every picture of ``inputs`` into ``out_dir`` (bad files listed)."""

    def task(progress: ProgressFn, should_stop: StopFn) -> BatchSummary:
        return model.export_batch(
            inputs,
            edits,
            out_dir,
            fmt=fmt,
            pattern=pattern,
            steps=steps,
            quality=quality,
            progress=progress,
            should_stop=should_stop,
        )

    return task
