"""Reading ``.npz``/``.npy`` files header first: nothing is inflated before it is known to be needed and sane.

``np.load(path)[key]`` decompresses a member before anyone can look at its shape, so a 2 MB archive
with one unused 2 GB member costs 2 GB, and a header claiming 4 TB ends in ``MemoryError``. Here:

* an archive's member list comes from the zip directory (no member is read to list them);
* a member's ``.npy`` header (magic, dtype, shape, order) is read alone, from its first bytes;
* its data is read only when the caller asks for it, and only when the header's claim
  ``prod(shape) · itemsize`` fits in the bytes the member really holds (its uncompressed size in the
  zip directory, or the file size of a ``.npy``); object (pickled) arrays are never read.

Every failure is an :class:`NpyReadError` with a one-line reason; callers prefix the file name.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import numpy as np

from designer.core.files import open_regular
from designer.core.formatting import human_bytes

T = TypeVar("T")
MAX_HEADER_BYTES = 10_000  # NumPy's own limit for trusted headers
# what a damaged or truncated archive raises while it is opened or an entry is read
READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, KeyError)


class NpyReadError(ValueError):
    """A ``.npy``/``.npz`` that cannot be read (one line, without the file name)."""


@dataclass(frozen=True)
class NpyHeader:
    """What an ``.npy`` header claims, before any data is read."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def describe(self) -> str:
        return f"{list(self.shape)} {self.dtype}"


def read_header(stream: IO[bytes]) -> NpyHeader:
    """The header at the current position of ``stream`` (which then points at the data)."""
    try:
        version = np.lib.format.read_magic(stream)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        reader = readers.get(version)
        if reader is None:
            raise NpyReadError(f"unsupported .npy format version {version}")
        shape, fortran, dtype = reader(stream, max_header_size=MAX_HEADER_BYTES)
    except NpyReadError:
        raise
    except READ_ERRORS as exc:
        raise NpyReadError(f"not a valid .npy header ({str(exc) or type(exc).__name__})") from None
    return NpyHeader(tuple(int(n) for n in shape), np.dtype(dtype), bool(fortran))


def check_claim(header: NpyHeader, available: int, what: str) -> None:
    """Refuse a header whose data would not fit in the ``available`` bytes (a lie, or a truncated file),
    and object arrays (reading them would unpickle)."""
    if header.dtype.hasobject:
        raise NpyReadError(f"{what} holds Python objects ({header.dtype}), not numbers")
    if header.nbytes > available:
        raise NpyReadError(f"{what} claims {human_bytes(header.nbytes)} ({header.describe()}) "
                           f"but holds only {human_bytes(max(available, 0))}")


def read_data(stream: IO[bytes], header: NpyHeader, what: str) -> np.ndarray:
    """The array whose header was just read from ``stream`` (after :func:`check_claim`)."""
    data = stream.read(header.nbytes)
    if len(data) != header.nbytes:
        raise NpyReadError(f"{what} is truncated ({len(data):,} of {header.nbytes:,} bytes)")
    flat = np.frombuffer(data, header.dtype)
    return flat.reshape(header.shape[::-1]).T if header.fortran_order else flat.reshape(header.shape)


HeaderCheck = Callable[[NpyHeader], None]


def _guarded(what: str, action: Callable[[], T]) -> T:
    """``action()`` with the errors of a damaged stream turned into one :class:`NpyReadError` line."""
    try:
        return action()
    except NpyReadError:
        raise
    except READ_ERRORS as exc:
        raise NpyReadError(f"{what}: {str(exc) or type(exc).__name__}") from None


class NpzArchive:
    """An open ``.npz``: member names from the zip directory, headers and data read on demand."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        infos = archive.infolist()  # keys as np.load names them: "a.npy" → "a", other members by their name
        self._infos = {info.filename: info for info in infos if not info.filename.endswith(".npy")}
        self._infos.update({info.filename[:-4]: info for info in infos if info.filename.endswith(".npy")})

    @property
    def keys(self) -> list[str]:
        return list(self._infos)

    def header(self, key: str) -> NpyHeader:
        """Member ``key``'s header alone, checked against the member's size (its data is not inflated)."""
        info, what = self._infos[key], f"member '{key}'"
        with _guarded(what, lambda: self._zip.open(info)) as stream:
            header = _guarded(what, lambda: read_header(stream))
            check_claim(header, info.file_size - _guarded(what, stream.tell), what)
            return header

    def read(self, key: str, check: HeaderCheck | None = None) -> np.ndarray:
        """Member ``key``'s array. Its header is read first and checked against the member's size, then by
        ``check(header)`` (whose exceptions pass through untouched); only then is the data inflated."""
        info, what = self._infos[key], f"member '{key}'"
        with _guarded(what, lambda: self._zip.open(info)) as stream:
            header = _guarded(what, lambda: read_header(stream))
            check_claim(header, info.file_size - _guarded(what, stream.tell), what)
            if check is not None:
                check(header)
            return _guarded(what, lambda: read_data(stream, header, what))


@contextmanager
def open_npz(path: str | Path) -> Iterator[NpzArchive]:
    """The archive at ``path`` (a regular file; refused otherwise), closed after the block."""
    try:
        handle = open_regular(path)
    except OSError as exc:
        raise NpyReadError(exc.strerror or str(exc)) from None
    with handle:
        try:
            archive = zipfile.ZipFile(handle)
        except zipfile.BadZipFile:
            raise NpyReadError("not an .npz archive (np.savez of a state_dict)") from None
        except READ_ERRORS as exc:
            raise NpyReadError(str(exc) or type(exc).__name__) from None
        with archive:
            yield NpzArchive(archive)


def read_npy(path: str | Path, check: HeaderCheck | None = None) -> np.ndarray:
    """The array of the ``.npy`` file ``path``; ``check(header)`` may refuse it before its data is read."""
    try:
        handle = open_regular(path)
    except OSError as exc:
        raise NpyReadError(exc.strerror or str(exc)) from None
    with handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        if handle.read(2) == b"PK":
            raise NpyReadError("expected one array saved by np.save (.npy), got an .npz archive")
        handle.seek(0)
        header = read_header(handle)
        check_claim(header, size - handle.tell(), "the array")
        if check is not None:
            check(header)
        return _guarded("the array", lambda: read_data(handle, header, "the array"))
