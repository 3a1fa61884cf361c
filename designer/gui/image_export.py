"""Writing pictures of plots and the window: rendered in memory, then written atomically through the
shared writer (``core.files``), so a failed export leaves no half file and says why in one line."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from ..core.files import atomic_write_bytes

WRITE_ERRORS = (OSError, ValueError, MemoryError)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if image.isNull() or not image.save(buffer, "PNG"):
        raise ValueError("cannot encode the picture as PNG")
    buffer.close()
    return bytes(data)


def save_png(image: QImage, path: str | Path) -> None:
    """Write ``image`` as a PNG at exactly ``path``; raises OSError/ValueError."""
    atomic_write_bytes(path, png_bytes(image))


def export_png(item, path: str | Path, min_width: int = 0) -> str | None:
    """Render a pyqtgraph item or scene to ``path``; ``None`` when written, else the one-line reason."""
    try:
        exporter = pg.exporters.ImageExporter(item)
        if min_width:
            exporter.parameters()["width"] = max(int(exporter.parameters()["width"]), min_width)
        save_png(exporter.export(toBytes=True), path)
    except WRITE_ERRORS as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"Cannot export {path}: {reason}"
    return None
