"""Max vs average pooling side by side on the current feature map, with the fraction each window discards
(seed articles 002/004: max keeps texture, average keeps background)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from ...backend.explain.pooling import PoolComparison, compare_pools
from ..style import font
from .paint import grey, to_qimage


class FeatureMapSource(QObject):
    """The map the pooling and layout views look at: ``[C, H, W]`` and its name. Signal ``changed``."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fmap: np.ndarray | None = None
        self.name = ""
        self.weight_shape: tuple[int, ...] | None = None

    def set_map(self, fmap: np.ndarray | None, name: str = "", weight_shape: tuple[int, ...] | None = None) -> None:
        self.fmap = None if fmap is None or np.ndim(fmap) != 3 else np.asarray(fmap, np.float32)
        self.name, self.weight_shape = name, weight_shape
        self.changed.emit()


class _Maps(QWidget):
    """Three images in a row with captions: the map, its max pool and its average pool."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.images: list[tuple[str, np.ndarray]] = []
        self.setMinimumSize(300, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if not self.images:
            return
        n, gap, caption = len(self.images), 12.0, 20.0
        side = min((self.width() - gap * (n + 1)) / n, self.height() - caption - 8)
        painter.setFont(font(8.5, bold=True))
        for k, (title, values) in enumerate(self.images):
            x0 = gap + k * (side + gap)
            h, w = values.shape
            scale = side / max(h, w)
            painter.setPen(QColor("#1f2937"))
            painter.drawText(QRectF(x0, 2, side, caption), Qt.AlignmentFlag.AlignLeft, title)
            painter.drawImage(QRectF(x0, caption + 4, w * scale, h * scale), to_qimage(grey(values)))
        painter.end()


class PoolingView(QWidget):
    """Max and average pooling of one channel of ``source``'s map with a ``k×k`` window and stride ``s``."""

    def __init__(self, source: FeatureMapSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setObjectName("poolingView")
        self.comparison: PoolComparison | None = None
        self.kernel = QSpinBox(objectName="poolKernel", minimum=2, maximum=8, value=2)
        self.stride = QSpinBox(objectName="poolStride", minimum=1, maximum=8, value=2)
        self.channel = QSpinBox(objectName="poolChannel", minimum=0, maximum=0)
        for spin in (self.kernel, self.stride, self.channel):
            spin.valueChanged.connect(self._on_settings_change)
        controls = QHBoxLayout()
        for widget in (QLabel("Window:"), self.kernel, QLabel("Stride:"), self.stride, QLabel("Channel:"),
                       self.channel):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.maps = _Maps(self)
        self.info = QLabel(objectName="poolingInfo", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.maps, 1)
        layout.addWidget(self.info)
        source.changed.connect(self._on_map_change)
        self._on_map_change()

    def _on_map_change(self) -> None:
        fmap = self.source.fmap
        self.channel.blockSignals(True)
        self.channel.setMaximum(0 if fmap is None else fmap.shape[0] - 1)
        self.channel.blockSignals(False)
        self._on_settings_change()

    def _on_settings_change(self) -> None:
        fmap = self.source.fmap
        self.comparison, self.maps.images = None, []
        if fmap is None:
            self.info.setText("Run the design and select a layer with a feature map.")
        else:
            plane = fmap[min(self.channel.value(), fmap.shape[0] - 1)]
            try:
                self.comparison = compare_pools(plane, self.kernel.value(), self.stride.value())
            except ValueError as exc:
                self.info.setText(str(exc))
            else:
                c = self.comparison
                self.maps.images = [(f"{self.source.name} ch {self.channel.value()}", plane),
                                    ("max pool", c.max_map[0]), ("average pool", c.avg_map[0])]
                self.info.setText(c.text())
        self.maps.update()
