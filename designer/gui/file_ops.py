"""File menu behaviour: new, open, recent files, examples, save (atomic), save as, export summary."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from ..core import Design, DesignFormatError, InputSpec
from ..core.formatting import format_analysis
from .document import DesignDocument
from .prompts import Prompts

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"
MAX_RECENT = 10
EXPORT_FORMATS = {".txt": "table", ".md": "markdown", ".csv": "csv", ".json": "json"}


def examples() -> list[tuple[str, Path]]:
    """``(design name, path)`` for the bundled examples, sorted by name."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        try:
            found.append((Design.load(path).name, path))
        except DesignFormatError:
            continue
    return sorted(found, key=lambda item: item[0].lower())


def is_bundled_example(path: str | Path) -> bool:
    """Whether ``path`` is one of the examples shipped in ``resources/examples``."""
    try:
        return Path(path).resolve().parent == EXAMPLES_DIR.resolve()
    except OSError:
        return False


def empty_design() -> Design:
    return Design(name="Untitled", input=InputSpec(3, 224, 224))


def write_atomic(path: str | Path, text: str) -> None:
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileController(QObject):
    """Owns the file side of the document; asks questions through ``prompts``."""

    recent_changed = Signal()

    def __init__(self, document: DesignDocument, prompts: Prompts, settings: QSettings) -> None:
        super().__init__(document)
        self.document = document
        self.prompts = prompts
        self.settings = settings

    # --- recent files ---------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        files = [value] if isinstance(value, str) else list(value or [])
        return [f for f in files if f]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path] + [f for f in self.recent_files() if f != path]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])
        self.recent_changed.emit()

    def clear_recent(self) -> None:
        self.settings.setValue("recentFiles", [])
        self.recent_changed.emit()

    # --- opening ------------------------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.document.modified:
            return True
        answer = self.prompts.ask_save_changes(self.document.display_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.document.reset(empty_design(), None)
        return True

    def open(self, path: str | None = None) -> bool:
        """Open ``path`` (or ask for one); a broken file leaves the current design untouched."""
        if not self.maybe_save():
            return False
        path = path or self.prompts.open_path(self._directory())
        if not path:
            return False
        if is_bundled_example(path):
            return self.open_example(path, asked=True)
        design = self._load(path)
        if design is None:
            return False
        self.document.reset(design, str(path))
        self._add_recent(str(path))
        return True

    def open_example(self, path: str | Path, asked: bool = False) -> bool:
        """Examples open as untitled copies so Save never overwrites the bundled file."""
        if not asked and not self.maybe_save():
            return False
        design = self._load(str(path))
        if design is not None:
            self.document.reset(design, None)
        return design is not None

    def _load(self, path: str) -> Design | None:
        try:
            return Design.load(path)
        except DesignFormatError as exc:
            self.prompts.error("Cannot open design", str(exc))
            return None

    def _directory(self) -> str:
        if self.document.path:
            return str(Path(self.document.path).parent)
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # --- saving -------------------------------------------------------------------------------------------
    def save(self) -> bool:
        if not self.document.path:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self) -> bool:
        suggested = self.document.path or str(Path(self._directory()) / f"{self._slug()}.json")
        path = self.prompts.save_path(suggested)
        return bool(path) and self._write(path)

    def _write(self, path: str) -> bool:
        try:
            self.document.design.save(path)  # temp file + rename (core.serialization.save_design)
        except OSError as exc:
            self.prompts.error("Cannot save design", f"{path}: {exc.strerror or exc}")
            return False
        self.document.mark_saved(str(path))
        self._add_recent(str(path))
        return True

    def export_summary(self, path: str | None = None) -> bool:
        path = path or self.prompts.export_path(str(Path(self._directory()) / f"{self._slug()}-summary.md"))
        if not path:
            return False
        fmt = EXPORT_FORMATS.get(Path(path).suffix.lower(), "table")
        try:
            write_atomic(path, format_analysis(self.document.analysis, fmt))
        except OSError as exc:
            self.prompts.error("Cannot export summary", f"{path}: {exc.strerror or exc}")
            return False
        return True

    def _slug(self) -> str:
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in self.document.design.name).strip("_") or "design"
