"""``install(window)``: the "Training memory" dock in the design workspace (one of the window's ``PLUGINS``),
hidden until opened from View › panels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from .panel import MemoryPanel

if TYPE_CHECKING:
    from ..window.main_window import MainWindow


def install(w: MainWindow) -> None:
    """Create the memory panel on the window's document and register its dock."""
    w.memory_panel = MemoryPanel(w.document)
    w.add_dock("memory", "Training memory", w.memory_panel, Qt.DockWidgetArea.BottomDockWidgetArea, ("design",))
    w.docks["memory"].hide()  # opened from View › panels; the workspace's default layout stays as it is
    w.docks["memory"].visibilityChanged.connect(w.memory_panel.deferred.on_visibility_change)
