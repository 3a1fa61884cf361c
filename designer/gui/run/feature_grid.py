"""A page of feature maps: one ViewBox + ImageItem per channel in one GraphicsLayoutWidget, all
sharing one colour scale shown by a ColorBarItem (pyqtgraph idioms: row-major images, y down,
a SignalProxy rate-limiting hover)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFont

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

COLORMAPS = {"Viridis": "viridis", "Inferno": "inferno", "Magma": "magma", "Cividis": "cividis",
             "Grey": "CET-L1", "Blue–red": "CET-D1"}
DIVERGING = {"CET-D1"}
DEAD_COLOR = "#e53935"


def colormap(name: str) -> pg.ColorMap:
    return pg.colormap.get(COLORMAPS.get(name, name))


@dataclass
class Cell:
    vb: pg.ViewBox
    image: pg.ImageItem
    label: pg.TextItem
    channel: int = -1
    shape: tuple[int, int] = (0, 0)
    dead: bool = False


def _make_cell() -> Cell:
    vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=True)
    vb.setMouseEnabled(False, False)
    image = pg.ImageItem()
    vb.addItem(image)
    label = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 190), color="#1f2937")
    label.setFont(QFont("DejaVu Sans", 7))
    label.setZValue(5)
    vb.addItem(label, ignoreBounds=True)
    return Cell(vb, image, label)


MIN_TILE = 72  # px: a page holds as many maps as fit at this size (at most MAX_PAGE)
MAX_PAGE = 64


def page_size(area_hw: tuple[int, int], map_hw: tuple[int, int], tile: int = MIN_TILE) -> int:
    """Maps per page so each tile is at least ``tile`` px on its longer side: a larger pane shows more maps,
    a small one fewer but readable ones (between 1 and ``MAX_PAGE``)."""
    aspect = map_hw[1] / max(map_hw[0], 1)  # width / height
    tile_h = tile / max(aspect, 1.0)
    tile_w = tile * min(aspect, 1.0)
    fit = int(area_hw[0] // (tile_h + 3)) * int(max(area_hw[1] - 60, 0) // (tile_w + 3))
    return max(1, min(MAX_PAGE, fit))


def grid_columns(n: int, map_hw: tuple[int, int], area_hw: tuple[int, int]) -> int:
    """Columns that make cells as large as possible for ``n`` maps of ``map_hw`` in ``area_hw``."""
    best, best_size = 1, 0.0
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        size = min(area_hw[1] / cols / map_hw[1], area_hw[0] / rows / map_hw[0])
        if size > best_size:
            best, best_size = cols, size
    return best


class MapGrid(pg.GraphicsLayoutWidget):
    """Signals ``hovered(channel, y, x)`` (channel −1 when off every map) and ``clicked(channel, y, x)``."""

    hovered = Signal(int, int, int)
    clicked = Signal(int, int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapGrid")
        self.setBackground("w")
        self.ci.setSpacing(3)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.cells: list[Cell] = []
        self.visible: list[Cell] = []
        self._geometry: tuple[int, int] = (0, 0)
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=colormap("Viridis"), width=12, interactive=True,
                                   colorMapMenu=False, rounding=1e-4)
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=40, slot=self._on_mouse_move)
        self.scene().sigMouseClicked.connect(self._on_mouse_click)

    def show_maps(self, maps: np.ndarray, channels: list[int], levels: tuple[float, float], cmap: pg.ColorMap,
                  bar_label: str, dead: list[bool]) -> None:
        """Draw ``maps [n, H, W]`` (already scaled to ``levels``) labelled with their channel numbers."""
        n = len(channels)
        while len(self.cells) < n:
            self.cells.append(_make_cell())
        size = self.size()
        cols = grid_columns(n, maps.shape[1:], (max(size.height(), 100), max(size.width() - 60, 100)))
        if (n, cols) != self._geometry:
            self._relayout(n, cols)
        for cell, data, channel, is_dead in zip(self.visible, maps, channels, dead):
            self._fill(cell, data, channel, is_dead)
        self.bar.setColorMap(cmap)
        self.bar.setImageItem([cell.image for cell in self.visible])
        self.bar.setLevels(levels)
        self.bar.axis.setLabel(bar_label)

    def _relayout(self, n: int, cols: int) -> None:
        self.ci.clear()
        self.visible = self.cells[:n]
        rows = math.ceil(n / cols)
        for k, cell in enumerate(self.visible):
            self.ci.addItem(cell.vb, row=k // cols, col=k % cols)
        self.ci.addItem(self.bar, row=0, col=cols, rowspan=max(rows, 1))
        self._geometry = (n, cols)

    @staticmethod
    def _fill(cell: Cell, data: np.ndarray, channel: int, dead: bool) -> None:
        cell.image.setImage(data, autoLevels=False)
        cell.channel = channel
        if cell.shape != data.shape:
            cell.shape = data.shape
            cell.vb.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0)
        cell.label.setText(f"{channel} ✖ dead" if dead else str(channel), color=DEAD_COLOR if dead else "#1f2937")
        cell.label.setPos(0, 0)
        cell.label.setVisible(bool(dead))  # the number of a live channel shows on hover, not over its pixels
        cell.dead = bool(dead)
        cell.vb.setBorder(pg.mkPen(DEAD_COLOR, width=2) if dead else None)

    # --- mouse -----------------------------------------------------------------------------------
    def unit_at(self, scene_pos) -> tuple[int, int, int]:
        for cell in self.visible:
            if cell.vb.sceneBoundingRect().contains(scene_pos):
                p = cell.vb.mapSceneToView(scene_pos)
                y, x = math.floor(p.y()), math.floor(p.x())
                if 0 <= y < cell.shape[0] and 0 <= x < cell.shape[1]:
                    return cell.channel, y, x
        return -1, -1, -1

    def _on_mouse_move(self, event) -> None:
        unit = self.unit_at(event[0])
        self.show_label(unit[0])
        self.hovered.emit(*unit)

    def show_label(self, channel: int) -> None:
        """Show the channel number of the hovered map (dead maps always show theirs)."""
        for cell in self.visible:
            cell.label.setVisible(cell.dead or cell.channel == channel)

    def _on_mouse_click(self, event) -> None:
        if event.button() == pg.QtCore.Qt.MouseButton.LeftButton:
            channel, y, x = self.unit_at(event.scenePos())
            if channel >= 0:
                self.clicked.emit(channel, y, x)

    def leaveEvent(self, event) -> None:
        self.show_label(-1)
        self.hovered.emit(-1, -1, -1)
        super().leaveEvent(event)

    def cell_center(self, channel: int, y: int, x: int):
        """Scene position of pixel ``(y, x)`` of a shown channel (for tests and demos)."""
        cell = next(c for c in self.visible if c.channel == channel)
        return cell.vb.mapViewToScene(pg.QtCore.QPointF(x + 0.5, y + 0.5))
