"""The bottom dock: memory settings (batch, dtype, optimizer) over the sortable summary table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core import MACS_NOTE
from ...core.memory import DTYPE_BYTES, OPTIMIZER_STATES
from ..document.document import DesignDocument
from .model import COLUMNS, NAME_ROLE, TOTALS, SummaryModel, SummaryProxy

if TYPE_CHECKING:
    from ..run.controller import RunController


class SummaryPanel(QWidget):
    """The table follows the document; per-layer run times come from the run controller."""

    def __init__(self, document: DesignDocument, controller: RunController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.model = SummaryModel(document)
        if controller is not None:
            controller.result_changed.connect(lambda: self.model.set_timings(controller.timings))
        self.proxy = SummaryProxy(self.model)
        self.table = self._make_table()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(self._controls(document))
        layout.addWidget(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_change)
        document.selection_changed.connect(self._on_selection_change)
        document.changed.connect(self._on_selection_change)

    def _controls(self, document: DesignDocument) -> QHBoxLayout:
        """Batch size, dtype and optimizer (the document's memory settings) and the MACs note."""
        self.batch = QSpinBox()
        self.batch.setObjectName("batchSize")
        self.batch.setRange(1, 65536)
        self.batch.setToolTip("Batch size: memory (not shapes) scales with it")
        self.batch.setValue(document.batch_size)
        self.dtype = QComboBox()
        self.dtype.setObjectName("dtype")
        self.dtype.addItems(list(DTYPE_BYTES))
        self.optimizer = QComboBox()
        self.optimizer.setObjectName("optimizer")
        self.optimizer.addItems(list(OPTIMIZER_STATES))
        controls = QHBoxLayout()
        for label, widget in (("Batch", self.batch), ("dtype", self.dtype), ("Optimizer", self.optimizer)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
            controls.addSpacing(6)
        note = QLabel("MACs: weight multiply-accumulates; FLOPs = 2 × MACs")
        note.setToolTip(MACS_NOTE)
        note.setObjectName("inspectorDoc")
        note.setMinimumWidth(0)
        note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls.addStretch(1)
        controls.addWidget(note)
        self.batch.valueChanged.connect(self._on_batch_change)
        self.dtype.currentTextChanged.connect(self._on_dtype_change)
        self.optimizer.currentTextChanged.connect(self._on_optimizer_change)
        return controls

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("summaryTable")
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(22)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in zip(range(len(COLUMNS)), (34, 124, 88, 100, 84, 74, 76, 56, 78, 64)):
            table.setColumnWidth(column, width)
        return table

    # --- memory settings --------------------------------------------------------------------------
    def _on_batch_change(self, value: int) -> None:
        self.document.set_options(batch_size=value)

    def _on_dtype_change(self, text: str) -> None:
        self.document.set_options(dtype=text)

    def _on_optimizer_change(self, text: str) -> None:
        self.document.set_options(optimizer=text)

    # --- selection ----------------------------------------------------------------------------------
    def _on_row_change(self, current, previous) -> None:
        name = current.data(NAME_ROLE) if current.isValid() else None
        self.document.select(None if name == TOTALS else name)

    def _on_selection_change(self) -> None:
        selection = self.table.selectionModel()
        row = self.model.row_of(self.document.selected) if self.document.selected else -1
        selection.blockSignals(True)
        if row < 0:
            selection.clearSelection()
            selection.setCurrentIndex(self.proxy.index(-1, -1), QItemSelectionModel.SelectionFlag.NoUpdate)
        else:
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(index)
        selection.blockSignals(False)
        self.table.viewport().update()
