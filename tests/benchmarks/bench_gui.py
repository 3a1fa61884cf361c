"""Edit-to-inspector latency on VGG-16 (and a 300-layer design): ``python tests/benchmarks/bench_gui.py``.

One "edit" is what a keystroke in the inspector's kernel_size field does: parse and validate,
push an undo command, re-analyse the whole design in the core, update the canvas cards, the
summary table, the status bar and the inspector's computed values. "sync" stops when the
inspector shows the new numbers; "+paint" also processes events so every view repaints once.
The budget is one frame (16 ms) for VGG-16.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

import designer.gui  # noqa: F401
from designer.core import Design, InputSpec, Layer
from designer.gui.app_style import apply_style
from designer.gui.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
FRAME_MS = 16.0


def deep_design(blocks: int = 100) -> Design:
    layers = []
    for k in range(blocks):
        layers += [Layer("Conv2d", f"conv{k}", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
                   Layer("BatchNorm2d", f"bn{k}"), Layer("ReLU", f"relu{k}")]
    return Design("deep-300", InputSpec(32, 64, 64), tuple(layers))


def measure(app: QApplication, design: Design, layer: str, repeats: int = 60) -> dict[str, float]:
    window = MainWindow(design, settings=QSettings(os.devnull, QSettings.Format.IniFormat), autosave=False,
                        restore=False)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    window.document.select(layer)
    app.processEvents()
    field = window.inspector.layer_page.fields["kernel_size"]
    shape_label = window.inspector.layer_page.computed.values["shape"]
    sync, painted = [], []
    for k in range(repeats):
        text = "5" if k % 2 == 0 else "3"
        start = time.perf_counter()
        field._on_text_change(text)  # what the line edit's textEdited signal calls
        assert ("222" in shape_label.text()) == (text == "5") or design.name != "VGG-16"
        sync.append((time.perf_counter() - start) * 1000)
        app.processEvents()
        painted.append((time.perf_counter() - start) * 1000)
    window.document.undo_stack.setClean()
    window.close()
    return {"sync_median": statistics.median(sync), "sync_p95": _p95(sync),
            "paint_median": statistics.median(painted), "paint_p95": _p95(painted)}


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main() -> int:
    app = QApplication.instance() or QApplication([])
    apply_style(app)
    results = {"VGG-16 (conv1_1)": measure(app, Design.load(EXAMPLES / "vgg16.json"), "conv1_1"),
               "300 layers (conv50)": measure(app, deep_design(), "conv50", repeats=20)}
    print(f"{'design':<22}{'sync median':>13}{'sync p95':>10}{'+paint median':>15}{'+paint p95':>12}")
    for name, r in results.items():
        print(f"{name:<22}{r['sync_median']:>11.2f}ms{r['sync_p95']:>8.2f}ms{r['paint_median']:>13.2f}ms"
              f"{r['paint_p95']:>10.2f}ms")
    ok = results["VGG-16 (conv1_1)"]["sync_p95"] < FRAME_MS
    print(f"VGG-16 edit-to-inspector p95 {'within' if ok else 'OVER'} one frame ({FRAME_MS:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
