"""``install(window)``: the Memory dock in the design workspace (one of the window's ``PLUGINS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from .panel import MemoryPanel

if TYPE_CHECKING:
    from ..window.main_window import MainWindow


def install(w: MainWindow) -> None:
    """Create the memory panel on the window's document and register its dock."""
    w.memory = MemoryPanel(w.document)
    w.add_dock("memory", "Memory", w.memory, Qt.DockWidgetArea.BottomDockWidgetArea, ("design",))
    w.docks["memory"].visibilityChanged.connect(w.memory.deferred.on_visibility_change)
