"""Autosave of unsaved changes to the user's data folder and recovery after a crash.

Each running window writes ``<pid>.json`` (the design) and ``<pid>.meta.json`` (its file path,
if any) once a minute while the document is modified, and deletes them when the changes are
saved or discarded. Files left by a process that is no longer running are offered for recovery.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from ..core import Design, DesignFormatError
from ..core.serialization import save_design
from .document import DesignDocument

INTERVAL_MS = 60_000


def autosave_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "autosave"


@dataclass
class Recovered:
    design: Design
    original_path: str | None
    saved_at: float
    files: tuple[Path, ...]

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = self.original_path or "never saved"
        return f"“{self.design.name}” ({where}), autosaved {when}"

    def discard(self) -> None:
        for f in self.files:
            f.unlink(missing_ok=True)


class Autosaver(QObject):
    def __init__(self, document: DesignDocument, folder: Path | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(document)
        self.document = document
        self.folder = folder or autosave_folder()
        self.design_file = self.folder / f"{os.getpid()}.json"
        self.meta_file = self.folder / f"{os.getpid()}.meta.json"
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        document.modified_changed.connect(self._on_modified_change)

    def save_now(self) -> bool:
        """Write the autosave if there are unsaved changes; True when written."""
        if not self.document.modified:
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        save_design(self.document.design, self.design_file)
        self.meta_file.write_text(json.dumps({"path": self.document.path, "time": time.time()}), encoding="utf-8")
        return True

    def discard(self) -> None:
        self.design_file.unlink(missing_ok=True)
        self.meta_file.unlink(missing_ok=True)

    def _on_modified_change(self, modified: bool) -> None:
        if not modified:
            self.discard()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def find_recoverable(folder: Path | None = None) -> Recovered | None:
    """The newest autosave left by a process that is no longer running, or ``None``."""
    folder = folder or autosave_folder()
    found: list[Recovered] = []
    for design_file in folder.glob("*.json"):
        stem = design_file.name.removesuffix(".json")
        if stem.endswith(".meta") or not stem.isdigit() or _pid_alive(int(stem)):
            continue
        meta_file = folder / f"{stem}.meta.json"
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
            design = Design.load(design_file)
        except (DesignFormatError, ValueError, OSError):
            continue
        found.append(Recovered(design, meta.get("path"), meta.get("time", design_file.stat().st_mtime),
                               (design_file, meta_file)))
    return max(found, key=lambda r: r.saved_at, default=None)
