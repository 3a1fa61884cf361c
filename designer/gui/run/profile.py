"""``profileView``: per-layer bars of params, MACs and activation memory (log option), the receptive
field's growth across depth and, after a run, each layer's activation sparsity. Clicking a bar
selects its layer."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...core import LayerRow
from ...core.formatting import human_bytes, human_count
from ..deferred import DeferredRefresh
from ..document.document import DesignDocument
from ..image_export import export_png
from ..style import FAMILY_COLORS, SELECTION
from .controller import RunController

METRICS = {"params": "Parameters", "macs": "MACs", "memory": "Activation memory (bytes)",
           "rf": "Receptive field (px)", "sparsity": "Sparsity (% zeros)"}


def metric_values(rows: list[LayerRow], metric: str, sparsity: dict[str, float] | None) -> np.ndarray:
    """One number per row (NaN where undefined: global RF, no run yet)."""
    if metric == "params":
        return np.array([r.params for r in rows], float)
    if metric == "macs":
        return np.array([r.macs for r in rows], float)
    if metric == "memory":
        return np.array([r.output_bytes for r in rows], float)
    if metric == "rf":
        return np.array([r.receptive_field[0] if r.receptive_field and r.output_shape else np.nan for r in rows],
                        float)
    sparsity = sparsity or {}
    return np.array([100 * sparsity[r.name] if r.name in sparsity else np.nan for r in rows], float)


def value_format(metric: str):
    """How the linear value axis prints ``metric``'s numbers."""
    if metric == "memory":
        return lambda v: human_bytes(int(v)) if v >= 1 else f"{v:g}"
    if metric in ("rf", "sparsity"):
        return lambda v: f"{v:g}"
    return lambda v: human_count(int(v)) if abs(v) >= 1000 else f"{v:g}"


def power_of_two_ticks(top_log10: float, most: int = 8) -> list[tuple[float, str]]:
    """Log-scale byte ticks at powers of two (1 KiB, 1 MiB … or in between), placed at their log10."""
    top = max(math.ceil(top_log10 / math.log10(2)), 1)
    step = next(s for s in (1, 2, 5, 10, 20, 30, 40) if top / s <= most)
    return [(k * math.log10(2), human_bytes(2**k)) for k in range(0, top + 1, step)]


class ValueAxis(pg.AxisItem):
    """Value ticks in words a student reads (``100 M``, ``3.06 MiB``), never ``1e+08``; ``format`` follows
    the metric."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.format = lambda v: human_count(int(v)) if abs(v) >= 1000 else f"{v:g}"

    def tickStrings(self, values, scale, spacing) -> list[str]:
        return [self.format(v * scale) for v in values]


class ProfileView(QWidget):
    """Branch rows are left out: their numbers are the sums of their branches' layers."""

    def __init__(self, document: DesignDocument, controller: RunController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("profileView")
        self.document, self.controller = document, controller
        self.metric_key = "params"
        self.rows: list[LayerRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        controls = QHBoxLayout()
        self.metric_box = QComboBox()
        self.metric_box.setObjectName("profileMetric")
        self.metric_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.metric_box.setMinimumContentsLength(12)
        for key, text in METRICS.items():
            self.metric_box.addItem(text, key)
        self.metric_box.currentIndexChanged.connect(self._on_metric_change)
        self.log = QCheckBox("Log")
        self.log.setToolTip("Logarithmic value axis (powers of ten; of two for memory)")
        self.log.setObjectName("profileLog")
        self.log.toggled.connect(self._on_log_change)
        self.note = QLabel()
        self.note.setObjectName("inspectorDoc")
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        export = QPushButton("Export…")
        export.setToolTip("Save the plot as a PNG")
        export.clicked.connect(self._on_export_click)
        for widget in (QLabel("Show"), self.metric_box, self.log):
            controls.addWidget(widget)
        controls.addWidget(self.note, 1)
        controls.addWidget(export)
        layout.addLayout(controls)
        self.plot = pg.PlotWidget(background="w", axisItems={"left": ValueAxis("left")})
        self.plot.setObjectName("profilePlot")
        self.plot.showGrid(y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=True, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.75)
        self.curve = pg.PlotDataItem(symbol="o", symbolSize=5, pen=pg.mkPen("#2f6fd6", width=2),
                                     symbolBrush="#2f6fd6", connect="finite")
        self.marker = pg.ScatterPlotItem(size=11, brush=SELECTION, pen="w")
        for item in (self.bars, self.curve, self.marker):
            self.plot.addItem(item)
        layout.addWidget(self.plot, 1)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_click)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_move)
        self.plot.getViewBox().sigXRangeChanged.connect(lambda *_: self._set_ticks())
        self.plot.getViewBox().sigResized.connect(lambda *_: self._fit_axis_label())
        self.deferred = DeferredRefresh(self, self.refresh)
        document.changed.connect(self.deferred.request)
        document.selection_changed.connect(self.deferred.request)
        controller.result_changed.connect(self.deferred.request)
        self.refresh()

    def values(self) -> np.ndarray:
        result = self.controller.result
        return metric_values(self.rows, self.metric_key, result.sparsity if result else None)

    def refresh(self) -> None:
        self.rows = [r for r in self.document.analysis.rows if r.type != "Branch"]
        raw = self.values()
        log = self.log.isChecked()
        shown = np.where(raw > 0, np.log10(np.where(raw > 0, raw, 1)), np.nan if self.metric_key == "rf" else 0) \
            if log else raw
        x = np.arange(len(self.rows))
        selected = next((i for i, r in enumerate(self.rows) if r.name == self.document.selected), None)
        self.plot.setLabel("left", METRICS[self.metric_key])
        self._fit_axis_label()
        is_curve = self.metric_key == "rf"
        self.curve.setVisible(is_curve)
        self.bars.setVisible(not is_curve)
        heights = np.nan_to_num(shown)
        if is_curve:
            self.curve.setData(x, shown)
        else:
            brushes = [pg.mkBrush(SELECTION if i == selected else self._family_color(r)) for i, r in enumerate(self.rows)]
            self.bars.setOpts(x=x, height=heights, width=0.75, brushes=brushes, pen=None)
        ok = selected is not None and np.isfinite(shown[selected]) if len(shown) else False
        self.marker.setData([selected] if ok else [], [heights[selected]] if ok else [])
        self._set_ticks()
        self.note.setText(self._note(raw))
        self.plot.autoRange()
        self._set_value_ticks(shown if log else None)

    @staticmethod
    def _family_color(row: LayerRow) -> str:
        from ...core import get_spec
        return FAMILY_COLORS.get(get_spec(row.type).family, FAMILY_COLORS["Structure"])[0]

    def _set_ticks(self) -> None:
        """Layer names under the bars, every ``step``-th so the widest name fits between two labels."""
        n = len(self.rows)
        axis = self.plot.getAxis("bottom")
        if not n:
            axis.setTicks([[], []])
            return
        metrics = QFontMetrics(axis.style.get("tickFont") or self.plot.font())
        label_px = max(metrics.horizontalAdvance(r.name) for r in self.rows) + 14
        (x0, x1), width = self.plot.getViewBox().viewRange()[0], self.plot.getViewBox().width()
        px_per_bar = max(width, 100) / max(x1 - x0, 1)
        step = max(1, math.ceil(label_px / px_per_bar))
        axis.setTicks([[(i, self.rows[i].name) for i in range(0, n, step)], []])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._set_ticks()

    def _fit_axis_label(self) -> None:
        """The value axis names its metric only when the plot is tall enough for the whole name (a short
        plot, e.g. at 1024×700, would clip "Parameters" to "Parameter"; the Show box names it anyway)."""
        axis = self.plot.getAxis("left")
        needed = self.plot.fontMetrics().horizontalAdvance(METRICS[self.metric_key]) + 24
        axis.showLabel(self.plot.height() >= needed)

    def _set_value_ticks(self, logs: np.ndarray | None) -> None:
        """Log scale: the bars are log10 values; label the axis with the powers of ten they stand for."""
        axis = self.plot.getAxis("left")
        axis.format = value_format(self.metric_key)
        finite = logs[np.isfinite(logs)] if logs is not None else np.zeros(0)
        if not finite.size:
            axis.setTicks(None)
            return
        if self.metric_key == "memory":
            axis.setTicks([power_of_two_ticks(finite.max()), []])
            return
        powers = range(math.ceil(finite.max()) + 1)
        axis.setTicks([[(k, human_count(10**k)) for k in powers], []])

    def _note(self, raw: np.ndarray) -> str:
        if self.metric_key == "sparsity" and self.controller.result is None:
            return "Run the design (F5) to measure sparsity"
        if self.metric_key == "rf":
            finite = raw[np.isfinite(raw)]
            return f"grows to {finite.max():g} px before the global layers" if finite.size else ""
        return "Click a bar to select its layer"

    # --- input ------------------------------------------------------------------------------------------
    def _on_metric_change(self, index: int) -> None:
        self.metric_key = self.metric_box.itemData(index)
        self.refresh()

    def _on_log_change(self, on: bool) -> None:
        self.refresh()

    def set_metric(self, metric: str) -> None:
        self.metric_box.setCurrentIndex(list(METRICS).index(metric))

    def _on_mouse_click(self, event) -> None:
        vb = self.plot.getViewBox()
        if event.button() != pg.QtCore.Qt.MouseButton.LeftButton or not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        self.select_at(vb.mapSceneToView(event.scenePos()).x())

    def _on_mouse_move(self, pos) -> None:
        """The hovered bar's layer and value as a tooltip (the axis shows only some names)."""
        vb = self.plot.getViewBox()
        i = round(vb.mapSceneToView(pos).x()) if vb.sceneBoundingRect().contains(pos) else -1
        if not 0 <= i < len(self.rows):
            self.plot.setToolTip("")
            return
        value = self.values()[i]
        shown = "--" if not np.isfinite(value) else {
            "memory": lambda v: human_bytes(int(v)), "rf": lambda v: f"{v:g} px", "sparsity": lambda v: f"{v:.1f}%",
        }.get(self.metric_key, lambda v: human_count(int(v)))(value)
        self.plot.setToolTip(f"#{i + 1} {self.rows[i].name} ({self.rows[i].type}): {shown}")

    def select_at(self, x: float) -> None:
        i = round(x)
        if 0 <= i < len(self.rows) and abs(x - i) <= 0.45:
            self.document.select(self.rows[i].name)

    def _on_export_click(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", f"{self.metric_key}.png", "PNG images (*.png)")
        if path:
            problem = export_png(self.plot.plotItem, path)
            if problem:
                self.controller.message.emit(problem)
