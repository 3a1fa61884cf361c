"""File menu behaviour: new, open, recent files, examples, save (atomic), save as, export summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Signal

from ...core import Design, DesignFormatError, InputSpec
from ...core.files import atomic_write_text
from ...core.formatting import format_analysis
from .document import DesignDocument

if TYPE_CHECKING:
    from ..window.prompts import Prompts

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "resources" / "examples"
MAX_RECENT = 10
DEFAULT_NAME = "Untitled"
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
    return Design(name=DEFAULT_NAME, input=InputSpec(3, 224, 224))


SAVE_ERRORS = (OSError, ValueError, TypeError, MemoryError)  # UnicodeEncodeError is a ValueError


def error_text(path: str | Path, exc: BaseException) -> str:
    """One line naming the file: ``net.json: Permission denied``."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{path}: {exc.strerror}"
    if isinstance(exc, MemoryError):
        return f"{path}: not enough memory"
    text = str(exc)
    return text if text.startswith(str(path)) else f"{path}: {text}"


class FileController(QObject):
    """Owns the file side of the document; asks questions through ``prompts``. Signals: ``opened`` (a
    design was read from a file), ``failed(text)`` (an error was shown), ``recent_changed``."""

    recent_changed = Signal()
    opened = Signal()
    failed = Signal(str)

    def __init__(self, document: DesignDocument, prompts: Prompts, settings: QSettings) -> None:
        super().__init__(document)
        self.document = document
        self.prompts = prompts
        self.settings = settings
        self.openers: dict[str, Callable[[str], bool]] = {}  # suffix (".onnx") → a plugin's open(path)

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
    def maybe_save(self, before: str = "closing") -> bool:
        """Ask about unsaved changes before ``before`` ("closing", "opening another design" …); False when
        the user cancels (or the save fails)."""
        if not self.document.modified:
            return True
        answer = self.prompts.ask_save_changes(self.document.display_name, before)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> bool:
        if not self.maybe_save("starting a new design"):
            return False
        self.document.reset(empty_design(), None)
        return True

    def open(self, path: str | None = None) -> bool:
        """Open ``path`` (or ask for one); a broken file leaves the current design untouched."""
        if not self.maybe_save("opening another design"):
            return False
        path = path or self.prompts.open_path(self._directory())
        if not path:
            return False
        opener = self.openers.get(Path(path).suffix.lower())
        if opener is not None:
            return opener(str(path))
        if is_bundled_example(path):
            return self.open_example(path, asked=True)
        design = self._load(path)
        if design is None:
            return False
        self.document.reset(design, str(path))
        self._add_recent(str(path))
        self.opened.emit()
        return True

    def open_example(self, path: str | Path, asked: bool = False) -> bool:
        """Examples open as untitled copies so Save never overwrites the bundled file."""
        if not asked and not self.maybe_save("opening another design"):
            return False
        design = self._load(str(path))
        if design is not None:
            self.document.reset(design, None)
            self.opened.emit()
        return design is not None

    def _load(self, path: str) -> Design | None:
        try:
            return Design.load(path)
        except DesignFormatError as exc:
            self._error("Cannot open design", str(exc))
        except (*SAVE_ERRORS, RecursionError) as exc:  # the reader's own errors should all be the above
            self._error("Cannot open design", error_text(path, exc))
        return None

    def _error(self, title: str, text: str) -> None:
        self.prompts.error(title, text)
        self.failed.emit(text)

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
        return bool(path) and self._write(path, rename=True)

    def _write(self, path: str, rename: bool = False) -> bool:
        """Save to ``path`` (atomically, in the core); with ``rename`` an untitled design (or one named
        after its old file) takes the new file's name. Any error is shown; the document stays modified."""
        design = self.document.design
        if rename and design.name in (DEFAULT_NAME, self._old_stem()):
            design = replace(design, name=Path(path).stem)
        try:
            design.save(path)
        except SAVE_ERRORS as exc:
            self._error("Cannot save design", error_text(path, exc))
            return False
        if design is not self.document.design:
            self.document.rename_design(design.name)
        self.document.mark_saved(str(path))
        self._add_recent(str(path))
        return True

    def _old_stem(self) -> str | None:
        return Path(self.document.path).stem if self.document.path else None

    def suggested_export_path(self) -> str:
        stem = Path(self.document.path).stem if self.document.path else self._slug()
        return str(Path(self._directory()) / f"{stem}-summary.md")

    def export_summary(self, path: str | None = None) -> bool:
        path = path or self.prompts.export_path(self.suggested_export_path())
        if not path:
            return False
        fmt = EXPORT_FORMATS.get(Path(path).suffix.lower(), "table")
        try:
            atomic_write_text(path, format_analysis(self.document.analysis, fmt))
        except SAVE_ERRORS as exc:
            self._error("Cannot export summary", error_text(path, exc))
            return False
        return True

    def _slug(self) -> str:
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in self.document.design.name).strip("_") or "design"
