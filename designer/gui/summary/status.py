"""Permanent status-bar readout: total params, MACs, inference peak and training memory, validity."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ...core.formatting import human_bytes, human_count
from ..document.document import DesignDocument
from ..style import LEVEL_COLORS


class StatusSummary(QWidget):
    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusSummary")
        self.document = document
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(18)
        self.labels = {key: QLabel() for key in ("params", "macs", "peak", "training", "valid")}
        for key, label in self.labels.items():
            label.setObjectName(f"status_{key}")
            layout.addWidget(label)
        document.changed.connect(self._on_document_change)
        self._on_document_change()

    def _on_document_change(self) -> None:
        a = self.document.analysis
        t, m = a.totals, a.memory
        self.labels["params"].setText(f"Params <b>{human_count(t['params'])}</b>")
        self.labels["macs"].setText(f"MACs <b>{human_count(t['macs'])}</b>")
        self.labels["peak"].setText(f"Inference peak <b>{human_bytes(m['inference_peak_bytes'])}</b>")
        self.labels["training"].setText(f"Training <b>{human_bytes(m['training_bytes'])}</b> "
                                        f"(batch {a.batch_size}, {a.dtype}, {a.optimizer})")
        errors = sum(i.level == "error" for i in a.issues)
        warnings = sum(i.level == "warning" for i in a.issues)
        if errors:
            text, color = f"✖ {errors} error{'s' * (errors > 1)}", LEVEL_COLORS["error"][0]
        elif warnings:
            text, color = f"⚠ valid, {warnings} warning{'s' * (warnings > 1)}", LEVEL_COLORS["warning"][0]
        else:
            text, color = "✔ valid", "#3f9b3a"
        self.labels["valid"].setText(f"<b style='color:{color}'>{text}</b>")
