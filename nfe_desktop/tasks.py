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

from nfe_core.edits import Edit, attribute_title, class_words
from nfe_core.facebox import (
    EDGE_WORK_SIDE,
    FaceBox,
    box_pixels,
    clamp_box,
    edges_outside,
    paste_back_region,
)
from nfe_core.imageio import Picture, load_image, save_image, save_picture
from nfe_core.jobs import ProgressFn, StopFn
from nfe_core.presets import edits_with_preserve, load_preset
from nfe_core.session import EditState, Face, ModelInfo, Session
from nfe_desktop.canvas import pil_to_qimage
from nfe_desktop.workers import Task

if TYPE_CHECKING:
    from nfe_core.batch import BatchSummary
    from nfe_core.project import Project
    from nfe_core.service import EditorModel, Rendered


def _model_crop(picture: Picture, box: FaceBox, side: int) -> np.ndarray:
    """The face box of ``picture`` as the model sees it: ``side x side x 3`` uint8."""
    from nfe_core.pipeline import face_crop  # torch: loaded with the model, not at start-up

    return face_crop(picture, box, side)[1]


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
        from nfe_core.bundle import BundleError
        from nfe_core.service import EditorModel, available_devices, runtime_versions

        devices = tuple(available_devices())
        wanted = device if device == "auto" or device in devices else "auto"
        try:
            model = EditorModel.load(path, wanted, progress, should_stop)
        except BundleError as exc:  # a message for the user, not a bug
            raise ValueError(str(exc)) from exc
        return LoadedModel(
            model, model.info, devices, runtime_versions(), time.perf_counter() - started
        )

    return task


PREVIEW_SIDE = 768
"""Longest side of the face box's pixels while a slider is dragged: a big picture's box is
shrunk to this for the live preview, and rendered at full size when the drag ends."""
PREVIEW_EDGE_SIDE = 128
"""While dragging, the edit follows the picture's edges at this size, the result enlarged to
the preview: a step of the slider on a picture took 26-32 ms (22-31 ms with the plain resize
before; 47-53 ms at 256 px), where the full render follows them at up to 512 px
(:func:`~nfe_core.facebox.follow_edges`; benchmarks/bench_render.py)."""


@dataclass(frozen=True, eq=False)
class FaceRegion:
    """The face box's pixels of the picture, at full size and shrunk for live previews:
    what a render pastes the edit into (:func:`~nfe_core.facebox.box_pixels`: a box reaching
    outside the picture has the picture's edge pixels carried on there), and the part of it
    inside the picture (``inside``, with its transparency), which the canvas draws over the
    picture."""

    box: FaceBox
    inside: FaceBox
    full: np.ndarray
    preview: np.ndarray
    alpha_full: Image.Image | None
    alpha_preview: Image.Image | None
    crop: np.ndarray  # the box as the model saw it (side x side): recolours find its regions

    @classmethod
    def of(cls, picture: Picture, box: FaceBox, side: int) -> FaceRegion:
        full = np.ascontiguousarray(box_pixels(np.asarray(picture.rgb), box))
        scale = min(1.0, PREVIEW_SIDE / max(box.w, box.h))
        size = (max(1, round(box.w * scale)), max(1, round(box.h * scale)))
        small = full
        if scale != 1.0:
            small = np.asarray(Image.fromarray(full).resize(size, Image.Resampling.LANCZOS))
        inside = clamp_box(box, *picture.size)
        alpha = small_alpha = None
        if picture.alpha is not None:
            alpha = picture.alpha.crop((inside.x, inside.y, inside.right, inside.bottom))
            small_alpha = alpha
            if scale != 1.0:
                x0, y0, x1, y1 = _part_at(box, inside, small.shape[1], small.shape[0])
                small_alpha = alpha.resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
        crop = _model_crop(picture, box, side)
        return cls(box, inside, full, small, alpha, small_alpha, crop)

    @property
    def outside(self) -> tuple[bool, bool, bool, bool]:
        """Which of the box's edges (left, top, right, bottom) lie outside the picture."""
        box, inside = self.box, self.inside  # as the picture's edges: the inside part's
        return edges_outside(
            FaceBox(box.x - inside.x, box.y - inside.y, box.w, box.h), inside.w, inside.h
        )

    def inside_part(self, pixels: np.ndarray) -> np.ndarray:
        """The part of ``pixels`` (the box's, at full or preview size) inside the picture."""
        x0, y0, x1, y1 = _part_at(self.box, self.inside, pixels.shape[1], pixels.shape[0])
        return pixels[y0:y1, x0:x1]


def _part_at(box: FaceBox, inside: FaceBox, width: int, height: int) -> tuple[int, int, int, int]:
    """Where ``inside`` (a part of ``box``) lies in the box's pixels at ``width x height``:
    left, top, right, bottom."""
    kx, ky = width / box.w, height / box.h
    x0, x1 = round((inside.x - box.x) * kx), round((inside.right - box.x) * kx)
    y0, y1 = round((inside.y - box.y) * ky), round((inside.bottom - box.y) * ky)
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


@dataclass(frozen=True)
class NewFace:
    """A generated or inverted face, its picture for the face panel, and (inverted) the
    face box's pixels the edits are pasted into."""

    face: Face
    image: QImage
    region: FaceRegion | None = None


def generate(model: EditorModel, seed: int, truncation: float) -> Task:
    """The face ``seed`` stands for."""

    def task(progress: ProgressFn, should_stop: StopFn) -> NewFace:
        face = model.generate(seed, truncation)
        return NewFace(face, face_qimage(face.reconstruction))

    return task


def invert(
    model: EditorModel, picture: Picture, box: FaceBox | None, steps: int, tune_steps: int
) -> Task:
    """Invert the face in ``box`` of ``picture`` (``steps`` refinement steps, then
    ``tune_steps`` of tuning); progress per step; cancellable."""

    def task(progress: ProgressFn, should_stop: StopFn) -> NewFace:
        face = model.invert(picture, box, steps, progress, should_stop, tune_steps=tune_steps)
        assert face.box is not None
        region = FaceRegion.of(picture, face.box, len(face.reconstruction))
        return NewFace(face, face_qimage(face.reconstruction), region)

    return task


def find_faces(model: EditorModel, picture: Picture) -> Task:
    """Where the model finds faces in ``picture``: their boxes, surest first; cancellable."""

    def task(progress: ProgressFn, should_stop: StopFn) -> list[FaceBox]:
        return model.find_faces(picture, should_stop)

    return task


@dataclass(frozen=True)
class RenderView:
    """One render for the canvas: the edited face box (``patch``, to draw over ``box`` of the
    picture; for a generated face the face itself), the edited face alone, and the render's
    serial, state and time."""

    serial: int
    face: Face
    state: EditState
    patch: QImage
    box: FaceBox
    edited_face: QImage
    seconds: float
    preview: bool
    seen: dict[str, tuple[str, float]] | None = None  # the classifier on the edited face


def render(
    model: EditorModel, face: Face, region: FaceRegion | None, state: EditState, serial: int,
    *, preview: bool = False,
) -> Task:  # fmt: skip
    """Render ``face`` with ``state``'s edits and paste the edit into the face box's pixels
    (shrunk ones when ``preview``: while a slider is dragged)."""

    def task(progress: ProgressFn, should_stop: StopFn) -> RenderView:
        started = time.perf_counter()
        crop = None if region is None else region.crop
        rendered = model.render(face, state, serial=serial, crop=crop)
        if region is None:
            size = face.reconstruction.shape[1], face.reconstruction.shape[0]
            patch = face_qimage(rendered.image)
            box = FaceBox(0, 0, *size)
        else:
            pixels = region.preview if preview else region.full
            alpha = region.alpha_preview if preview else region.alpha_full
            side = PREVIEW_EDGE_SIDE if preview else EDGE_WORK_SIDE
            edited = paste_back_region(
                pixels,
                face.reconstruction,
                rendered.image,
                redrawn=rendered.redrawn,
                recolour=rendered.recolour,
                reshape=rendered.reshape,
                work_side=side,
                outside=region.outside,
            )
            edited = np.ascontiguousarray(region.inside_part(edited))
            patch = pil_to_qimage(Image.fromarray(edited, "RGB"), alpha)
            box = region.inside
        seconds = time.perf_counter() - started
        seen = None if preview else model.tags(rendered.image)
        return RenderView(
            serial, face, state, patch, box, face_qimage(rendered.image), seconds, preview, seen
        )

    return task


def describe_seen(seen: dict[str, tuple[str, float]]) -> str:
    """``Hair colour: blue (0.93)`` per attribute, one a line: what the model sees."""
    return "\n".join(
        f"{attribute_title(name)}: {class_words(label)} ({p:.2f})"
        for name, (label, p) in seen.items()
    )


def compose_picture(picture: Picture | None, face: Face, rendered: Rendered) -> Any:
    """The picture with the edited face pasted back (:func:`~nfe_core.service.compose`), or
    (no picture) the face as a Picture."""
    if picture is None or face.box is None:
        return Picture(rgb=Image.fromarray(rendered.image, "RGB"))
    from nfe_core.service import compose

    return compose(
        picture, face, rendered.image, rendered.redrawn, rendered.recolour, rendered.reshape
    )


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
        crop = None
        if picture is not None and face.box is not None and not face_only:
            crop = _model_crop(picture, face.box, len(face.reconstruction))
        rendered = model.render(face, state, crop=crop)
        if face_only:
            return save_image(rendered.image, path, quality=quality)
        composed = compose_picture(picture, face, rendered)
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
    region: FaceRegion | None


def load_project(path: Path) -> Task:
    """Read a ``.nfe`` project file."""

    def task(progress: ProgressFn, should_stop: StopFn) -> OpenedProject:
        from nfe_core.project import load_project as load

        project = load(path)
        session = project.session
        picture = session.picture
        image = pil_to_qimage(picture.rgb, picture.alpha) if picture is not None else None
        face = session.face
        region = None
        if picture is not None and face is not None and face.box is not None:
            region = FaceRegion.of(picture, face.box, len(face.reconstruction))
        face_image = face_qimage(face.reconstruction) if face is not None else None
        return OpenedProject(path, project, image, face_image, region)

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
    tune_steps: int,
    quality: int,
    find: bool = True,
) -> Task:
    """Apply ``edits`` to every picture of ``inputs`` into ``out_dir`` (bad files listed)."""

    def task(progress: ProgressFn, should_stop: StopFn) -> BatchSummary:
        return model.export_batch(
            inputs,
            edits,
            out_dir,
            fmt=fmt,
            pattern=pattern,
            find=find,
            steps=steps,
            tune_steps=tune_steps,
            quality=quality,
            progress=progress,
            should_stop=should_stop,
        )

    return task
