"""``featureMapView``: the selected layer's output after a run.

Maps ``[C, H, W]`` as a paged grid of channels with one colour scale (layer-wide, or each channel
stretched to its own min…max), a colormap choice, click a channel to enlarge it with its histogram
and statistics; vectors ``[F]`` as bars with the top-k. Hovering or clicking a pixel writes the unit
into the ``UnitProbe`` so the input panel can draw its receptive field.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.spec import fmt_shape
from ..document.document import DesignDocument
from ..image_export import export_png
from .channel_detail import ChannelDetail, VectorView
from .controller import RunController
from .feature_grid import COLORMAPS, DIVERGING, MapGrid, colormap, page_size
from .rf_overlay import Unit, UnitProbe

SCALES = {"layer": "Layer scale", "local": "Per-channel"}


def scaled(maps: np.ndarray, mode: str, diverging: bool) -> tuple[np.ndarray, tuple[float, float], str]:
    """Maps for display, their colour levels and the colour bar's label."""
    if mode == "layer":
        lo, hi = float(maps.min()), float(maps.max())
        if diverging:
            a = max(abs(lo), abs(hi), 1e-12)
            return maps, (-a, a), "value (layer, symmetric)"
        return maps, (lo, hi if hi > lo else lo + 1e-6), "value (whole layer)"
    flat = maps.reshape(len(maps), -1)
    if diverging:
        a = np.maximum(np.abs(flat).max(axis=1), 1e-12)[:, None, None]
        return maps / a, (-1.0, 1.0), "per channel: −max|x| … +max|x|"
    lo = flat.min(axis=1)[:, None, None]
    span = np.maximum(flat.max(axis=1)[:, None, None] - lo, 1e-12)
    return (maps - lo) / span, (0.0, 1.0), "per channel: min … max"


class FeatureMapView(QWidget):
    """Follows ``document.selected`` and ``controller.result``; writes hovered/clicked units to ``probe``."""

    def __init__(self, controller: RunController, document: DesignDocument, probe: UnitProbe,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapView")
        self.controller, self.document, self.probe = controller, document, probe
        self.layer: str | None = None
        self.page = 0
        self.detail: int | None = None  # enlarged channel
        self._page_size = 0
        self.scale_mode, self.cmap_name = "layer", "Viridis"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        controls = self._controls()
        layout.addWidget(self.title)
        layout.addLayout(controls)
        self.banner = QLabel()
        self.banner.setObjectName("staleBanner")
        self.banner.setStyleSheet("background:#fff3d6; color:#8a5a00; padding:3px 6px; border-radius:4px")
        self.banner.setWordWrap(True)
        layout.addWidget(self.banner)
        layout.addWidget(self._make_stack(), 1)
        self.readout = QLabel(" ")
        self.readout.setObjectName("mapReadout")
        layout.addWidget(self.readout)
        self._connect(controller, document, probe)
        self.refresh()

    def _make_stack(self) -> QStackedWidget:
        """Empty text | grid of maps | one enlarged channel | bars of a vector."""
        self.stack = QStackedWidget()
        self.empty = QLabel()
        self.empty.setObjectName("mapsEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color:#6b7280; font-size:11pt; padding:24px")
        self.grid = MapGrid()
        self.channel_view = ChannelDetail()
        self.vector = VectorView()
        for widget in (self.empty, self.grid, self.channel_view, self.vector):
            self.stack.addWidget(widget)
        return self.stack

    def _connect(self, controller: RunController, document: DesignDocument, probe: UnitProbe) -> None:
        self.grid.hovered.connect(self._on_grid_hover)
        self.grid.clicked.connect(self._on_grid_click)
        self.channel_view.hovered.connect(self._on_detail_hover)
        self.channel_view.clicked.connect(self._on_detail_click)
        self.channel_view.back.connect(self._on_back)
        self.channel_view.step.connect(self._on_step)
        self.vector.clicked.connect(self._on_vector_click)
        controller.result_changed.connect(self.refresh)
        controller.state_changed.connect(self._on_state_change)
        document.selection_changed.connect(self.refresh)
        probe.pinned_changed.connect(self._on_pinned_change)

    def _controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("mapsTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scale = QComboBox()
        self.scale.setObjectName("mapScale")
        for key, text in SCALES.items():
            self.scale.addItem(text, key)
        self.scale.setToolTip("Layer-wide: one colour scale for every channel, so strong and weak channels "
                              "compare.\nPer-channel: each map stretched to its own min…max, to see its pattern.")
        self.scale.currentIndexChanged.connect(self._on_scale_change)
        self.cmap = QComboBox()
        self.cmap.setObjectName("mapColormap")
        self.cmap.addItems(list(COLORMAPS))
        self.cmap.currentTextChanged.connect(self._on_cmap_change)
        self.prev_page, self.next_page = QPushButton("‹"), QPushButton("›")
        self.page_label = QLabel()
        for button, delta in ((self.prev_page, -1), (self.next_page, 1)):
            button.setFixedWidth(26)
            button.clicked.connect(lambda _=False, d=delta: self._on_page_change(self.page + d))
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save what is shown as a PNG (right-click a map for more export formats)")
        self.export_button.clicked.connect(self._on_export_click)
        row.addStretch(1)
        for widget in (self.prev_page, self.page_label, self.next_page, self.scale, self.cmap, self.export_button):
            row.addWidget(widget)
        return row

    # --- what to show -------------------------------------------------------------------------------
    def output(self) -> np.ndarray | None:
        result = self.controller.result
        if result is None or self.layer is None:
            return None
        return result.outputs.get(self.layer)

    def refresh(self) -> None:
        if self.document.selected != self.layer:
            self.layer, self.page, self.detail = self.document.selected, 0, None
        out = self.output()
        self._on_state_change()
        for combo in (self.scale, self.cmap):  # colour settings mean nothing for a 1-D output's bars
            combo.setVisible(out is not None and out.ndim != 1)
        self.export_button.setVisible(out is not None)
        if out is None:
            self._show_empty()
        elif out.ndim == 1:
            self._show_vector(out)
        elif self.detail is not None and self.detail < out.shape[0]:
            self._show_detail(out)
        else:
            self.detail = None
            self._show_grid(out)

    def empty_text(self) -> str:
        """What the empty pane says: why nothing is shown and what to do."""
        c = self.controller
        if c.blocked:
            return f"<b>Not run</b>: {c.blocked}.<br><br>The design stays editable: change the input size."
        if c.running:
            return f"Running “{c.image.name}” through the network…"
        if c.busy:
            return f"{c.job_label}…"
        if self.layer is not None and self.layer in c.not_run:
            return f"<b>{self.layer}</b>: {c.not_run[self.layer]}."
        if c.result is None:
            return (f"Press <b>F5</b> (Run) to run the design on “{c.image.name}” and see each layer's feature "
                    "maps here.<br><br>Turn on <b>Auto-run</b> to rerun after every edit.")
        if self.layer is None:
            return "Select a layer on the canvas or in the layer list to see its output."
        return f"No output for <b>{self.layer}</b> yet — run again (F5)."

    def _show_empty(self) -> None:
        self.empty.setText(self.empty_text())
        self.title.setText("<b>Feature maps</b>")
        self._set_paging(0, 0)
        self.stack.setCurrentWidget(self.empty)

    def page_size(self, out: np.ndarray) -> int:
        """Maps per page for the pane's current size (tiles grow with the space)."""
        area = self.stack.size()
        return page_size((max(area.height(), 120), max(area.width(), 160)), out.shape[1:])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        out = self.output()
        if out is not None and out.ndim == 3 and self.detail is None and self._page_size != self.page_size(out):
            self.refresh()

    def _show_grid(self, out: np.ndarray) -> None:
        n = out.shape[0]
        size = self._page_size = self.page_size(out)
        pages = -(-n // size)
        self.page = min(self.page, pages - 1)
        first = self.page * size
        channels = list(range(first, min(first + size, n)))
        diverging = COLORMAPS[self.cmap_name] in DIVERGING
        if self.scale_mode == "layer":
            data, levels, label = scaled(out, "layer", diverging)
            data = data[first:first + size]
        else:
            data, levels, label = scaled(out[first:first + size], "local", diverging)
        flat = out[first:first + size].reshape(len(channels), -1)
        dead = list(~flat.any(axis=1))
        self.grid.show_maps(data, channels, levels, colormap(self.cmap_name), label, dead)
        self.title.setText(f"<b>{self.layer}</b> · {fmt_shape(out.shape)} · {sum(dead)} dead of {len(channels)}"
                           if any(dead) else f"<b>{self.layer}</b> · {fmt_shape(out.shape)}")
        self._set_paging(pages, n, channels)
        self.stack.setCurrentWidget(self.grid)

    def _show_detail(self, out: np.ndarray) -> None:
        c = self.detail
        self.channel_view.show_channel(out[c], c, out.shape[0], colormap(self.cmap_name),
                                       self._detail_levels(out, c), self.layer)
        pinned = self.probe.pinned
        same = pinned is not None and pinned.layer == self.layer and pinned.channel == c
        self.channel_view.mark(pinned.y if same else None, pinned.x if same else None)
        self.title.setText(f"<b>{self.layer}</b> · {fmt_shape(out.shape)}")
        self._set_paging(0, 0)
        self.stack.setCurrentWidget(self.channel_view)

    def _detail_levels(self, out: np.ndarray, c: int) -> tuple[float, float]:
        """The enlarged channel shows raw values; its levels follow the chosen scale."""
        diverging = COLORMAPS[self.cmap_name] in DIVERGING
        if self.scale_mode == "layer":
            return scaled(out, "layer", diverging)[1]
        m = out[c]
        if diverging:
            a = max(float(np.abs(m).max()), 1e-12)
            return -a, a
        lo, hi = float(m.min()), float(m.max())
        return lo, hi if hi > lo else lo + 1e-6

    def _show_vector(self, out: np.ndarray) -> None:
        self.vector.show_vector(out, self.layer)
        self.title.setText(f"<b>{self.layer}</b> · {fmt_shape(out.shape)}")
        self._set_paging(0, 0)
        self.stack.setCurrentWidget(self.vector)

    def _set_paging(self, pages: int, n: int, channels: list[int] | None = None) -> None:
        for widget in (self.prev_page, self.next_page, self.page_label):
            widget.setVisible(pages > 1)
        self.prev_page.setEnabled(self.page > 0)
        self.next_page.setEnabled(self.page < pages - 1)
        if channels:
            self.page_label.setText(f"ch {channels[0]}–{channels[-1]} of {n}")

    def _on_state_change(self) -> None:
        c = self.controller
        if self.stack.currentWidget() is self.empty:
            self.empty.setText(self.empty_text())
        stale = c.stale and self.output() is not None
        self.banner.setVisible(stale)
        if stale:
            self.banner.setText("⚠ These maps are from before your last change — " + self._rerun_advice())

    def _rerun_advice(self) -> str:
        error = self.document.first_error
        if error is not None:
            return f"fix the error in {'the input' if error == 'input' else error} to run again"
        if self.controller.auto_run:
            return "running again…" if self.controller.busy else "Auto-run will run again shortly"
        return "press F5 to run again (or turn on Auto-run)"

    # --- user input ------------------------------------------------------------------------------------
    def _on_scale_change(self, index: int) -> None:
        self.scale_mode = self.scale.itemData(index)
        self.refresh()

    def _on_cmap_change(self, name: str) -> None:
        self.cmap_name = name
        self.refresh()

    def _on_page_change(self, page: int) -> None:
        self.page = max(page, 0)
        self.refresh()

    def _value_text(self, channel: int, y: int, x: int) -> str:
        out = self.output()
        return f"channel {channel} at (y={y}, x={x}) = <b>{out[channel, y, x]:.4g}</b>"

    def _on_grid_hover(self, channel: int, y: int, x: int) -> None:
        if channel < 0 or self.layer is None:
            self.probe.hover(None)
            self.readout.setText("Hover: receptive field on the input · click: enlarge and compute the effective RF")
            return
        self.probe.hover(Unit(self.layer, channel, y, x))
        self.readout.setText(self._value_text(channel, y, x))

    def _on_grid_click(self, channel: int, y: int, x: int) -> None:
        self.detail = channel
        self.probe.pin(Unit(self.layer, channel, y, x))
        self.refresh()

    def _on_detail_hover(self, y: int, x: int) -> None:
        self._on_grid_hover(self.detail if y >= 0 else -1, y, x)

    def _on_detail_click(self, y: int, x: int) -> None:
        self.probe.pin(Unit(self.layer, self.detail, y, x))

    def _on_pinned_change(self) -> None:
        pinned = self.probe.pinned
        if self.detail is not None and pinned is not None and pinned.channel == self.detail:
            self.channel_view.mark(pinned.y, pinned.x)

    def _on_back(self) -> None:
        self.detail = None
        self.refresh()

    def _on_step(self, delta: int) -> None:
        out = self.output()
        if out is not None and self.detail is not None:
            self.detail = int(np.clip(self.detail + delta, 0, out.shape[0] - 1))
            self.refresh()

    def _on_vector_click(self, index: int) -> None:
        self.probe.pin(Unit(self.layer, index))

    # --- export --------------------------------------------------------------------------------------------
    def current_scene_item(self):
        widget = self.stack.currentWidget()
        if widget is self.grid:
            return self.grid.scene()
        if widget is self.channel_view:
            return self.channel_view.graphics.scene()
        if widget is self.vector:
            return self.vector.plot.plotItem
        return None

    def export_png(self, path: str) -> bool:
        """Write what is shown to ``path``; a failure is reported through the controller's message."""
        item = self.current_scene_item()
        if item is None:
            return False
        problem = export_png(item, path, min_width=1200)
        if problem:
            self.controller.message.emit(problem)
        return problem is None

    def _on_export_click(self) -> None:
        name = f"{self.layer or 'maps'}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export feature maps", name, "PNG images (*.png)")
        if path:
            self.export_png(path)
