"""Graphics items of the canvas: layer cards and one item drawing every edge with its shape."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ..style import EDGE, INPUT_COLORS, LEVEL_COLORS, LEVEL_ICONS, MUTED, SELECTION, TEXT, family_color, font
from .layout import Box, Edge, Frame

COMPACT_LOD = 0.55  # below this zoom a card shows only its type and shape, in a larger font


def compact_needs_two_lines(metrics: QFontMetricsF | QFontMetrics, title: str, shape: str, width: float,
                            height: float) -> bool:
    """Whether a compact card shows type and shape on two lines: the type does not fit beside the shape
    (``w(title) + w("  ") + w(shape) > width``) and two lines fit the card (``2·line height ≤ height``)."""
    fits_beside = metrics.horizontalAdvance(title + "  " + shape) <= width
    return not fits_beside and 2 * metrics.height() <= height


@dataclass
class CardContent:
    """What a card shows; compared to skip repaints when nothing changed."""

    title: str
    name: str = ""
    label: str = ""
    shape: str = ""
    detail: str = ""
    family: str = "Structure"
    level: str | None = None  # worst issue level
    tooltip: str = ""


class CardItem(QGraphicsItem):
    """A rounded card: family stripe, type and name, hyperparameters, output shape, issue badge."""

    def __init__(self, key: str, kind: str) -> None:
        super().__init__()
        self.key, self.kind = key, kind
        self.content = CardContent("")
        self.selected = False
        self._rect = QRectF()
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(False)

    def place(self, box: Box) -> None:
        rect = QRectF(0, 0, box.w, box.h)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        if self.pos() != QPointF(box.x, box.y):
            self.setPos(box.x, box.y)

    def set_content(self, content: CardContent) -> None:
        if content != self.content:
            self.content = content
            self.setToolTip(content.tooltip)
            self.update()

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if self.kind in ("identity", "output"):
            self._paint_identity(painter)
        elif lod < COMPACT_LOD:
            self._paint_compact(painter, lod)
        else:
            self._paint_card(painter)

    def _paint_compact(self, painter: QPainter, lod: float) -> None:
        """Zoomed out: the card's colours and one line, type and output shape, in a font that stays about
        8 px on screen (level of detail, as in map viewers); a type too long to sit beside its shape
        ("BatchNorm2d  64×112×112") goes on a line of its own instead of being cut to "Batc…"."""
        accent, background, border = self._colors()
        rect = self._rect
        painter.setPen(QPen(QColor(SELECTION) if self.selected else border, (3.5 if self.selected else 1.5) / lod))
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 7, 7)
        painter.fillRect(QRectF(0, 0, 10, rect.height()), accent if self.content.level not in ("error", "warning")
                         else border)
        painter.setFont(font(min(5.4 / lod, rect.height() * 0.4), bold=True))
        painter.setPen(QColor("#ffffff" if self.kind == "input" else TEXT))
        shape = self.content.shape.removeprefix("→ ")
        title = self.content.title if self.kind != "input" else "Input"
        inner = rect.adjusted(16, 0, -8, 0)
        metrics = painter.fontMetrics()
        if not compact_needs_two_lines(metrics, title, shape, inner.width(), rect.height()):
            room = int(inner.width() - metrics.horizontalAdvance(shape + "  "))
            painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, shape)
            painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(title, Qt.TextElideMode.ElideRight, max(room, 0)))
            return
        top, bottom = inner.adjusted(0, 0, 0, -inner.height() / 2), inner.adjusted(0, inner.height() / 2, 0, 0)
        painter.drawText(top, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                         metrics.elidedText(title, Qt.TextElideMode.ElideRight, int(inner.width())))
        painter.drawText(bottom, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight, shape)

    def _colors(self) -> tuple[QColor, QColor, QColor]:
        """(accent, background, border)."""
        if self.kind == "input":
            return QColor(INPUT_COLORS[0]), QColor(INPUT_COLORS[1]), QColor(INPUT_COLORS[0])
        accent, background = family_color(self.content.family)
        border = QColor("#c9cfd8")
        if self.content.level in ("error", "warning"):
            border, bg = (QColor(c) for c in LEVEL_COLORS[self.content.level])
            return accent, bg, border
        return accent, background, border

    def _paint_card(self, painter: QPainter) -> None:
        accent, background, border = self._colors()
        rect = self._rect
        pen = QPen(QColor(SELECTION) if self.selected else border, 2.6 if self.selected else 1.2)
        painter.setPen(pen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 7, 7)
        stripe = QPainterPath()
        stripe.addRoundedRect(QRectF(1.5, 1.5, 6, rect.height() - 3), 3, 3)
        painter.fillPath(stripe, accent if self.content.level not in ("error", "warning") else border)
        self._paint_text(painter, rect)
        if self.content.level:
            self._paint_badge(painter, rect)

    def _paint_text(self, painter: QPainter, rect: QRectF) -> None:
        light = self.kind == "input"
        c = self.content
        main, muted = QColor("#ffffff" if light else TEXT), QColor("#c8d1de" if light else MUTED)
        right_pad = 30 if c.level else 10
        painter.setFont(font(9.5, bold=True))
        painter.setPen(main)
        painter.drawText(QRectF(16, 5, rect.width() - 26, 18), Qt.AlignmentFlag.AlignLeft, c.title)
        title_w = painter.fontMetrics().horizontalAdvance(c.title)
        painter.setFont(font(8))
        painter.setPen(muted)
        name_rect = QRectF(22 + title_w, 7, rect.width() - 32 - title_w - right_pad + 10, 16)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignRight,
                         painter.fontMetrics().elidedText(c.name, Qt.TextElideMode.ElideMiddle, int(name_rect.width())))
        painter.setFont(font(8.5, mono=True))
        painter.setPen(main)
        painter.drawText(QRectF(16, 24, rect.width() - 26, 16), Qt.AlignmentFlag.AlignLeft,
                         painter.fontMetrics().elidedText(c.label, Qt.TextElideMode.ElideRight, int(rect.width() - 26)))
        painter.setFont(font(8))
        painter.setPen(muted)
        painter.drawText(QRectF(16, 43, rect.width() / 2, 16), Qt.AlignmentFlag.AlignLeft, c.detail)
        painter.setFont(font(8.5, bold=True, mono=True))
        painter.setPen(main)
        painter.drawText(QRectF(rect.width() / 2 - 20, 42, rect.width() / 2 + 10, 16), Qt.AlignmentFlag.AlignRight,
                         c.shape)

    def _paint_badge(self, painter: QPainter, rect: QRectF) -> None:
        accent = QColor(LEVEL_COLORS[self.content.level][0])
        badge = QRectF(rect.width() - 24, 5, 18, 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawEllipse(badge)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(font(8, bold=True))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, LEVEL_ICONS[self.content.level])

    def _paint_identity(self, painter: QPainter) -> None:
        rect = self._rect.adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(QColor(EDGE), 1.1, Qt.PenStyle.DashLine))
        painter.setBrush(QColor("#ffffff"))
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        painter.setPen(QColor(MUTED))
        painter.setFont(font(8, mono=self.kind == "output", bold=self.kind == "output"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.content.title)


class EdgeLayer(QGraphicsItem):
    """All edges, their shape labels and the branch frames in one item (cheap for 300 layers)."""

    def __init__(self) -> None:
        super().__init__()
        self.edges: list[Edge] = []
        self.frames: list[Frame] = []
        self._rect = QRectF()
        self.setZValue(-1)

    def set_geometry(self, edges: list[Edge], frames: list[Frame], rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.edges, self.frames, self._rect = edges, frames, rect
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        exposed = option.exposedRect
        for frame in self.frames:
            self._paint_frame(painter, frame)
        painter.setFont(font(7.5, mono=True))
        labels = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()) >= COMPACT_LOD
        for edge in self.edges:
            xs = [p[0] for p in edge.points]
            ys = [p[1] for p in edge.points]
            if not exposed.intersects(QRectF(min(xs) - 120, min(ys), max(xs) - min(xs) + 240, max(ys) - min(ys))):
                continue
            self._paint_edge(painter, edge, labels)

    def _paint_frame(self, painter: QPainter, frame: Frame) -> None:
        painter.setPen(QPen(QColor("#b8c0cc"), 1, Qt.PenStyle.DashLine))
        painter.setBrush(QColor(255, 255, 255, 140 if frame.depth == 0 else 200))
        painter.drawRoundedRect(QRectF(frame.x, frame.y, frame.w, frame.h), 10, 10)

    def _paint_edge(self, painter: QPainter, edge: Edge, label: bool = True) -> None:
        path = QPainterPath(QPointF(*edge.points[0]))
        for point in edge.points[1:]:
            path.lineTo(QPointF(*point))
        painter.setPen(QPen(QColor(EDGE), 1.4))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        tip = QPointF(*edge.points[-1])
        arrow = QPainterPath(tip)
        arrow.lineTo(tip + QPointF(-4, -6))
        arrow.lineTo(tip + QPointF(4, -6))
        arrow.closeSubpath()
        painter.fillPath(arrow, QColor(EDGE))
        if edge.label and label:  # zoomed out, the cards carry the shapes
            k = edge.label_segment % (len(edge.points) - 1)
            (_, y0), (x1, y1) = edge.points[k], edge.points[k + 1]
            painter.setPen(QColor("#4b5563"))
            painter.drawText(QRectF(x1 + 7, (y0 + y1) / 2 - 8, 200, 16), Qt.AlignmentFlag.AlignLeft, edge.label)
