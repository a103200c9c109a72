"""Edit many pictures at once: invert, edit, paste back, save - one picture after another.

:func:`run_batch` is used by ``nfe batch`` and by the app's batch export:

- inputs are files and folders; folders are searched recursively for pictures (by
  :data:`~nfe_core.imageio.READ_SUFFIXES`, hidden files and the output folder left out); the
  list is sorted so every process sees the same order;
- with ``world`` processes (``torchrun --nproc_per_node N``: ``RANK`` and ``WORLD_SIZE``,
  see :func:`shard_from_env`) process ``rank`` takes ``inputs[rank::world]``;
- without a box given, each picture's face is looked for (where none is found, its largest
  centred square is edited, and the summary says so);
- each picture goes through :mod:`nfe_core.pipeline` and is saved atomically under a name
  made from ``pattern`` (``{stem}_edited.{ext}``). Nothing is ever overwritten - not an input,
  not an earlier result, not another process's file: a name that is taken gets ``_1``,
  ``_2``... before its extension, and each name is claimed with an exclusive create before
  it is written, so two processes can never write the same file;
- a picture that fails (unreadable, box outside it, cannot be written) is recorded with its
  reason and the rest go on; ``should_stop()`` is checked between pictures and during each
  inversion, and a cancelled batch reports what it did and what it left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nfe_core.bundle import Bundle
from nfe_core.editing import Edit
from nfe_core.facebox import FaceBox
from nfe_core.fileio import FileWriteError, describe_os_error
from nfe_core.imageio import READ_SUFFIXES, ImageError, load_image, save_picture
from nfe_core.inversion import DEFAULT_STEPS, DEFAULT_TUNE_STEPS, InversionOptions, TuningOptions
from nfe_core.jobs import Cancelled, ProgressFn, StopFn
from nfe_core.naming import BATCH_FORMATS, DEFAULT_PATTERN, BatchError, output_name
from nfe_core.pipeline import (
    check_can_edit,
    check_can_invert,
    edit_inverted,
    find_picture_face,
    invert_picture,
    paste,
)

__all__ = [
    "BATCH_FORMATS",
    "DEFAULT_PATTERN",
    "BatchError",
    "BatchSummary",
    "expand_inputs",
    "output_name",
    "run_batch",
    "shard_from_env",
]

_MAX_RENAMES = 10_000


@dataclass
class BatchSummary:
    """What a batch (one process's shard of it) did.

    Attributes:
        done: ``(input, output)`` for each picture written.
        failed: ``(input, reason)`` for each picture that could not be edited or saved.
        skipped: inputs not reached because the batch was cancelled.
        unfound: inputs written where no face was found to invert: their largest centred
            square was (see ``find`` of :func:`run_batch`).
        cancelled: ``should_stop()`` ended the batch early.
        total: pictures in this shard; ``rank``/``world`` which shard.
        seconds: how long it took.
    """

    done: list[tuple[Path, Path]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    unfound: list[Path] = field(default_factory=list)
    cancelled: bool = False
    total: int = 0
    rank: int = 0
    world: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every picture of the shard was written."""
        return not self.failed and not self.cancelled and not self.skipped


def shard_from_env(environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``(rank, world)`` from torchrun's ``RANK`` and ``WORLD_SIZE`` (``(0, 1)`` when unset).

    Raises:
        BatchError: a value is not a whole number, or not ``0 <= RANK < WORLD_SIZE``.
    """
    env = os.environ if environ is None else environ
    values = []
    for name, default in (("RANK", "0"), ("WORLD_SIZE", "1")):
        text = env.get(name, default).strip() or default
        try:
            values.append(int(text))
        except ValueError:
            raise BatchError(f"{name}={text!r} in the environment is not a whole number") from None
    rank, world = values
    _check_shard(rank, world)
    return rank, world


def _check_shard(rank: int, world: int) -> None:
    if world < 1 or not 0 <= rank < world:
        raise BatchError(f"expected 0 <= rank < world size, got rank {rank} of {world}")


def expand_inputs(
    inputs: Iterable[str | os.PathLike[str]], exclude: Path | None = None
) -> list[Path]:
    """Files as given and the pictures in folders (recursively), sorted, each once.

    Folders contribute files whose extension is in ``READ_SUFFIXES`` (any case), except
    hidden ones (``.name``: also the temporary files of atomic writes) and anything under
    ``exclude`` (the output folder, so a rerun does not edit earlier results). A file named
    explicitly is kept whatever its extension; if it is not a picture, that picture fails.
    A path that does not exist is kept too, and fails as a missing file.
    """
    skip = _resolved(exclude) if exclude is not None else None
    found: dict[Path, Path] = {}
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if (
                    file.suffix.lower() in READ_SUFFIXES
                    and not any(part.startswith(".") for part in file.relative_to(path).parts)
                    and file.is_file()
                    and (skip is None or not _resolved(file).is_relative_to(skip))
                ):
                    found.setdefault(_resolved(file), file)
        else:
            found.setdefault(_resolved(path), path)
    return sorted(found.values(), key=lambda p: (str(p.parent), p.name))


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _numbered(name: str, k: int) -> str:
    """``face_edited.png`` -> ``face_edited_2.png`` for k = 2."""
    path = Path(name)
    return f"{path.stem}_{k}{path.suffix}"


def _claim(folder: Path, name: str) -> Path:
    """Create an empty file under ``name`` (or ``name_1``, ``name_2``... if taken) with an
    exclusive create, so no other process or earlier file is ever overwritten."""
    for k in range(_MAX_RENAMES):
        candidate = folder / (name if k == 0 else _numbered(name, k))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise FileWriteError(candidate, describe_os_error(exc)) from None
        os.close(fd)
        return candidate
    raise FileWriteError(folder / name, f"{_MAX_RENAMES} files with this name already exist")


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise BatchError(f"{out_dir}: a file with this name exists; expected an output folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno == errno.EEXIST and out_dir.is_dir():
            return
        raise BatchError(
            f"{out_dir}: cannot make the output folder ({describe_os_error(exc)})"
        ) from None


def run_batch(
    bundle: Bundle,
    inputs: Sequence[str | os.PathLike[str]],
    edits: Sequence[Edit],
    out_dir: str | os.PathLike[str],
    *,
    fmt: str = "png",
    pattern: str = DEFAULT_PATTERN,
    box: FaceBox | None = None,
    find: bool = True,
    steps: int = DEFAULT_STEPS,
    tune_steps: int = DEFAULT_TUNE_STEPS,
    layers: tuple[int, int] | None = None,
    quality: int = 95,
    rank: int = 0,
    world: int = 1,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> BatchSummary:
    """Edit this process's shard of ``inputs`` and write the results into ``out_dir``.

    ``progress(done, total)`` is called after each picture of the shard (written or failed).
    The same ``box`` (clamped per picture) is used for every picture; without one, each
    picture's face is looked for (``find``, :func:`~nfe_core.pipeline.find_picture_face`)
    and, where none is found (``summary.unfound``) or ``find`` is off, its largest centred
    square is inverted.

    Raises:
        BatchError: bad ``fmt``, ``pattern``, shard or output folder - before any work.
        ModelNotReadyError, EditError: the model cannot invert or make the edits.
    """
    started = time.perf_counter()
    ext = BATCH_FORMATS.get(fmt.lower().lstrip(".")) if isinstance(fmt, str) else None
    if ext is None:
        raise BatchError(f"format {fmt!r}: expected one of png, jpg, webp")
    _check_shard(rank, world)
    InversionOptions(steps=steps)  # ValueError for a bad step count, before any work
    TuningOptions(steps=tune_steps)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise BatchError(f"quality: expected a whole number from 1 to 100, got {quality!r}")
    if not edits:
        raise BatchError("no edits to apply")
    check_can_invert(bundle)
    check_can_edit(bundle, edits)
    num_ws = bundle.generator.num_ws
    if layers is not None and not 0 <= layers[0] < layers[1] <= num_ws:
        raise BatchError(f"layers: this model's W+ has {num_ws} rows (0:{num_ws}); got {layers}")
    out = Path(out_dir)
    output_name(pattern, Path("picture.png"), ext, 0)  # a bad pattern fails before any work
    _prepare_out_dir(out)

    everything = expand_inputs(inputs, exclude=out)
    if not everything:
        raise BatchError("no pictures found in the inputs given")
    mine = list(enumerate(everything))[rank::world]
    summary = BatchSummary(total=len(mine), rank=rank, world=world)
    for position, (index, source) in enumerate(mine):
        if should_stop is not None and should_stop():
            summary.cancelled = True
            summary.skipped.extend(path for _, path in mine[position:])
            break
        try:
            written = _edit_one(
                bundle, source, edits, out, output_name(pattern, source, ext, index),
                box=box, find=find, steps=steps, tune_steps=tune_steps, layers=layers,
                quality=quality, should_stop=should_stop,
            )  # fmt: skip
        except (ImageError, FileWriteError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, ImageError | FileWriteError) else str(exc)
            summary.failed.append((source, reason))
        else:
            if written is None:  # cancelled during the inversion: nothing written
                summary.cancelled = True
                summary.skipped.extend(path for _, path in mine[position:])
                break
            summary.done.append((source, written[0]))
            if written[1]:
                summary.unfound.append(source)
        if progress is not None:
            progress(position + 1, len(mine))
    summary.seconds = time.perf_counter() - started
    return summary


def _edit_one(
    bundle: Bundle,
    source: Path,
    edits: Sequence[Edit],
    out: Path,
    name: str,
    *,
    box: FaceBox | None,
    find: bool,
    steps: int,
    tune_steps: int,
    layers: tuple[int, int] | None,
    quality: int,
    should_stop: StopFn | None,
) -> tuple[Path, bool] | None:
    """One picture: load, find the face (without ``box``, when ``find``), invert, edit,
    paste back, save; the path written and whether no face was found where one was looked
    for (the centred square edited instead), or None when cancelled."""
    picture = load_image(source)
    unfound = False
    if box is None and find and bundle.segmenter is not None:
        try:
            found = find_picture_face(bundle, picture, should_stop)
        except Cancelled:
            return None
        unfound = found is None
        box = None if found is None else found.box
    inverted = invert_picture(
        bundle, picture, box, steps, should_stop=should_stop, tune_steps=tune_steps
    )
    if inverted.cancelled:
        return None
    edited = edit_inverted(bundle, inverted, edits, layers)
    result = paste(
        picture, inverted, edited.render, edited.redrawn, edited.recolour, edited.reshape
    )
    target = _claim(out, name)
    try:
        save_picture(result, target, quality=quality)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    return target, unfound
