"""The design canvas: a QGraphicsView of layer cards that follows the document.

Cards are reused by layer name between edits, so an edit only moves and repaints cards.
Drags from a card move the layer; drops from the palette insert; Ctrl+wheel zooms; right-click on a
card opens a menu of the window's edit actions (added to the canvas by ``actions.py``).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QDrag, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsLineItem, QGraphicsScene, QGraphicsView, QMenu, QWidget

from ...core import Design, LayerRow, get_spec
from ...core.formatting import human_count
from ...core.spec import fmt_shape
from ..document.document import DesignDocument
from ..document.quick_fixes import quick_fixes
from ..mime import LAYER_MIME, PALETTE_MIME
from ..style import CANVAS_BG, LEVEL_ICONS, SELECTION, worst_level
from .items import CardContent, CardItem, EdgeLayer
from .layout import INPUT_KEY, OUTPUT_KEY, Box, CanvasLayout, layout_design
from .minimap import Minimap

MARGIN = 40.0
MIN_FIT_SCALE = 0.2  # below this even the compact cards are unreadable: show the top at TALL_SCALE
TALL_SCALE = 0.4
CONTEXT_ACTIONS = ("cut", "copy", "paste", "duplicate", "delete")  # object names ``action_<name>``


class DesignCanvas(QGraphicsView):
    """Shows ``document``'s network; edits go back through the document."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designCanvas")
        self.document = document
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setBackgroundBrush(QBrush(QColor(CANVAS_BG)))
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.cards: dict[str, CardItem] = {}
        self.collapsed: set[str] = set()  # Branches shown as one card
        self.layout_: CanvasLayout = CanvasLayout()
        self.edges = EdgeLayer()
        self.scene().addItem(self.edges)
        self.indicator = QGraphicsLineItem()
        self.indicator.setPen(QPen(QColor(SELECTION), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        self.indicator.setZValue(10)
        self.indicator.hide()
        self.scene().addItem(self.indicator)
        self._press: tuple[QPointF, str] | None = None
        self.minimap = Minimap(self)
        document.changed.connect(self._on_document_change)
        document.selection_changed.connect(self._on_selection_change)
        self._on_document_change()

    # --- following the document -----------------------------------------------------------------
    def _on_document_change(self) -> None:
        doc = self.document
        shapes = {row.name: fmt_shape(row.output_shape) for row in doc.analysis.rows}
        self.collapsed &= {row.name for row in doc.analysis.rows if row.type == "Branch"}
        self.layout_ = layout_design(doc.design, shapes, fmt_shape(doc.analysis.input_shape), frozenset(self.collapsed))
        seen = set()
        for box in self.layout_.boxes:
            seen.add(box.key)
            card = self.cards.get(box.key)
            if card is None or card.kind != box.kind:
                if card is not None:
                    self.scene().removeItem(card)
                card = self.cards[box.key] = CardItem(box.key, box.kind)
                self.scene().addItem(card)
            card.place(box)
            card.set_content(self._content(box))
        for key in [k for k in self.cards if k not in seen]:
            self.scene().removeItem(self.cards.pop(key))
        lay = self.layout_
        rect = QRectF(-lay.width / 2 - MARGIN, -MARGIN, lay.width + 2 * MARGIN, lay.height + 2 * MARGIN)
        self.edges.set_geometry(lay.edges, lay.frames, rect.adjusted(-200, 0, 200, 0))
        self.scene().setSceneRect(rect)
        self._on_selection_change()

    def _content(self, box: Box) -> CardContent:
        doc = self.document
        if box.kind == "input":
            inp = doc.design.input
            norm = "normalised" if inp.mean is not None or inp.std is not None else "raw pixels"
            return CardContent("Input", doc.design.name, f"{inp.channels} channels, {norm}",
                               fmt_shape(inp.shape), "image", tooltip="The input image; select to edit C, H, W, "
                                                                      "mean and std")
        if box.kind == "output":
            rows = doc.analysis.rows
            return CardContent("output " + (fmt_shape(rows[-1].output_shape) if rows else fmt_shape(doc.design.input.shape)))
        if box.kind == "identity":
            return CardContent("identity", tooltip="An empty branch passes its input through; drop layers here")
        return self._layer_content(doc.row(box.key))

    def _layer_content(self, row: LayerRow | None) -> CardContent:
        if row is None:
            return CardContent("?")
        level = worst_level({i.level for i in row.issues})
        tooltip = "\n".join(f"{LEVEL_ICONS[i.level]} {i.level}: {i.message}" for i in row.issues)
        if row.type == "Branch":
            branch = self.document.design.get(row.path)
            n = len(branch.branches)
            title, label, detail = "Branch", f"merge: {row.label}", f"{n} branches"
            if row.name in self.collapsed:
                inner = sum(1 for _ in Design(name="", input=self.document.design.input, layers=(branch,)).walk()) - 1
                title, detail = "Branch ▸", f"{n} branches, {inner} layers (collapsed)"
        else:
            detail = f"{human_count(row.params)} params" if row.params else get_spec(row.type).family.lower()
            title, label = row.type, row.label
        if row.output_shape:
            shape = "→ " + fmt_shape(row.output_shape)
        else:
            shape = "✖ error" if level == "error" else "→ ?"
        return CardContent(title, row.name, label, shape, detail, get_spec(row.type).family, level, tooltip)

    # --- collapsing branches -------------------------------------------------------------------------
    def set_collapsed(self, name: str, collapsed: bool) -> None:
        """Show Branch ``name`` as one card (``collapsed``) or with its branches side by side."""
        if collapsed != (name in self.collapsed):
            (self.collapsed.add if collapsed else self.collapsed.discard)(name)
            self._on_document_change()

    def _expand_to(self, name: str) -> None:
        """Expand every collapsed Branch that hides layer ``name``."""
        path = self.document.path_of(name)
        if path is None:
            return
        hosts = {self.document.design.get(path[:k]).name for k in range(1, len(path), 2)}
        if hosts & self.collapsed:
            self.collapsed -= hosts
            self._on_document_change()

    def mouseDoubleClickEvent(self, event) -> None:
        card = self.card_at(event.position().toPoint())
        if card is not None and card.kind == "merge":
            self.set_collapsed(card.key, card.key not in self.collapsed)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _on_selection_change(self) -> None:
        selected = self.document.selected
        if selected is not None and selected not in self.cards:
            self._expand_to(selected)
        for key, card in self.cards.items():
            card.set_selected(key == selected if selected is not None else key == INPUT_KEY)
        card = self.cards.get(selected or INPUT_KEY)
        if card is not None and selected is not None:
            self.ensureVisible(card, 30, 30)

    # --- zoom -------------------------------------------------------------------------------------
    def zoom(self, factor: float) -> None:
        current = self.transform().m11()
        factor = max(0.1 / current, min(factor, 3.0 / current))
        self.scale(factor, factor)

    def fit(self) -> None:
        """The whole network in view (cards switch to type-and-shape when small); a network too tall to be
        read even so is shown from the top in compact cards, and the minimap shows where the view is."""
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
        elif self.transform().m11() < MIN_FIT_SCALE:
            rect = self.scene().sceneRect()
            self.resetTransform()
            scale = max(MIN_FIT_SCALE, min(TALL_SCALE, self.viewport().width() / rect.width()))
            self.scale(scale, scale)
            self.centerOn(0, rect.top() + self.viewport().height() / scale / 2)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.minimap.update_geometry()

    def scale(self, sx: float, sy: float) -> None:
        super().scale(sx, sy)
        self.minimap.update_geometry()

    def setTransform(self, *args) -> None:
        super().setTransform(*args)
        self.minimap.update_geometry()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            event.accept()
        else:
            super().wheelEvent(event)

    # --- selection and dragging cards -----------------------------------------------------------------
    def card_at(self, view_pos) -> CardItem | None:
        for item in self.items(view_pos):
            if isinstance(item, CardItem):
                return item
        return None

    def mousePressEvent(self, event) -> None:
        card = self.card_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton:
            name = card.key if card is not None and card.kind in ("layer", "merge") else None
            self.document.select(name)
            self._press = (event.position(), name) if name else None
        self.setFocus()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._press and (event.position() - self._press[0]).manhattanLength() > QApplication.startDragDistance():
            name = self._press[1]
            self._press = None
            mime = QMimeData()
            mime.setData(LAYER_MIME, name.encode())
            drag = QDrag(self)
            drag.setMimeData(mime)
            drag.exec(Qt.DropAction.MoveAction)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    # --- context menu ----------------------------------------------------------------------------------
    def window_action(self, name: str):
        """The window's edit action ``name`` that ``actions.py`` added to the canvas (``None`` if absent)."""
        return next((a for a in self.actions() if a.objectName() == f"action_{name}"), None)

    def context_menu(self, card: CardItem) -> QMenu | None:
        """The menu for a layer card (selecting it first): Cut, Copy, Paste, Duplicate, Delete, and Add
        branch on Branch cards. ``None`` for the input, output and identity cards."""
        if card.kind not in ("layer", "merge"):
            return None
        self.document.select(card.key)
        menu = QMenu(self)
        menu.setObjectName("cardMenu")
        for name in CONTEXT_ACTIONS:
            action = self.window_action(name)
            if action is not None:
                menu.addAction(action)
        fixes = quick_fixes(self.document, card.key)
        if fixes:
            menu.addSeparator()
            for fix in fixes:
                menu.addAction(f"Fix: {fix.title}", lambda f=fix: f.apply()).setObjectName("menu_quick_fix")
        layer = self.document.selected_layer
        if layer is not None and layer.type == "Branch":
            menu.addSeparator()
            add = menu.addAction("Add branch", lambda name=card.key: self.document.add_branch(name))
            add.setObjectName("menu_add_branch")
            folded = card.key in self.collapsed
            fold = menu.addAction("Expand branches" if folded else "Collapse branches",
                                  lambda name=card.key: self.set_collapsed(name, not folded))
            fold.setObjectName("menu_collapse")
        return menu

    def contextMenuEvent(self, event) -> None:
        card = self.card_at(event.pos())
        menu = self.context_menu(card) if card is not None else None
        if menu is None:
            super().contextMenuEvent(event)
            return
        menu.exec(event.globalPos())
        menu.deleteLater()
        event.accept()

    # --- drops ---------------------------------------------------------------------------------------
    def _accepts(self, mime: QMimeData) -> bool:
        return mime.hasFormat(LAYER_MIME) or mime.hasFormat(PALETTE_MIME)

    def dragEnterEvent(self, event) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if not self._accepts(event.mimeData()):
            event.ignore()
            return
        slot = self.slot_at(event.position().toPoint())
        if slot is None:
            self.indicator.hide()
        else:
            self.indicator.setLine(slot.left + 8, slot.y, slot.right - 8, slot.y)
            self.indicator.show()
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.indicator.hide()

    def slot_at(self, view_pos):
        scene_pos = self.mapToScene(view_pos)
        return self.layout_.nearest_slot(scene_pos.x(), scene_pos.y())

    def dropEvent(self, event) -> None:
        self.indicator.hide()
        slot = self.slot_at(event.position().toPoint())
        mime = event.mimeData()
        if slot is None or not self._accepts(mime):
            event.ignore()
            return
        self.drop_at(slot.path, layer=bytes(mime.data(LAYER_MIME)).decode() or None,
                     palette=bytes(mime.data(PALETTE_MIME)).decode() or None)
        event.acceptProposedAction()

    def drop_at(self, slot: tuple[int, ...], layer: str | None = None, palette: str | None = None) -> None:
        """Move ``layer`` or insert a ``palette`` item at the insertion ``slot``."""
        if layer:
            try:
                self.document.move(layer, slot)
            except ValueError as exc:
                self.document.notice.emit(str(exc))
        elif palette:
            self.document.insert_item(palette, tuple(slot))


__all__ = ["INPUT_KEY", "OUTPUT_KEY", "DesignCanvas"]
