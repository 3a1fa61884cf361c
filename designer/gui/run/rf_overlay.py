"""Which unit the user points at, and the theoretical receptive-field box it has on the input.

``UnitProbe`` is the shared model: the feature-map view writes the hovered and the clicked
("pinned") unit, the input panel draws the box. ``rf_box`` turns the core's receptive field, jump
and start (Araujo et al.) into input pixel edges: unit ``i`` along an axis is centred on input pixel
``start + i·jump`` and sees ``size`` pixels around it, pixels ``[c − (size−1)/2, c + (size−1)/2]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from ...core import LayerRow

BOX_COLOR = "#ffb300"
PAD_COLOR = "#e53935"


@dataclass(frozen=True)
class Unit:
    """One output unit: ``channel`` at ``(y, x)`` of ``layer`` (``y``/``x`` ``None`` for a vector)."""

    layer: str
    channel: int | None
    y: int | None = None
    x: int | None = None


def unit_fits(unit: Unit, shape: tuple[int, ...] | None) -> bool:
    """Whether ``unit`` lies inside an output of ``shape`` (``None``: no output)."""
    if shape is None:
        return False
    channel_ok = unit.channel is None or 0 <= unit.channel < shape[0]
    if unit.y is None or unit.x is None:
        return len(shape) == 1 and channel_ok
    return len(shape) == 3 and channel_ok and 0 <= unit.y < shape[1] and 0 <= unit.x < shape[2]


@dataclass(frozen=True)
class RFBox:
    """Edges in input pixel units (pixel ``i`` spans ``[i, i + 1)``); may reach past the image."""

    top: float
    left: float
    bottom: float
    right: float
    image_h: int
    image_w: int
    is_global: bool = False

    @property
    def size(self) -> tuple[float, float]:
        return self.bottom - self.top, self.right - self.left

    @property
    def clipped(self) -> tuple[float, float, float, float]:
        return (max(self.top, 0.0), max(self.left, 0.0),
                min(self.bottom, float(self.image_h)), min(self.right, float(self.image_w)))

    @property
    def padded(self) -> bool:
        return self.top < 0 or self.left < 0 or self.bottom > self.image_h or self.right > self.image_w

    @property
    def padding_fraction(self) -> float:
        """Share of the box's area that lies in the padding (outside the image)."""
        t, l, b, r = self.clipped
        inside = max(b - t, 0.0) * max(r - l, 0.0)
        h, w = self.size
        return 1.0 - inside / (h * w) if h * w > 0 else 0.0


def rf_box(row: LayerRow, y: int | None, x: int | None, image_h: int, image_w: int) -> RFBox:
    """The theoretical receptive field of unit ``(y, x)`` of ``row``'s layer (the whole image when global)."""
    if row.receptive_field is None or y is None or x is None:
        return RFBox(0.0, 0.0, float(image_h), float(image_w), image_h, image_w, is_global=True)
    (rh, rw), (jh, jw), (sh, sw) = row.receptive_field, row.jump, row.start
    cy, cx = sh + y * jh, sw + x * jw
    return RFBox(cy - (rh - 1) / 2, cx - (rw - 1) / 2, cy + (rh - 1) / 2 + 1, cx + (rw - 1) / 2 + 1,
                 image_h, image_w)


def describe_box(box: RFBox) -> str:
    if box.is_global:
        return "global: this unit sees the whole input"
    t, l, b, r = box.clipped
    h, w = box.size
    text = f"RF {h:g}×{w:g} → rows {t:g}…{b - 1:g}, cols {l:g}…{r - 1:g}"
    if box.padded:
        text += f" · {100 * box.padding_fraction:.0f}% in the padding"
    return text


class UnitProbe(QObject):
    """The hovered and the pinned unit. Signals: ``changed`` (either), ``pinned_changed``."""

    changed = Signal()
    pinned_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hovered: Unit | None = None
        self.pinned: Unit | None = None

    @property
    def current(self) -> Unit | None:
        return self.hovered or self.pinned

    def hover(self, unit: Unit | None) -> None:
        if unit != self.hovered:
            self.hovered = unit
            self.changed.emit()

    def pin(self, unit: Unit | None) -> None:
        self.hovered = None
        if unit != self.pinned:
            self.pinned = unit
            self.pinned_changed.emit()
        self.changed.emit()


def _pen(color: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(color), width, style)
    pen.setCosmetic(True)
    return pen


class RFOverlay:
    """The box drawn over an image in a pyqtgraph ViewBox: the clipped field (solid), the full
    theoretical box (dashed) and the part of it lying in the padding (hatched red)."""

    def __init__(self, view_box) -> None:
        self.padding = QGraphicsPathItem()
        self.padding.setBrush(QBrush(QColor(PAD_COLOR), Qt.BrushStyle.BDiagPattern))
        self.padding.setPen(_pen(PAD_COLOR, 1, Qt.PenStyle.DotLine))
        self.full = QGraphicsRectItem()
        self.full.setPen(_pen(BOX_COLOR, 1.5, Qt.PenStyle.DashLine))
        self.inside = QGraphicsRectItem()
        self.inside.setPen(_pen(BOX_COLOR, 2.5))
        fill = QColor(BOX_COLOR)
        fill.setAlpha(45)
        self.inside.setBrush(QBrush(fill))
        self.items = (self.padding, self.full, self.inside)
        for z, item in enumerate(self.items):
            item.setZValue(10 + z)
            view_box.addItem(item, ignoreBounds=True)
        self.show(None)

    def show(self, box: RFBox | None) -> None:
        for item in self.items:
            item.setVisible(box is not None)
        if box is None:
            return
        full = QRectF(box.left, box.top, box.right - box.left, box.bottom - box.top)
        t, l, b, r = box.clipped
        self.full.setRect(full)
        self.inside.setRect(QRectF(l, t, r - l, b - t))
        path = QPainterPath()
        path.addRect(full)
        image = QPainterPath()
        image.addRect(QRectF(0, 0, box.image_w, box.image_h))
        self.padding.setPath(path.subtracted(image))
        self.padding.setVisible(box.padded)
        self.full.setVisible(box.padded)
