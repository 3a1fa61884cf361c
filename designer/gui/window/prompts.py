"""Every modal question the window asks, in one place so tests can answer them without dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

DESIGN_FILTER = "CNN designs (*.json);;All files (*)"
EXPORT_FILTER = "Text table (*.txt);;Markdown (*.md);;CSV (*.csv);;JSON (*.json)"


def export_filter_for(path: str) -> str:
    """The export filter matching ``path``'s suffix (the Markdown one for ``net-summary.md``)."""
    suffix = Path(path).suffix.lower()
    filters = EXPORT_FILTER.split(";;")
    return next((f for f in filters if f"*{suffix})" in f), filters[0]) if suffix else filters[0]


class Prompts:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        # what Open offers, (title, pattern); plugins add theirs: ("ONNX models", "*.onnx")
        self.open_kinds: list[tuple[str, str]] = [("CNN designs", "*.json")]

    def ask_save_changes(self, name: str, before: str = "closing") -> str:
        """``"save"``, ``"discard"`` or ``"cancel"``; ``before`` says what is about to happen ("closing",
        "opening another design", "starting a new design")."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.parent, "Unsaved changes", f"Save the changes to {name} before {before}?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def open_path(self, directory: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open design", directory, self.open_filter())
        return path or None

    def open_filter(self) -> str:
        """All openable files first, then each kind, then all files."""
        kinds = [f"{title} ({pattern})" for title, pattern in self.open_kinds]
        if len(kinds) > 1:
            kinds.insert(0, f"Designs and models ({' '.join(p for _, p in self.open_kinds)})")
        return ";;".join([*kinds, "All files (*)"])

    def save_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save design", suggested, DESIGN_FILTER)
        if path and not Path(path).suffix:
            path += ".json"
        return path or None

    def export_path(self, suggested: str) -> str | None:
        path, chosen = QFileDialog.getSaveFileName(self.parent, "Export summary", suggested, EXPORT_FILTER,
                                                   export_filter_for(suggested))
        if path and not Path(path).suffix:
            path += chosen[chosen.index("*.") + 1:chosen.index(")")]
        return path or None

    def error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.parent, title, message)

    def ask_recover(self, description: str) -> bool:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.parent, "Recover unsaved design",
            f"CNN Designer did not close properly last time. Recover the unsaved design?\n\n{description}",
            buttons.Yes | buttons.No, buttons.Yes)
        return answer == buttons.Yes
