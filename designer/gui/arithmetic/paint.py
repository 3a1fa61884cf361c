"""Painting helpers shared by the arithmetic views: values as colours, cell grids, hatching."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen

from ..style import font

PADDING_HATCH = QColor("#9aa3af")
INSERTED = QColor("#c4b5fd")
WINDOW = QColor("#f59e0b")
CURRENT = QColor("#1e88e5")
LINKED = QColor("#10b981")


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """``[H, W, 4]`` uint8 RGBA: blue for negative, white for 0, red for positive (symmetric scale)."""
    v = np.asarray(values, np.float64)
    finite = np.isfinite(v)
    limit = limit or float(np.max(np.abs(v[finite]), initial=0.0)) or 1.0
    t = np.clip(np.where(finite, v, 0.0) / limit, -1.0, 1.0)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgba = np.empty((*v.shape, 4), np.uint8)
    rgba[..., 0] = np.round(255 - 200 * neg)
    rgba[..., 1] = np.round(255 - 190 * (pos + neg))
    rgba[..., 2] = np.round(255 - 200 * pos)
    rgba[..., 3] = 255
    return rgba


def grey(values: np.ndarray) -> np.ndarray:
    """``[H, W, 4]`` uint8 RGBA grey scale from min (black) to max (white)."""
    v = np.asarray(values, np.float64)
    lo, hi = float(np.min(v, initial=0.0)), float(np.max(v, initial=0.0))
    t = np.zeros_like(v) if hi <= lo else (v - lo) / (hi - lo)
    g = np.round(40 + 215 * t).astype(np.uint8)
    return np.stack([g, g, g, np.full_like(g, 255)], axis=-1)


def to_qimage(rgba: np.ndarray) -> QImage:
    """A deep copy of ``[H, W, 4]`` uint8 RGBA as a QImage."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def cell_rect(origin: tuple[float, float], size: float, row: int, col: int) -> QRectF:
    return QRectF(origin[0] + col * size, origin[1] + row * size, size, size)


def hatch(painter: QPainter, rect: QRectF, color: QColor = PADDING_HATCH,
          pattern: Qt.BrushStyle = Qt.BrushStyle.BDiagPattern) -> None:
    painter.fillRect(rect, QBrush(color, pattern))


def outline(painter: QPainter, rect: QRectF, color: QColor, width: float = 2.0, dashed: bool = False) -> None:
    pen = QPen(color, width)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect.adjusted(width / 2, width / 2, -width / 2, -width / 2))


def write_values(painter: QPainter, origin: tuple[float, float], size: float, values: np.ndarray,
                 skip: np.ndarray | None = None) -> None:
    """Numbers in the cells when they are big enough to read (≥ 18 px), the font shrunk so the longest fits."""
    if size < 18:
        return
    texts = {(r, c): short(v) for (r, c), v in np.ndenumerate(values) if skip is None or not skip[r, c]}
    longest = max((len(t) for t in texts.values()), default=1)
    points = min(10.0, size / 3.6, (size - 3) / (0.62 * 1.33 * longest))
    if points < 5.0:
        return
    painter.setFont(font(points))
    painter.setPen(QColor("#111827"))
    for (r, c), text in texts.items():
        painter.drawText(cell_rect(origin, size, r, c), Qt.AlignmentFlag.AlignCenter, text)


def short(v: float) -> str:
    """A value in at most 4–5 characters: ``3``, ``-1.5``, ``0.12``, ``1e+03``."""
    if not np.isfinite(v):
        return "−∞" if v < 0 else "∞"
    if float(v).is_integer() and abs(v) < 1000:
        return str(int(v))
    return f"{v:.2g}" if abs(v) < 0.1 or abs(v) >= 100 else f"{v:.2f}".rstrip("0").rstrip(".")
