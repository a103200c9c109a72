"""The model work the desktop app asks for, behind one small API with no torch in sight.

An :class:`EditorModel` wraps a loaded :class:`~nfe_core.bundle.Bundle`. Its methods take and
return plain values - numpy arrays, :class:`~nfe_core.imageio.Picture`, and the torch-free
types of :mod:`nfe_core.session` - so the app holds their results on its UI thread without
importing torch. Every method is a blocking call meant for a worker thread; the long ones
take ``progress(step, total)`` and ``should_stop()`` callables (:mod:`nfe_core.jobs`).

- :meth:`EditorModel.load` - a bundle (None: the default model) on a device (None: the best);
- :meth:`EditorModel.generate` - the face a seed stands for;
- :meth:`EditorModel.invert` - the face in a picture's box (encoder + refinement steps);
- :meth:`EditorModel.render` - a face with an :class:`~nfe_core.session.EditState`'s edits;
- :func:`compose` - the picture with only the edit pasted back (no model needed);
- :meth:`EditorModel.tags` - what the model's classifier sees in a render;
- :meth:`EditorModel.export_batch` - the batch module on many pictures.

The app imports this module inside its worker tasks, never at start-up: ``import torch``
alone takes about 1.7 s on 2 CPU cores, and the window must show before that.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nfe_core.batch import BatchSummary, run_batch
from nfe_core.bundle import Bundle, default_bundle_path, load_bundle
from nfe_core.defaults import DEFAULT_TRUNCATION
from nfe_core.editing import Boundaries, EditError
from nfe_core.edits import Edit, attribute_title
from nfe_core.facebox import FaceBox, Recolour, Reshape, paste_back_picture
from nfe_core.imageio import Picture
from nfe_core.inversion import DEFAULT_STEPS, DEFAULT_TUNE_STEPS
from nfe_core.jobs import ProgressFn, StopFn, check_stop
from nfe_core.models import Generator
from nfe_core.pipeline import (
    ModelNotReadyError,
    check_can_edit,
    check_can_invert,
    draw_edits,
    face_generator,
    find_picture_faces,
    invert_picture,
    model_record,
    paste_maps,
    render,
    shapes_render,
    unedited_regions,
)
from nfe_core.sampling import pixels_to_images, z_for_seed
from nfe_core.session import AttributeSpec, EditState, Face, ModelInfo, attribute_group

__all__ = [
    "DEFAULT_STEPS",
    "EditError",
    "EditorModel",
    "ModelNotReadyError",
    "Rendered",
    "attribute_specs",
    "available_devices",
    "compose",
    "runtime_versions",
]


@dataclass(frozen=True, eq=False)
class Rendered:
    """One render of a face with edits: the picture ``R x R x 3`` uint8, the edited W+
    latent, how long it took, the ``serial`` of the request it answers, and where the edit
    drew another part of the face (``R x R`` in 0..1, for :func:`compose`; None: nowhere), or
    for an edit that only recolours, the recolour :func:`compose` makes on the picture
    (:func:`~nfe_core.pipeline.recolour_map`: given the picture's crop), or for one that
    changes shapes, the reshape it makes on it (:func:`~nfe_core.pipeline.reshape_map`).
    """

    image: np.ndarray
    latent: np.ndarray
    seconds: float
    serial: int = 0
    redrawn: np.ndarray | None = None
    recolour: Recolour | None = None
    reshape: Reshape | None = None


def available_devices() -> list[str]:
    """The devices this build of torch can use here, best first: ``cuda``, ``mps``, ``cpu``."""
    devices = []
    if torch.cuda.is_available():
        devices.append("cuda")
    backend = getattr(torch.backends, "mps", None)
    if backend is not None and backend.is_available():
        devices.append("mps")
    return [*devices, "cpu"]


def runtime_versions() -> dict[str, str]:
    """Versions of what runs the model, for Help > About."""
    import platform

    return {"PyTorch": torch.__version__, "Python": platform.python_version()}


def _share(value: object) -> float | None:
    """A report's fraction, or None when it is not one (a report from elsewhere)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


def _figure(report: Mapping[str, Any], *path: str) -> object:
    """report[path[0]][path[1]]..., or None where a level is missing or not a mapping."""
    value: object = report
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def attribute_specs(
    boundaries: Boundaries,
    report: Mapping[str, Any] | None = None,
    figures: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[AttributeSpec, ...]:
    """What the attribute dock shows for each attribute of a model, in the model's order,
    with what the model's quality ``report`` measured of its class edits and the classes
    its segmenter draws whole on a picture (``figures``: attribute -> classes)."""
    report = report or {}
    figures = figures or {}
    specs = []
    for name, info in boundaries.attributes.items():
        single = info.single_direction()
        ranges = [b.strength_range for b in info.boundaries]
        low = min(r[0] for r in ranges)
        high = max(r[1] for r in ranges)
        specs.append(
            AttributeSpec(
                name=name,
                title=attribute_title(name),
                group=attribute_group(name),
                classes=info.classes,
                class_directions=info.categorical,
                direction=(str(single.negative), single.positive) if single is not None else None,
                strength_range=(float(low), float(high)),
                success=_share(_figure(report, "edit_success", name)),
                success_inverted=_share(
                    _figure(report, "inversion", "edit_success_inverted", name)
                ),
                success_by_class=tuple(
                    (cls, share)
                    for cls in info.classes
                    if (share := _share(_figure(report, "edit_success_by_class", name, cls)))
                    is not None
                ),
                drawn_whole=tuple(c for c in figures.get(name, ()) if c in info.classes),
            )
        )
    return tuple(specs)


def compose(
    picture: Picture,
    face: Face,
    edited: np.ndarray,
    redrawn: np.ndarray | None = None,
    recolour: Recolour | None = None,
    reshape: Reshape | None = None,
) -> Picture:
    """``picture`` with only the edit (``edited`` minus the face's reconstruction) pasted
    into the face box, feathered, and opaque where ``redrawn`` (``Rendered.redrawn``) says
    the edit drew a new part of the face; made on the picture's own regions with
    ``recolour`` (``Rendered.recolour``) or ``reshape`` (``Rendered.reshape``); untouched
    pixels keep their exact values.

    Raises:
        ValueError: the face was not inverted from a picture of this size.
    """
    if face.box is None:
        raise ValueError("this face was generated, not inverted from a picture")
    return paste_back_picture(
        picture,
        face.box,
        face.reconstruction,
        edited,
        redrawn=redrawn,
        recolour=recolour,
        reshape=reshape,
    )


class EditorModel:
    """A loaded model and the editor's operations on it (see the module's docstring)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self._record = model_record(bundle)
        self._info = self._describe()
        # class targets landed on the face being edited (land_edits), kept while it is
        self._landed_face = b""
        self._landings: dict[tuple[object, ...], tuple[Edit, ...]] = {}
        # the tuned generator of the face being edited, and the weights it was made from
        self._tuned: tuple[dict[str, np.ndarray], Generator] | None = None
        # the segmenter's regions of the unedited face being edited (confine_render)
        self._regions: tuple[bytes, torch.Tensor | None] | None = None

    # --- loading ------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        device: str | None = None,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> EditorModel:
        """Check and load the bundle at ``path`` (None: the default model) onto ``device``
        (None or ``"auto"``: the best this machine has).

        Raises:
            BundleError: the folder is not a usable bundle (the message names the file).
            ValueError: the device is not available here.
            Cancelled: ``should_stop`` said stop before the networks were moved.
        """
        root = Path(path) if path is not None else default_bundle_path()
        if progress is not None:
            progress(0, 2)
        bundle = load_bundle(root, None if device in (None, "auto") else device)
        check_stop(should_stop)
        model = cls(bundle)
        if progress is not None:
            progress(2, 2)
        return model

    @property
    def info(self) -> ModelInfo:
        """What the app shows of this model."""
        return self._info

    def _describe(self) -> ModelInfo:
        bundle = self.bundle
        cannot_invert: str | None = None
        try:
            check_can_invert(bundle)
        except ModelNotReadyError as exc:
            cannot_invert = str(exc)
        cannot_edit: str | None = None
        try:
            check_can_edit(bundle, [])
        except ModelNotReadyError as exc:
            cannot_edit = str(exc)
        return ModelInfo(
            path=str(bundle.root),
            name=bundle.name,
            description=bundle.description,
            resolution=bundle.resolution,
            device=str(bundle.device),
            fingerprint=self._record["fingerprint"],
            attributes=attribute_specs(
                bundle.boundaries,
                bundle.report,
                {a: c for a, c, _ in bundle.segmenter.config.figures} if bundle.segmenter else {},
            ),
            cannot_invert=cannot_invert,
            cannot_edit=cannot_edit,
            can_find_faces=bundle.segmenter is not None and cannot_invert is None,
            latent_shape=(bundle.generator.num_ws, bundle.generator.config.w_dim),
            training=bundle.training,
            report=bundle.report,
        )

    # --- faces --------------------------------------------------------------------------

    def generate(self, seed: int, truncation: float = DEFAULT_TRUNCATION) -> Face:
        """The face seed ``seed`` stands for, truncated by ``truncation`` (0..1) towards the
        mean face; the same seed always gives the same face."""
        if isinstance(truncation, bool) or not 0.0 <= float(truncation) <= 1.0:
            raise ValueError(f"truncation: expected a number from 0 to 1, got {truncation!r}")
        generator = self.bundle.generator
        started = time.perf_counter()
        z = z_for_seed(seed, generator.config.z_dim).to(self.bundle.device)
        with torch.inference_mode():
            w = generator.truncate(generator.mapping(z[None]), float(truncation))[0]
        latent = w.unsqueeze(0).expand(generator.num_ws, -1).float().cpu()
        image = render(self.bundle, latent)
        return Face(
            latent=latent.numpy().copy(),
            reconstruction=image,
            kind="generated",
            model=dict(self._record),
            seed=int(seed),
            truncation=float(truncation),
            seconds=time.perf_counter() - started,
        )

    def invert(
        self,
        picture: Picture,
        box: FaceBox | None = None,
        steps: int = DEFAULT_STEPS,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
        tune_steps: int = DEFAULT_TUNE_STEPS,
    ) -> Face:
        """The face in ``box`` of ``picture`` (None: the largest centred square), inverted
        with ``steps`` refinement steps and ``tune_steps`` of pivotal tuning.

        Raises:
            ModelNotReadyError: the model has no encoder or classifier.
            BoxError: the box is empty or outside the picture.
            Cancelled: ``should_stop`` said stop (the app keeps the face it had).
        """
        inverted = invert_picture(
            self.bundle, picture, box, steps, progress, should_stop, tune_steps=tune_steps
        )
        if inverted.cancelled:
            check_stop(lambda: True)
        tuned = None
        if inverted.tuned is not None:
            tuned = {name: t.float().numpy().copy() for name, t in inverted.tuned.items()}
        return Face(
            latent=inverted.latent.float().numpy().copy(),
            reconstruction=inverted.reconstruction,
            kind="picture",
            model=dict(self._record),
            box=inverted.box,
            steps=inverted.steps_done,
            seconds=inverted.seconds,
            tuned=tuned,
            tune_steps=inverted.tune_steps_done,
        )

    def find_faces(self, picture: Picture, should_stop: StopFn | None = None) -> list[FaceBox]:
        """The boxes of the faces the model finds in ``picture``, surest first
        (:func:`~nfe_core.pipeline.find_picture_faces`); none where it finds none.

        Raises:
            Cancelled: ``should_stop`` said stop.
        """
        return [found.box for found in find_picture_faces(self.bundle, picture, should_stop)]

    def render(
        self,
        face: Face,
        state: EditState | Sequence[Edit],
        layers: tuple[int, int] | None = None,
        serial: int = 0,
        crop: np.ndarray | None = None,
    ) -> Rendered:
        """``face`` with the edits of ``state`` applied in order, rendered with fixed noise and
        kept to the regions the edited attributes draw (the model's segmenter, when it has one);
        class targets land where the model's classifier sees the class (landed once per face
        and kept, so dragging a slider renders one face). No edits: the reconstruction
        itself (so a picture pastes back unchanged). ``crop``: the picture's face box as
        the model saw it (``R x R x 3`` uint8), for an edit that only recolours to be made on
        the picture's own regions (``Rendered.recolour``).

        Raises:
            EditError: the model cannot make one of the edits (e.g. after a model switch).
            ValueError: the face's latent does not fit this model.
        """
        started = time.perf_counter()
        edits = state.resolved() if isinstance(state, EditState) else list(state)
        generator = self.bundle.generator
        shape = (generator.num_ws, generator.config.w_dim)
        if face.latent.shape != shape:
            raise ValueError(
                f"this face was made by another model: its latent is {face.latent.shape}, "
                f"this model's W+ is {shape}"
            )
        if not edits:
            return Rendered(face.reconstruction, face.latent, time.perf_counter() - started, serial)
        check_can_edit(self.bundle, edits)
        latent = torch.from_numpy(face.latent).to(self.bundle.device)
        generator = self._generator_for(face)
        if face.latent.tobytes() != self._landed_face or len(self._landings) > 512:
            self._landed_face, self._landings = face.latent.tobytes(), {}
        key = face.reconstruction.tobytes()
        if self._regions is None or self._regions[0] != key:
            self._regions = (key, unedited_regions(self.bundle, face.reconstruction))
        found = draw_edits(
            self.bundle, latent, edits, generator, before=face.reconstruction,
            regions=self._regions[1], layers=layers, memo=self._landings,
        )  # fmt: skip
        image = found.image
        alone = None
        if crop is not None:  # a picture: shape edits are cut out of it as made alone
            alone = shapes_render(
                self.bundle, latent, edits, generator, face.reconstruction,
                self._regions[1], layers, self._landings,
            )  # fmt: skip
        maps = paste_maps(
            self.bundle, face.reconstruction, image, edits, crop, self._regions[1], alone
        )
        edited = found.latent.detach().float().cpu().numpy().copy()
        seconds = time.perf_counter() - started
        return Rendered(image, edited, seconds, serial, *maps)

    def _generator_for(self, face: Face) -> Generator:
        """The generator that draws ``face``: the model's, or its tuned copy (made once per
        face and kept while it is edited).

        Raises:
            ValueError: the face's tuned weights are not this model's.
        """
        if face.tuned is None:
            return self.bundle.generator
        if self._tuned is None or self._tuned[0] is not face.tuned:
            weights = {name: torch.from_numpy(v) for name, v in face.tuned.items()}
            self._tuned = (face.tuned, face_generator(self.bundle, weights))
        return self._tuned[1]

    def tags(self, image: np.ndarray) -> dict[str, tuple[str, float]]:
        """What the model's classifier sees in ``image`` (H x W x 3 uint8): the likeliest
        class and its probability per attribute. Empty when the model has no classifier."""
        classifier = self.bundle.classifier
        if classifier is None:
            return {}
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image: expected H x W x 3 uint8, got {image.dtype} {image.shape}")
        probabilities = classifier.predict(pixels_to_images(image).to(self.bundle.device))
        seen = {}
        for name, classes in classifier.config.attributes:
            scores = probabilities[name][0].cpu()
            best = int(scores.argmax())
            seen[name] = (classes[best], float(scores[best]))
        return seen

    # --- many pictures ------------------------------------------------------------------

    def export_batch(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        edits: Sequence[Edit],
        out_dir: str | os.PathLike[str],
        *,
        fmt: str = "png",
        pattern: str = "{stem}_edited.{ext}",
        box: FaceBox | None = None,
        find: bool = True,
        steps: int = DEFAULT_STEPS,
        tune_steps: int = DEFAULT_TUNE_STEPS,
        quality: int = 95,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> BatchSummary:
        """:func:`~nfe_core.batch.run_batch` with this model: every picture inverted, edited
        and pasted back into ``out_dir``; bad files are listed in the summary.

        Raises:
            BatchError, ModelNotReadyError, EditError: the batch cannot start.
        """
        for edit in edits:
            self.bundle.boundaries.check(edit)
        return run_batch(
            self.bundle,
            inputs,
            edits,
            out_dir,
            fmt=fmt,
            pattern=pattern,
            box=box,
            find=find,
            steps=steps,
            tune_steps=tune_steps,
            quality=quality,
            progress=progress,
            should_stop=should_stop,
        )
