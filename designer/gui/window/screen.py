"""Opening the window inside the screen: at any scale factor the whole frame fits the available
geometry (menus and panels reachable), centred."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SCREEN_SHARE = 0.94  # leave a margin for the window manager's decorations


def fitted_size(preferred: tuple[int, int], available: tuple[int, int], minimum: tuple[int, int]) -> tuple[int, int]:
    """``preferred`` shrunk to ``SCREEN_SHARE`` of ``available`` (in device-independent pixels, so a
    scale factor of 1.5 on a 1600×1000 screen leaves about 1066×666 to fill), never below ``minimum``
    unless the screen itself is smaller."""
    w = min(preferred[0], int(available[0] * SCREEN_SHARE))
    h = min(preferred[1], int(available[1] * SCREEN_SHARE))
    return max(w, min(minimum[0], available[0])), max(h, min(minimum[1], available[1]))


def fit_to_screen(window: QWidget, preferred: tuple[int, int]) -> None:
    """Resize ``window`` to ``preferred`` or less and move it inside the available screen area."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*preferred)
        return
    area = screen.availableGeometry()
    hint = window.minimumSizeHint()
    w, h = fitted_size(preferred, (area.width(), area.height()), (hint.width(), hint.height()))
    window.resize(w, h)
    x = area.x() + max((area.width() - w) // 2, 0)
    y = area.y() + max((area.height() - h) // 2, 0)
    window.move(x, y)
