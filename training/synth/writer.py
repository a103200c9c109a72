"""Write a procedural face set to a folder: ``000000.png``... and ``labels.csv``.

Rendering runs in worker processes (one per core by default). The set is written into a
hidden sibling folder and moved into place only when complete (``fileio.write_folder_atomically``),
so a cancelled or failed run never leaves a half-written set behind.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from nfe_core.fileio import FileWriteError, write_folder_atomically
from nfe_core.imageio import save_image
from nfe_core.jobs import ProgressFn, StopFn, check_stop
from training.synth.params import FaceParams, face_rng, sample_face
from training.synth.render import render_face
from training.synth.schema import ATTRIBUTES, HAIR_LENGTH_VALUE

LABELS_FILE = "labels.csv"
CHUNK = 64


class SetWriteError(FileWriteError):
    """The face set could not be written where asked; ``str(e)`` is ``"<folder>: <reason>"``."""


def label_columns() -> list[str]:
    """Columns of ``labels.csv``: ``file``, one per attribute, and the continuous hair length."""
    cols = ["file"]
    for attr in ATTRIBUTES:
        cols.append(attr.name)
        if attr.name == "hair_length":
            cols.append(HAIR_LENGTH_VALUE)
    return cols


def file_name(index: int, count: int) -> str:
    return f"{index:0{max(6, len(str(count - 1)))}d}.png"


def face_params(seed: int, count: int) -> list[FaceParams]:
    """The parameters of faces 0..count-1 of the set drawn with ``seed``."""
    return [sample_face(face_rng(seed, i)) for i in range(count)]


def _render_chunk(folder: str, seed: int, start: int, stop: int, count: int, size: int) -> list:
    rows = []
    for i in range(start, stop):
        params = sample_face(face_rng(seed, i))
        name = file_name(i, count)
        save_image(render_face(params, size).image, Path(folder) / name, durable=False)
        rows.append({"file": name, **params.labels()})
    return rows


def _check_target(out: Path, overwrite: bool) -> None:
    """Refuse a target that is not a folder, or a non-empty one that is not a face set."""
    if out.exists() and not out.is_dir():
        raise SetWriteError(out, "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise SetWriteError(out, "folder is not empty (use --force to replace a face set)")
        if not (out / LABELS_FILE).is_file():
            raise SetWriteError(out, f"not a face set (no {LABELS_FILE}); refusing to replace it")


def write_face_set(
    out: str | os.PathLike,
    count: int,
    size: int,
    seed: int = 0,
    *,
    workers: int | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> list[dict[str, str]]:
    """Render ``count`` faces of ``size`` px into folder ``out``; returns the label rows.

    Raises SetWriteError for an unusable target, ``jobs.Cancelled`` when ``should_stop``
    says so; in both cases nothing is left behind and an existing set is untouched.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    out = Path(out)
    _check_target(out, overwrite)
    workers = max(1, min(workers or os.cpu_count() or 1, -(-count // CHUNK)))
    rows: list[dict[str, str]] = []

    def fill(folder: Path) -> None:
        chunks = [(s, min(s + CHUNK, count)) for s in range(0, count, CHUNK)]
        if workers == 1:
            for start, stop in chunks:
                check_stop(should_stop)
                rows.extend(_render_chunk(str(folder), seed, start, stop, count, size))
                if progress:
                    progress(len(rows), count)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                pending = {
                    pool.submit(_render_chunk, str(folder), seed, a, b, count, size)
                    for a, b in chunks
                }
                try:
                    while pending:
                        done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        for fut in done:
                            rows.extend(fut.result())
                        if progress and done:
                            progress(len(rows), count)
                        check_stop(should_stop)
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
        rows.sort(key=lambda r: r["file"])
        _write_labels(folder / LABELS_FILE, rows)

    # the whole set appears at once, so single files need not be forced to disk
    write_folder_atomically(out, fill, replace=overwrite, error=SetWriteError, durable=False)
    return rows


def _write_labels(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=label_columns(), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
