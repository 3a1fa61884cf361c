"""The image the design runs on: the built-in sample or a file, and how it is fitted to the input.

``InputImage`` is a small model (no widgets): the image panel shows it, the run controller reads
it. Preparation itself is the backend's (:mod:`designer.backend.images`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal

from ...backend import images
from ...backend.sample_image import sample_image
from ...core import InputSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
FIT_MODES = {"crop": "Centre-crop", "letterbox": "Letterbox", "resize": "Stretch"}
FIT_TIPS = {"crop": "Scale the image to cover the input, then cut the middle (keeps proportions, loses the edges)",
            "letterbox": "Scale the whole image into the input and pad with grey bars (keeps proportions and edges)",
            "resize": "Resize to the input's height and width (a 300×200 photo gets squeezed)"}
DEFAULT_FIT = "crop"
SAMPLE_NAME = "Built-in sample scene"
PREVIEW_LIMIT = 2048  # the panel previews inputs up to this size per side before any run


def letterboxed(rgb: np.ndarray, height: int, width: int, fill: float = 0.5) -> np.ndarray:
    """``rgb [3, h, w]`` padded with grey to the aspect ratio ``height : width`` (centred), so resizing
    it afterwards keeps the picture's proportions: pad rows when h/w < H/W, else columns."""
    _, h, w = rgb.shape
    if h * width == w * height:
        return rgb
    if h * width < w * height:  # too wide: add rows
        new_h, new_w = -(-w * height // width), w
    else:
        new_h, new_w = h, -(-h * width // height)
    out = np.full((rgb.shape[0], new_h, new_w), fill, dtype=rgb.dtype)
    top, left = (new_h - h) // 2, (new_w - w) // 2
    out[:, top:top + h, left:left + w] = rgb
    return out


def prepare_input(rgb: np.ndarray, spec: InputSpec, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """The normalised network input ``[C, H, W]`` and the fitted picture for display (``[H, W, 3]`` or
    ``[H, W]`` in ``[0, 1]``); runs on the worker thread (a large image takes a while)."""
    if mode == "letterbox":
        rgb, mode = letterboxed(rgb, spec.height, spec.width), "resize"
    x = images.prepare(rgb, spec, mode)
    shown = images.fit(images.to_channels(rgb, spec.channels), spec.height, spec.width, mode)
    return x, np.clip(shown.transpose(1, 2, 0) if spec.channels == 3 else shown[0], 0.0, 1.0)


def is_image_path(path: str) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


class InputImage(QObject):
    """RGB ``[3, H, W]`` in ``[0, 1]`` with its name and fit mode. Signal: ``changed``."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.rgb: np.ndarray = sample_image()
        self.name = SAMPLE_NAME
        self.path: str | None = None
        saved = settings.value("image/fit") if settings is not None else None
        self.mode = saved if saved in FIT_MODES else DEFAULT_FIT
        self.version = 0  # bumps on every change, so runs know when the input is new

    def use_sample(self) -> None:
        self._set(sample_image(), SAMPLE_NAME, None)

    def open(self, path: str) -> None:
        """Load an image file; raises ``ImageError`` (one line naming the file) and keeps the old one."""
        self.set_file(images.read_rgb(path), path)

    def set_file(self, rgb: np.ndarray, path: str) -> None:
        """Use ``rgb [3, H, W]`` read from ``path`` (the run controller reads files on its worker)."""
        self._set(rgb, Path(path).name, path)

    def set_mode(self, mode: str) -> None:
        if mode not in FIT_MODES:
            raise ValueError(f"fit mode must be one of {', '.join(FIT_MODES)}, got {mode!r}")
        if mode != self.mode:
            self.mode = mode
            if self.settings is not None:
                self.settings.setValue("image/fit", mode)
            self.version += 1
            self.changed.emit()

    def _set(self, rgb: np.ndarray, name: str, path: str | None) -> None:
        self.rgb, self.name, self.path = rgb, name, path
        self.version += 1
        self.changed.emit()

    # --- what the network sees --------------------------------------------------------------------
    def prepare(self, spec: InputSpec) -> np.ndarray:
        """The normalised network input ``[C, H, W]``."""
        return prepare_input(self.rgb, spec, self.mode)[0]

    def fitted(self, spec: InputSpec) -> np.ndarray:
        """The input before normalisation, for display: ``[H, W, 3]`` or ``[H, W]`` in ``[0, 1]``."""
        return prepare_input(self.rgb, spec, self.mode)[1]

    def preview(self, spec: InputSpec) -> np.ndarray | None:
        """``fitted`` when the input is small enough to prepare on the GUI thread, else ``None`` (the run
        prepares it in the worker)."""
        if max(spec.height, spec.width) > PREVIEW_LIMIT or max(self.rgb.shape[1:]) > 4 * PREVIEW_LIMIT:
            return None
        return self.fitted(spec)

    def describe(self, spec: InputSpec) -> str:
        """One line per preprocessing step, for the panel and tooltips."""
        h, w = self.rgb.shape[1:]
        channels = {1: "grayscale (BT.601 luma)", 3: "RGB"}.get(spec.channels,
                                                                 f"luma repeated in {spec.channels} channels")
        fit = {"resize": "stretched", "crop": "scaled to cover and centre-cropped",
               "letterbox": "letterboxed (grey bars) and scaled"}[self.mode]
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
