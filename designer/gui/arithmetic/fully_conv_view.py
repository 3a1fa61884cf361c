"""A classifier made fully convolutional, run once on a larger image: the grid of class scores over the
image, a hover that outlines each cell's window (the original input size, ``S`` pixels apart), and the
check, per cell, that it equals the original network on that crop (max difference shown)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from ...backend.explain.fully_conv_grid import FullyConvGrid
from ..style import font
from .paint import CURRENT, to_qimage

CELL_COLOR = QColor(245, 158, 11)


def rgb_preview(image: np.ndarray) -> np.ndarray:
    """``[H, W, 4]`` uint8 of a normalised ``[C, H, W]`` input (first three channels, min–max scaled)."""
    x = np.asarray(image[:3] if image.shape[0] >= 3 else np.repeat(image[:1], 3, axis=0), np.float64)
    lo, hi = float(x.min(initial=0.0)), float(x.max(initial=0.0))
    x = np.zeros_like(x) if hi <= lo else (x - lo) / (hi - lo)
    rgb = np.round(x.transpose(1, 2, 0) * 255).astype(np.uint8)
    return np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], axis=-1)


class ScoreGridCanvas(QWidget):
    """The image with the score grid over it; signal ``hovered(i, j)`` (−1, −1 when outside)."""

    hovered = Signal(int, int)

    def __init__(self, view: FullyConvView) -> None:
        super().__init__(view)
        self.view = view
        self.cell: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(260, 260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(460, 460)

    def target(self) -> QRectF:
        h, w = self.view.grid.image.shape[1:]
        scale = min((self.width() - 8) / w, (self.height() - 8) / h)
        return QRectF(4, 4, w * scale, h * scale)

    def block(self, i: int, j: int) -> QRectF:
        """Cell ``(i, j)`` drawn as an ``S×S`` block at the centre of its window (the blocks tile)."""
        g, rect = self.view.grid, self.target()
        scale = rect.width() / g.image.shape[2]
        top, left, h, w = g.cell_window(i, j)
        (sh, sw) = g.stride
        return QRectF(rect.left() + (left + (w - sw) / 2) * scale, rect.top() + (top + (h - sh) / 2) * scale,
                      sw * scale, sh * scale)

    def cell_at(self, point: QPointF) -> tuple[int, int] | None:
        """The cell whose block is under ``point``."""
        first = self.block(0, 0)
        i = int((point.y() - first.top()) // first.height())
        j = int((point.x() - first.left()) // first.width())
        gh, gw = self.view.grid.scores.shape[1:]
        inside = point.y() >= first.top() and point.x() >= first.left()
        return (i, j) if inside and i < gh and j < gw else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.cell = self.cell_at(event.position())
        self.hovered.emit(*(self.cell or (-1, -1)))
        self.update()

    def leaveEvent(self, event) -> None:
        self.cell = None
        self.hovered.emit(-1, -1)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        g, rect = self.view.grid, self.target()
        painter.drawImage(rect, self.view.preview)
        scale = rect.width() / g.image.shape[2]
        scores = g.scores[self.view.class_index]
        lo, hi = float(scores.min()), float(scores.max())
        for (i, j), value in np.ndenumerate(scores):
            t = 0.0 if hi <= lo else (value - lo) / (hi - lo)
            fill = QColor(CELL_COLOR)
            fill.setAlpha(int(30 + 150 * t))
            block = self.block(i, j)
            painter.fillRect(block, fill)
            painter.setPen(QColor(0, 0, 0, 70))
            painter.drawRect(block)
        if self.cell is not None:
            top, left, h, w = g.cell_window(*self.cell)
            painter.setPen(QPen(CURRENT, 3))
            painter.drawRect(self.block(*self.cell))
            painter.drawRect(QRectF(rect.left() + left * scale, rect.top() + top * scale, w * scale, h * scale))
        painter.end()


class FullyConvView(QWidget):
    """Takes a :class:`FullyConvGrid` and (optionally) the per-cell check ``diffs [grid_h, grid_w]``."""

    def __init__(self, grid: FullyConvGrid, diffs: np.ndarray | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fullyConvView")
        self.grid, self.diffs = grid, diffs
        self.preview = to_qimage(rgb_preview(grid.image))
        self.class_index = int(np.argmax(grid.scores.reshape(grid.scores.shape[0], -1).max(axis=1)))
        self.canvas = ScoreGridCanvas(self)
        self.canvas.hovered.connect(self._on_hover)
        self.klass = QSpinBox(objectName="scoreClass", minimum=0, maximum=grid.scores.shape[0] - 1,
                              value=self.class_index)
        self.klass.valueChanged.connect(self._on_class_change)
        self.cell_info = QLabel(objectName="cellInfo", wordWrap=True)
        self.details = QPlainTextEdit(readOnly=True, objectName="fullyConvDetails")
        self.details.setFont(font(8.5, mono=True))
        self.details.setPlainText(self.summary())
        side = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Class:"))
        row.addWidget(self.klass)
        row.addStretch(1)
        side.addLayout(row)
        side.addWidget(self.cell_info)
        side.addWidget(self.details, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.canvas, 3)
        layout.addLayout(side, 2)
        self._on_hover(-1, -1)

    def _on_class_change(self, index: int) -> None:
        self.class_index = index
        self.canvas.update()

    def _on_hover(self, i: int, j: int) -> None:
        g = self.grid
        if i < 0:
            self.cell_info.setText("Hover a cell to outline its window and compare it with the crop.")
            return
        top, left, h, w = g.cell_window(i, j)
        scores = g.scores[:, i, j]
        best = np.argsort(scores)[::-1][:3]
        text = (f"cell ({i}, {j}): window rows {top}–{top + h - 1}, columns {left}–{left + w - 1}; top classes "
                + ", ".join(f"{k}: {scores[k]:.3g}" for k in best))
        if self.diffs is not None and np.isfinite(self.diffs[i, j]):
            diff = self.diffs[i, j]
            text += (f"; equals the original net on this crop (max difference {diff:.2g})"
                     if diff <= g.tolerance else
                     f"; differs from the original net on this crop by up to {diff:.2g} (the network pads "
                     "with zeros: see the summary)")
        self.cell_info.setText(text)

    def summary(self) -> str:
        g = self.grid
        gh, gw = g.scores.shape[1:]
        lines = [(f"{g.design.name} on {g.image.shape[1]}×{g.image.shape[2]}: a {gh}×{gw} grid of "
                 f"{g.scores.shape[0]} class scores; each cell sees a {g.window[0]}×{g.window[1]} window, "
                 f"{g.stride[0]} px apart (the total stride)."), ""]
        if self.diffs is not None:
            lines += [*self.check_lines(), ""]
        original = [f"  {layer.name}: {layer.type} {layer.label}" for layer in g.design.layers]
        converted = [f"  {layer.name}: {layer.type} {layer.label}" for layer in g.converted.layers]
        return "\n".join([*lines, "Original:", *original, "", "Fully convolutional:", *converted])

    def check_lines(self) -> list[str]:
        """The per-cell check against the crops, and why cells differ when the network pads."""
        g, checked = self.grid, np.isfinite(self.diffs)
        gh, gw = g.scores.shape[1:]
        worst = float(np.nanmax(self.diffs)) if checked.any() else float("nan")
        lines = [f"Check against the original network on each crop: {int(checked.sum())} of {gh * gw} cells, "
                 f"max difference {worst:.2g}"]
        if not worst > g.tolerance:
            return [*lines, "Every checked cell equals the original network on its crop."]
        padded = g.padded
        names = ", ".join(padded[:4]) + (f" and {len(padded) - 4} more" if len(padded) > 4 else "")
        why = (f"{names} pad with zeros: on a crop they see zeros at its border, inside the larger image the "
               "real neighbouring pixels, so the scores differ (without padding they would be equal)."
               if padded else "No layer pads, so this is unexpected: please report it.")
        return [*lines, f"Cells differ from their crops by more than rounding ({g.tolerance:.1g}). {why}"]
