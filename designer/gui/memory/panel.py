"""``MemoryPanel``: the document's memory, as a timeline of one training step (or one inference pass)
and the "will it fit?" budget check. It listens to ``document.changed`` and redraws only when on
screen (``DeferredRefresh``)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from ...core.memory import TRAINING_NOTE, analysis_step
from ..deferred import DeferredRefresh
from ..document.document import DesignDocument
from .fit import FitPanel
from .timeline import MemoryTimeline

MODES = {"Training step": True, "Inference (no_grad)": False}


class MemoryPanel(QWidget):
    """Timeline and budget tabs for ``document``."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memoryPanel")
        self.document = document
        self.mode = QComboBox()
        self.mode.setObjectName("memoryMode")
        self.mode.addItems(list(MODES))
        self.mode.currentIndexChanged.connect(self._on_mode_change)
        self.settings = QLabel()
        self.settings.setWordWrap(True)
        self.timeline = MemoryTimeline()
        self.fit = FitPanel(document)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.fit, "Will it fit?")
        head = QHBoxLayout()
        head.addWidget(self.mode)
        head.addWidget(self.settings, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.tabs)
        self.deferred = DeferredRefresh(self, self.refresh)
        document.changed.connect(self._on_document_change)
        self.deferred.request()  # simulates a training step only once the panel is on screen

    @property
    def training(self) -> bool:
        return MODES[self.mode.currentText()]

    def _on_document_change(self) -> None:
        self.deferred.request()

    def _on_mode_change(self, _index: int) -> None:
        self.refresh()

    def refresh(self) -> None:
        a = self.document.analysis
        self.settings.setText(f"batch {a.batch_size:,} · {a.dtype} · {a.optimizer} · {TRAINING_NOTE} "
                              "(the summary's batch, dtype and optimizer)")
        step = analysis_step(a, a.optimizer if self.training else None)
        title = f"Training step ({a.optimizer})" if self.training else "Inference under torch.no_grad()"
        self.timeline.set_step(step, title)
        self.fit.refresh()
