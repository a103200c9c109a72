"""Writing files safely: atomic replacement, sane permissions, OS errors in plain words.

Every file NFE writes (pictures, label tables, model bundles, sessions) goes through
:func:`write_atomically`, so a failure never leaves a half-written file or damages the one
that was there before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import struct
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


class FileWriteError(Exception):
    """A file could not be written; ``str(e)`` is ``"<path>: <reason>"`` in plain words."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomically(
    file: str | os.PathLike[str],
    write: Callable[[BinaryIO], object],
    *,
    error: Callable[[Path, str], Exception] = FileWriteError,
    durable: bool = True,
) -> None:
    """Write via ``write(stream)`` to a hidden temp file beside ``file``, then rename it over.

    On any failure (including KeyboardInterrupt) the temp file is removed and ``file`` is
    untouched; OSError and encoder errors become ``error(file, reason)`` (FileWriteError
    unless the caller names its own, e.g. ImageWriteError). ``durable`` flushes the file and
    its folder to disk before returning; bulk writers that make a whole folder atomic some
    other way may turn it off (the write stays atomic, it is just not forced to disk).
    """
    file = Path(file)
    target = Path(os.path.realpath(file)) if file.is_symlink() else file
    folder = target.parent
    if not folder.exists():
        raise error(file, f"the folder does not exist ({folder})")
    if not folder.is_dir():
        raise error(file, f"{folder} is not a folder")
    if target.is_dir():
        raise error(file, "a folder with this name already exists")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    except OSError as exc:
        raise error(file, describe_os_error(exc)) from exc
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise error(file, describe_os_error(exc)) from exc
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise error(file, describe_os_error(exc)) from exc
        if isinstance(exc, ValueError | struct.error | OverflowError):
            raise error(file, f"the data could not be encoded ({exc})") from exc
        raise
    if durable:
        fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """Make the rename durable where the OS supports syncing a folder (best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def describe_os_error(exc: OSError) -> str:
    """An OSError in plain words."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "the folder does not exist",
        errno.ENOTDIR: "part of the path is not a folder",
        errno.EISDIR: "a folder with this name already exists",
        errno.EROFS: "the disk is read-only",
        errno.ENAMETOOLONG: "the file name is too long",
        errno.EIO: "the disk reported an input/output error",
    }
    if hasattr(errno, "EDQUOT"):
        reasons[errno.EDQUOT] = "the disk quota is exceeded"
    if exc.errno in reasons:
        return reasons[exc.errno]
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]
