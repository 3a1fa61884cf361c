"""Dilation coverage: how many paths lead from each input pixel to the centre unit of a layer
(the core's ``coverage_map``), drawn as a labelled heat map so the gridding holes of rates
[2, 2, 2] and the full coverage of [1, 2, 5] are plain to see."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ...core.formatting import human_count
from ..deferred import DeferredRefresh
from ..document.document import DesignDocument
from .controller import RunController

MAX_LABELLED = 27  # label every cell when the field is at most this many pixels across
HOLE_COLOR = (255, 235, 238)


def coverage_colormap() -> pg.ColorMap:
    """Light to dark blue for more paths (on a log scale); holes get ``HOLE_COLOR`` separately."""
    return pg.ColorMap([0.0, 0.4, 1.0], [(222, 235, 247), (107, 174, 214), (8, 48, 107)])


def coverage_rgba(field: np.ndarray) -> np.ndarray:
    """``[h, w, 4]`` bytes: log1p(paths) on ``coverage_colormap`` from 0 to log1p(peak), and
    ``HOLE_COLOR`` for exactly the cells no path reaches (a covered cell is never drawn as a hole)."""
    counts = np.asarray(field, dtype=float)
    top = max(float(np.log1p(counts.max())), 1e-12) if counts.size else 1.0
    rgba = coverage_colormap().map(np.clip(np.log1p(counts) / top, 0, 1), mode="byte")
    rgba = np.asarray(rgba, dtype=np.uint8).reshape(*counts.shape, 4).copy()
    rgba[counts == 0] = (*HOLE_COLOR, 255)
    return rgba


def crop_to_field(counts: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The bounding box of the used pixels (with a 1-pixel margin) and its top-left corner."""
    ys, xs = np.nonzero(counts)
    if ys.size == 0:
        return counts, 0, 0
    top, left = max(ys.min() - 1, 0), max(xs.min() - 1, 0)
    bottom, right = min(ys.max() + 2, counts.shape[0]), min(xs.max() + 2, counts.shape[1])
    return counts[top:bottom, left:right], int(top), int(left)


def coverage_summary(counts: np.ndarray) -> str:
    ys, xs = np.nonzero(counts)
    if ys.size == 0:
        return "No input pixel reaches this unit."
    field = counts[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    holes = int(np.count_nonzero(field == 0))
    h, w = field.shape
    text = f"{h}×{w} field: {field.size - holes:,} of {field.size:,} pixels used, up to {human_count(int(counts.max()))} paths each"
    if holes:
        return text + f" — <b style='color:#d32f2f'>{holes:,} holes ({100 * holes / field.size:.0f}%): gridding</b>"
    return text + " — <b style='color:#3f9b3a'>every pixel covered</b>"


class CoverageView(QWidget):
    """Follows the selected layer when it has a spatial output; ``show_layer`` picks one explicitly. The
    trace runs on the controller's trace lane (a large input takes a while), with a Cancel button."""

    def __init__(self, document: DesignDocument, controller: RunController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("coverageView")
        self.document, self.controller = document, controller
        self.layer: str | None = None
        self.counts: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Centre unit of"))
        self.layer_box = QComboBox()
        self.layer_box.setObjectName("coverageLayer")
        self.layer_box.activated.connect(self._on_layer_change)
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_box.setMinimumContentsLength(14)  # long layer names are elided, not widening the dock
        row.addWidget(self.layer_box)
        self.summary = QLabel()
        self.summary.setObjectName("coverageSummary")
        self.summary.setWordWrap(True)
        # a wrapped label's hint before the first layout is as wide as its text, which made the window
        # wider than 1024 px for long layer names: it wraps in whatever the row leaves
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.summary, 1)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("cancelCoverage")
        self.cancel.clicked.connect(self._on_cancel_click)
        self.cancel.hide()
        row.addWidget(self.cancel)
        layout.addLayout(row)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "input x")
        self.plot.setLabel("left", "input y")
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.labels: list[pg.TextItem] = []
        layout.addWidget(self.plot, 1)
        self.deferred = DeferredRefresh(self, self._on_document_change)
        document.changed.connect(self.deferred.request)
        document.selection_changed.connect(self._on_selection_change)
        controller.coverage_changed.connect(self._on_coverage_change)
        self.deferred.request()  # traced and drawn when its tab is first shown, not with every new window

    def spatial_layers(self) -> list[str]:
        return [r.name for r in self.document.analysis.rows
                if r.output_shape is not None and len(r.output_shape) == 3 and r.receptive_field is not None
                and r.type != "Branch"]

    def _on_document_change(self) -> None:
        names = self.spatial_layers()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(names)
        self.layer_box.blockSignals(False)
        if self.layer not in names:
            self.layer = self._default_layer(names)
        self.show_layer(self.layer)

    def _default_layer(self, names: list[str]) -> str | None:
        gridding = [i.layer for i in self.document.analysis.issues if "gridding" in i.message and i.layer in names]
        return gridding[0] if gridding else (names[-1] if names else None)

    def _on_selection_change(self) -> None:
        if not self.deferred.on_screen():
            return
        name = self.document.selected
        if name in self.spatial_layers() and name != self.layer:
            self.show_layer(name)

    def _on_layer_change(self, index: int) -> None:
        self.show_layer(self.layer_box.itemText(index))

    def show_layer(self, name: str | None) -> None:
        self.layer = name
        self.layer_box.setCurrentText(name or "")
        self.counts = None
        if name is None:
            self._draw(None, "No layer with a spatial output.")
            return
        self.summary.setText(f"Tracing {name}…")
        self.cancel.show()
        self.controller.request_coverage(name)

    def _on_coverage_change(self) -> None:
        result = self.controller.coverage
        if result is None or result.layer != self.layer or result.design is not self.document.design:
            return  # an answer to an older request
        self.cancel.setVisible(self.controller.tracing)
        self.counts = result.counts
        self._draw(result.counts, result.error or coverage_summary(result.counts))

    def _on_cancel_click(self) -> None:
        self.controller.cancel_coverage()
        self.cancel.hide()
        self.summary.setText("Tracing cancelled; pick a layer to trace again.")

    def _draw(self, counts: np.ndarray | None, text: str) -> None:
        self.summary.setText(text)
        for label in self.labels:
            self.plot.removeItem(label)
        self.labels = []
        if counts is None:
            self.image.clear()
            return
        field, top, left = crop_to_field(counts)
        self.image.setImage(coverage_rgba(field), autoLevels=False)
        self.image.setRect(left, top, field.shape[1], field.shape[0])
        if max(field.shape) <= MAX_LABELLED:
            self._label_cells(field, top, left)
        self.plot.autoRange(padding=0.02)

    def _label_cells(self, field: np.ndarray, top: int, left: int) -> None:
        font = QFont("DejaVu Sans", 7)
        shade = np.log1p(np.asarray(field, dtype=float)) / max(float(np.log1p(field.max())), 1e-12)
        for (y, x), value in np.ndenumerate(field):
            if value == 0:
                continue  # holes are the pink cells
            color = "#ffffff" if shade[y, x] > 0.55 else "#1f2937"
            label = pg.TextItem(human_count(int(value)), color=color, anchor=(0.5, 0.5))
            label.setFont(font)
            label.setPos(left + x + 0.5, top + y + 0.5)
            self.plot.addItem(label)
            self.labels.append(label)
