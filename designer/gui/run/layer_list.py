"""The Run workspace's layer list: every layer with its output shape, marked when it did not run
(an error above it, the memory guard), selecting a layer shows its maps."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ...core.spec import fmt_shape
from ..document.document import DesignDocument
from ..style import LEVEL_COLORS, MUTED
from .controller import RunController

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerList(QWidget):
    def __init__(self, document: DesignDocument, controller: RunController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runLayerList")
        self.document, self.controller = document, controller
        self.list = QListWidget()
        self.list.setObjectName("runLayers")
        self.list.setMinimumWidth(120)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        self.list.currentItemChanged.connect(self._on_item_change)
        document.changed.connect(self._fill)
        document.selection_changed.connect(self._on_selection_change)
        controller.result_changed.connect(self._fill)
        self._fill()

    def _fill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        result = self.controller.result
        not_run = self.controller.not_run
        for row in self.document.analysis.rows:
            indent = "  " * (len(row.path) - 1)
            item = QListWidgetItem(f"{indent}{row.name}  ·  {fmt_shape(row.output_shape)}")
            item.setData(NAME_ROLE, row.name)
            item.setToolTip(f"{row.type} → {fmt_shape(row.output_shape)}")
            if row.name in not_run:
                item.setForeground(QBrush(QColor(LEVEL_COLORS["error"][0])))
                item.setToolTip(not_run[row.name])
            elif result is None or row.name not in result.outputs:
                item.setForeground(QBrush(QColor(MUTED)))
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._on_selection_change()

    def _on_selection_change(self) -> None:
        self.list.blockSignals(True)
        for k in range(self.list.count()):
            item = self.list.item(k)
            if item.data(NAME_ROLE) == self.document.selected:
                self.list.setCurrentItem(item)
                self.list.scrollToItem(item)
                break
        else:
            self.list.setCurrentRow(-1)
        self.list.blockSignals(False)

    def _on_item_change(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.document.select(item.data(NAME_ROLE))
