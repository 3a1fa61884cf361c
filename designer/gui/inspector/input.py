"""The inspector with nothing selected: the input image's settings and the design's totals."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from ...core.formatting import human_bytes, human_count
from ...core.params import ParamSpec
from ..document.document import DesignDocument
from .common import ValueSection, issues_html, issues_label
from .fields import TextField


class _InputSpecDoc:
    """Stands in for a layer spec in tooltips."""

    shape_formula = "the input tensor is C×H×W"
    params_formula = ""


INPUT_PARAMS = (
    ParamSpec("channels", "int", doc="Channels C of the input image (3 for RGB, 1 for grey)."),
    ParamSpec("height", "int", doc="Height H of the input image in pixels."),
    ParamSpec("width", "int", doc="Width W of the input image in pixels."),
)


class StatsField(TextField):
    """Per-channel mean or std: one number for all channels or one per channel; empty = none."""

    def __init__(self, key: str, document: DesignDocument) -> None:
        spec = ParamSpec(key, "scale", None, f"Per-channel {key} used to normalise the input: one number, or "
                                             "one per channel. Empty: no normalisation.")
        super().__init__(spec, _InputSpecDoc())
        self.document = document
        self.edit.setPlaceholderText("none")

    def parse(self, text: str) -> Any:
        parts = [p for p in text.replace(",", " ").replace("[", " ").replace("]", " ").split() if p]
        if not parts:
            return None
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            raise ValueError(f"expected numbers, got {text!r}") from None
        channels = self.document.design.input.channels
        if len(values) not in (1, channels):
            raise ValueError(f"give 1 or {channels} numbers (one per channel), got {len(values)}")
        if self.spec.name == "std" and min(values) <= 0:
            raise ValueError("std must be positive")
        return values

    def format(self, value: Any) -> str:
        return "" if value is None else ", ".join(f"{v:g}" for v in value)


TOTAL_ROWS = [("params", "Params"), ("buffers", "Buffers"), ("macs", "MACs"), ("flops", "FLOPs"),
              ("input", "Input size"), ("weights", "Params size"), ("activations", "Activations"),
              ("peak", "Inference peak"), ("training", "Training step peak"), ("valid", "Design")]


class InputInspector(QWidget):
    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        layout = QVBoxLayout(self)
        title = QLabel("<span style='font-size:15pt; font-weight:bold'>Input</span>"
                       "&nbsp;&nbsp;<span style='color:#6b7280'>and totals</span>")
        hint = QLabel("Select a card to edit its layer. The input image the network reads:")
        hint.setObjectName("inspectorDoc")
        hint.setWordWrap(True)
        box = QGroupBox("Input image")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.fields: dict[str, TextField] = {}
        for spec in INPUT_PARAMS:
            self.fields[spec.name] = TextField(spec, _InputSpecDoc())
        for key in ("mean", "std"):
            self.fields[key] = StatsField(key, document)
        for key, field in self.fields.items():
            field.setObjectName(f"input_{key}")
            field.edited.connect(lambda value, k=key, f=field: self._on_input_change(k, value, f.session))
            form.addRow({"channels": "C", "height": "H", "width": "W"}.get(key, key), field)
        self.totals = ValueSection("Totals", TOTAL_ROWS)
        self.issue_box = QGroupBox("Input issues")
        self.issues = issues_label()
        QVBoxLayout(self.issue_box).addWidget(self.issues)
        for widget in (title, hint, box, self.totals, self.issue_box):
            layout.addWidget(widget)
        layout.addStretch(1)
        document.changed.connect(self._on_document_change)
        self._on_document_change()

    def showEvent(self, event) -> None:
        self._on_document_change(force=True)
        super().showEvent(event)

    def _on_document_change(self, force: bool = False) -> None:
        if not (force or self.isVisible()):  # hidden behind the layer page: refreshed when shown
            return
        inp = self.document.design.input
        for key, field in self.fields.items():
            field.set_value(getattr(inp, key))
        a = self.document.analysis
        t, m = a.totals, a.memory
        self.totals.set("params", f"{t['params']:,} ({human_count(t['params'])})")
        self.totals.set("buffers", f"{t['buffers']:,}")
        self.totals.set("macs", f"{t['macs']:,} ({human_count(t['macs'])})")
        self.totals.set("flops", f"{human_count(t['flops'])} (2 × MACs)")
        for key, mem in (("input", "input_bytes"), ("weights", "params_bytes"), ("activations", "activations_bytes"),
                         ("peak", "inference_peak_bytes"), ("training", "training_bytes")):
            self.totals.set(key, human_bytes(m[mem]))
        counts = {level: sum(i.level == level for i in a.issues) for level in ("error", "warning", "hint")}
        verdict = "✔ valid" if a.valid else "✖ has errors"
        self.totals.set("valid", f"{verdict} · {counts['error']} errors, {counts['warning']} warnings, "
                                 f"{counts['hint']} hints")
        self.issues.setText(issues_html([i for i in a.issues if i.layer == "input"], "The input size suits the "
                                                                                       "network."))

    def _on_input_change(self, key: str, value, session: int) -> None:
        if value is None and key in ("channels", "height", "width"):
            return
        changes = {key: value}
        if key == "channels":  # per-channel statistics no longer fit: keep only a shared value
            inp = self.document.design.input
            for stat in ("mean", "std"):
                values = getattr(inp, stat)
                if values is not None and len(values) not in (1, value):
                    changes[stat] = None
        self.document.set_input(session, **changes)
