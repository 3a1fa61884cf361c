"""Kernel preset picker for Conv2d layers: random He-normal weights, one hand-made kernel for every
output channel, or one per channel (saved in the design as ``"init": {"preset": [...]}``), each with
a small preview of the kernel (blue negative, white zero, red positive)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...backend.presets import PRESETS, preset_kernel
from ...core import Layer
from ..document.document import DesignDocument

RANDOM, SAME, PER_CHANNEL = "random", "same", "per_channel"
MODES = {RANDOM: "Random (He-normal, seeded)", SAME: "One preset for every channel", PER_CHANNEL: "A preset per channel"}
MAX_PER_CHANNEL = 16
PREVIEW_PX = 48


def kernel_pixmap(kernel: np.ndarray, size: int = PREVIEW_PX) -> QPixmap:
    """A diverging-colour picture of a ``[k, k]`` kernel, each weight one square cell."""
    a = max(float(np.abs(kernel).max()), 1e-12)
    t = np.clip(kernel / a, -1, 1)[..., None]
    white, red, blue = np.array([255, 255, 255.0]), np.array([214, 39, 40.0]), np.array([31, 119, 180.0])
    rgb = np.where(t >= 0, white + t * (red - white), white - t * (blue - white)).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


def preset_names(layer: Layer) -> list[str]:
    init = layer.hp.get("init")
    names = init["preset"] if init else []
    return [names] if isinstance(names, str) else list(names)


class PresetRow(QWidget):
    """One preset combo with its preview."""

    def __init__(self, on_change, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.addItems(list(PRESETS))
        self.combo.activated.connect(lambda _: on_change())
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_PX, PREVIEW_PX)
        row.addWidget(self.combo, 1)
        row.addWidget(self.preview)

    def set(self, name: str, k: int) -> str | None:
        """Show preset ``name`` at size ``k``; returns the problem (blank preview) when it has none."""
        self.combo.blockSignals(True)
        if self.combo.findText(name) < 0:
            self.combo.setCurrentIndex(-1)
        else:
            self.combo.setCurrentText(name)
        self.combo.blockSignals(False)
        try:
            kernel = preset_kernel(name, k)
        except ValueError as exc:
            self.preview.clear()
            self.preview.setToolTip(str(exc))
            return str(exc)
        self.preview.setPixmap(kernel_pixmap(kernel))
        self.preview.setToolTip("\n".join("  ".join(f"{v:+.2f}" for v in row) for row in kernel))
        return None


class KernelPresetPicker(QGroupBox):
    """Edits the selected Conv2d's ``init`` through the document (undoable)."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__("Kernel initialisation", parent)
        self.setObjectName("kernelPresets")
        self.document = document
        self.layer: Layer | None = None
        layout = QVBoxLayout(self)
        self.mode = QComboBox()
        self.mode.setObjectName("presetMode")
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(12)
        for key, text in MODES.items():
            self.mode.addItem(text, key)
        self.mode.activated.connect(self._on_mode_change)
        layout.addWidget(self.mode)
        self.note = QLabel()
        self.note.setObjectName("inspectorDoc")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.rows: list[PresetRow] = []

    def show_layer(self, layer: Layer) -> None:
        self.layer = layer
        names = preset_names(layer)
        k, c_out = layer.hp["kernel_size"], layer.hp["out_channels"]
        usable = k[0] == k[1] and k[0] % 2 == 1
        mode = RANDOM if not names else (SAME if len(names) == 1 else PER_CHANNEL)
        self.mode.setCurrentIndex(list(MODES).index(mode))
        self.mode.setEnabled(usable)
        model = self.mode.model()
        model.item(2).setEnabled(c_out <= MAX_PER_CHANNEL)
        self.note.setText("Presets need a square, odd kernel." if not usable else
                          "Hand-made kernels act on the mean of the input channels; re-run (F5) to see them."
                          if names else "Pick a preset to replace the random weights with a known filter "
                                        "(try vertical_line and horizontal_line on a 7×7 conv).")
        count = 0 if mode == RANDOM else (1 if mode == SAME else c_out)
        self._rows(count, mode)
        problems = [row.set(names[i] if i < len(names) else names[-1], k[0]) for i, row in enumerate(self.rows)]
        problem = next((p for p in problems if p), None)
        if problem:
            self.note.setText(f"No preview: {problem}. Pick another preset or kernel size.")

    def _rows(self, count: int, mode: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.rows = [PresetRow(self._on_preset_change) for _ in range(count)]
        for i, row in enumerate(self.rows):
            self.form.addRow("all" if mode == SAME else f"ch {i}", row)

    def _write(self, names: list[str] | None) -> None:
        if self.layer is not None:
            self.document.set_params(self.layer.name, init=None if not names else {"preset": names})

    def _on_mode_change(self, index: int) -> None:
        mode = self.mode.itemData(index)
        current = preset_names(self.layer) or ["vertical_line"]
        c_out = self.layer.hp["out_channels"]
        if mode == RANDOM:
            self._write(None)
        elif mode == SAME:
            self._write([current[0]])
        else:
            cycle = current if len(current) > 1 else ["vertical_line", "horizontal_line"]
            self._write([cycle[i % len(cycle)] for i in range(c_out)])

    def _on_preset_change(self) -> None:
        self._write([row.combo.currentText() for row in self.rows])
