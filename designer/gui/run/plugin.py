"""Everything "Run and see" adds to the main window: the Run workspace (feature maps in the centre,
a layer list, the input with receptive fields, profile and dilation coverage) and the progress
readout. ``install(window)`` is one of the window's plugins; the run actions themselves are
registered with the other actions (``window/actions.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from ..document.document import DesignDocument
from ..window.workspaces import arrange_anchors
from .controller import RunController
from .coverage import CoverageView
from .feature_maps import FeatureMapView
from .image_panel import ImagePanel
from .layer_list import LayerList
from .profile import ProfileView
from .rf_overlay import UnitProbe, unit_fits

if TYPE_CHECKING:
    from ..window.main_window import MainWindow


Area = Qt.DockWidgetArea


class RunProgress(QWidget):
    """Status-bar readout: "layer i/n · name" with a progress bar and a Cancel button."""

    def __init__(self, controller: RunController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setObjectName("runProgress")
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("cancelRun")
        self.cancel.clicked.connect(controller.cancel)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        controller.progress.connect(self._on_progress_change)
        controller.state_changed.connect(self._on_state_change)
        self._on_state_change()

    def _on_progress_change(self, i: int, n: int, name: str) -> None:
        self.bar.setRange(0, max(n, 1))
        self.bar.setValue(i)
        self.bar.setFormat(f"layer {min(i + 1, n)}/{n} · {name}" if name else f"{n}/{n} done")

    def _on_state_change(self) -> None:
        self.setVisible(self.controller.busy)
        if self.controller.busy and not self.controller.running:
            self.bar.setRange(0, 0)
            self.bar.setFormat(self.controller.job_label)


def install(w: MainWindow) -> None:
    """Create the run panels with their models and register them with ``w``."""
    w.maps = FeatureMapView(w.run, w.document, w.probe)
    w.layers = LayerList(w.document, w.run)
    w.input_panel = ImagePanel(w.run, w.probe)
    w.profile = ProfileView(w.document, w.run)
    w.coverage = CoverageView(w.document, w.run)
    w.progress = RunProgress(w.run)
    w.workspaces.add("run", "R&un", w.maps, arrange_run)
    w.add_dock("layers", "Network", w.layers, Area.LeftDockWidgetArea, ("run",))
    w.add_dock("input", "Input and receptive field", w.input_panel, Area.RightDockWidgetArea, ("run",))
    w.add_dock("profile", "Profile", w.profile, Area.BottomDockWidgetArea, ("run",))
    w.add_dock("coverage", "Dilation coverage", w.coverage, Area.BottomDockWidgetArea, ("design", "run"))
    for name, view in (("profile", w.profile), ("coverage", w.coverage)):
        w.docks[name].visibilityChanged.connect(view.deferred.on_visibility_change)
    w.statusBar().addWidget(w.progress)
    w.input_panel.open_requested.connect(w.open_image)
    w.inspector.coverage_requested.connect(lambda layer: _show_coverage(w, layer))
    w.probe_keeper = ProbeKeeper(w.probe, w.document, w.run)  # kept by the window: signals hold no reference
    w.run.result_changed.connect(w.probe_keeper.drop_stale)
    w.document.changed.connect(w.probe_keeper.drop_stale)


def arrange_run(w: MainWindow) -> None:
    """Layer list | feature maps | input and receptive fields, profile and coverage below the maps."""
    arrange_anchors(w, "run", {Area.LeftDockWidgetArea: "layers", Area.RightDockWidgetArea: "input",
                               Area.BottomDockWidgetArea: "profile"})
    width, height = w.width(), w.height()
    w.resizeDocks([w.docks["layers"], w.docks["input"]],
                  [max(170, min(240, int(width * 0.14))), max(300, int(width * 0.32))], Qt.Orientation.Horizontal)
    w.resizeDocks([w.docks["profile"]], [max(150, int(height * 0.22))], Qt.Orientation.Vertical)


def _show_coverage(w: MainWindow, layer: str) -> None:
    w.coverage.show_layer(layer)
    w.show_dock("coverage")


class ProbeKeeper:
    """Unpins (and unhovers) a unit whose layer is gone, has no output or no longer holds the unit (the
    input shrank, channels were removed, the layer was deleted or renamed)."""

    def __init__(self, probe: UnitProbe, document: DesignDocument, controller: RunController) -> None:
        self.probe, self.document, self.controller = probe, document, controller

    def drop_stale(self) -> None:
        pinned = self.probe.pinned
        if pinned is not None:
            row = self.document.row(pinned.layer)
            shapes = [row.output_shape if row else None]
            result = self.controller.result
            if result is not None and not self.controller.stale:
                out = result.outputs.get(pinned.layer)
                shapes.append(None if out is None else out.shape)
            if not all(unit_fits(pinned, s) for s in shapes):
                self.probe.pin(None)
        hovered = self.probe.hovered
        if hovered is not None:
            row = self.document.row(hovered.layer)
            if not unit_fits(hovered, row.output_shape if row else None):
                self.probe.hover(None)
