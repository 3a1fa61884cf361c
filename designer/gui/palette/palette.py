"""The layer palette: layer types grouped by family and block templates, with a search box.

Drag an entry onto the canvas, or double-click (or press Enter) to insert it after the selection.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ...core import FAMILIES, LAYER_SPECS
from ...core.templates import BLOCKS
from ..document.document import DesignDocument
from ..mime import PALETTE_MIME
from ..style import family_color

PAYLOAD_ROLE = Qt.ItemDataRole.UserRole + 1
BLOCKS_GROUP = "Blocks"


def _swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(1, 1, 10, 10, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _PaletteTree(QTreeWidget):
    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        payload = items[0].data(0, PAYLOAD_ROLE) if items else None
        if payload:
            mime.setData(PALETTE_MIME, payload.encode())
            mime.setText(payload)
        return mime

    def mimeTypes(self) -> list[str]:
        return [PALETTE_MIME]


class LayerPalette(QWidget):
    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerPalette")
        self.document = document
        self.search = QLineEdit()
        self.search.setObjectName("paletteSearch")
        self.search.setPlaceholderText("Search layers and blocks…")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self._fill()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self._on_search_change)
        self.tree.itemActivated.connect(self._on_item_activate)

    def _fill(self) -> None:
        bold = QFont()
        bold.setBold(True)
        self._fill_blocks(bold)  # first: blocks are what a new user looks for, reachable without scrolling
        for family in FAMILIES:
            group = self._group(family, bold)
            accent, _ = family_color(family)
            icon = _swatch(accent)
            for type_name, spec in LAYER_SPECS.items():
                if spec.family == family:
                    item = QTreeWidgetItem(group, [type_name])
                    item.setData(0, PAYLOAD_ROLE, f"layer:{type_name}")
                    item.setToolTip(0, f"<b>{type_name}</b>: {spec.doc}<br><i>{spec.shape_formula}</i>")
                    item.setIcon(0, icon)
            group.setForeground(0, QBrush(accent))
        self.tree.expandAll()

    def _fill_blocks(self, bold: QFont) -> None:
        group = self._group(BLOCKS_GROUP, bold)
        block_icon = _swatch(QColor("#8a94a3"))
        for block in BLOCKS.values():
            item = QTreeWidgetItem(group, [block.title])
            item.setData(0, PAYLOAD_ROLE, f"block:{block.key}")
            item.setToolTip(0, f"<b>{block.title}</b>: {block.doc}")
            item.setIcon(0, block_icon)

    def _group(self, title: str, font: QFont) -> QTreeWidgetItem:
        group = QTreeWidgetItem(self.tree, [title])
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        return group

    def items(self) -> dict[str, QTreeWidgetItem]:
        """Entries by their visible text (layer type or block title)."""
        out = {}
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for k in range(group.childCount()):
                out[group.child(k).text(0)] = group.child(k)
        return out

    def _on_search_change(self, text: str) -> None:
        needle = text.strip().lower()
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            visible = 0
            for k in range(group.childCount()):
                item = group.child(k)
                hit = not needle or needle in item.text(0).lower() or needle in item.toolTip(0).lower()
                item.setHidden(not hit)
                visible += hit
            group.setHidden(visible == 0)

    def _on_item_activate(self, item: QTreeWidgetItem, column: int = 0) -> None:
        payload = item.data(0, PAYLOAD_ROLE)
        if payload:
            self.document.insert_item(payload)
