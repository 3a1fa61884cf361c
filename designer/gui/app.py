"""Starting the window: ``run_app(design_path, screenshot)`` (called by ``python main.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from ..core import Design, DesignFormatError
from .app_style import apply_style
from .autosave import find_recoverable
from .file_ops import EXAMPLES_DIR, is_bundled_example
from .main_window import APP_NAME, MainWindow

FIRST_EXAMPLE = EXAMPLES_DIR / "vgg16.json"
SCREENSHOT_SIZE = (1400, 900)


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


def save_screenshot(window: MainWindow, out: str) -> None:
    """Render the window at 1400×900 after running the sample image, with a conv layer selected (its
    feature maps shown) and one unit clicked (its receptive field and effective RF on the input)."""
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    app = QApplication.instance()
    app.processEvents()
    run = window.run_panels
    if window.document.analysis.valid:
        run.controller.run()
        run.controller.wait()
    convs = [r.name for r in window.document.analysis.rows if r.type == "Conv2d"]
    if convs:
        window.document.select(convs[len(convs) // 2 - 1] if len(convs) > 2 else convs[-1])
    app.processEvents()
    window.canvas.fit()
    if convs:
        window.canvas.centerOn(window.canvas.cards[window.document.selected])
        _probe_a_unit(window, window.document.selected)
    app.processEvents()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(out):
        raise OSError(f"cannot write {out}")


def _probe_a_unit(window: MainWindow, layer: str) -> None:
    """Pin the centre unit of channel 0 so the input panel shows its receptive fields."""
    from .rf_overlay import Unit

    run = window.run_panels
    result = run.controller.result
    if result is None or layer not in result.outputs or result.outputs[layer].ndim != 3:
        return
    _, h, w = result.outputs[layer].shape
    run.probe.pin(Unit(layer, 0, h // 3, w // 3))
    run.maps.detail = None
    run.maps.refresh()
    run.controller.wait()


def run_app(design_path: str | None = None, screenshot: str | None = None) -> int:
    app = application()
    try:
        design, path = load_start_design(design_path)
    except DesignFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    window = MainWindow(design, path, autosave=screenshot is None, restore=screenshot is None)
    if screenshot:
        save_screenshot(window, screenshot)
        window.document.undo_stack.setClean()
        return 0
    window.show()
    QTimer.singleShot(0, lambda: _offer_recovery(window))
    QTimer.singleShot(0, window.canvas.fit)
    if window.document.analysis.valid:  # open with the sample image already run (in the worker thread)
        QTimer.singleShot(0, window.run_panels.controller.run)
    return app.exec()


def _offer_recovery(window: MainWindow) -> None:
    recovered = find_recoverable()
    if recovered is None:
        return
    if window.prompts.ask_recover(recovered.describe()):
        window.recover(recovered)
    else:
        recovered.discard()
