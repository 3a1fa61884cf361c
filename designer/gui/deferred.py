"""Defer a view's expensive refresh until the user can see it.

Views in tabbed docks (profile, coverage) listen to every design edit; redrawing them while they
are behind another tab would cost each keystroke tens of milliseconds. ``DeferredRefresh.request()``
refreshes at once when the widget is on screen and otherwise marks it stale; the stale view
refreshes when it is shown or its dock becomes the current tab (``on_visibility_change``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class DeferredRefresh(QObject):
    """Calls ``refresh`` now if ``widget`` is on screen, else when it next comes into view."""

    def __init__(self, widget: QWidget, refresh: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._refresh = refresh
        self.stale = False
        widget.installEventFilter(self)

    def on_screen(self) -> bool:
        """Visible and not covered (a dock behind another tab stays 'visible' with an empty region)."""
        return self._widget.isVisible() and not self._widget.visibleRegion().isEmpty()

    def request(self, *_args) -> None:
        if self.on_screen():
            self.stale = False
            self._refresh()
        else:
            self.stale = True

    def on_visibility_change(self, visible: bool) -> None:
        """Connect to ``QDockWidget.visibilityChanged``: a stale view refreshes when its tab is raised."""
        if visible and self.stale:
            self.stale = False
            self._refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Show and self.stale:
            QTimer.singleShot(0, self, self._on_shown)  # once laid out: is it in front or behind a tab?
        return False

    def _on_shown(self) -> None:
        """A shown widget refreshes only if it can be seen: a dock behind another tab is 'shown' with the
        window but waits for its tab to be raised (a new window would otherwise trace every hidden view)."""
        if self.stale and self.on_screen():
            self.stale = False
            self._refresh()
