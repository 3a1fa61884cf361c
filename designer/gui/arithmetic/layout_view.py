"""Memory layout of the selected tensor: its first 16 addresses in NCHW (PyTorch) and NHWC (TensorFlow)
order, and its layer's weights in OIHW (PyTorch) and HWIO (TensorFlow) order."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ...backend.explain.layouts import first_addresses
from ..style import font
from .pooling_view import FeatureMapSource

COUNT = 16


def _index_text(index: tuple[int, ...], names: str) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, index))


class MemoryLayoutView(QWidget):
    """Address → logical index tables for ``source``'s map (batch 1) and weight shape."""

    def __init__(self, source: FeatureMapSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setObjectName("memoryLayoutView")
        self.title = QLabel(objectName="layoutTitle", wordWrap=True)
        self.table = QTableWidget(COUNT, 5, objectName="layoutTable")
        self.table.setHorizontalHeaderLabels(["address", "NCHW (c, h, w)", "NHWC (c, h, w)",
                                              "OIHW (o, i, kh, kw)", "HWIO (o, i, kh, kw)"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setFont(font(8.5, mono=True))
        self.formula = QLabel(
            "NCHW: addr = ((n·C + c)·H + h)·W + w   NHWC: addr = ((n·H + h)·W + w)·C + c   "
            "HWIO kernel = OIHW.transpose(2, 3, 1, 0)", objectName="layoutFormula", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget in (self.title, self.table, self.formula):
            layout.addWidget(widget)
        source.changed.connect(self._on_map_change)
        self._on_map_change()

    def _on_map_change(self) -> None:
        fmap, weight = self.source.fmap, self.source.weight_shape
        self.table.clearContents()
        columns = []
        if fmap is not None:
            columns += [(1, first_addresses(fmap.shape, "NCHW", COUNT), "chw"),
                        (2, first_addresses(fmap.shape, "NHWC", COUNT), "chw")]
        if weight is not None and len(weight) == 4:
            columns += [(3, first_addresses(weight, "OIHW", COUNT), ("o", "i", "kh", "kw")),
                        (4, first_addresses(weight, "HWIO", COUNT), ("o", "i", "kh", "kw"))]
        for row in range(COUNT):
            self.table.setItem(row, 0, QTableWidgetItem(str(row)))
        for col, entries, names in columns:
            for addr, index in entries:
                self.table.setItem(addr, col, QTableWidgetItem(_index_text(index, names)))
        shape = "×".join(map(str, fmap.shape)) if fmap is not None else "—"
        wshape = "×".join(map(str, weight)) if weight is not None else "none"
        self.title.setText(f"{self.source.name or 'no tensor'}: map {shape} (batch 1), weights {wshape}")
