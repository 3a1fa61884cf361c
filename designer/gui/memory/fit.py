"""``FitPanel``: "will it fit?" for a memory budget: the largest batch whose training step fits, and the
seeds' remedies (smaller batch, 16-bit floats, a larger stride early, in-place activations) with the
training peak each one gives, computed by re-analysing. A remedy can be applied: settings change the
document's batch or dtype, design changes are one undoable edit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.formatting import human_bytes
from ...core.memory_advice import Remedy, largest_batch, remedies
from ..document.document import DesignDocument

GIB = 2**30


class FitPanel(QWidget):
    """Budget in GiB → largest batch and remedies for the document's design and settings."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.found: list[Remedy] = []
        self.budget = QDoubleSpinBox()
        self.budget.setObjectName("memoryBudget")
        self.budget.setRange(0.01, 4096)
        self.budget.setDecimals(2)
        self.budget.setSuffix(" GiB")
        self.budget.setValue(8.0)
        self.budget.valueChanged.connect(self._on_budget_change)
        self.answer = QLabel()
        self.answer.setObjectName("largestBatch")
        self.answer.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("memoryRemedies")
        self.list.setHeaderLabels(["Remedy", "Training peak", "Fits", "What it does"])
        self.list.setColumnWidth(0, 190)
        self.list.setRootIsDecorated(False)
        self.apply = QPushButton("Apply")
        self.apply.setObjectName("applyRemedy")
        self.apply.setEnabled(False)
        self.apply.clicked.connect(self.apply_selected)
        self.list.currentItemChanged.connect(self._on_current_change)
        top = QHBoxLayout()
        top.addWidget(QLabel("Memory budget"))
        top.addWidget(self.budget)
        top.addStretch(1)
        top.addWidget(self.apply)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.answer)
        layout.addWidget(self.list)

    @property
    def budget_bytes(self) -> int:
        return int(self.budget.value() * GIB)

    def _on_current_change(self, *_args) -> None:
        self.apply.setEnabled(self.list.currentItem() is not None)

    def _on_budget_change(self, _value: float) -> None:
        self.refresh()

    def refresh(self) -> None:
        a, budget = self.document.analysis, self.budget_bytes
        peak = a.memory["training_bytes"]
        batch = largest_batch(a, budget)
        verdict = "fits" if peak <= budget else "does not fit"
        most = (f"the largest batch that fits is <b>{batch:,}</b>" if batch else
                "not even a batch of 1 fits: parameters, gradients and optimizer state alone are too large")
        self.answer.setText(f"Batch {a.batch_size:,} needs {human_bytes(peak)} per training step "
                            f"({a.optimizer}, {a.dtype}): it {verdict} in {human_bytes(budget)}; {most}.")
        self.found = remedies(self.document.design, a, budget) if a.valid else []
        self.list.clear()
        for r in self.found:
            item = QTreeWidgetItem([r.title, human_bytes(r.peak_bytes), "yes" if r.fits else "no", r.detail])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        self.apply.setEnabled(False)

    def apply_selected(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        remedy = self.found[self.list.indexOfTopLevelItem(item)]
        if remedy.design is not None:
            self.document.push(f"Memory remedy: {remedy.title}", remedy.design, self.document.selected)
        if remedy.batch_size is not None or remedy.dtype is not None:
            self.document.set_options(batch_size=remedy.batch_size, dtype=remedy.dtype)
