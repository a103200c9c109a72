"""The run folder of ``nfe-train gan``: what is where, and the checks before writing to it.

RUN_DIR/options.json              options, resolved config, seed, library versions
RUN_DIR/losses.csv                one row per step
RUN_DIR/samples/step_000100.png   sample grids from the same fixed latents
RUN_DIR/checkpoints/latest.pt     the newest checkpoint (plus step_XXXXXX.pt kept ones)
RUN_DIR/bundle/                   the model bundle, written at the end
RUN_DIR/.lock                     held by the training that writes to the folder
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nfe_core.fileio import write_atomically

LOSS_COLUMNS = (
    "step",
    "images_seen",
    "d_loss",
    "g_loss",
    "r1",
    "real_logit",
    "fake_logit",
    "images_per_s",
    "seconds",
)


LOCK_FILE = ".lock"


class RunFolderError(ValueError):
    """The run folder cannot be used as asked; the message says what to do."""


class RunFolder:
    """Paths and small file operations of one training run folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.options = self.root / "options.json"
        self.losses = self.root / "losses.csv"
        self.samples = self.root / "samples"
        self.checkpoints = self.root / "checkpoints"
        self.latest = self.checkpoints / "latest.pt"
        self.bundle = self.root / "bundle"

    def is_run(self) -> bool:
        return self.options.is_file() or self.latest.is_file()

    def check_new(self) -> None:
        """RunFolderError unless the folder is missing or empty."""
        if not self.root.exists():
            return
        if not self.root.is_dir():
            raise RunFolderError(f"{self.root}: exists and is not a folder")
        if self.is_run():
            raise RunFolderError(
                f"{self.root} already holds a training run; pass --resume to continue it "
                "or choose another folder with --out"
            )
        if any(p.name != LOCK_FILE for p in self.root.iterdir()):
            raise RunFolderError(
                f"{self.root}: the folder is not empty and is not a training run; "
                "choose another folder with --out"
            )

    def check_resumable(self) -> None:
        """RunFolderError unless the folder holds a checkpoint to resume from."""
        if not self.latest.is_file():
            raise RunFolderError(
                f"{self.root}: no checkpoint to resume from ({self.latest} does not exist); "
                "leave out --resume to start a new run"
            )

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the folder for one training at a time (creating it): a second one on it, such
        as a ``--resume`` while the first still runs, is a RunFolderError instead of two
        trainings writing over each other's checkpoints and losses. The operating system
        lets go when the process ends, however it ends."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_FILE
        with path.open("a+", encoding="utf-8") as handle:
            try:
                _lock(handle.fileno())
            except OSError:
                handle.seek(0)
                holder = handle.read().strip()
                who = f" (process {holder})" if holder.isdigit() else ""
                raise RunFolderError(
                    f"{self.root}: another training is writing to this folder{who}; wait for "
                    "it to end or stop it (Ctrl+C saves a checkpoint), then resume"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield

    def create(self) -> None:
        for folder in (self.root, self.samples, self.checkpoints):
            folder.mkdir(parents=True, exist_ok=True)

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:06d}.png"

    def kept_checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:06d}.pt"

    def write_options(self, options: dict[str, Any]) -> None:
        text = json.dumps(options, indent=2, sort_keys=False) + "\n"
        write_atomically(self.options, lambda f: f.write(text.encode("utf-8")))

    def read_options(self) -> dict[str, Any]:
        try:
            data = json.loads(self.options.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def start_losses(self, keep_until: int) -> None:
        """Start the CSV: the header, plus rows of steps <= ``keep_until`` already there
        (a resumed run drops the rows a crash wrote after its checkpoint)."""
        rows: list[dict[str, str]] = []
        if keep_until > 0 and self.losses.is_file():
            with self.losses.open(newline="", encoding="utf-8") as f:
                rows = [r for r in csv.DictReader(f) if _step(r) <= keep_until]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, LOSS_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        write_atomically(self.losses, lambda f: f.write(data))

    def append_losses(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.losses.open("a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, LOSS_COLUMNS, lineterminator="\n")
            writer.writerows([{k: _cell(row.get(k)) for k in LOSS_COLUMNS} for row in rows])


def _step(row: dict[str, str]) -> int:
    try:
        return int(row.get("step") or 0)
    except ValueError:
        return 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    return str(value)


def read_losses(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a losses.csv as dicts of strings."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _lock(fd: int) -> None:
    """Lock an open file for this process without waiting; OSError when another holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
