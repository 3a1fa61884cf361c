"""``MemoryTimeline``: live bytes after every allocation of one simulated step, stacked by kind, the phases
(forward, backward, optimizer) shaded, the peak marked. Clicking the peak (or anywhere near its step)
lists the tensors alive there, grouped by the layer that holds them, largest first."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ...core.formatting import human_bytes
from ...core.training_memory import KINDS, Block, StepMemory

KIND_COLORS = {
    "parameters": "#5b6b80", "optimizer state": "#9aa5b4", "input": "#2d3a4d", "saved activations": "#2f6fd6",
    "activations": "#8fb3ee", "parameter gradients": "#c2417e", "activation gradients": "#e89ab9",
    "workspace": "#d98a00",
}
PHASE_COLORS = {"forward": (47, 111, 214, 18), "backward": (194, 65, 126, 18), "optimizer": (217, 138, 0, 24)}
MIB = 2**20


def stacked(step: StepMemory) -> np.ndarray:
    """``(len(KINDS), points)`` cumulative MiB: row k is the top of kind k's band."""
    values = np.array([[p.by_kind.get(k, 0) for p in step.timeline] for k in KINDS], float) / MIB
    return np.cumsum(values, axis=0)


def phase_spans(step: StepMemory) -> list[tuple[str, int, int]]:
    """``(phase, first point, last point)`` for each run of points in one phase."""
    spans: list[tuple[str, int, int]] = []
    for i, p in enumerate(step.timeline):
        if spans and spans[-1][0] == p.phase:
            spans[-1] = (p.phase, spans[-1][1], i)
        else:
            spans.append((p.phase, i, i))
    return [s for s in spans if s[0] != "start"]


def holders(blocks: list[Block]) -> list[tuple[str, int, list[Block]]]:
    """``(layer, bytes, blocks)`` at the peak, largest first (parameters and optimizer state together)."""
    groups: dict[str, list[Block]] = {}
    for b in blocks:
        groups.setdefault(b.layer or b.kind, []).append(b)
    out = [(name, sum(b.nbytes for b in bs), sorted(bs, key=lambda b: -b.nbytes))
           for name, bs in groups.items()]
    return sorted(out, key=lambda g: -g[1])


def legend_html() -> str:
    """The kinds in stacking order (bottom first), each with its colour."""
    return " ".join(f"<span style='color:{KIND_COLORS[k]}'>■</span>&nbsp;{k}" for k in KINDS)


class MemoryTimeline(QWidget):
    """Plot + peak explanation. ``set_step`` draws a :class:`StepMemory` (with its timeline)."""

    peak_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step: StepMemory | None = None
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("memoryTimeline")
        self.plot.setLabel("left", "MiB")
        self.plot.setToolTip("Live memory after each allocation of the step (forward → backward → optimizer), "
                             "stacked by kind; the red marker is the peak")
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.scene().sigMouseClicked.connect(self._on_plot_click)
        self.peak_marker = pg.ScatterPlotItem(size=12, symbol="t", brush=pg.mkBrush("#d32f2f"), pen=None)
        self.peak_marker.sigClicked.connect(lambda *_: self.show_peak())
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.legend = QLabel(legend_html())
        self.legend.setWordWrap(True)
        self.tensors = QTreeWidget()
        self.tensors.setObjectName("peakTensors")
        self.tensors.setHeaderLabels(["Held by", "Kind", "Size"])
        self.tensors.setColumnWidth(0, 150)
        split = QSplitter(Qt.Orientation.Horizontal)  # side by side: the bottom dock is short
        split.addWidget(self.plot)
        split.addWidget(self.tensors)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.legend)
        layout.addWidget(split)

    def set_step(self, step: StepMemory, title: str) -> None:
        self.step = step
        self.plot.clear()
        self.tensors.clear()
        if not step.timeline:
            self.caption.setText("Nothing to show: the design has no layers.")
            return
        self._draw_bands(step)
        self._draw_phases(step)
        self.peak_marker.setData([step.peak_index], [step.peak / MIB])
        self.plot.addItem(self.peak_marker)
        point = step.peak_point
        where = f"{point.phase} at {point.layer}" if point.layer else point.phase
        self.caption.setText(f"<b>{title}</b>: peak <b>{human_bytes(step.peak)}</b> ({where}). "
                             "Click the red marker to list the tensors alive there.")
        self.show_peak()

    def _draw_bands(self, step: StepMemory) -> None:
        tops = stacked(step)
        x = np.arange(tops.shape[1], dtype=float)
        below = pg.PlotDataItem(x, np.zeros_like(x), pen=None)
        for k, kind in enumerate(KINDS):
            if not tops[k].any() or (k and np.array_equal(tops[k], tops[k - 1])):
                continue
            top = pg.PlotDataItem(x, tops[k], pen=pg.mkPen(KIND_COLORS[kind], width=1))
            self.plot.addItem(top)
            self.plot.addItem(pg.FillBetweenItem(below, top, brush=pg.mkBrush(KIND_COLORS[kind] + "b0")))
            below = top

    def _draw_phases(self, step: StepMemory) -> None:
        for phase, first, last in phase_spans(step):
            brush = pg.mkBrush(*PHASE_COLORS.get(phase, (0, 0, 0, 10)))
            region = pg.LinearRegionItem((first - 0.5, last + 0.5), movable=False, brush=brush,
                                         pen=pg.mkPen(None))
            region.setZValue(-10)
            self.plot.addItem(region)
            short = (last - first) < 0.1 * len(step.timeline)
            label = pg.TextItem(phase, color="#6b7280", anchor=(1 if short else 0, 0))
            label.setPos(last if short else first, step.peak / MIB)
            self.plot.addItem(label)

    def _on_plot_click(self, event) -> None:
        if self.step is None or not self.step.timeline:
            return
        x = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos()).x()
        if abs(x - self.step.peak_index) <= max(2.0, 0.02 * len(self.step.timeline)):
            self.show_peak()

    def show_peak(self) -> None:
        """Fill the list with the tensors alive at the peak."""
        self.tensors.clear()
        if self.step is None:
            return
        for name, nbytes, blocks in holders(self.step.peak_blocks):
            group = QTreeWidgetItem([name, "", human_bytes(nbytes)])
            for b in blocks:
                group.addChild(QTreeWidgetItem([b.label, b.kind, human_bytes(b.nbytes)]))
            self.tensors.addTopLevelItem(group)
        self.peak_clicked.emit()
