"""Icons drawn with QPainter where Qt's standard set has none (undo/redo are curved arrows, not the
back/forward arrows of a browser)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

ICON_COLOR = "#374151"


def undo_icon(redo: bool = False, size: int = 32) -> QIcon:
    """A counter-clockwise hook arrow (clockwise, mirrored, for ``redo``)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if redo:
        p.translate(size, 0)
        p.scale(-1, 1)
    s = size / 32
    pen = QPen(QColor(ICON_COLOR), 3 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    path = QPainterPath(QPointF(9 * s, 13 * s))
    path.arcTo(QRectF(7 * s, 7 * s, 20 * s, 16 * s), 180, -200)
    p.drawPath(path)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(ICON_COLOR))
    p.drawPolygon(QPolygonF([QPointF(2 * s, 12 * s), QPointF(14 * s, 11 * s), QPointF(8 * s, 21 * s)]))
    p.end()
    return QIcon(pixmap)
