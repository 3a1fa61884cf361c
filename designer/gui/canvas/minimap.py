"""An overview of the whole network in the canvas's corner: the cards in miniature and a frame around
what the canvas shows; click or drag in it to move the view. Shown only when the network does not
fit in the view."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QFrame, QGraphicsView

from ..style import SELECTION

WIDTH = 110  # px


class Minimap(QGraphicsView):
    """Draws ``canvas``'s scene fitted into a narrow strip; the canvas's viewport is the blue frame."""

    def __init__(self, canvas: QGraphicsView) -> None:
        super().__init__(canvas.scene(), canvas)
        self.setObjectName("canvasMinimap")
        self.canvas = canvas
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setInteractive(False)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("background: rgba(255, 255, 255, 225); border: 1px solid #c9cfd8; border-radius: 4px")
        self.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        for bar in (canvas.horizontalScrollBar(), canvas.verticalScrollBar()):
            bar.valueChanged.connect(self.viewport().update)
            bar.rangeChanged.connect(lambda *_: self.update_geometry())
        canvas.scene().sceneRectChanged.connect(lambda *_: self.update_geometry())

    def update_geometry(self) -> None:
        """Place the strip along the canvas's right edge; hide it when everything is in view."""
        canvas = self.canvas
        view = canvas.viewport().rect()
        shown = canvas.mapToScene(view).boundingRect()
        scene = canvas.scene().sceneRect()
        needed = shown.height() + 1 < scene.height() or shown.width() + 1 < scene.width()
        self.setVisible(needed and view.height() > 160)
        if not self.isVisible():
            return
        height = max(80, view.height() - 16)
        self.setGeometry(view.width() - WIDTH - 8, 8, WIDTH, height)
        self.fitInView(scene, Qt.AspectRatioMode.KeepAspectRatio)
        self.viewport().update()

    def visible_rect(self) -> QRectF:
        return self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        pen = QPen(QColor(SELECTION), 2)
        pen.setCosmetic(True)
        painter.setPen(pen)
        fill = QColor(SELECTION)
        fill.setAlpha(40)
        painter.setBrush(QBrush(fill))
        painter.drawRect(self.visible_rect())

    def _move_to(self, event) -> None:
        self.canvas.centerOn(self.mapToScene(event.position().toPoint()))

    def mousePressEvent(self, event) -> None:
        self._move_to(event)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._move_to(event)

    def wheelEvent(self, event) -> None:
        self.canvas.wheelEvent(event)
