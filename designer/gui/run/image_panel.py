"""The input panel: the image the network sees (with its preprocessing), the theoretical receptive
field of the unit under the mouse, and next to it that unit's effective receptive field."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGraphicsEllipseItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..style import MUTED
from .controller import RunController
from .image_source import FIT_MODES, FIT_TIPS
from .rf_overlay import BOX_COLOR, RFOverlay, Unit, UnitProbe, _pen, describe_box, rf_box

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


def erf_lookup_table() -> np.ndarray:
    """Inferno with opacity rising with the value, so the dimmed input shows through weak gradients."""
    lut = pg.colormap.get("inferno").getLookupTable(nPts=256, alpha=True)
    lut[:, 3] = np.clip(np.linspace(0, 1, 256) ** 0.5 * 1.4, 0, 1) * 255
    return lut


def erf_view_range(box, erf_radius: float, centre: tuple[float, float], h: int, w: int) -> tuple:
    """Zoom on the unit: its theoretical box (or the ERF's 95% disc) with a margin, at least 24 px."""
    if box is not None and not box.is_global:
        top, left, bottom, right = box.top, box.left, box.bottom, box.right
    else:
        cy, cx = centre if np.isfinite(centre[0]) else (h / 2, w / 2)
        top, left, bottom, right = cy - erf_radius, cx - erf_radius, cy + erf_radius + 1, cx + erf_radius + 1
    span = max(bottom - top, right - left, 24.0) * 1.25
    cy, cx = (top + bottom) / 2, (left + right) / 2
    return (cx - span / 2, cx + span / 2), (cy - span / 2, cy + span / 2)


def image_view_box(title: str) -> tuple[pg.LabelItem, pg.ViewBox, pg.ImageItem]:
    """A title and an aspect-locked, y-down ViewBox holding one ImageItem (placed by ``_arrange``)."""
    label = pg.LabelItem(title, color=MUTED, size="9pt")
    vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=True)
    vb.setMouseEnabled(False, False)
    item = pg.ImageItem()
    vb.addItem(item)
    return label, vb, item


UNIT_HINT = "Hover over a feature map to see a unit's receptive field here."

class ImagePanel(QWidget):
    """Shows ``controller.image`` fitted to the design's input and what ``probe`` points at.

    Signal ``open_requested``: the user asked for a file dialog (the window owns dialogs)."""

    open_requested = Signal()

    def __init__(self, controller: RunController, probe: UnitProbe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imagePanel")
        self.controller, self.probe, self.image = controller, probe, controller.image
        self.box = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(self._header())
        self.preprocess = QLabel()
        self.preprocess.setObjectName("inspectorDoc")
        self.preprocess.setWordWrap(True)
        self.preprocess.setStyleSheet("font-size: 8pt")
        self.preprocess.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        layout.addWidget(self.preprocess)
        layout.addWidget(self._make_graphics(), 1)
        layout.addLayout(self._erf_controls())
        self.unit_text = QLabel(UNIT_HINT)
        self.unit_text.setObjectName("unitText")
        self.unit_text.setWordWrap(True)
        layout.addWidget(self.unit_text)
        self._grey: np.ndarray | None = None
        self.image.changed.connect(self._on_image_change)
        controller.document.changed.connect(self._on_document_change)
        controller.result_changed.connect(self._on_result_change)
        controller.erf_changed.connect(self._on_erf_change)
        probe.changed.connect(self._on_probe_change)
        probe.pinned_changed.connect(self._on_pinned_change)
        self._on_image_change()
        self._on_erf_change()

    def _make_graphics(self) -> pg.GraphicsLayoutWidget:
        """The input with the RF box, and the ERF (inferno, √-scaled) over the dimmed input with its 95% circle."""
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.input_label, self.input_vb, self.input_item = image_view_box("Input (what the network sees)")
        self.erf_label, self.erf_vb, self.erf_base = image_view_box("Effective RF of the clicked unit")
        self._vertical: bool | None = None
        self._arrange(vertical=False)
        self.erf_item = pg.ImageItem()
        self.erf_item.setLookupTable(erf_lookup_table())
        self.erf_item.setZValue(1)
        self.erf_vb.addItem(self.erf_item)
        self.overlay = RFOverlay(self.input_vb)
        self.erf_box = RFOverlay(self.erf_vb)
        self.erf_circle = QGraphicsEllipseItem()
        self.erf_circle.setPen(_pen("#4fc3f7", 2))
        self.erf_circle.setZValue(20)
        self.erf_vb.addItem(self.erf_circle, ignoreBounds=True)
        return self.graphics

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open a PNG, JPEG or BMP image (or drop one on the window)")
        self.open_button.clicked.connect(self.open_requested)
        self.sample_button = QPushButton("Sample")
        self.sample_button.setToolTip("Use the built-in sample scene")
        self.sample_button.clicked.connect(self.image.use_sample)
        self.mode = QComboBox()
        self.mode.setObjectName("fitMode")
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(10)
        for key, text in FIT_MODES.items():
            self.mode.addItem(text, key)
            self.mode.setItemData(self.mode.count() - 1, FIT_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip("How the image is fitted to the design's input size (remembered)")
        self.mode.currentIndexChanged.connect(self._on_mode_change)
        row.addWidget(QLabel("Fit:"))
        for widget in (self.mode, self.open_button, self.sample_button):
            row.addWidget(widget)
        row.addStretch(1)
        return row

    def _erf_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("ERF weights:"))
        self.erf_group = QButtonGroup(self)
        for k, (text, tip) in enumerate((("Real", "The gradient through the actual weights and image"),
                                         ("Uniform", ("All-ones weights, no nonlinearity (Luo et al. 2016): "
                                                     "the architecture alone")))):
            button = QRadioButton(text)
            button.setToolTip(tip)
            button.setChecked(k == 0)
            self.erf_group.addButton(button, k)
            row.addWidget(button)
        self.erf_group.idToggled.connect(self._on_erf_variant_change)
        self.erf_text = QLabel()
        self.erf_text.setObjectName("erfText")
        self.erf_text.setWordWrap(True)
        self.erf_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.erf_text, 1)
        return row

    @property
    def uniform(self) -> bool:
        return self.erf_group.checkedId() == 1

    # --- the image -------------------------------------------------------------------------------
    def _on_document_change(self) -> None:
        """Only an edit of the input settings changes what the panel shows."""
        if self.controller.document.design.input != self._shown_spec:
            self._on_image_change()

    def _on_image_change(self) -> None:
        spec = self.controller.document.design.input
        self._shown_spec = spec
        result = self.controller.result
        current = result is not None and not self.controller.stale
        shown = result.display if current else self.image.preview(spec)
        self._grey = None
        if shown is None:
            self.input_item.clear()
        else:
            self.input_item.setImage(shown, levels=(0.0, 1.0), autoLevels=False)
            self._grey = 0.25 + 0.5 * (shown.mean(axis=2) if shown.ndim == 3 else shown)
        self.input_vb.setRange(xRange=(0, spec.width), yRange=(0, spec.height), padding=0.02)
        self.erf_vb.setRange(xRange=(0, spec.width), yRange=(0, spec.height), padding=0.02)
        describe = self.image.describe(spec)
        if shown is None:
            describe += " · too large to preview here; a run prepares it in the background"
        self.preprocess.setText(f"<b>{html.escape(self.image.name)}</b>: {html.escape(describe)}")
        self.preprocess.setToolTip(describe.replace(" · ", "\n"))
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(list(FIT_MODES).index(self.image.mode))
        self.mode.blockSignals(False)

    def _arrange(self, vertical: bool) -> None:
        """Input and ERF side by side in a wide panel, one above the other in a tall one."""
        if vertical == self._vertical:
            return
        self._vertical = vertical
        ci = self.graphics.ci
        for item in (self.input_label, self.input_vb, self.erf_label, self.erf_vb):
            if item in ci.items:
                ci.removeItem(item)
        ci.addItem(self.input_label, row=0, col=0)
        ci.addItem(self.input_vb, row=1, col=0)
        ci.addItem(self.erf_label, row=2 if vertical else 0, col=0 if vertical else 1)
        ci.addItem(self.erf_vb, row=3 if vertical else 1, col=0 if vertical else 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        size = self.graphics.size()
        self._arrange(vertical=size.height() > 1.1 * size.width())

    def _on_mode_change(self, index: int) -> None:
        self.image.set_mode(self.mode.itemData(index))

    def open_path(self, path: str) -> None:
        """Read ``path`` in the background; the panel follows when the image changes."""
        self.controller.open_image(path)

    # --- receptive fields ----------------------------------------------------------------------------
    def box_for(self, unit: Unit | None):
        result = self.controller.result
        if unit is None or result is None or unit.layer not in result.rows:
            return None
        spec = result.design.input
        return rf_box(result.rows[unit.layer], unit.y, unit.x, spec.height, spec.width)

    def _on_probe_change(self) -> None:
        unit = self.probe.current
        self.box = self.box_for(unit)
        self.overlay.show(None if self.box is None or self.box.is_global else self.box)
        pinned = self.box_for(self.probe.pinned)
        self.erf_box.show(None if pinned is None or pinned.is_global else pinned)
        if unit is None or self.box is None:
            if self.probe.pinned is None:
                self.unit_text.setText(UNIT_HINT)
            return
        where = f" ({unit.y}, {unit.x})" if unit.y is not None else ""
        channel = f" channel {unit.channel}" if unit.channel is not None else ""
        self.unit_text.setText(f"<b>{unit.layer}</b>{channel}{where}: {describe_box(self.box)}")

    def _on_pinned_change(self) -> None:
        if self.probe.pinned is None:
            self._on_erf_change()
        self._request_erf()

    def _on_erf_variant_change(self, button_id: int, checked: bool) -> None:
        if checked:
            self._request_erf()

    def _request_erf(self) -> None:
        unit = self.probe.pinned
        if unit is None:
            return
        unit_yx = (unit.y, unit.x) if unit.y is not None else None
        self.erf_text.setText("computing…")
        self.controller.request_erf(unit.layer, unit_yx, unit.channel, self.uniform)

    def _on_result_change(self) -> None:
        self._on_image_change()
        self._on_probe_change()
        if self.probe.pinned is not None and self.controller.result is not None \
                and self.probe.pinned.layer in self.controller.result.outputs:
            self._request_erf()
        else:
            self._on_erf_change()

    def _on_erf_change(self) -> None:
        erf = self.controller.erf
        if erf is None or self.probe.pinned is None:  # nothing computed: an empty view, not a grey copy
            self.erf_item.clear()
            self.erf_base.clear()
            self.erf_circle.hide()
            self.erf_text.setText("<span style='color:#6b7280'>Click a feature-map pixel to compute it</span>")
            return
        if self._grey is not None:
            self.erf_base.setImage(self._grey, levels=(0.0, 1.0), autoLevels=False)
        if not erf.erf.map.any():
            self.erf_item.clear()
            self.erf_circle.hide()
            self.erf_text.setText("This unit passes no gradient (a ReLU at zero: no input pixel changes it); "
                                  "pick an active unit or the Uniform variant")
            return
        peak = float(erf.erf.map.max())
        self.erf_item.setImage(np.sqrt(erf.erf.map / peak), levels=(0.0, 1.0), autoLevels=False)
        cy, cx = erf.erf.centre
        r = erf.erf.radius
        self.erf_circle.setRect(cx + 0.5 - r, cy + 0.5 - r, 2 * r, 2 * r)
        self.erf_circle.setVisible(bool(np.isfinite(cx)) and r > 0)
        spec = self.controller.document.design.input
        x_range, y_range = erf_view_range(self.box_for(self.probe.pinned), r, (cy, cx), spec.height, spec.width)
        self.erf_vb.setRange(xRange=x_range, yRange=y_range, padding=0)
        kind = "uniform" if erf.uniform else "real weights"
        theory = ""
        pinned = self.box_for(self.probe.pinned)
        if pinned is not None and not pinned.is_global:
            theory = f" · theoretical {pinned.size[0]:g}×{pinned.size[1]:g}"
        self.erf_text.setText(f"<span style='color:{QColor(BOX_COLOR).darker(130).name()}'>ERF: 95% within "
                              f"radius <b>{r:.1f}</b> px</span>{theory}")
        self.erf_text.setToolTip(f"Effective receptive field ({kind} weights), shown √-scaled over the dimmed input")
        self.erf_item.setToolTip("|∂unit/∂input| summed over channels, normalised; the blue circle holds 95%")
