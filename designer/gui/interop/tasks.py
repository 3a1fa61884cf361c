"""One background task at a time for the interchange commands, with a busy readout in the status bar.

``BackgroundTask(fn, on_done, on_error)`` calls ``fn()`` on a daemon thread; its result or exception comes
back to the GUI thread through a queued signal (the task is a ``QObject`` living there), so the window keeps
working while a VGG-16 is written as ONNX (about 16 s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


class BackgroundTask(QObject):
    """``fn()`` on a worker thread; ``on_done(result)`` or ``on_error(exception)`` on the GUI thread."""

    _finished = Signal(object, object)

    def __init__(self, label: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.label, self.fn, self.on_done, self.on_error = label, fn, on_done, on_error
        self.running = False
        self._finished.connect(self._on_finished)  # a bound method of a GUI-thread object: queued

    def start(self) -> None:
        self.running = True
        threading.Thread(target=self._work, name="cnn-designer-interop", daemon=True).start()

    def _work(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:
            self._finished.emit(None, exc)
            return
        self._finished.emit(result, None)

    def _on_finished(self, result: Any, error: BaseException | None) -> None:
        self.running = False
        if error is not None:
            self.on_error(error)
        else:
            self.on_done(result)


class BusyIndicator(QWidget):
    """Status-bar readout of the running task: an indeterminate bar and what it does."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("interopBusy")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setFixedWidth(120)
        self.text = QLabel()
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        self.hide()

    def show_task(self, label: str | None) -> None:
        """Show ``label`` with a busy bar, or hide for ``None``."""
        self.text.setText(label or "")
        self.setVisible(label is not None)
