"""What "see how it computes" adds to the main window (issue 14): the Arithmetic, Conv matrix, Pooling and
Memory layout panels, Tools › Make fully convolutional and Weights › Save in TensorFlow layout.

``install(window)`` is one of the window's plugins (``main_window.PLUGINS``). ``ArithmeticFeeder`` keeps the
panels' models in step with the selected layer and the last run: the real input of the selected layer (from
the run's outputs) or a toy input the user sizes, with the layer's weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from ...backend.arithmetic_view import arithmetic_kind, layer_input
from ...backend.weights import init_layer
from ..deferred import DeferredRefresh
from .layout_view import MemoryLayoutView
from .matrix_view import ConvMatrixView
from .model import ArithmeticModel, toy_input
from .pooling_view import FeatureMapSource, PoolingView
from .view import ArithmeticView

if TYPE_CHECKING:
    from ..window.main_window import MainWindow

Area = Qt.DockWidgetArea


def runner_weights(controller, layer, in_shape) -> dict[str, np.ndarray]:
    """The weights the run uses for ``layer``: the controller's ``weights`` when it offers them, else the
    layer's fresh weights for the controller's seed (what an un-loaded runner holds)."""
    weights = getattr(controller, "weights", None)
    if weights is None:
        runner = getattr(controller, "_runner", None)
        weights = getattr(runner, "weights", None)
    prefix = f"{layer.name}."
    own = {k: v for k, v in (weights or {}).items() if k.startswith(prefix)}
    return own or init_layer(layer, tuple(in_shape), getattr(controller, "seed", 0))


class ArithmeticFeeder(QObject):
    """Feeds the selected layer (and its input) to the arithmetic model and the map source — at once while one
    of ``views`` is on screen, otherwise when one of them comes into view (a hidden panel costs nothing)."""

    def __init__(self, document, controller, model: ArithmeticModel, source: FeatureMapSource,
                 views: tuple[QWidget, ...] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.controller, self.model, self.source = document, controller, model, source
        self.mode, self.toy_size = "real", 5
        self.watchers = [DeferredRefresh(view, self.refresh) for view in views]
        self.stale = True
        document.selection_changed.connect(self.request)
        document.changed.connect(self.request)
        controller.result_changed.connect(self.request)

    def request(self) -> None:
        """Refresh now if a panel is on screen (or there are none to watch), else when one is shown."""
        if not self.watchers or any(w.on_screen() for w in self.watchers):
            self.refresh()
        else:
            self.stale = True
            for watcher in self.watchers:
                watcher.stale = True

    def on_input_requested(self, mode: str, size: int) -> None:
        self.mode, self.toy_size = mode, size
        self.refresh()

    def real_input(self, name: str) -> np.ndarray | None:
        result = self.controller.result
        if result is None or self.controller.stale or name not in result.outputs:
            return None
        return layer_input(result.ran, result.outputs, result.x, name)

    def refresh(self) -> None:
        self.stale = False
        for watcher in self.watchers:
            watcher.stale = False
        layer = self.document.selected_layer
        row = self.document.row(layer.name) if layer is not None else None
        x = self.real_input(layer.name) if layer is not None else None
        self._feed_source(layer, row, x)
        if layer is None or row is None or row.input_shape is None or arithmetic_kind(layer.type) is None:
            self.model.set_case(layer, None)
            return
        weights = runner_weights(self.controller, layer, row.input_shape) \
            if layer.type in ("Conv2d", "ConvTranspose2d") else {}
        output = None
        if self.mode == "toy" or x is None:
            x, source = toy_input(row.input_shape[0], self.toy_size), "toy input"
        else:
            source, output = "real input", self.controller.result.outputs.get(layer.name)
        self.model.set_case(layer, x, weights, source, output)

    def _feed_source(self, layer, row, x) -> None:
        if layer is None or row is None:
            self.source.set_map(None)
            return
        result = self.controller.result
        out = None if result is None or self.controller.stale else result.outputs.get(layer.name)
        fmap, name = (out, f"{layer.name} output") if out is not None and out.ndim == 3 else (x, f"{layer.name} input")
        weight = None
        if layer.type in ("Conv2d", "ConvTranspose2d") and row.input_shape is not None:
            weight = runner_weights(self.controller, layer, row.input_shape)[f"{layer.name}.weight"].shape
        self.source.set_map(fmap, name, weight)


def install(w: MainWindow) -> None:
    """Create the panels with their models and register them with ``w`` (docks, actions)."""
    from .tools import register_tools

    w.arithmetic_model = ArithmeticModel(w)
    w.map_source = FeatureMapSource(w)
    w.arithmetic = ArithmeticView(w.arithmetic_model)
    w.conv_matrix = ConvMatrixView(w.arithmetic_model)
    w.pooling = PoolingView(w.map_source)
    w.memory_layout = MemoryLayoutView(w.map_source)
    panels = (w.arithmetic, w.conv_matrix, w.pooling, w.memory_layout)
    feeder = ArithmeticFeeder(w.document, w.run, w.arithmetic_model, w.map_source, panels, w)
    w.arithmetic_feeder = feeder
    w.arithmetic.input_requested.connect(feeder.on_input_requested)
    w.add_dock("arithmetic", "Arithmetic", w.arithmetic, Area.RightDockWidgetArea, ("design", "run"))
    w.add_dock("conv_matrix", "Conv as a matrix", w.conv_matrix, Area.BottomDockWidgetArea, ("design", "run"))
    w.add_dock("pooling", "Max vs average pooling", w.pooling, Area.BottomDockWidgetArea, ("run",))
    w.add_dock("memory_layout", "Memory layout", w.memory_layout, Area.BottomDockWidgetArea, ("design", "run"))
    for name, panel in zip(("arithmetic", "conv_matrix", "pooling", "memory_layout"), panels):
        w.docks[name].hide()  # opened from View › panels; the workspaces' default layouts stay as they are
        w.docks[name].visibilityChanged.connect(lambda visible: feeder.stale and visible and feeder.refresh())
    register_tools(w)
