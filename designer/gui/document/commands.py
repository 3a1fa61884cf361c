"""Undo commands. ``redo``/``undo`` only swap designs on the document; views follow its signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from ...core import Design

if TYPE_CHECKING:
    from .document import DesignDocument

PARAM_EDIT_ID = 1001


class DesignEditCommand(QUndoCommand):
    """Replace the document's design ``before`` → ``after`` and move the selection with it."""

    def __init__(self, document: DesignDocument, text: str, after: Design, select_after: str | None) -> None:
        super().__init__(text)
        self.document = document
        self.before = document.design
        self.after = after
        self.select_before = document.selected
        self.select_after = select_after

    def redo(self) -> None:
        self.document.apply_design(self.after, self.select_after)

    def undo(self) -> None:
        self.document.apply_design(self.before, self.select_before)


class SetParamsCommand(DesignEditCommand):
    """A hyperparameter edit; consecutive edits of one field in one typing session merge."""

    def __init__(self, document: DesignDocument, text: str, after: Design, layer: str, fields: tuple[str, ...],
                 session: int) -> None:
        super().__init__(document, text, after, document.selected)
        self.key = (layer, fields, session)

    def id(self) -> int:
        return PARAM_EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamsCommand) or other.key != self.key:
            return False
        self.after = other.after
        self.select_after = other.select_after
        if self.after == self.before:  # typed back to the start: the step undoes nothing, drop it
            self.setObsolete(True)
        return True
