"""Writing files safely: atomic replacement, sane permissions, OS errors in plain words.

Every file NFE writes (pictures, label tables, sessions) goes through
:func:`write_atomically`, and every folder written whole (a model bundle) through
:func:`write_folder_atomically`, so a failure never leaves a half-written file or folder
or damages the one that was there before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
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


def write_folder_atomically(
    folder: str | os.PathLike[str],
    write: Callable[[Path], object],
    *,
    replace: bool = False,
    error: Callable[[Path, str], Exception] = FileWriteError,
    durable: bool = True,
) -> None:
    """Fill a hidden temp folder beside ``folder`` via ``write(temp)``, then rename it over.

    The folder appears complete or not at all: on any failure (including KeyboardInterrupt)
    the temp folder is removed and what was at ``folder`` is untouched. An existing empty
    folder is replaced; a non-empty one only with ``replace`` (the caller checks first that
    it holds what it means to replace). The old folder is moved aside, the new one renamed
    in, and only then is the old one deleted; if the rename fails the old one is put back.
    OSError becomes ``error(folder, reason)``. ``durable`` forces the files to disk first.
    """
    shown = Path(folder)  # errors name the folder as the caller did
    folder = shown.absolute()
    parent = folder.parent
    if not parent.is_dir():
        reason = "is not a folder" if parent.exists() else "does not exist"
        raise error(shown, f"the folder it goes in {reason} ({parent})")
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise error(shown, "a file with this name already exists")
    if folder.is_dir() and any(folder.iterdir()) and not replace:
        raise error(shown, "the folder already exists and is not empty")
    try:
        temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=parent))
    except OSError as exc:
        raise error(shown, describe_os_error(exc)) from exc
    try:
        write(temp)
        if durable:
            for path in sorted(temp.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    _fsync_file(path)
            fsync_folder(temp)
        os.chmod(temp, 0o777 & ~current_umask())
        _swap_in(temp, folder)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise error(shown, describe_os_error(exc)) from exc
        raise
    if durable:
        fsync_folder(parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(temp: Path, folder: Path) -> None:
    """Rename ``temp`` to ``folder``, replacing a folder that is there."""
    if not folder.is_dir():
        temp.rename(folder)
        return
    if not any(folder.iterdir()):
        folder.rmdir()
        temp.rename(folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    old.rmdir()
    folder.rename(old)
    try:
        temp.rename(folder)
    except BaseException:
        old.rename(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)
