"""Everything "Run and see" adds to the main window: the run controller, its docks (feature maps,
input and receptive fields, profile, dilation coverage), the progress readout, and the
Image / Run / Weights menus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolBar,
    QWidget,
)

from .coverage_view import CoverageView
from .feature_maps import FeatureMapView
from .image_panel import ImagePanel
from .image_source import IMAGE_SUFFIXES, InputImage
from .profile_view import ProfileView
from .rf_overlay import UnitProbe, unit_fits
from .run_controller import RunController

if TYPE_CHECKING:
    from .main_window import MainWindow

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"
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


class RunPanels:
    """Creates and wires the run features into ``window`` (called from ``MainWindow.__init__``)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.image = InputImage(window)
        self.controller = RunController(window.document, self.image, window)
        self.probe = UnitProbe(window)
        self.maps = FeatureMapView(self.controller, window.document, self.probe)
        self.input_panel = ImagePanel(self.controller, self.probe)
        self.profile = ProfileView(window.document, self.controller)
        self.coverage = CoverageView(window.document)
        self.progress = RunProgress(self.controller)
        self.input_panel.open_requested.connect(self.open_image)
        self.controller.message.connect(lambda text: window.statusBar().showMessage(text, 6000))
        self.controller.result_changed.connect(self._on_result_change)
        window.document.changed.connect(self._drop_stale_probe)

    def add_docks(self) -> None:
        w = self.window
        # Bottom row: Summary (tabbed with Profile and Coverage) | Feature maps | Input and receptive
        # field, so the canvas keeps most of the width between the palette and the inspector.
        maps = w._dock("Feature maps", "featureMapsDock", self.maps, Area.BottomDockWidgetArea)
        inputs = w._dock("Input and receptive field", "inputDock", self.input_panel, Area.BottomDockWidgetArea)
        w.splitDockWidget(w.docks[2], maps, Qt.Orientation.Horizontal)
        w.splitDockWidget(maps, inputs, Qt.Orientation.Horizontal)
        profile = w._dock("Profile", "profileDock", self.profile, Area.BottomDockWidgetArea)
        coverage = w._dock("Dilation coverage", "coverageDock", self.coverage, Area.BottomDockWidgetArea)
        w.tabifyDockWidget(w.docks[2], profile)
        w.tabifyDockWidget(profile, coverage)
        profile.visibilityChanged.connect(self.profile.deferred.on_visibility_change)
        coverage.visibilityChanged.connect(self.coverage.deferred.on_visibility_change)
        w.docks[2].raise_()
        self.docks = {"maps": maps, "input": inputs, "profile": profile, "coverage": coverage}
        w.docks += list(self.docks.values())
        w.statusBar().addWidget(self.progress)
        w.inspector.layer_page.coverage_requested.connect(self.show_coverage)

    def sizes(self) -> None:
        w = self.window
        width, height = w.width(), w.height()
        w.resizeDocks([w.docks[0], w.docks[1]], [230, 340], Qt.Orientation.Horizontal)
        w.resizeDocks([w.docks[2], self.docks["maps"], self.docks["input"]],
                      [int(width * 0.34), int(width * 0.36), int(width * 0.30)], Qt.Orientation.Horizontal)
        w.resizeDocks([w.docks[2]], [int(height * 0.42)], Qt.Orientation.Vertical)

    # --- menus ----------------------------------------------------------------------------------------
    def add_menus(self, actions) -> None:
        sp, c = QStyle.StandardPixmap, self.controller
        menu = self.window.menuBar().addMenu("&Run")
        run = actions.add("run_sample", "&Run", c.run, "F5", sp.SP_MediaPlay)
        run.setToolTip("Run the design on the input image (F5); only layers changed since the last run recompute")
        cancel = actions.add("cancel_run", "&Cancel Run", c.cancel, "Ctrl+.", sp.SP_MediaStop)
        cancel.setIconText("Cancel")
        auto = actions.add("auto_run", "&Auto-run After Each Edit", lambda: None, icon=sp.SP_BrowserReload)
        auto.setIconText("Auto-run")
        auto.setToolTip("Rerun the changed layers after every edit")
        auto.setCheckable(True)
        auto.toggled.connect(c.set_auto_run)
        menu.addActions([run, cancel, auto])
        image = self.window.menuBar().addMenu("&Image")
        image.addAction(actions.add("open_image", "&Open Image…", self.open_image, "Ctrl+I", sp.SP_DirOpenIcon))
        image.addAction(actions.add("sample_image", "Use &Sample Image", self.image.use_sample))
        weights = self.window.menuBar().addMenu("&Weights")
        weights.addAction(actions.add("reseed", "&Re-seed…", self.reseed))
        weights.addAction(actions.add("load_weights", "&Load Weights (.npz)…", self.load_weights))
        weights.addAction(actions.add("save_weights", "&Save Weights (.npz)…", self.save_weights))
        weights.addSeparator()
        note = weights.addAction("Kernel presets: select a Conv2d layer, see the Inspector")
        note.setEnabled(False)
        c.state_changed.connect(self._on_state_change)
        self._on_state_change()

    def add_toolbar(self, bar: QToolBar, actions) -> None:
        bar.addSeparator()
        for name in ("open_image", "run_sample", "cancel_run", "auto_run"):
            bar.addAction(actions.by_name[name])

    def _on_state_change(self) -> None:
        by_name = self.window.actions_.by_name if hasattr(self.window, "actions_") else None
        if by_name and "cancel_run" in by_name:
            by_name["cancel_run"].setEnabled(self.controller.running)

    # --- commands ---------------------------------------------------------------------------------------
    def open_image(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open image", "", IMAGE_FILTER)
        if path and self.input_panel.open_path(path):
            self.window.statusBar().showMessage(f"Input image: {path}", 4000)

    def reseed(self, seed: int | None = None) -> None:
        if seed is None:
            seed, ok = QInputDialog.getInt(self.window, "Re-seed weights", "Seed for the He-normal weights:",
                                           self.controller.seed + 1, 0, 2**31 - 1)
            if not ok:
                return
        self.controller.reseed(seed)

    def load_weights(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Load weights", "", "NumPy weights (*.npz)")
        if path:
            self.controller.load_weights(path)

    def save_weights(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Save weights", "weights.npz", "NumPy weights (*.npz)")
        if path:
            self.controller.save_weights(path)

    def show_coverage(self, layer: str) -> None:
        self.coverage.show_layer(layer)
        self.docks["coverage"].show()
        self.docks["coverage"].raise_()

    def _on_result_change(self) -> None:
        self._drop_stale_probe()
        self.window.summary.model.set_timings(self.controller.timings)

    def _drop_stale_probe(self) -> None:
        """Unpin (and unhover) a unit whose layer is gone, has no output or no longer holds the unit
        (the input shrank, channels were removed, the layer was deleted or renamed)."""
        row = self.window.document.row(self.probe.pinned.layer) if self.probe.pinned else None
        result = self.controller.result
        shapes = [row.output_shape if row else None]
        if result is not None and not self.controller.stale and self.probe.pinned is not None:
            out = result.outputs.get(self.probe.pinned.layer)
            shapes.append(None if out is None else out.shape)
        if self.probe.pinned is not None and not all(unit_fits(self.probe.pinned, s) for s in shapes):
            self.probe.pin(None)
        hovered = self.probe.hovered
        if hovered is not None:
            row = self.window.document.row(hovered.layer)
            if not unit_fits(hovered, row.output_shape if row else None):
                self.probe.hover(None)

