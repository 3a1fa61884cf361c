"""The document side of the window (no widgets): the design being edited with its undo stack, the
undoable edit commands, clipboard edits, file handling and autosave."""

from .document import DesignDocument

__all__ = ["DesignDocument"]
