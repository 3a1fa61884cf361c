"""Launch time and edit-to-inspector latency of the window (run by hand, not by pytest).

    python tests/benchmarks/bench_gui.py            # edit latency on VGG-16 and a 300-layer design
    python tests/benchmarks/bench_gui.py --launch   # launch to the first VGG-16 feature maps, 5 cold launches

Launch: each run is a fresh ``python`` process doing what ``python main.py`` does (QApplication, style,
window with the VGG-16 example, shown, then the first run of the sample image on the worker thread);
the time is from spawning the process to the feature-map view showing the first maps. The median of
five is printed; the target is 2 s.

One "edit" is what a keystroke in the inspector's kernel_size field does: parse and validate,
push an undo command, re-analyse the whole design in the core, update the canvas cards, the
summary table, the status bar and the inspector's computed values. "sync" stops when the
inspector shows the new numbers; "+paint" also processes events so every view repaints once.
The budget is one frame (16 ms) for VGG-16.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

START = time.perf_counter()
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

import designer.gui  # noqa: F401
from designer.core import Design, InputSpec, Layer
from designer.gui.app_style import apply_style
from designer.gui.window.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
FRAME_MS = 16.0


def _scratch_settings() -> str:
    """A throw-away settings file (never os.devnull: Qt saves by renaming over it, which as root replaces the device)."""
    import tempfile

    return str(Path(tempfile.mkdtemp(prefix="cnn-bench-")) / "settings.ini")


def deep_design(blocks: int = 100) -> Design:
    layers = []
    for k in range(blocks):
        layers += [Layer("Conv2d", f"conv{k}", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
                   Layer("BatchNorm2d", f"bn{k}"), Layer("ReLU", f"relu{k}")]
    return Design("deep-300", InputSpec(32, 64, 64), tuple(layers))


def measure(app: QApplication, design: Design, layer: str, repeats: int = 60) -> dict[str, float]:
    window = MainWindow(design, settings=QSettings(_scratch_settings(), QSettings.Format.IniFormat), autosave=False,
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


LAUNCH_TARGET_S = 2.0


def launch_child() -> int:
    """One cold launch (in a child process): print ``shown <s> maps <s>`` since interpreter start."""
    from designer.gui.app import application, load_start_design

    app = application()
    design, path = load_start_design(None)
    window = MainWindow(design, path, settings=QSettings(_scratch_settings(), QSettings.Format.IniFormat), autosave=False,
                        restore=False, workspace="run")  # the workspace where the maps are on screen
    window.show()
    app.processEvents()
    shown = time.perf_counter()
    window.document.select("conv1_1")
    window.run.result_changed.connect(lambda: app.exit(0) if window.maps.output() is not None else None)
    window.run.failed.connect(lambda text: app.exit(1))
    window.run.run()
    code = app.exec()
    app.processEvents()  # the maps paint
    assert window.maps.output() is not None
    print(f"window shown at {shown - START:.2f} s, maps at {time.perf_counter() - START:.2f} s after the imports "
          "began", flush=True)
    window.run.shutdown()
    return code


def measure_launch(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--child"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        line = child.stdout.readline().strip()  # printed when the first maps are on screen
        total = time.perf_counter() - start
        child.kill()  # the rest of the run does not count
        child.wait()
        times.append(total)
        print(f"launch to first maps {total:.2f} s  ({line})")
    return times


def main() -> int:
    if "--child" in sys.argv:
        return launch_child()
    if "--launch" in sys.argv:
        median = statistics.median(measure_launch())
        print(f"median of 5 cold launches: {median:.2f} s ({'within' if median <= LAUNCH_TARGET_S else 'OVER'} "
              f"the {LAUNCH_TARGET_S:.0f} s target)")
        return 0 if median <= LAUNCH_TARGET_S else 1
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
