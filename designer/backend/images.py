"""Images in and out: PNG/JPEG/BMP through Qt's ``QImage`` (imported lazily; never QtWidgets).

Loading converts to the design's input: channels (grayscale by BT.601 luma
``Y = 0.299 R + 0.587 G + 0.114 B``), size (bilinear resize, or scale-to-cover then centre crop),
values scaled to ``[0, 1]``, then ``(x − mean) / std`` per channel when the design gives them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from designer.core.files import atomic_write_bytes, open_regular

from . import kernels as K
from .sample_image import sample_image

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class ImageError(ValueError):
    """An image that cannot be read or written (one line naming the file)."""


def _qimage() -> Any:
    from PySide6.QtGui import QImage  # lazy: the backend must import without Qt

    return QImage


def _qimage_reader() -> Any:
    from PySide6.QtGui import QImageReader

    return QImageReader


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB ``[3, H, W]`` float32 in ``[0, 1]``, upright as its EXIF orientation says."""
    QImage = _qimage()
    try:
        open_regular(path).close()  # a FIFO or a device would block or never end inside Qt
    except OSError as exc:
        raise ImageError(f"{path}: cannot read the image ({exc.strerror or exc})") from None
    reader = _qimage_reader()(str(path))
    reader.setAutoTransform(True)  # apply the EXIF orientation of camera JPEGs
    image = reader.read()
    if image.isNull():
        raise ImageError(f"{path}: cannot read the image ({reader.errorString() or 'unsupported format'})")
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    rgb = data[:, : w * 3].reshape(h, w, 3)
    return (rgb.transpose(2, 0, 1).astype(np.float32)) / np.float32(255)


def to_channels(rgb: np.ndarray, channels: int) -> np.ndarray:
    """RGB ``[3, H, W]`` → ``[channels, H, W]``: 3 keeps RGB, 1 is luma, others repeat the luma."""
    if channels == 3:
        return rgb
    luma = np.tensordot(LUMA, rgb, axes=1)[None]
    return np.repeat(luma, channels, axis=0) if channels != 1 else luma


def fit(x: np.ndarray, height: int, width: int, mode: str = "resize") -> np.ndarray:
    """Resize ``[C, H, W]`` to ``height × width`` (bilinear), or in ``"crop"`` mode scale it to cover
    the target (bilinear) and cut the centre."""
    if mode not in ("resize", "crop"):
        raise ValueError(f"fit mode must be 'resize' or 'crop', got {mode!r}")
    h, w = x.shape[1:]
    if mode == "crop":
        scale = max(height / h, width / w)
        sh, sw = max(height, round(h * scale)), max(width, round(w * scale))
        if (sh, sw) != (h, w):
            x = K.upsample(x, size=(sh, sw), mode="bilinear")
        top, left = (sh - height) // 2, (sw - width) // 2
        return np.ascontiguousarray(x[:, top:top + height, left:left + width])
    if (h, w) == (height, width):
        return x
    return K.upsample(x, size=(height, width), mode="bilinear")


def normalise(x: np.ndarray, mean: Any = None, std: Any = None) -> np.ndarray:
    """``(x − mean) / std`` per channel (either may be ``None``: 0 and 1)."""
    c = x.shape[0]
    m = np.zeros(c, np.float32) if mean is None else np.broadcast_to(np.asarray(mean, np.float32), (c,))
    s = np.ones(c, np.float32) if std is None else np.broadcast_to(np.asarray(std, np.float32), (c,))
    return ((x - m[:, None, None]) / s[:, None, None]).astype(np.float32)


def prepare(rgb: np.ndarray, input_spec: Any, mode: str = "resize") -> np.ndarray:
    """An RGB ``[3, H, W]`` image in ``[0, 1]`` as the network input described by ``input_spec``
    (``channels``, ``height``, ``width``, ``mean``, ``std``)."""
    x = fit(to_channels(rgb, input_spec.channels), input_spec.height, input_spec.width, mode)
    return normalise(x, input_spec.mean, input_spec.std)


def load_image(path: str | Path, input_spec: Any, mode: str = "resize") -> np.ndarray:
    """An image file prepared as the network input (see :func:`prepare`)."""
    return prepare(read_rgb(path), input_spec, mode)


def sample_input(input_spec: Any, mode: str = "resize") -> np.ndarray:
    """The built-in sample scene prepared as the network input."""
    return prepare(sample_image(), input_spec, mode)


def contact_sheet(fmap: np.ndarray, gap: int = 1) -> np.ndarray:
    """Feature maps ``[C, H, W]`` tiled in a near-square grid as uint8 ``[rows·(H+gap), cols·(W+gap)]``.

    Each map is scaled to ``[0, 255]`` by its own min and max; a vector ``[F]`` is drawn as one
    row of cells per value in a near-square grid.
    """
    maps = fmap.reshape(-1, 1, 1) if fmap.ndim == 1 else fmap
    c, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = -(-c // cols)
    lo = maps.reshape(c, -1).min(axis=1)[:, None, None]
    span = np.maximum(maps.reshape(c, -1).max(axis=1)[:, None, None] - lo, 1e-12)
    scaled = ((maps - lo) / span * 255).astype(np.uint8) if fmap.ndim == 3 else \
        ((maps - maps.min()) / max(float(np.ptp(maps)), 1e-12) * 255).astype(np.uint8)
    sheet = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap), 64, np.uint8)
    for i in range(c):  # one slice copy per map
        r, q = divmod(i, cols)
        sheet[gap + r * (h + gap): gap + r * (h + gap) + h, gap + q * (w + gap): gap + q * (w + gap) + w] = scaled[i]
    return sheet


def png_bytes(pixels: np.ndarray) -> bytes:
    """A uint8 ``[H, W]`` array encoded as a grayscale PNG."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    QImage = _qimage()
    data = np.ascontiguousarray(pixels, np.uint8)
    image = QImage(data.data, data.shape[1], data.shape[0], data.strides[0], QImage.Format.Format_Grayscale8)
    encoded = QByteArray()
    buffer = QBuffer(encoded)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, "PNG")
    buffer.close()
    if not ok:
        raise ImageError(f"cannot encode a {data.shape[1]}×{data.shape[0]} PNG")
    return bytes(encoded.data())


def save_gray_png(path: str | Path, pixels: np.ndarray) -> None:
    """Write a uint8 ``[H, W]`` array as a grayscale PNG at exactly ``path``, atomically
    (:func:`designer.core.files.atomic_write_bytes`)."""
    try:
        atomic_write_bytes(path, png_bytes(pixels))
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot write the PNG ({exc.strerror or exc})") from None
