"""Starting the window: ``run_app(design_path, screenshot, size, workspace)`` (called by ``python main.py``).

The window is shown before any heavy work: the first run (weights, image preparation, forward pass)
starts from the event loop on the worker thread, so the canvas and panels are drawn at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from ..core import Design, DesignFormatError
from .app_style import apply_style
from .document.autosave import find_recoverable
from .document.files import EXAMPLES_DIR, is_bundled_example
from .image_export import save_png
from .window.main_window import APP_NAME, MainWindow

FIRST_EXAMPLE = EXAMPLES_DIR / "vgg16.json"
SCREENSHOT_SIZE = (1600, 1000)
WORKSPACES = ("design", "run")


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    apply_style(app)
    return app


def load_start_design(design_path: str | None) -> tuple[Design, str | None]:
    """The design to show first: the given file, else the VGG-16 example (as an untitled copy)."""
    if design_path:  # a bundled example opens as an untitled copy, as from the Examples menu
        return Design.load(design_path), None if is_bundled_example(design_path) else design_path
    return Design.load(FIRST_EXAMPLE), None


def parse_size(text: str | None) -> tuple[int, int]:
    """``"1024x700"`` → ``(1024, 700)``; raises ValueError with the accepted form."""
    if not text:
        return SCREENSHOT_SIZE
    w, sep, h = text.lower().replace("×", "x").partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (200 <= int(w) <= 10000 and 200 <= int(h) <= 10000):
        raise ValueError(f"--size must be WIDTHxHEIGHT between 200 and 10000 pixels, e.g. 1024x700, got {text!r}")
    return int(w), int(h)


def save_screenshot(window: MainWindow, out: str, size: tuple[int, int] = SCREENSHOT_SIZE) -> None:
    """Render the window at ``size`` after running the sample image, with a conv layer selected (its
    feature maps shown) and one unit clicked (its receptive field and effective RF on the input)."""
    window.resize(*size)
    window.show()
    app = QApplication.instance()
    app.processEvents()
    if window.document.first_error != "input":
        window.run.run()
        window.run.wait()
    convs = [r.name for r in window.document.analysis.rows if r.type == "Conv2d"]
    if convs:
        window.document.select(convs[len(convs) // 2 - 1] if len(convs) > 2 else convs[-1])
    app.processEvents()
    window.canvas.fit()
    if convs:
        window.canvas.centerOn(window.canvas.cards[window.document.selected])
        _probe_a_unit(window, window.document.selected)
    window.run.wait()
    app.processEvents()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    save_png(window.grab().toImage(), out)


def _probe_a_unit(window: MainWindow, layer: str) -> None:
    """Pin a unit of channel 0 so the input panel shows its receptive fields."""
    from .run.rf_overlay import Unit

    result = window.run.result
    if result is None or layer not in result.outputs or result.outputs[layer].ndim != 3:
        return
    _, h, w = result.outputs[layer].shape
    window.probe.pin(Unit(layer, 0, h // 3, w // 3))
    window.maps.detail = None
    window.maps.refresh()
    window.run.wait()


def run_app(design_path: str | None = None, screenshot: str | None = None, size: str | None = None,
            workspace: str = "design") -> int:
    app = application()
    try:
        design, path = load_start_design(design_path)
        shot_size = parse_size(size)
        if workspace not in WORKSPACES:
            raise ValueError(f"--workspace must be one of {', '.join(WORKSPACES)}, got {workspace!r}")
    except (DesignFormatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    window = MainWindow(design, path, autosave=screenshot is None, restore=screenshot is None, workspace=workspace,
                        size=shot_size if screenshot else None)
    if screenshot:
        save_screenshot(window, screenshot, shot_size)
        window.document.undo_stack.setClean()
        window.run.shutdown()
        return 0
    window.show()
    QTimer.singleShot(0, lambda: _offer_recovery(window))
    QTimer.singleShot(0, window.canvas.fit)
    if window.document.first_error != "input":  # open with the sample image run (in the worker thread)
        QTimer.singleShot(0, window.run.run)
    return app.exec()


def _offer_recovery(window: MainWindow) -> None:
    recovered = find_recoverable()
    if recovered is None:
        return
    if window.prompts.ask_recover(recovered.describe()):
        window.recover(recovered)
    else:
        recovered.discard()
