"""Extra inspector sections for some layer types: the activation function and its derivative over
[−6, 6], and the kernel preset picker of convolutions. ``EXTRAS`` maps layer type → section class."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from ...backend.functions import LAYER_OPS, VJP_OPS
from ...backend.weights import init_layer
from ...core import Layer
from ...core.spec import ELEMENTWISE
from ..document.document import DesignDocument
from .branch import BranchEditor
from .kernel_presets import KernelPresetPicker

X_RANGE = (-6.0, 6.0)


def activation_curves(layer: Layer, n: int = 601) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x``, ``f(x)`` and ``f'(x)`` over [−6, 6] computed by the backend's own forward and VJP kernels."""
    x = np.linspace(*X_RANGE, n, dtype=np.float32)
    channels = layer.hp.get("num_parameters", 1)  # a per-channel activation (PReLU) sees one row per channel
    inputs = [np.repeat(x.reshape(1, 1, n), channels, axis=0)]
    weights = init_layer(layer, inputs[0].shape)
    y = LAYER_OPS[layer.type](layer, inputs, weights)
    grads, _ = VJP_OPS[layer.type](layer, inputs, y, np.ones_like(y), weights, params=False)
    return x, y[0, 0], grads[0][0, 0]


class ActivationPlot(QGroupBox):
    """f and f′ of the selected activation layer."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__("Function and derivative", parent)
        self.setObjectName("activationPlot")
        self.document = document
        layout = QVBoxLayout(self)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setFixedHeight(200)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(8, 8), labelTextSize="8pt")
        self.plot.setMouseEnabled(False, False)
        self.f = self.plot.plot(pen=pg.mkPen("#3f9b3a", width=2.5), name="f(x)")
        self.df = self.plot.plot(pen=pg.mkPen("#c2417e", width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                                 name="f′(x)")
        self.plot.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#9ca3af")))
        self.plot.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#9ca3af")))
        layout.addWidget(self.plot)
        self.note = QLabel()
        self.note.setObjectName("inspectorDoc")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

    def show_layer(self, layer: Layer) -> None:
        x, y, dy = activation_curves(layer)
        self.f.setData(x, y)
        self.df.setData(x, dy)
        self.plot.setXRange(*X_RANGE, padding=0.02)
        self.plot.setYRange(min(-1.2, float(y.min())), max(1.2, min(float(y.max()), 6.5)), padding=0.05)
        saturated = float(np.mean(np.abs(dy) < 0.01)) * 100
        self.note.setText(f"f′ is (almost) zero on {saturated:.0f}% of [−6, 6]: gradients vanish there."
                          if saturated > 1 else "f′ never vanishes on [−6, 6].")


EXTRAS: dict[str, type] = {"Conv2d": KernelPresetPicker, "Branch": BranchEditor}
"""Sections for one layer type; every elementwise activation (the spec's trait) gets the :class:`ActivationPlot`."""


def section_class(layer: Layer) -> type | None:
    """The extra section for ``layer``, if its type has one."""
    return ActivationPlot if layer.spec.has(ELEMENTWISE) else EXTRAS.get(layer.type)


class LayerExtras(QWidget):
    """Shows the extra section of ``document.selected`` when its type has one."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.sections: dict[type, QWidget] = {}
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        document.changed.connect(self._on_document_change)
        document.selection_changed.connect(self._on_document_change)
        self._on_document_change()

    def section(self, cls: type) -> QWidget:
        if cls not in self.sections:
            self.sections[cls] = cls(self.document)
            self.layout_.addWidget(self.sections[cls])
        return self.sections[cls]

    def _on_document_change(self) -> None:
        layer = self.document.selected_layer
        cls = section_class(layer) if layer is not None else None
        for other, widget in self.sections.items():
            widget.setVisible(other is cls)
        if cls is not None:
            self.section(cls).show_layer(layer)
            self.section(cls).show()
        self.setVisible(cls is not None)
