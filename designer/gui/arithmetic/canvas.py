"""The kernel sliding over the grid: input grid (padding hatched, inserted zeros dotted), the window at the
current output cell with its dilation gaps, and the output grid; click an output cell to jump, hover to
link input and output cells. A grid too large for readable cells (a real input: VGG-16's 56×56 maps) is
shown through a viewport of cells at least ``MIN_CELL`` px wide that follows the current window, its rows and
columns named in the title."""

from __future__ import annotations

from dataclasses import dataclass

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
MIN_CELL = 24.0  # smaller cells: a viewport around the window instead of the whole grid (24 px: numbers fit)


@dataclass(frozen=True)
class Viewport:
    """The part of one grid on screen: rows ``[r0, r1)`` and columns ``[c0, c1)`` drawn from ``screen``
    (top-left, px) with square cells of ``size`` px."""

    screen: tuple[float, float]
    size: float
    rows: tuple[int, int]
    cols: tuple[int, int]
    full: tuple[int, int]  # the grid's whole (rows, columns)

    @property
    def origin(self) -> tuple[float, float]:
        """Where cell (0, 0) would be: every cell is drawn at ``origin + index·size`` (clipped to ``rect``)."""
        return self.screen[0] - self.cols[0] * self.size, self.screen[1] - self.rows[0] * self.size

    @property
    def rect(self) -> QRectF:
        (r0, r1), (c0, c1) = self.rows, self.cols
        return QRectF(*self.screen, (c1 - c0) * self.size, (r1 - r0) * self.size)

    @property
    def zoomed(self) -> bool:
        return (self.rows[1] - self.rows[0], self.cols[1] - self.cols[0]) != self.full

    def cell(self, point: QPointF) -> tuple[int, int] | None:
        if not self.rect.contains(point):
            return None
        return (self.rows[0] + int((point.y() - self.screen[1]) // self.size),
                self.cols[0] + int((point.x() - self.screen[0]) // self.size))

    def caption(self) -> str:
        """``"; rows 10–25, columns 3–18"`` when only part of the grid is shown."""
        if not self.zoomed:
            return ""
        return f"; rows {self.rows[0]}–{self.rows[1] - 1}, columns {self.cols[0]}–{self.cols[1] - 1} shown"


def _span(centre: float, count: int, total: int) -> tuple[int, int]:
    """``count`` consecutive indices of ``range(total)`` centred on ``centre`` as far as the edges allow."""
    start = min(max(int(round(centre - count / 2)), 0), max(total - count, 0))
    return start, min(start + count, total)


class ArithmeticCanvas(QWidget):
    """Paints ``model``'s case; writes clicks and hovers back to it."""

    def __init__(self, model: ArithmeticModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("arithmeticCanvas")
        self.setMouseTracking(True)
        self.setMinimumSize(300, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        model.case_changed.connect(self.update)
        model.position_changed.connect(self.update)
        model.hover_changed.connect(self.update)

    def sizeHint(self) -> QSize:
        return QSize(640, 320)

    # --- geometry of the two grids ----------------------------------------------------------------
    def viewports(self) -> tuple[Viewport, Viewport]:
        """The input grid's and the output grid's viewports: whole grids when their cells can be at least
        ``MIN_CELL`` px, else ``MIN_CELL`` cells around the current window and the current output cell."""
        m, geo = self.model, self.model.case.geometry
        (gh, gw), (oh, ow) = geo.grid_hw, geo.out_hw
        width = self.width() - 2 * MARGIN - GAP
        height = self.height() - 2 * MARGIN - TITLE
        size = min(48.0, width / (gw + ow), height / max(gh, oh))
        top = MARGIN + TITLE
        if size >= MIN_CELL:
            return (Viewport((MARGIN, top), size, (0, gh), (0, gw), (gh, gw)),
                    Viewport((MARGIN + gw * size + GAP, top), size, (0, oh), (0, ow), (oh, ow)))
        size, fit_rows, fit_cols = MIN_CELL, max(1, int(height // MIN_CELL)), max(2, int(width // MIN_CELL))
        out_cols = min(ow, max(1, round(fit_cols * ow / (gw + ow))))  # columns shared in proportion to the grids
        grid_cols = min(gw, max(1, fit_cols - out_cols))
        out_cols = min(ow, max(1, fit_cols - grid_cols))
        taps = geo.window(*m.cell)
        centre = (sum(t[0] for t in taps) / len(taps) + 0.5, sum(t[1] for t in taps) / len(taps) + 0.5)
        grid = Viewport((MARGIN, top), size, _span(centre[0], min(gh, fit_rows), gh),
                        _span(centre[1], grid_cols, gw), (gh, gw))
        out = Viewport((MARGIN + grid_cols * size + GAP, top), size, _span(m.cell[0] + 0.5, min(oh, fit_rows), oh),
                       _span(m.cell[1] + 0.5, out_cols, ow), (oh, ow))
        return grid, out

    def layout_grids(self) -> tuple[float, tuple[float, float], tuple[float, float]]:
        """``(cell size, input grid origin, output grid origin)``: cell ``(r, c)`` of a grid is drawn at
        ``origin + (c, r)·size`` (see :meth:`viewports` for the part on screen)."""
        grid, out = self.viewports()
        return grid.size, grid.origin, out.origin

    def hit(self, point: QPointF) -> tuple[str, int, int] | None:
        """``("grid", gy, gx)`` or ``("output", i, j)`` under ``point``."""
        if self.model.case is None:
            return None
        for name, viewport in zip(("grid", "output"), self.viewports()):
            cell = viewport.cell(point)
            if cell is not None:
                return name, cell[0], cell[1]
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
        grid, out = self.viewports()
        for viewport, paint in ((grid, self._paint_grid), (out, self._paint_output)):
            painter.save()
            painter.setClipRect(viewport.rect.adjusted(-2, -2, 2, 2))
            paint(painter, viewport)
            painter.restore()
        self._titles(painter, grid, out)
        painter.end()

    def _titles(self, painter: QPainter, grid: Viewport, out: Viewport) -> None:
        m, case = self.model, self.model.case
        geo = case.geometry
        channel = f"input channel {m.in_channel}" if case.kind in ("conv", "transpose") else f"channel {m.out_channel}"
        what = {"transpose": "zero-inserted, padded input", "max": "input (padding −∞)"}.get(case.kind, "input")
        self._title(painter, grid.screen, f"{what}, {channel} ({case.source} {geo.in_hw[0]}×{geo.in_hw[1]})"
                    f"{grid.caption()}", grid.rect.width() + GAP - 6)
        oh, ow = geo.out_hw
        self._title(painter, out.screen, f"output, channel {m.out_channel} ({oh}×{ow}){out.caption()}",
                    out.rect.width())

    def _title(self, painter: QPainter, origin: tuple[float, float], text: str, width: float) -> None:
        """Up to two lines above a grid, wrapped to its width (at least 140 px); the font shrinks (8.5 → 6.5 pt)
        until the text fits, so a narrow grid's title is never cut at the top."""
        rect = QRectF(origin[0], origin[1] - TITLE, max(width, 140.0), TITLE - 3)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap
        for points in (8.5, 7.5, 6.5):
            painter.setFont(font(points, bold=True))
            if painter.boundingRect(rect, flags, text).height() <= rect.height():
                break
        painter.setPen(QColor("#1f2937"))
        painter.save()
        painter.setClipRect(rect)  # at the smallest size a very long title loses its first line, not the grid
        painter.drawText(rect, flags, text)
        painter.restore()

    def _paint_grid(self, painter: QPainter, viewport: Viewport) -> None:
        m, case = self.model, self.model.case
        size, origin = viewport.size, viewport.origin
        geo = case.geometry
        values = case.grid[list(case.channels_seen(m.out_channel)).index(m.in_channel)] \
            if case.kind in ("conv", "transpose") else case.grid[m.out_channel]
        limit = float(np.max(np.abs(case.x), initial=0.0)) or 1.0
        gh, gw = geo.grid_hw
        painter.drawImage(QRectF(origin[0], origin[1], gw * size, gh * size), to_qimage(diverging(values, limit)))
        rows, cols = geo.axis_sources(0), geo.axis_sources(1)
        self._hatch_strips(painter, origin, size, rows, cols)
        self._grid_lines(painter, origin, size, gh, gw)
        skip = (rows == "padding")[:, None] | (cols == "padding")[None, :]
        (r0, r1), (c0, c1) = viewport.rows, viewport.cols
        write_values(painter, viewport.screen, size, values[r0:r1, c0:c1], skip=skip[r0:r1, c0:c1])
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

    def _paint_output(self, painter: QPainter, viewport: Viewport) -> None:
        m, case = self.model, self.model.case
        size, origin = viewport.size, viewport.origin
        values = case.output[m.out_channel]
        oh, ow = values.shape
        painter.drawImage(QRectF(origin[0], origin[1], ow * size, oh * size), to_qimage(diverging(values)))
        self._grid_lines(painter, origin, size, oh, ow)
        (r0, r1), (c0, c1) = viewport.rows, viewport.cols
        write_values(painter, viewport.screen, size, values[r0:r1, c0:c1])
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
