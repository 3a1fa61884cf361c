"""The questions File › Export and File › Open (ONNX) ask; module-level so tests can answer them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QWidget,
)

MAX_SIDE = 16384  # px: the largest input side the size dialog offers


def ask_save_path(parent: QWidget, title: str, suggested: str, name_filter: str, suffix: str) -> str | None:
    """A save path ending in ``suffix`` (added when the user typed none), or ``None`` when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
    if path and not Path(path).suffix:
        path += suffix
    return path or None


def ask_include_weights(parent: QWidget, weights_name: str) -> bool | None:
    """Whether to write the current weights beside the code (``None``: cancelled)."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Export PyTorch code",
        f"Include the current weights?\n\nThey are written as {weights_name} beside the code, and the module "
        "gets a load_pretrained() helper that reads them.",
        buttons.Yes | buttons.No | buttons.Cancel, buttons.Yes)
    return {buttons.Yes: True, buttons.No: False}.get(answer)


class InputSizeDialog(QDialog):
    """Asks for the input size of a model whose size is dynamic (the channels only when the model leaves
    them open too)."""

    def __init__(self, parent: QWidget | None, model: str, channels: int | None) -> None:
        super().__init__(parent)
        self.setObjectName("onnxInputSize")
        self.setWindowTitle("Input size")
        form = QFormLayout(self)
        form.addRow(QLabel(f"{model} takes images of any size. Open it for this input size:"))
        self.channels = self._spin(channels or 3, 1, 4096, "channels")
        self.height_ = self._spin(224, 1, MAX_SIDE, "height")
        self.width_ = self._spin(224, 1, MAX_SIDE, "width")
        if channels is None:
            form.addRow("Channels", self.channels)
        form.addRow("Height (px)", self.height_)
        form.addRow("Width (px)", self.width_)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    @staticmethod
    def _spin(value: int, low: int, high: int, name: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    def shape(self) -> tuple[int, int, int]:
        return self.channels.value(), self.height_.value(), self.width_.value()


def ask_input_shape(parent: QWidget, model: str, channels: int | None) -> tuple[int, int, int] | None:
    """``(C, H, W)`` for a model with a dynamic input size, or ``None`` when cancelled."""
    dialog = InputSizeDialog(parent, model, channels)
    return dialog.shape() if dialog.exec() == QDialog.DialogCode.Accepted else None
