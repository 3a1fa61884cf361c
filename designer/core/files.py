"""Writing and reading files safely: one atomic writer for everything the app saves, one bounded reader.

:func:`atomic_write` writes through a temporary file in the target's folder and renames it over
the target, so a crash leaves either the old file or the new one, never half of each:

* the data and then the folder entry are ``fsync``-ed (the rename survives a power cut);
* an existing file keeps its permission bits; a new file gets ``0o666`` minus the umask, as
  ``open(path, "w")`` would (the kernel applies the umask when the temporary file is created);
* a symbolic link is written through: its target gets the new content, the link stays a link;
* the path is written exactly as given (no ``.npy``/``.npz`` suffix is added);
* an existing character device (``/dev/null``) or FIFO is written in place, never replaced by a plain
  file; an existing folder, socket or block device is refused.

:func:`read_limited` refuses, before reading, anything that is not a regular file (a FIFO, a
device such as ``/dev/zero``, a folder) or is larger than a limit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

NEW_FILE_MODE = 0o666  # minus the umask, applied by the kernel at creation


def write_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` must change: ``path`` with every symbolic link resolved."""
    return Path(os.path.realpath(os.fspath(path)))


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """An exclusive new file ``.<name>.<random>.tmp`` in ``folder``, created with mode 0o666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, NEW_FILE_MODE), tmp
        except FileExistsError:
            continue


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some systems cannot open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(handle)`` on a binary handle whose content replaces ``path`` atomically; returns the
    file written (``path`` after symbolic links). On any error the target is untouched and no temporary
    file is left; the error propagates."""
    target = write_target(path)
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        return _write_special(path, info.st_mode, write)
    mode = None if info is None else stat.S_IMODE(info.st_mode)
    fd, tmp = _create_temporary(target.parent, target.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)
    return target


def _write_special(path: str | os.PathLike[str], mode: int, write: Callable[[BinaryIO], object]) -> Path:
    """Write into an existing character device (``/dev/null``, a terminal) or FIFO in place: renaming a file
    over it would replace the device node or pipe with a plain file. A FIFO is opened without blocking, so
    one with no reader fails (``ENXIO``) instead of hanging. Folders, sockets and block devices are refused."""
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise RefusedFileError(f"not a regular file ({_kind(mode)})")
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(os.fspath(path), os.O_WRONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        if nonblock:
            os.set_blocking(fd, True)  # only the open must not wait; the writes may
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "wb") as handle:
        write(handle)
    return Path(os.fspath(path))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Replace ``path`` with ``text`` encoded as UTF-8, atomically (see :func:`atomic_write`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


class RefusedFileError(OSError):
    """A file refused before reading: not a regular file, or larger than the limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.strerror = message


def open_regular(path: str | os.PathLike[str], buffering: int = -1) -> BinaryIO:
    """``path`` opened for binary reading when it is a regular file; :class:`RefusedFileError` otherwise.

    Opened without blocking (a FIFO with no writer would otherwise wait forever), then checked with
    ``fstat`` on the open descriptor, so what is checked is what is read."""
    fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise RefusedFileError(f"not a regular file ({_kind(mode)})")
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path`` when it holds at most ``limit`` bytes.

    The file is opened with :func:`open_regular` and its size checked before anything is read; at
    most ``limit + 1`` bytes are read, so a file growing meanwhile is refused too. Raises
    :class:`RefusedFileError` (an ``OSError``) with a one-line reason, or the ``OSError`` of opening.
    """
    with open_regular(path, buffering=0) as handle:
        info = os.fstat(handle.fileno())
        if info.st_size > limit:
            raise RefusedFileError(f"the file holds {info.st_size:,} bytes, more than the {limit:,} allowed")
        chunks, total = [], 0
        while total <= limit:
            chunk = handle.read(min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise RefusedFileError(f"the file grew beyond the {limit:,} bytes allowed while being read")
        return b"".join(chunks)


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((text for test, text in kinds if test(mode)), "a special file")
