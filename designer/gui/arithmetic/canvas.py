"""The kernel sliding over the grid: input grid (padding hatched, inserted zeros dotted), the window at the
current output cell with its dilation gaps, and the output grid; click an output cell to jump, hover to
link input and output cells."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..style import font
from .model import ArithmeticModel
from .paint import (
    CURRENT,
    INSERTED,
    LINKED,
    WINDOW,
    cell_rect,
    diverging,
    hatch,
    outline,
    short,
    to_qimage,
    write_values,
)

MARGIN, GAP, TITLE = 10.0, 36.0, 34.0


class ArithmeticCanvas(QWidget):
    """Paints ``model``'s case; writes clicks and hovers back to it."""

    def __init__(self, model: ArithmeticModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("arithmeticCanvas")
        self.setMouseTracking(True)
        self.setMinimumSize(360, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        model.case_changed.connect(self.update)
        model.position_changed.connect(self.update)
        model.hover_changed.connect(self.update)

    def sizeHint(self) -> QSize:
        return QSize(640, 320)

    # --- geometry of the two grids ----------------------------------------------------------------
    def layout_grids(self) -> tuple[float, tuple[float, float], tuple[float, float]]:
        """``(cell size, input grid origin, output grid origin)``."""
        case = self.model.case
        gh, gw = case.geometry.grid_hw
        oh, ow = case.geometry.out_hw
        width = self.width() - 2 * MARGIN - GAP
        height = self.height() - 2 * MARGIN - TITLE
        size = max(2.0, min(48.0, width / (gw + ow), height / max(gh, oh)))
        top = MARGIN + TITLE
        return size, (MARGIN, top), (MARGIN + gw * size + GAP, top)

    def hit(self, point: QPointF) -> tuple[str, int, int] | None:
        """``("grid", gy, gx)`` or ``("output", i, j)`` under ``point``."""
        if self.model.case is None:
            return None
        size, grid_origin, out_origin = self.layout_grids()
        for name, origin, (h, w) in (("grid", grid_origin, self.model.case.geometry.grid_hw),
                                     ("output", out_origin, self.model.case.geometry.out_hw)):
            r, c = int((point.y() - origin[1]) // size), int((point.x() - origin[0]) // size)
            if point.x() >= origin[0] and point.y() >= origin[1] and r < h and c < w:
                return name, r, c
        return None

    # --- events ----------------------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.hit(event.position())
        if hit is not None and hit[0] == "grid":
            source, y, x = self.model.case.geometry.source(hit[1], hit[2])
            hit = ("input", y, x) if source == "input" else None
        self.model.set_hover(hit)

    def leaveEvent(self, event) -> None:
        self.model.set_hover(None)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.hit(event.position())
        if hit is not None and hit[0] == "output":
            self.model.set_cell(hit[1], hit[2])
        elif hit is not None and hit[0] == "grid":
            source, y, x = self.model.case.geometry.source(hit[1], hit[2])
            readers = self.model.case.geometry.readers(y, x) if source == "input" else []
            if readers:
                self.model.set_cell(*readers[0])

    # --- painting --------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if self.model.case is None:
            painter.setPen(QColor("#6b7280"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.model.message)
            return
        size, grid_origin, out_origin = self.layout_grids()
        self._paint_grid(painter, size, grid_origin)
        self._paint_output(painter, size, out_origin)
        painter.end()

    def _title(self, painter: QPainter, origin: tuple[float, float], text: str, width: float) -> None:
        """Up to two lines above a grid, wrapped to its width (at least 140 px)."""
        painter.setFont(font(8.5, bold=True))
        painter.setPen(QColor("#1f2937"))
        rect = QRectF(origin[0], origin[1] - TITLE, max(width, 140.0), TITLE - 3)
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                         text)

    def _paint_grid(self, painter: QPainter, size: float, origin: tuple[float, float]) -> None:
        m, case = self.model, self.model.case
        geo = case.geometry
        values = case.grid[list(case.channels_seen(m.out_channel)).index(m.in_channel)] \
            if case.kind in ("conv", "transpose") else case.grid[m.out_channel]
        limit = float(np.max(np.abs(case.x), initial=0.0)) or 1.0
        gh, gw = geo.grid_hw
        painter.drawImage(QRectF(origin[0], origin[1], gw * size, gh * size), to_qimage(diverging(values, limit)))
        rows, cols = geo.axis_sources(0), geo.axis_sources(1)
        self._hatch_strips(painter, origin, size, rows, cols)
        self._grid_lines(painter, origin, size, gh, gw)
        write_values(painter, origin, size, values, skip=(rows == "padding")[:, None] | (cols == "padding")[None, :])
        channel = f"input channel {m.in_channel}" if case.kind in ("conv", "transpose") else f"channel {m.out_channel}"
        what = {"transpose": "zero-inserted, padded input", "max": "input (padding −∞)"}.get(case.kind, "input")
        self._title(painter, origin, f"{what}, {channel} ({case.source} {geo.in_hw[0]}×{geo.in_hw[1]})",
                    gw * size + GAP - 6)
        self._paint_window(painter, size, origin)
        for gy, gx in m.linked_grid_cells():
            outline(painter, cell_rect(origin, size, gy, gx), LINKED, 2.0)
        if m.hover and m.hover[0] == "input":
            gy, gx = (c * t + b for c, t, b in zip(m.hover[1:], geo.insert, geo.pad_before))
            outline(painter, cell_rect(origin, size, gy, gx), LINKED, 3.0)

    def _paint_window(self, painter: QPainter, size: float, origin: tuple[float, float]) -> None:
        m, case = self.model, self.model.case
        taps = case.geometry.window(*m.cell)
        fill = QColor(WINDOW)
        fill.setAlpha(70)
        for gy, gx, _, _ in taps:
            painter.fillRect(cell_rect(origin, size, gy, gx), fill)
            outline(painter, cell_rect(origin, size, gy, gx), WINDOW, 2.0)
        ys, xs = [t[0] for t in taps], [t[1] for t in taps]
        extent = QRectF(origin[0] + min(xs) * size, origin[1] + min(ys) * size,
                        (max(xs) - min(xs) + 1) * size, (max(ys) - min(ys) + 1) * size)
        outline(painter, extent, WINDOW.darker(130), 1.0, dashed=True)
        pos = m.position()
        if pos is not None and case.kind == "max":  # the window's winner
            winner = max((t for t in pos.terms if t.source == "input"), key=lambda t: t.value, default=None)
            if winner is not None:  # a dilated window may fall wholly on padding
                outline(painter, cell_rect(origin, size, *winner.cell), QColor("#dc2626"), 3.0)
        if size >= 34 and pos is not None and case.kind in ("conv", "transpose"):
            painter.setFont(font(6.5))
            painter.setPen(QColor("#92400e"))
            metrics, room = painter.fontMetrics(), size - 4
            terms = [t for t in pos.terms if t.channel == m.in_channel]
            # "w=−0.091" when every label fits its cell, else the bare weights; never a clipped number
            for prefix in ("w=", ""):
                if all(metrics.horizontalAdvance(prefix + short(t.weight)) <= room for t in terms):
                    for t in terms:
                        rect = cell_rect(origin, size, *t.cell).adjusted(2, 1, -2, -1)
                        painter.drawText(rect, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                                         prefix + short(t.weight))
                    break

    def _paint_output(self, painter: QPainter, size: float, origin: tuple[float, float]) -> None:
        m, case = self.model, self.model.case
        values = case.output[m.out_channel]
        oh, ow = values.shape
        painter.drawImage(QRectF(origin[0], origin[1], ow * size, oh * size), to_qimage(diverging(values)))
        self._grid_lines(painter, origin, size, oh, ow)
        write_values(painter, origin, size, values)
        self._title(painter, origin, f"output, channel {m.out_channel} ({oh}×{ow})", ow * size)
        for i, j in m.linked_outputs():
            outline(painter, cell_rect(origin, size, i, j), LINKED, 2.0)
        if m.hover and m.hover[0] == "output":
            outline(painter, cell_rect(origin, size, m.hover[1], m.hover[2]), LINKED, 2.0)
        outline(painter, cell_rect(origin, size, *m.cell), CURRENT, 3.0)

    @staticmethod
    def _hatch_strips(painter: QPainter, origin: tuple[float, float], size: float, rows: np.ndarray,
                      cols: np.ndarray) -> None:
        """Padding hatched, inserted zeros dotted, one strip per row/column (no loop over cells)."""
        inside_r, inside_c = np.flatnonzero(rows != "padding"), np.flatnonzero(cols != "padding")
        for kinds, other_inside, horizontal in ((rows, inside_c, True), (cols, inside_r, False)):
            full = len(cols) if horizontal else len(rows)
            for k, kind in enumerate(kinds):
                if kind == "input" or (kind == "inserted" and not len(other_inside)):
                    continue
                start, stop = (0, full) if kind == "padding" else (other_inside[0], other_inside[-1] + 1)
                rect = (QRectF(origin[0] + start * size, origin[1] + k * size, (stop - start) * size, size)
                        if horizontal else
                        QRectF(origin[0] + k * size, origin[1] + start * size, size, (stop - start) * size))
                if kind == "padding":
                    hatch(painter, rect)
                else:
                    hatch(painter, rect, INSERTED, Qt.BrushStyle.Dense6Pattern)

    @staticmethod
    def _grid_lines(painter: QPainter, origin: tuple[float, float], size: float, h: int, w: int) -> None:
        if size < 6:
            return
        painter.setPen(QColor(0, 0, 0, 60))
        for r in range(h + 1):
            painter.drawLine(QPointF(origin[0], origin[1] + r * size), QPointF(origin[0] + w * size, origin[1] + r * size))
        for c in range(w + 1):
            painter.drawLine(QPointF(origin[0] + c * size, origin[1]), QPointF(origin[0] + c * size, origin[1] + h * size))
