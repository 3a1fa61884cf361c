"""The image the design runs on: the built-in sample or a file, and how it is fitted to the input.

``InputImage`` is a small model (no widgets): the image panel shows it, the run controller reads
it. Preparation itself is the backend's (:mod:`designer.backend.images`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..backend import images
from ..backend.sample_image import sample_image
from ..core import InputSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
FIT_MODES = {"resize": "Resize (bilinear)", "crop": "Scale and centre-crop"}
SAMPLE_NAME = "Built-in sample scene"


def is_image_path(path: str) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


class InputImage(QObject):
    """RGB ``[3, H, W]`` in ``[0, 1]`` with its name and fit mode. Signal: ``changed``."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rgb: np.ndarray = sample_image()
        self.name = SAMPLE_NAME
        self.path: str | None = None
        self.mode = "resize"
        self.version = 0  # bumps on every change, so runs know when the input is new

    def use_sample(self) -> None:
        self._set(sample_image(), SAMPLE_NAME, None)

    def open(self, path: str) -> None:
        """Load an image file; raises ``ImageError`` (one line naming the file) and keeps the old one."""
        self._set(images.read_rgb(path), Path(path).name, path)

    def set_mode(self, mode: str) -> None:
        if mode not in FIT_MODES:
            raise ValueError(f"fit mode must be one of {', '.join(FIT_MODES)}, got {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self.version += 1
            self.changed.emit()

    def _set(self, rgb: np.ndarray, name: str, path: str | None) -> None:
        self.rgb, self.name, self.path = rgb, name, path
        self.version += 1
        self.changed.emit()

    # --- what the network sees --------------------------------------------------------------------
    def prepare(self, spec: InputSpec) -> np.ndarray:
        """The normalised network input ``[C, H, W]``."""
        return images.prepare(self.rgb, spec, self.mode)

    def fitted(self, spec: InputSpec) -> np.ndarray:
        """The input before normalisation, for display: ``[H, W, 3]`` or ``[H, W]`` in ``[0, 1]``."""
        x = images.fit(images.to_channels(self.rgb, spec.channels), spec.height, spec.width, self.mode)
        return np.clip(x.transpose(1, 2, 0) if spec.channels == 3 else x[0], 0.0, 1.0)

    def describe(self, spec: InputSpec) -> str:
        """One line per preprocessing step, for the panel and tooltips."""
        h, w = self.rgb.shape[1:]
        channels = {1: "grayscale (BT.601 luma)", 3: "RGB"}.get(spec.channels,
                                                                 f"luma repeated in {spec.channels} channels")
        fit = "resized" if self.mode == "resize" else "scaled to cover and centre-cropped"
        steps = [f"{w}×{h} → {fit} to {spec.width}×{spec.height}", f"{channels}, scaled to [0, 1]"]
        if spec.mean is not None or spec.std is not None:
            steps.append(f"normalised (x − {_fmt(spec.mean, '0')}) / {_fmt(spec.std, '1')}")
        else:
            steps.append("no mean/std normalisation")
        return " · ".join(steps)


def _fmt(values, default: str) -> str:
    if values is None:
        return default
    values = values if isinstance(values, (list, tuple)) else [values]
    text = ", ".join(f"{v:.3g}" for v in values)
    return f"[{text}]" if len(values) > 1 else text
