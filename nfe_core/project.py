"""The ``.nfe`` project file: a session saved so that reopening it gives back the same work.

A project is a zip archive holding::

    project.json        what the session is (below)
    source.<ext>        the picture file's bytes exactly as they were on disk
    latent.npy          the face's W+ latent, (num_ws, w_dim) float32 (np.save, no pickle)
    reconstruction.png  the face's unedited render, R x R x 3
    tuned.safetensors   a picture's face only, when inversion tuned the generator: the
                        synthesis weights that draw it (float32, by parameter name)

``project.json``::

    {
      "format": "nfe-project", "version": 1, "app": "0.1.0",
      "model": {"name": "anime64", "fingerprint": "3f2a..."},
      "source": {"kind": "picture", "file": "source.png", "name": "alice.png",
                 "path": "/home/me/alice.png", "sha256": "...", "size": [640, 480],
                 "box": [120, 80, 256, 256]}
             | {"kind": "generated", "seed": 42, "truncation": 0.7},
      "face": null | {"kind": "picture", "box": [...], "seed": null, "truncation": null,
                      "steps": 60, "seconds": 4.2, "model": {...},
                      "latent": "latent.npy", "reconstruction": "reconstruction.png",
                      "tuned": null | "tuned.safetensors", "tune_steps": 100},
      "state": {"edits": ["hair_color=blue"], "keep": ["eye_color"]},
      "created": "2025-01-01T12:00:00+00:00"
    }

The picture is stored as the original file's bytes, so its pixels, ICC profile, transparency
and format come back exactly. Only when the file is gone, unreadable or no longer holds the
session's pixels (changed on disk since it was opened) is the picture stored as a lossless
PNG of what the session holds (still the same pixels, transparency and ICC profile).

On loading, the picture is extracted to a temporary folder and read with
:func:`~nfe_core.imageio.load_image`; its :attr:`~nfe_core.imageio.Picture.path` is then the
original file's path recorded in the project if that file still exists with the very same
bytes (so "Save" next to the original and a later project save keep working from it), and
``None`` otherwise - never the temporary copy, which is deleted. :attr:`Project.source_name`
keeps the original file name either way, for titles and suggested names.

Files are written atomically (:func:`~nfe_core.fileio.write_atomically`): the target is
replaced only once the new archive is complete. Reading trusts nothing: every member is
size-capped (zip bombs), member names that could escape a folder are refused, the latent is
read with ``allow_pickle=False``; anything wrong is a :class:`ProjectError` that names the
file and says what is wrong. This module does not import torch.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np
import safetensors.numpy

from nfe_core import __version__
from nfe_core.facebox import BoxError, FaceBox, check_box
from nfe_core.fileio import describe_os_error, write_atomically
from nfe_core.imageio import ImageError, Picture, load_image, save_image, save_picture, to_array
from nfe_core.session import EditState, Face, Session

__all__ = [
    "MAX_MEMBER_BYTES",
    "PROJECT_FORMAT",
    "PROJECT_SUFFIX",
    "PROJECT_VERSION",
    "Project",
    "ProjectError",
    "load_project",
    "save_project",
]

PROJECT_FORMAT = "nfe-project"
PROJECT_VERSION = 1
PROJECT_SUFFIX = ".nfe"

MAX_MEMBER_BYTES = 512 * 1024 * 1024
"""Largest member (uncompressed) :func:`load_project` reads: a guard against zip bombs."""
MAX_JSON_BYTES = 1024 * 1024
"""Largest ``project.json`` :func:`load_project` reads."""
MAX_MEMBERS = 64
"""Most members a project archive may hold (version 1 writes four)."""

_JSON = "project.json"
_LATENT = "latent.npy"
_RECONSTRUCTION = "reconstruction.png"
_TUNED = "tuned.safetensors"
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SUFFIX_BY_FORMAT = {
    "PNG": ".png",
    "JPEG": ".jpg",
    "MPO": ".jpg",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "TIFF": ".tif",
    "GIF": ".gif",
}
_CHUNK = 1024 * 1024


class ProjectError(ValueError):
    """A project that cannot be saved or opened; ``str(e)`` is ``"<path>: <reason>"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, eq=False)
class Project:
    """An opened project.

    Attributes:
        path: the ``.nfe`` file it was read from.
        session: the saved work: picture, face box, face and slider state.
        model: ``{"name", "fingerprint"}`` of the model the project was saved with.
        source_name: the original picture's file name (None for a generated face).
        app: the NFE version that wrote the file; ``created`` when (ISO 8601).
    """

    path: Path
    session: Session
    model: dict[str, str]
    source_name: str | None
    app: str = ""
    created: str = ""


# --------------------------------------------------------------------------------------------
# Saving


def save_project(path: str | os.PathLike[str], session: Session, model: dict[str, str]) -> Path:
    """Write ``session`` to ``path`` as an ``.nfe`` project, atomically.

    Args:
        path: the file to write; an existing file is replaced only once the new one is
            complete (on any failure it is left untouched and no temporary file remains).
        session: the work to save: its picture (as the original file's bytes when they still
            hold the session's pixels, else as a PNG), face box, face and slider state.
        model: ``{"name", "fingerprint"}`` of the loaded model.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ProjectError: the session holds neither a picture nor a face ("nothing to save").
        FileWriteError: the file cannot be written (missing folder, disk full, ...).
        ValueError: ``model`` is not ``{"name": str, "fingerprint": str}``.
    """
    path = Path(path)
    model = _checked_model_arg(model)
    picture, face = session.picture, session.face
    if picture is None and face is None:
        raise ProjectError(path, "nothing to save: open a picture or generate a face first")
    members: dict[str, bytes] = {}
    record: dict[str, Any] = {
        "format": PROJECT_FORMAT,
        "version": PROJECT_VERSION,
        "app": __version__,
        "model": model,
    }
    with tempfile.TemporaryDirectory(prefix="nfe-project-") as temp:
        folder = Path(temp)
        if picture is not None:
            data, suffix = _source_bytes(picture, folder)
            file = f"source{suffix}"
            members[file] = data
            record["source"] = {
                "kind": "picture",
                "file": file,
                "name": picture.path.name if picture.path is not None else None,
                "path": str(picture.path.absolute()) if picture.path is not None else None,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": list(picture.size),
                "box": _box_record(session.box),
            }
        else:
            assert face is not None
            record["source"] = {
                "kind": "generated",
                "seed": face.seed,
                "truncation": face.truncation,
            }
        if face is not None:
            members[_LATENT] = _latent_bytes(face.latent)
            members[_RECONSTRUCTION] = _png_bytes(face.reconstruction, folder)
            record["face"] = {
                "kind": face.kind,
                "box": _box_record(face.box),
                "seed": face.seed,
                "truncation": face.truncation,
                "steps": face.steps,
                "seconds": face.seconds,
                "model": dict(face.model),
                "latent": _LATENT,
                "reconstruction": _RECONSTRUCTION,
                "tuned": None,
                "tune_steps": face.tune_steps,
            }
            if face.tuned is not None:
                members[_TUNED] = safetensors.numpy.save(face.tuned)
                record["face"]["tuned"] = _TUNED
        else:
            record["face"] = None
    record["state"] = session.state.to_record()
    record["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_atomically(path, lambda stream: _write_zip(stream, text, members))
    return path


def _write_zip(stream: BinaryIO, text: str, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr(_JSON, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
        for name, data in members.items():
            compress = zipfile.ZIP_DEFLATED if name.endswith(".npy") else zipfile.ZIP_STORED
            archive.writestr(name, data, compress_type=compress)


def _checked_model_arg(model: object) -> dict[str, str]:
    if not (
        isinstance(model, dict)
        and all(isinstance(model.get(key), str) for key in ("name", "fingerprint"))
    ):
        raise ValueError(f"model: expected {{'name': str, 'fingerprint': str}}, got {model!r}")
    return {"name": model["name"], "fingerprint": model["fingerprint"]}


def _box_record(box: FaceBox | None) -> list[int] | None:
    return None if box is None else [box.x, box.y, box.w, box.h]


def _source_bytes(picture: Picture, folder: Path) -> tuple[bytes, str]:
    """The picture file's bytes and suffix when they still decode to ``picture``; else a
    lossless PNG of ``picture`` (pixels, alpha, ICC profile)."""
    original = _original_bytes(picture, folder)
    if original is not None:
        return original
    file = save_picture(picture, folder / "picture.png")
    return file.read_bytes(), ".png"


def _original_bytes(picture: Picture, folder: Path) -> tuple[bytes, str] | None:
    if picture.path is None:
        return None
    try:
        if picture.path.stat().st_size > MAX_MEMBER_BYTES:
            return None
        data = picture.path.read_bytes()
    except OSError:
        return None
    suffix = _SUFFIX_BY_FORMAT.get(picture.source_format, "")
    copy = folder / f"original{suffix}"
    copy.write_bytes(data)
    try:
        reread = load_image(copy)
    except ImageError:
        return None
    if not _same_picture(reread, picture) or not suffix:
        return None
    return data, suffix


def _same_picture(a: Picture, b: Picture) -> bool:
    return (
        a.size == b.size
        and a.rgb.tobytes() == b.rgb.tobytes()
        and (a.alpha is None) == (b.alpha is None)
        and (a.alpha is None or b.alpha is None or a.alpha.tobytes() == b.alpha.tobytes())
        and a.icc_profile == b.icc_profile
    )


def _latent_bytes(latent: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(latent), allow_pickle=False)
    return buffer.getvalue()


def _png_bytes(pixels: np.ndarray, folder: Path) -> bytes:
    return save_image(pixels, folder / _RECONSTRUCTION, durable=False).read_bytes()


# --------------------------------------------------------------------------------------------
# Loading


def load_project(
    path: str | os.PathLike[str], *, max_member_bytes: int = MAX_MEMBER_BYTES
) -> Project:
    """Open the ``.nfe`` project in ``path``.

    Args:
        path: the project file.
        max_member_bytes: refuse members larger than this when uncompressed (zip bombs).

    Returns:
        The project: its session (picture, face box, face, state), model and source name.
        See the module's notes on where the picture's ``path`` points.

    Raises:
        ProjectError: the file is missing, unreadable, not a zip, has no valid
            ``project.json``, is another format or a newer version, lacks a member, holds an
            unsafe member name, a member over the size cap, a latent of the wrong type or
            shape, an unreadable picture, or inconsistent fields - in words, with the file.
    """
    path = Path(path)
    if path.is_dir():
        raise ProjectError(path, "this is a folder; expected a project file (.nfe)")
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ProjectError(path, "no such file") from None
    except OSError as exc:
        raise ProjectError(path, f"cannot be read ({describe_os_error(exc)})") from None
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise ProjectError(
            path, "not an NFE project (expected a .nfe file that NFE saved; this is no zip)"
        ) from None
    with archive:
        reader = _Reader(path, archive, max_member_bytes)
        return reader.project()


class _Reader:
    """Reads and checks one open archive; every failure is a ProjectError naming ``path``."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, max_member_bytes: int) -> None:
        self.path = path
        self.archive = archive
        self.max_member_bytes = max_member_bytes
        self._check_names()

    def fail(self, reason: str) -> ProjectError:
        return ProjectError(self.path, reason)

    def _check_names(self) -> None:
        infos = self.archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise self.fail(f"holds {len(infos)} files; a project holds at most {MAX_MEMBERS}")
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if not _is_safe_name(name):
                raise self.fail(f"holds a file with an unsafe name {name!r}; refusing to open it")
            if name in seen:
                raise self.fail(f"holds two files named {name!r}")
            seen.add(name)

    def read(self, name: str, limit: int | None = None) -> bytes:
        """Member ``name``'s bytes, size-capped."""
        cap = self.max_member_bytes if limit is None else min(limit, self.max_member_bytes)
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise self.fail(f"the project is incomplete: {name} is missing") from None
        if info.file_size > cap:
            raise self.fail(
                f"{name} is too large ({info.file_size:,} bytes uncompressed, over the limit of "
                f"{cap:,}); refusing to open it"
            )
        chunks: list[bytes] = []
        total = 0
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > cap:
                        raise self.fail(f"{name} is larger than its header says; refusing it")
                    chunks.append(chunk)
        except ProjectError:
            raise
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
            raise self.fail(f"{name} is damaged ({exc})") from None
        except OSError as exc:
            raise self.fail(f"{name} cannot be read ({describe_os_error(exc)})") from None
        return b"".join(chunks)

    def member_name(self, record: dict[str, Any], key: str, where: str) -> str:
        name = record.get(key)
        if not isinstance(name, str) or not _PLAIN_NAME.match(name) or ".." in name:
            raise self.fail(f"project.json: {where}.{key} must be a plain file name, got {name!r}")
        return name

    def project(self) -> Project:
        record = self._record()
        model = _checked_model(record.get("model"))
        if model is None:
            raise self.fail('project.json: \'model\' must be {"name": ..., "fingerprint": ...}')
        try:
            state = EditState.from_record(record.get("state", {}))
        except ValueError as exc:
            raise self.fail(f"project.json: {exc}") from None
        source = record.get("source")
        if not isinstance(source, dict) or source.get("kind") not in ("picture", "generated"):
            raise self.fail("project.json: 'source' must be a picture or a generated face")
        face_record = record.get("face")
        if face_record is not None and not isinstance(face_record, dict):
            raise self.fail("project.json: 'face' must be null or an object")

        session = Session()
        picture: Picture | None = None
        source_name: str | None = None
        face: Face | None = None
        with tempfile.TemporaryDirectory(prefix="nfe-project-") as temp:
            folder = Path(temp)
            if source["kind"] == "picture":
                picture, source_name = self._picture(source, folder)
            elif face_record is None:
                raise self.fail("project.json: a generated source needs its face")
            if face_record is not None:
                face = self._face(face_record, model, folder)
        if face is not None and face.kind == "picture":
            if picture is None:
                raise self.fail(
                    "project.json: the face was inverted from a picture, but the project holds none"
                )
            _check_inside(self, face.box, picture.size)
        # Assigned directly rather than through open_picture/set_face, which would reset
        # parts of what was saved.
        session.picture = picture
        session.box = self._box(source, "box", "source") if picture is not None else None
        session.face = face
        session.set_state(state)
        created = record.get("created")
        app = record.get("app")
        return Project(
            path=self.path,
            session=session,
            model=model,
            source_name=source_name,
            app=app if isinstance(app, str) else "",
            created=created if isinstance(created, str) else "",
        )

    def _record(self) -> dict[str, Any]:
        raw = self.read(_JSON, MAX_JSON_BYTES)
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self.fail("project.json is not text") from None
        except json.JSONDecodeError as exc:
            raise self.fail(
                f"project.json is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        if not isinstance(data, dict) or data.get("format") != PROJECT_FORMAT:
            raise self.fail(
                f'not an NFE project (project.json has no "format": "{PROJECT_FORMAT}")'
            )
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self.fail(f"unknown project version {version!r}")
        if version > PROJECT_VERSION:
            raise self.fail(
                f"the project was saved by a newer NFE (project version {version}; this NFE "
                f"reads version {PROJECT_VERSION}): update NFE to open it"
            )
        return data

    def _picture(self, source: dict[str, Any], folder: Path) -> tuple[Picture, str | None]:
        file = self.member_name(source, "file", "source")
        data = self.read(file)
        copy = folder / ("source" + PurePosixPath(file).suffix.lower())
        try:
            copy.write_bytes(data)
        except OSError as exc:
            raise self.fail(
                f"cannot extract the picture to a temporary folder ({describe_os_error(exc)})"
            ) from None
        try:
            picture = load_image(copy)
        except ImageError as exc:
            raise self.fail(f"the picture inside ({file}) cannot be read: {exc.reason}") from None
        size = source.get("size")
        if size is not None and (not _is_int_list(size, 2) or tuple(size) != picture.size):
            raise self.fail(
                f"project.json: the picture is {picture.size[0]} x {picture.size[1]} pixels, "
                f"but 'size' says {size!r}"
            )
        name = source.get("name")
        if name is not None and not isinstance(name, str):
            raise self.fail("project.json: source.name must be text or null")
        return replace(picture, path=_original_path(source, data)), name

    def _box(self, record: dict[str, Any], key: str, where: str) -> FaceBox | None:
        value = record.get(key)
        if value is None:
            return None
        if not _is_int_list(value, 4):
            raise self.fail(f"project.json: {where}.{key} must be [x, y, w, h] or null")
        return FaceBox(*value)

    def _face(self, record: dict[str, Any], model: dict[str, str], folder: Path) -> Face:
        kind = record.get("kind")
        if kind not in ("picture", "generated"):
            raise self.fail(f"project.json: face.kind must be picture or generated, got {kind!r}")
        seed, truncation = record.get("seed"), record.get("truncation")
        steps, seconds = record.get("steps", 0), record.get("seconds", 0.0)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise self.fail("project.json: face.seed must be a whole number or null")
        if truncation is not None and not _is_number(truncation):
            raise self.fail("project.json: face.truncation must be a number or null")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise self.fail("project.json: face.steps must be a whole number of at least 0")
        if not _is_number(seconds) or seconds < 0:
            raise self.fail("project.json: face.seconds must be a number of at least 0")
        face_model = record.get("model", model)
        checked = _checked_model(face_model)
        if checked is None:
            raise self.fail('project.json: face.model must be {"name": ..., "fingerprint": ...}')
        box = self._box(record, "box", "face")
        latent = self._latent(self.member_name(record, "latent", "face"))
        reconstruction = self._reconstruction(
            self.member_name(record, "reconstruction", "face"), folder
        )
        tuned = None
        if record.get("tuned") is not None:
            tuned = self._tuned(self.member_name(record, "tuned", "face"))
        tune_steps = record.get("tune_steps", 0)
        if isinstance(tune_steps, bool) or not isinstance(tune_steps, int) or tune_steps < 0:
            raise self.fail("project.json: face.tune_steps must be a whole number of at least 0")
        try:
            return Face(
                latent=latent,
                reconstruction=reconstruction,
                kind=kind,
                model=checked,
                box=box,
                seed=seed,
                truncation=None if truncation is None else float(truncation),
                steps=steps,
                seconds=float(seconds),
                tuned=tuned,
                tune_steps=tune_steps,
            )
        except ValueError as exc:
            raise self.fail(f"project.json: {exc}") from None

    def _tuned(self, name: str) -> dict[str, np.ndarray]:
        """The tuned synthesis weights: a safetensors file of finite float32 arrays (whether
        they fit the model is checked when the face is drawn)."""
        try:
            weights = safetensors.numpy.load(self.read(name))
        except Exception as exc:  # safetensors raises its own error types for bad headers
            raise self.fail(f"{name} is not a safetensors file ({exc})") from None
        if not weights:
            raise self.fail(f"{name} holds no weights")
        for key, value in weights.items():
            if value.dtype != np.float32:
                raise self.fail(f"{name}: {key} must be float32, got {value.dtype}")
            if not np.isfinite(value).all():
                raise self.fail(f"{name}: {key} has NaN or infinite values")
        return weights

    def _latent(self, name: str) -> np.ndarray:
        data = self.read(name)
        if not data.startswith(b"\x93NUMPY"):
            raise self.fail(f"{name} is not a numpy array file (.npy)")
        try:
            latent = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as exc:
            if "pickle" in str(exc).lower():
                raise self.fail(
                    f"{name} holds Python objects (a pickle); NFE never loads those"
                ) from None
            raise self.fail(f"{name} is not a numpy array file ({exc})") from None
        except (OSError, EOFError) as exc:
            raise self.fail(f"{name} is not a numpy array file ({exc})") from None
        if not isinstance(latent, np.ndarray):
            raise self.fail(f"{name} is not a single numpy array")
        if latent.dtype != np.float32 or latent.ndim != 2 or latent.size == 0:
            raise self.fail(
                f"{name} must be a (num_ws, w_dim) float32 array, got {latent.dtype} {latent.shape}"
            )
        if not np.isfinite(latent).all():
            raise self.fail(f"{name} has NaN or infinite values")
        return latent

    def _reconstruction(self, name: str, folder: Path) -> np.ndarray:
        copy = folder / "reconstruction.png"
        try:
            copy.write_bytes(self.read(name))
            picture = load_image(copy)
        except OSError as exc:
            raise self.fail(
                f"cannot extract {name} to a temporary folder ({describe_os_error(exc)})"
            ) from None
        except ImageError as exc:
            raise self.fail(f"{name} cannot be read: {exc.reason}") from None
        width, height = picture.size
        if width != height:
            raise self.fail(f"{name} must be a square render, got {width} x {height}")
        return to_array(picture)


def _check_inside(reader: _Reader, box: FaceBox | None, size: tuple[int, int]) -> None:
    if box is None:
        return
    try:
        check_box(box, *size)
    except BoxError as exc:
        raise reader.fail(f"project.json: {exc}") from None


def _original_path(source: dict[str, Any], data: bytes) -> Path | None:
    """The recorded original file when it still exists with exactly these bytes."""
    recorded = source.get("path")
    if not isinstance(recorded, str) or not recorded:
        return None
    original = Path(recorded)
    try:
        if not original.is_file() or original.stat().st_size != len(data):
            return None
        same = _file_digest(original) == hashlib.sha256(data).digest()
    except OSError:
        return None
    return original if same else None


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.digest()


def _is_safe_name(name: str) -> bool:
    """A member name that stays inside the folder it would be extracted to."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") or ":" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.rstrip("/").split("/"))


def _checked_model(model: object) -> dict[str, str] | None:
    if isinstance(model, dict) and all(
        isinstance(model.get(key), str) for key in ("name", "fingerprint")
    ):
        return {"name": model["name"], "fingerprint": model["fingerprint"]}
    return None


def _is_int_list(value: object, length: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
