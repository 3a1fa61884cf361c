"""Tools › Make fully convolutional and Weights › Save in TensorFlow layout.

*Make fully convolutional* converts the current classifier (its Linear layers after a map become
convolutions, :mod:`designer.backend.fully_conv`), runs it on the current image at the design's input size
plus ``5·S`` (``S`` = total stride; VGG-16: 224 + 5·32 = 384 → a 6×6 grid) in a worker thread, checks every
cell against the original network on its crop, and opens the result beside the window (a
:class:`FullyConvView` with both layer lists, and a button that opens the converted design in a new window).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QPushButton, QVBoxLayout

from ...backend.explain.fully_conv_grid import FullyConvGrid, check_cells, fully_conv_grid, total_stride
from ...backend.explain.layouts import save_tensorflow_weights
from ...backend.fully_conv import FullyConvError, to_fully_convolutional
from ...backend.weights import init_weights
from .fully_conv_view import FullyConvView

if TYPE_CHECKING:
    from ..window.main_window import MainWindow

GRID_STEPS = 5  # the larger image is the input size + GRID_STEPS·S: a (GRID_STEPS + 1)² grid


def design_weights(w: MainWindow) -> dict[str, np.ndarray]:
    """All weights of the current design as the run uses them (fresh ones for the run's seed otherwise)."""
    design = w.document.design
    weights = getattr(w.run, "weights", None)
    if weights is None:
        runner = getattr(w.run, "_runner", None)
        weights = runner.weights if runner is not None and runner.design == design else None
    return dict(weights) if weights else init_weights(design, getattr(w.run, "seed", 0))


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(str)
    progress = Signal(int, int)


class FullyConvJob(QObject):
    """Convert, run on the larger image and check every cell, in a worker thread; ``finished(grid, diffs)``."""

    finished = Signal(object, object)
    failed = Signal(str)
    progress = Signal(int, int)

    def __init__(self, design, weights, image: np.ndarray, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.relay = _Relay(self)
        self.relay.done.connect(lambda pair: self.finished.emit(*pair))
        self.relay.failed.connect(self.failed)
        self.relay.progress.connect(self.progress)
        self.thread = threading.Thread(target=self._work, args=(design, weights, image), daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _work(self, design, weights, image) -> None:
        try:
            grid = fully_conv_grid(design, weights, image)
            diffs = check_cells(grid, progress=self.relay.progress.emit)
        except (ValueError, MemoryError) as exc:
            self.relay.failed.emit(str(exc))
            return
        self.relay.done.emit((grid, diffs))


class FullyConvDialog(QDialog):
    """The result beside the main window, with "Open the converted design" in a new window."""

    def __init__(self, w: MainWindow, grid: FullyConvGrid, diffs: np.ndarray) -> None:
        super().__init__(w)
        self.window_, self.grid = w, grid
        self.setWindowTitle(f"{grid.design.name}: fully convolutional on {grid.image.shape[1]}×{grid.image.shape[2]}")
        self.setObjectName("fullyConvDialog")
        self.view = FullyConvView(grid, diffs)
        open_button = QPushButton("Open the converted design in a new window", objectName="openConverted")
        open_button.clicked.connect(self.open_converted)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(open_button, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(1100, 620)

    def open_converted(self):
        """A new main window on the converted design (input at the design's size) with its weights."""
        folder = Path(tempfile.mkdtemp(prefix="cnn-designer-fc-"))
        weights_path = folder / "weights.npz"
        np.savez(weights_path, **self.grid.converted_weights)
        design = self.grid.converted.with_input(height=self.grid.design.input.height,
                                                width=self.grid.design.input.width)
        other = type(self.window_)(design, autosave=False, restore=False)
        other.load_weights(str(weights_path))
        other.show()
        self.window_.extra_windows = [*getattr(self.window_, "extra_windows", []), other]
        return other


def make_fully_convolutional(w: MainWindow) -> FullyConvJob | None:
    """Start the job (see the module docstring); errors go to the window's error prompt."""
    design = w.document.design
    try:
        weights = design_weights(w)
        converted, _ = to_fully_convolutional(design, weights)
    except (FullyConvError, ValueError) as exc:
        w.prompts.error("Make fully convolutional", str(exc))
        return None
    sh, sw = total_stride(converted)
    big = design.with_input(height=design.input.height + GRID_STEPS * sh,
                            width=design.input.width + GRID_STEPS * sw).input
    image = w.image.prepare(big)
    job = FullyConvJob(design, weights, image, w)
    status = w.statusBar()
    job.progress.connect(lambda i, n: status.showMessage(f"Fully convolutional: checked {i}/{n} cells against crops"))
    job.failed.connect(lambda text: w.prompts.error("Make fully convolutional", text))
    job.finished.connect(lambda grid, diffs: _show(w, grid, diffs))
    status.showMessage(f"Fully convolutional: running on {big.height}×{big.width}…")
    w.fully_conv_job = job
    job.start()
    return job


def _show(w: MainWindow, grid: FullyConvGrid, diffs: np.ndarray) -> None:
    dialog = FullyConvDialog(w, grid, diffs)
    w.fully_conv_dialog = dialog
    dialog.show()
    w.statusBar().showMessage(f"Fully convolutional: {grid.scores.shape[1]}×{grid.scores.shape[2]} grid, "
                              f"max difference to the crops {np.nanmax(diffs):.2g}", 10000)


def save_weights_tensorflow(w: MainWindow, path: str | None = None) -> None:
    """Weights › Save in TensorFlow layout: HWIO kernels, ``[in, out]`` dense (see explain/layouts.py)."""
    if path is None:
        path, _ = QFileDialog.getSaveFileName(w, "Save weights in TensorFlow layout", "weights_tf.npz",
                                              "NumPy archive (*.npz)")
    if not path:
        return
    try:
        save_tensorflow_weights(path, w.document.design, design_weights(w))
    except (OSError, ValueError) as exc:
        w.prompts.error("Save weights in TensorFlow layout", f"{path}: {exc}")
        return
    w.statusBar().showMessage(f"Saved weights in TensorFlow layout (HWIO kernels, [in, out] dense) to {path}", 10000)


def register_tools(w: MainWindow) -> None:
    from ..window.actions import MENUS

    menu = "tools" if "tools" in MENUS else "run"
    w.registry.add("make_fully_convolutional", "Make &Fully Convolutional…", lambda: make_fully_convolutional(w),
                   menu, tip="Convert the classifier's Linear layers to convolutions and slide it over a larger "
                             "image: a grid of class scores, each checked against its crop")
    w.registry.add("save_weights_tensorflow", "Save Weights in &TensorFlow Layout (.npz)…",
                   lambda: save_weights_tensorflow(w), "weights", "weights",
                   tip="HWIO conv kernels and [in, out] dense kernels, keyed <layer>/kernel, <layer>/bias")
    w.registry.add("show_arithmetic", "Show Convolution &Arithmetic", lambda: w.show_dock("arithmetic"), "view",
                   "panels")
