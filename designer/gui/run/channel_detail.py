"""One channel enlarged, with its histogram and statistics (dead ReLUs stand out), and a 1-D
output (Linear, Softmax) as a bar chart with its top-k values."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .feature_grid import DEAD_COLOR
from .rf_overlay import _pen

TOP_K = 5


def channel_stats(data: np.ndarray) -> dict[str, float]:
    """min, max, mean, std and the share of exact zeros of one map."""
    return {"min": float(data.min()), "max": float(data.max()), "mean": float(data.mean()),
            "std": float(data.std()), "zeros": float(np.count_nonzero(data == 0)) / max(data.size, 1)}


def stats_html(stats: dict[str, float]) -> str:
    zeros = f"{100 * stats['zeros']:.1f}%"
    if stats["zeros"] == 1.0:
        zeros = f"<b style='color:{DEAD_COLOR}'>{zeros} — dead (never active on this image)</b>"
    elif stats["zeros"] >= 0.5:
        zeros = f"<b style='color:#d98a00'>{zeros}</b>"
    return (f"min <b>{stats['min']:.4g}</b> · max <b>{stats['max']:.4g}</b> · mean <b>{stats['mean']:.4g}</b>"
            f" · std {stats['std']:.3g} · zeros {zeros}")


class ChannelDetail(QWidget):
    """Signals: ``back`` (to the grid), ``step(±1)`` (neighbour channel), ``hovered(y, x)`` (−1 off the map),
    ``clicked(y, x)``."""

    back = Signal()
    step = Signal(int)
    hovered = Signal(int, int)
    clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("channelDetail")
        self.shape: tuple[int, int] = (0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.back_button = QPushButton("◀ All channels")
        self.back_button.clicked.connect(self.back)
        self.prev_button, self.next_button = QPushButton("‹"), QPushButton("›")
        for button, delta in ((self.prev_button, -1), (self.next_button, 1)):
            button.setFixedWidth(28)
            button.clicked.connect(lambda _=False, d=delta: self.step.emit(d))
        self.title = QLabel()
        bar.addWidget(self.back_button)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.next_button)
        layout.addLayout(bar)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("channelGraphics")
        self.graphics.setBackground("w")
        self.vb = self.graphics.ci.addViewBox(row=0, col=0, lockAspect=True, invertY=True)
        self.vb.setMouseEnabled(False, False)
        self.image = pg.ImageItem()
        self.vb.addItem(self.image)
        self.marker = QGraphicsRectItem()
        self.marker.setPen(_pen("#ffffff", 2))
        self.marker.setZValue(10)
        self.marker.hide()
        self.vb.addItem(self.marker, ignoreBounds=True)
        self.bar = pg.ColorBarItem(values=(0, 1), width=12, interactive=False, colorMapMenu=False)
        self.graphics.ci.addItem(self.bar, row=0, col=1)
        self.hist = self.graphics.ci.addPlot(row=1, col=0, colspan=2)
        self.hist.setLabel("bottom", "activation")
        self.hist.setLabel("left", "pixels")
        self.hist.setMaximumHeight(150)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.hist_curve = self.hist.plot(stepMode="center", fillLevel=0, brush=(47, 111, 214, 120), pen="#2f6fd6")
        layout.addWidget(self.graphics, 1)
        self.stats = QLabel()
        self.stats.setObjectName("channelStats")
        self.stats.setWordWrap(True)
        layout.addWidget(self.stats)
        self._proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=40, slot=self._on_mouse_move)
        self.graphics.scene().sigMouseClicked.connect(self._on_mouse_click)

    def show_channel(self, data: np.ndarray, channel: int, n_channels: int, cmap: pg.ColorMap,
                     levels: tuple[float, float], layer: str) -> dict[str, float]:
        self.image.setImage(data, autoLevels=False)
        self.bar.setColorMap(cmap)
        self.bar.setImageItem(self.image)
        self.bar.setLevels(levels)
        if data.shape != self.shape:
            self.shape = data.shape
            self.vb.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0.01)
        self.title.setText(f"<b>{layer}</b> · channel {channel} of {n_channels} · {data.shape[0]}×{data.shape[1]}")
        self.prev_button.setEnabled(channel > 0)
        self.next_button.setEnabled(channel < n_channels - 1)
        stats = channel_stats(data)
        self.stats.setText(stats_html(stats))
        lo, hi = stats["min"], stats["max"]
        counts, edges = np.histogram(data, bins=60, range=(lo, hi if hi > lo else lo + 1))
        self.hist_curve.setData(edges, counts)
        return stats

    def mark(self, y: int | None, x: int | None) -> None:
        self.marker.setVisible(y is not None)
        if y is not None:
            self.marker.setRect(QRectF(x, y, 1, 1))

    def unit_at(self, scene_pos) -> tuple[int, int]:
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return -1, -1
        p = self.vb.mapSceneToView(scene_pos)
        y, x = math.floor(p.y()), math.floor(p.x())
        return (y, x) if 0 <= y < self.shape[0] and 0 <= x < self.shape[1] else (-1, -1)

    def pixel_center(self, y: int, x: int):
        return self.vb.mapViewToScene(QPointF(x + 0.5, y + 0.5))

    def _on_mouse_move(self, event) -> None:
        self.hovered.emit(*self.unit_at(event[0]))

    def _on_mouse_click(self, event) -> None:
        if event.button() == pg.QtCore.Qt.MouseButton.LeftButton:
            y, x = self.unit_at(event.scenePos())
            if y >= 0:
                self.clicked.emit(y, x)


class VectorView(QWidget):
    """A ``[F]`` output as bars, the top-k highlighted and listed. Signal ``clicked(index)``."""

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vectorView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "index")
        self.plot.setLabel("left", "value")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # probabilities read as 0.2, not 200 m
        self.plot.showGrid(y=True, alpha=0.2)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#9db8e6", pen=None)
        self.top_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#c2417e", pen=None)
        self.plot.addItem(self.bars)
        self.plot.addItem(self.top_bars)
        layout.addWidget(self.plot, 1)
        self.top = QLabel()
        self.top.setObjectName("topK")
        self.top.setWordWrap(True)
        layout.addWidget(self.top)
        self.values = np.zeros(0)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_click)

    def _on_mouse_click(self, event) -> None:
        vb = self.plot.getViewBox()
        if event.button() == pg.QtCore.Qt.MouseButton.LeftButton and vb.sceneBoundingRect().contains(event.scenePos()):
            index = round(vb.mapSceneToView(event.scenePos()).x())
            if 0 <= index < self.values.size:
                self.clicked.emit(index)

    def show_vector(self, values: np.ndarray, layer: str, k: int = TOP_K) -> list[int]:
        self.values = values
        index = np.arange(values.size)
        top = [int(i) for i in np.argsort(-values, kind="stable")[:k]]
        width = 0.8 if values.size < 200 else 1.0
        self.bars.setOpts(x=index, height=values, width=width)
        self.top_bars.setOpts(x=np.array(top), height=values[top], width=max(width, values.size / 250))
        self.plot.setTitle(f"{layer}: {values.size} values", color="#374151", size="9pt")
        self.plot.autoRange()
        listed = " · ".join(f"<b>#{i}</b> {values[i]:.4g}" for i in top)
        stats = channel_stats(values)
        self.top.setText(f"Top {len(top)}: {listed}<br>{stats_html(stats)}")
        return top
