"""Clipboard and selection edits: copy/cut/paste as design JSON, duplicate, delete."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from ...core import Design, DesignFormatError, Layer, edits
from ...core.serialization import design_to_dict, design_to_json
from .document import DesignDocument


def clipboard_json(document: DesignDocument, layer: Layer) -> str:
    """The layer as a one-layer design on the same input, so it pastes anywhere (even another app)."""
    design = Design(name=f"{layer.name} (copied)", input=document.design.input, layers=(layer,))
    return design_to_json(design)


def layers_from_text(text: str, document: DesignDocument) -> tuple[Layer, ...]:
    """Layers in pasted text: a design, a list of layers or one layer (cnn-designer/v1 JSON)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("the clipboard does not hold design JSON") from None
    if isinstance(data, dict) and "layers" not in data and "type" in data:
        data = [data]
    if isinstance(data, list):
        wrapper = design_to_dict(document.design)
        wrapper["layers"] = data
        data = wrapper
    try:
        return Design.from_dict(data, "clipboard").layers
    except DesignFormatError as exc:
        raise ValueError(str(exc)) from None


class EditOps:
    def __init__(self, document: DesignDocument) -> None:
        self.document = document

    def copy(self) -> bool:
        layer = self.document.selected_layer
        if layer is None:
            return False
        mime = QMimeData()
        text = clipboard_json(self.document, layer)
        mime.setText(text)
        mime.setData("application/json", text.encode())
        QApplication.clipboard().setMimeData(mime)
        return True

    def cut(self) -> None:
        if self.copy() and self.document.selected:
            self.document.remove(self.document.selected)

    def paste(self) -> None:
        """Insert the clipboard's layers after the selection; raises ValueError for unusable text."""
        layers = layers_from_text(QApplication.clipboard().text(), self.document)
        slot = edits.slot_after(self.document.design, self.document.selected_path)
        self.document.insert_layers(slot, layers, "Paste")

    def duplicate(self) -> None:
        if self.document.selected:
            self.document.duplicate(self.document.selected)

    def delete(self) -> None:
        if self.document.selected:
            self.document.remove(self.document.selected)
