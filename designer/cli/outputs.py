"""What the command line reads and writes besides designs: output paths, arrays, images.

* :func:`check_distinct_paths` refuses an output that would overwrite an input (or another output);
* :func:`write_file` / :func:`save_npy` write exactly at the path given, atomically
  (:func:`designer.core.files.atomic_write`: mode kept, symbolic links followed, fsync);
* :func:`read_image` / :func:`write_png` go through Qt with a message handler installed, so Qt's own
  warnings (``QImageIOHandler: Rejecting image as it exceeds the current allocation limit…``) never
  reach stderr as extra lines: the last one joins the single ``error:`` line instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from designer.core.files import atomic_write
from designer.core.serialization import printable

from .support import UserError

_qt_messages: list[str] = []
_qt_handler_installed = False
UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: equal after resolving links and ``..``, or the same inode.

    ``os.path.realpath`` never raises (a symbolic-link loop stays unresolved; reading it fails later with
    its own one-line error), unlike ``Path.resolve``, which raises on a loop."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_distinct_paths(inputs: Mapping[str, str | None], outputs: Mapping[str, str | None]) -> None:
    """Refuse (exit 2) an output path that names an input file or another output: writing it would destroy
    the input (``run D.json --out D.json``) or one output would overwrite the other. Keys are the names shown
    in the message (``"the design"``, ``"--out"``); ``None`` values are options not given."""
    given_in = [(flag, path) for flag, path in inputs.items() if path]
    given_out = [(flag, path) for flag, path in outputs.items() if path]
    for i, (flag, path) in enumerate(given_out):
        for other_flag, other in given_in + given_out[:i]:
            if _same_file(path, other):
                raise UserError(f"{path}: {flag} names the same file as {other_flag}; "
                                "writing it would destroy that file — choose another output path")


def write_file(path: str | Path, write: Callable[[BinaryIO], object], what: str) -> None:
    """Write ``path`` exactly as named, atomically; an ``OSError`` becomes one line naming the file and
    ``what`` was being written."""
    try:
        atomic_write(path, write)
    except OSError as exc:
        raise UserError(f"{path}: cannot write {what}: {exc.strerror or exc}") from None


def save_npy(path: str | Path, array: np.ndarray, what: str = "the array") -> None:
    """``np.save`` at exactly ``path`` (no ``.npy`` appended), atomically."""
    data = np.asanyarray(array)
    write_file(path, lambda handle: np.lib.format.write_array(handle, data, allow_pickle=False), what)


def safe_file_name(name: str, limit: int = 120) -> str:
    """A layer name usable as (part of) a file name: separators, control characters (NUL, newline) and
    characters Windows refuses become ``_``; lone surrogates are escaped; cut to ``limit`` characters."""
    text = UNSAFE_IN_FILE_NAMES.sub("_", name.encode("utf-8", "backslashreplace").decode("utf-8"))
    return text[:limit] or "_"


# --- images through Qt ----------------------------------------------------------------------------
def _on_qt_message(kind: Any, context: Any, text: str) -> None:
    _qt_messages.append(printable(" ".join(str(text).split())))


def _images() -> Any:
    """``designer.backend.images`` with Qt's message handler installed (once, for this process)."""
    global _qt_handler_installed
    try:
        from PySide6.QtCore import qInstallMessageHandler

        from designer.backend import images
    except ImportError as exc:
        raise UserError(f"reading and writing images needs PySide6 ({exc})") from None
    if not _qt_handler_installed:
        qInstallMessageHandler(_on_qt_message)
        _qt_handler_installed = True
    _qt_messages.clear()
    return images


def _image_error(exc: Exception) -> UserError:
    """One line: the image error, with Qt's last message when it said more."""
    text = str(exc)
    if _qt_messages and _qt_messages[-1] not in text:
        text = f"{text} — Qt: {_qt_messages[-1]}"
    _qt_messages.clear()
    return UserError(text)


def read_image(path: str, input_spec: Any, fit: str = "resize") -> np.ndarray:
    """The image at ``path`` prepared as the network input (``designer.backend.images.load_image``)."""
    images = _images()
    try:
        return images.load_image(path, input_spec, fit)
    except images.ImageError as exc:
        raise _image_error(exc) from None


def write_png(path: str | Path, pixels: np.ndarray) -> None:
    """A uint8 ``[H, W]`` array as a grayscale PNG at exactly ``path``, atomically."""
    images = _images()
    try:
        images.save_gray_png(path, pixels)
    except images.ImageError as exc:
        raise _image_error(exc) from None
