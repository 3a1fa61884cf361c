"""Autosave of unsaved changes to the user's data folder and recovery after a crash.

Each window session has a unique id (not the process id: ids repeat, in containers especially) and
writes ``<id>.json`` (the design) and ``<id>.meta.json`` (its file path, time) once a minute while the
document is modified, deleting them when the changes are saved or discarded. While the session
lives it holds an exclusive lock on ``<id>.lock`` (``flock``; the kernel releases it when the process
dies, however it dies). A session file whose lock can be taken belongs to a dead session: it is
offered for recovery, and kept locked by the offering session so no one else offers or overwrites it.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from ...core import Design, DesignFormatError
from ...core.files import atomic_write_text
from ...core.serialization import save_design
from .document import DesignDocument
from .files import SAVE_ERRORS, error_text

try:
    import fcntl
except ImportError:  # Windows: no flock; fall back to "the file exists" (no pid involved either way)
    fcntl = None

INTERVAL_MS = 60_000


def autosave_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "autosave"


class SessionLock:
    """An exclusive, non-blocking lock on ``path`` held until ``release`` or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is None:
            self._fd = fd
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, delete: bool = False) -> None:
        if self._fd is None:
            return
        if delete:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = None


@dataclass
class Recovered:
    design: Design
    original_path: str | None
    saved_at: float
    files: tuple[Path, ...]
    lock: SessionLock

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = self.original_path or "never saved"
        return f"“{self.design.name}” ({where}), autosaved {when}"

    def discard(self) -> None:
        for f in self.files:
            f.unlink(missing_ok=True)
        self.lock.release(delete=True)

    def release(self) -> None:
        """Keep the files for a later session (the user answered neither yes nor no)."""
        self.lock.release()


class Autosaver(QObject):
    """Signal ``failed(text)``: an autosave could not be written (shown in the status bar)."""

    failed = Signal(str)

    def __init__(self, document: DesignDocument, folder: Path | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(document)
        self.document = document
        self.folder = folder or autosave_folder()
        self.session = uuid.uuid4().hex
        self.design_file = self.folder / f"{self.session}.json"
        self.meta_file = self.folder / f"{self.session}.meta.json"
        self.lock = SessionLock(self.folder / f"{self.session}.lock")
        self.locked = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        document.modified_changed.connect(self._on_modified_change)

    def save_now(self) -> bool:
        """Write the autosave if there are unsaved changes; True when written. Errors are reported through
        ``failed``, never raised (this runs from a timer)."""
        if not self.document.modified:
            return False
        try:
            if not self.locked:
                self.locked = self.lock.acquire()
            save_design(self.document.design, self.design_file)
            meta = json.dumps({"path": self.document.path, "time": time.time(), "session": self.session})
            atomic_write_text(self.meta_file, meta)
        except SAVE_ERRORS as exc:
            self.failed.emit(f"Autosave failed: {error_text(self.design_file, exc)}")
            return False
        return True

    def adopt(self, recovered: Recovered) -> None:
        """Take over a recovered design: write it as this session's autosave, then drop the old files."""
        self.save_now()
        recovered.discard()

    def discard(self) -> None:
        self.design_file.unlink(missing_ok=True)
        self.meta_file.unlink(missing_ok=True)

    def close(self) -> None:
        """The window closes normally: nothing left to recover."""
        self.timer.stop()
        self.discard()
        self.lock.release(delete=True)
        self.locked = False

    def _on_modified_change(self, modified: bool) -> None:
        if not modified:
            self.discard()


def _read(design_file: Path, meta_file: Path) -> tuple[Design, dict] | None:
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        return Design.load(design_file), meta if isinstance(meta, dict) else {}
    except (DesignFormatError, ValueError, OSError):
        return None


def find_recoverable(folder: Path | None = None) -> Recovered | None:
    """The newest autosave whose session is gone (its lock is free), locked for this process; ``None``
    when there is none. Other dead sessions' files stay for later."""
    folder = folder or autosave_folder()
    found: list[Recovered] = []
    for design_file in sorted(folder.glob("*.json")):
        stem = design_file.name.removesuffix(".json")
        if stem.endswith(".meta"):
            continue
        lock = SessionLock(folder / f"{stem}.lock")
        if not lock.acquire():
            continue  # a live session (or another window offering it right now)
        meta_file = folder / f"{stem}.meta.json"
        read = _read(design_file, meta_file)
        if read is None:
            lock.release()
            continue
        design, meta = read
        saved_at = meta.get("time") if isinstance(meta.get("time"), (int, float)) else design_file.stat().st_mtime
        path = meta.get("path") if isinstance(meta.get("path"), str) else None
        found.append(Recovered(design, path, saved_at, (design_file, meta_file), lock))
    _remove_orphan_locks(folder)
    newest = max(found, key=lambda r: r.saved_at, default=None)
    for other in found:
        if other is not newest:
            other.release()
    return newest


def _remove_orphan_locks(folder: Path) -> None:
    """Delete the lock files of dead sessions that left no design behind (saved, then crashed)."""
    for lock_file in folder.glob("*.lock"):
        if (folder / f"{lock_file.stem}.json").exists():
            continue
        lock = SessionLock(lock_file)
        if lock.acquire():
            lock.release(delete=True)
