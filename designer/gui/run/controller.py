"""Running the design in the background: the window never freezes and never shows a stale result.

Every use of the runner (run, re-seed, load/save weights, effective receptive field) is a job on the
runner lane's thread; dilation coverage traces on a second lane. Image preparation happens in the
job too. Before a run the memory guard (``backend.limits``, the command line's) refuses designs whose
activations would not fit; a design with errors runs every layer before the first error and marks
the rest "not run: fix <layer> first". Results carry the identity of the design, image and weights
they were computed for (``RunKey``); one that arrives for anything else is dropped.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QThread, QTimer, Signal

from ...backend import Cancelled, Runner, images, load_weights, save_weights
from ...backend.gradients import effective_rf
from ...backend.limits import run_memory_refusal
from ...backend.runner import RunError
from ...core import Design, analyze
from ...core.coverage import coverage_map
from ..document.document import DesignDocument
from .image_source import InputImage, prepare_input
from .jobs import CoverageResult, ErfResult, Job, Lane, RunKey, RunResult, same_network

AUTO_RUN_DELAY_MS = 150
HEAD_LAYERS = 2  # the first run shows these top-level layers' maps first, then runs the rest
HEAD_PAINT_S = 1.0  # how long the worker waits for the window to show them


def runnable_prefix(design: Design, document: DesignDocument) -> tuple[Design, dict[str, str]]:
    """The design cut before the top-level layer holding the first error, and each layer left out with
    its reason. An error in the input leaves nothing to run."""
    error = document.first_error
    if error is None:
        return design, {}
    top = 0 if error == "input" else (document.path_of(error) or (0,))[0]
    reason = f"not run: fix {'the input' if error == 'input' else error} first"
    left_out = {row.name: reason for row in document.analysis.rows if row.path[0] >= top}
    return dataclasses.replace(design, layers=design.layers[:top]), left_out


class RunController(QObject):
    """Signals: ``state_changed`` (busy, auto-run, blocked), ``progress(i, n, layer)``, ``result_changed``,
    ``erf_changed``, ``coverage_changed``, ``message(text)`` for the status bar, ``failed(text)``."""

    state_changed = Signal()
    progress = Signal(int, int, str)
    result_changed = Signal()
    erf_changed = Signal()
    coverage_changed = Signal()
    message = Signal(str)
    failed = Signal(str)
    _progress = Signal(int, int, str)
    _partial = Signal(object)

    def __init__(self, document: DesignDocument, image: InputImage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.image = document, image
        self.seed = 0
        self.weights_version = 0
        self.auto_run = False
        self.result: RunResult | None = None
        self.erf: ErfResult | None = None
        self.coverage: CoverageResult | None = None
        self.timings: dict[str, float] = {}
        self.last_error = ""
        self.blocked = ""  # why the current design cannot run at all (memory guard), "" when it can
        self._runner: Runner | None = None  # touched by jobs only (worker thread)
        self._ran: RunKey | None = None
        self._head_shown = threading.Event()
        self.lane = Lane("cnn-designer-run", ("weights", "snapshot", "run", "erf"), self)
        self.trace_lane = Lane("cnn-designer-trace", ("image", "coverage"), self)
        for lane in (self.lane, self.trace_lane):
            lane.finished.connect(self._on_job_done)
            lane.state_changed.connect(self.state_changed)
        self._progress.connect(self.progress)
        self._partial.connect(self._on_partial_result)
        self._auto_timer = QTimer(self, singleShot=True, interval=AUTO_RUN_DELAY_MS)
        self._auto_timer.timeout.connect(self._on_auto_run_timeout)
        document.changed.connect(self._on_document_change)
        image.changed.connect(self._on_image_change)

    # --- state ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.lane.busy

    @property
    def running(self) -> bool:
        return self.lane.current is not None and self.lane.current.kind == "run"

    @property
    def job_label(self) -> str:
        return self.lane.current.label if self.lane.current is not None else ""

    @property
    def weights(self) -> dict[str, np.ndarray] | None:
        """The weights the run uses for the current design (shared: read only), or ``None`` when the runner
        does not hold this design right now (no run yet, edited since, or a job is changing it): then
        ``request_weights`` makes them on the worker."""
        runner = self._runner
        if runner is None or self.lane.current is not None:
            return None
        if not same_network(runner.design, self.document.design):
            return None
        return runner.weights

    def request_weights(self, on_done) -> None:
        """``on_done(weights)`` on the GUI thread with the weights the next run uses for the current design
        (made on the runner's lane after pending weight changes: fitting ones kept, new layers fresh)."""
        design = self.document.design
        read = Job("snapshot", lambda: self._runner_for(design).weights, on_done, "Reading the weights")
        self.lane.submit(read)

    def current_key(self) -> RunKey:
        return RunKey(self.document.design, self.image.version, self.weights_version)

    @property
    def stale(self) -> bool:
        """The shown outputs are from another design, image or weights than the current ones."""
        return self.result is not None and not self.result.key.matches(self.current_key())

    @property
    def not_run(self) -> dict[str, str]:
        """Layers of the current design that the last run left out, with the reason."""
        return self.result.not_run if self.result is not None and not self.stale else {}

    @property
    def last_computed(self) -> list[str]:
        return self.result.computed if self.result else []

    def set_auto_run(self, on: bool) -> None:
        if on != self.auto_run:
            self.auto_run = on
            self.state_changed.emit()
            if on and (self.result is None or self.stale):
                self.run()

    def shutdown(self) -> None:
        """Stop the workers (cancelling a run in progress); safe to call twice."""
        self.lane.shutdown()
        self.trace_lane.shutdown()

    # --- requests -----------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the current design on the current image (cancelling a run in progress)."""
        design = self.document.design
        self.blocked = run_memory_refusal(design, report=self._batch1_analysis()) or ""
        if self.blocked:
            self._fail(f"Not run: {self.blocked}")
            self.state_changed.emit()
            return
        ran, not_run = runnable_prefix(design, self.document)
        if not ran.layers:
            error = self.document.first_error
            self._fail("Nothing to run yet: add a layer" if error is None else
                       f"The design cannot run: fix {'the input' if error == 'input' else error} first")
            return
        key = self.current_key()
        if not self.busy and key.matches(self._ran):
            self.message.emit("Feature maps are up to date")
            return
        rgb, mode = self.image.rgb, self.image.mode
        job = Job("run", lambda: self._run_job(key, ran, not_run, rgb, mode), self._on_run_done, "Running")
        self.lane.submit(job, cancel_current=True)

    def cancel(self) -> None:
        self.lane.drop("run")

    def reseed(self, seed: int) -> None:
        design = self.document.design
        self.seed = seed
        self._weights_job(lambda: self._new_runner(design, None, seed), f"Weights re-seeded with seed {seed}")

    def load_weights(self, path: str) -> None:
        design = self.document.design
        self._weights_job(lambda: self._new_runner(design, load_weights(path, design), self.seed),
                          f"Loaded weights from {path}")

    def set_weights(self, weights: dict[str, np.ndarray], source: str) -> None:
        """Use ``weights`` (checked against the current design on the worker) and run the design with them."""
        design = self.document.design
        self._weights_job(lambda: self._new_runner(design, weights, self.seed),
                          f"Loaded weights from {source}", run=True)

    def save_weights(self, path: str) -> None:
        design = self.document.design

        def save() -> None:
            save_weights(path, self._runner_for(design).weights)
        self.lane.submit(Job("weights", save, lambda _: self.message.emit(f"Saved weights to {path}"), "Saving"))

    def request_erf(self, layer: str, unit: tuple[int, int] | None, channel: int | None, uniform: bool) -> None:
        """Effective receptive field of one unit of the last run, when that run is of the current design,
        image and weights (a stale run's ERF would describe another network)."""
        result = self.result
        if result is None or self.stale or layer not in result.outputs:
            return

        def compute() -> ErfResult | None:
            latest = self.result  # the run that finished last (the first run's head may have grown since)
            if latest is None or not result.key.matches(latest.key) or layer not in latest.outputs:
                return None  # a run of another design, image or weights replaced the one this was asked for
            if uniform:
                erf = effective_rf(latest.ran, None, layer, unit, True, channel)
            else:
                erf = effective_rf(self._runner_for(latest.ran), latest.x, layer, unit, False, channel)
            return ErfResult(latest.key, layer, channel, uniform, erf)
        self.lane.submit(Job("erf", compute, self._on_erf_done, "Effective receptive field"))

    def request_coverage(self, layer: str) -> None:
        """Trace the dilation coverage of ``layer``'s centre unit on the trace lane."""
        design, report = self.document.design, self.document.analysis

        def compute() -> CoverageResult:  # the core traces on the RF's support: bounded by the RF, not the image
            try:
                return CoverageResult(design, layer, coverage_map(design, layer, report=report))
            except (ValueError, KeyError) as exc:  # LayerError is a ValueError
                return CoverageResult(design, layer, None, f"Cannot trace {layer}: {exc}")
        self.trace_lane.submit(Job("coverage", compute, self._on_coverage_done, "Coverage"), cancel_current=True)

    def open_image(self, path: str) -> None:
        """Read an image file on the trace lane (a large photo takes a while to decode); the input changes
        when it is read, an unreadable file is reported in one line and the old image stays."""
        def done(rgb: np.ndarray) -> None:
            self.image.set_file(rgb, path)
        self.trace_lane.submit(Job("image", lambda: images.read_rgb(path), done, "Opening the image"))

    def cancel_coverage(self) -> None:
        """Drop the pending or running trace: its answer is never shown."""
        self.trace_lane.drop("coverage")

    @property
    def tracing(self) -> bool:
        return self.trace_lane.busy or bool(self.trace_lane.pending)

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Process events until every job is done (tests and the screenshot mode)."""
        clock = QElapsedTimer()
        clock.start()

        def idle() -> bool:
            return not (self.busy or self.lane.pending or self.tracing or self._auto_timer.isActive())
        while not idle() and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
            QThread.msleep(5)
        return idle()

    # --- jobs (worker thread) ------------------------------------------------------------------------
    def _runner_for(self, design: Design) -> Runner:
        if self._runner is None:
            self._runner = Runner(design, seed=self.seed)
        elif self._runner.design is not design:
            self._runner.update(design)
        return self._runner

    def _new_runner(self, design: Design, weights, seed: int) -> None:
        self._runner = Runner(design, weights, seed=seed)

    def _run_job(self, key: RunKey, ran: Design, not_run: dict[str, str], rgb: np.ndarray, mode: str) -> RunResult:
        x, display = prepare_input(rgb, ran.input, mode)
        started: list[str] = []

        def progress(i: int, n: int, name: str) -> None:
            started.append(name)
            self._progress.emit(i, n, name)
        head_timings = self._run_head(key, ran, x, display) if self._runner is None and len(ran.layers) > HEAD_LAYERS \
            else {}
        runner = self._runner_for(ran)
        try:
            outputs = runner.run(x, progress=progress, cancel=self.lane.cancel.is_set)
        except RunError as exc:  # a layer failed at run time: keep what ran before it
            ran, failed = self._cut_at(ran, started[-1] if started else "", str(exc))
            not_run = {**failed, **not_run}
            runner = self._runner_for(ran)
            outputs = runner.run(x, cancel=self.lane.cancel.is_set) if ran.layers else {}
        sparsity = {name: float(np.count_nonzero(out == 0)) / max(out.size, 1) for name, out in outputs.items()}
        rows = {row.name: row for row in analyze(key.design).rows}
        timings = {**head_timings, **runner.last_timings}
        return RunResult(key, ran, x, display, outputs, list(timings), timings, sparsity, rows, not_run)

    def _run_head(self, key: RunKey, ran: Design, x: np.ndarray, display: np.ndarray) -> dict[str, float]:
        """First impression: run the first layers alone (only their weights are made) and hand their maps
        to the window at once; the full run that follows reuses them. Returns their timings."""
        head = dataclasses.replace(ran, layers=ran.layers[:HEAD_LAYERS])
        runner = self._runner_for(head)
        outputs = runner.run(x, cancel=self.lane.cancel.is_set)
        self._head_shown.clear()
        self._partial.emit(RunResult(key, head, x, display, outputs, list(outputs), dict(runner.last_timings),
                                     {}, {}, {}))
        self._wait_for_head_paint()
        return dict(runner.last_timings)

    def _wait_for_head_paint(self) -> None:
        """Let the window paint the head's maps before the heavy rest holds the GIL: up to ``HEAD_PAINT_S``,
        ended early by the paint or by a cancel (closing the window must not wait for a paint that the
        stopped event loop will never do)."""
        deadline = time.monotonic() + HEAD_PAINT_S
        while not self._head_shown.wait(0.02):
            if self.lane.cancel.is_set() or time.monotonic() >= deadline:
                return

    @staticmethod
    def _cut_at(design: Design, layer: str, error: str) -> tuple[Design, dict[str, str]]:
        """``design`` without the top-level layer holding ``layer`` and those after it."""
        top = next((path[0] for path, lay in design.walk() if lay.name == layer), 0)
        cut = dataclasses.replace(design, layers=design.layers[:top])
        left_out = {lay.name: f"not run: fix {layer} first" for path, lay in design.walk() if path[0] >= top}
        left_out[layer] = error
        return cut, left_out

    # --- results (GUI thread) ------------------------------------------------------------------------
    def _on_job_done(self, job: Job, result, error: BaseException | None) -> None:
        if isinstance(error, Cancelled):
            if "run" not in self.lane.pending:
                self.message.emit(f"Run cancelled; {error}".replace("cancelled before", "stopped before"))
        elif isinstance(error, MemoryError):
            self._fail(f"{job.label or job.kind} failed: not enough memory for this design")
        elif isinstance(error, images.ImageError):
            self._fail(str(error))
        elif error is not None:
            self._fail(f"{job.label or job.kind} failed: {error}")
        else:
            job.on_done(result)
        self.state_changed.emit()

    def _on_run_done(self, result: RunResult) -> None:
        self._ran = result.key
        names = set(result.outputs)
        self.timings = {n: t for n, t in {**self.timings, **result.timings}.items() if n in names}
        self.result = result
        self.erf = None
        self.last_error = ""
        total = sum(result.timings.values()) * 1000
        n = len(result.computed)
        text = f"Ran {n} of {len(result.outputs)} layers in {total:.0f} ms"
        if n != len(result.outputs):
            text += f" ({len(result.outputs) - n} reused)"
        if result.not_run:
            reason = next(iter(result.not_run.values())).removeprefix("not run: ")
            text += f"; {len(result.not_run)} not run ({reason})"
        self.message.emit(text)
        self.result_changed.emit()
        self.erf_changed.emit()

    def _on_partial_result(self, result: RunResult) -> None:
        """The first layers' maps while the rest of the first run goes on (shown only if still current)."""
        if result.key.matches(self.current_key()) and self.running:
            self.result = result
            self.result_changed.emit()
        QTimer.singleShot(30, self._head_shown.set)  # after the views have painted

    def _on_erf_done(self, erf: ErfResult | None) -> None:
        if erf is None or self.result is None or not erf.key.matches(self.result.key) or self.stale:
            return  # computed for a design, image or weights that are no longer shown
        self.erf = erf
        self.erf_changed.emit()

    def _on_coverage_done(self, coverage: CoverageResult) -> None:
        if self.trace_lane.cancel.is_set():
            return  # cancelled, or replaced by a newer request
        if coverage.design is self.document.design:
            self.coverage = coverage
            self.coverage_changed.emit()

    def _weights_job(self, fn, done_text: str, run: bool = False) -> None:
        def done(_) -> None:
            self.message.emit(done_text)
            self.weights_version += 1
            self._drop_erf()
            if run or self.result is not None or self.auto_run:
                self.run()
        self.lane.submit(Job("weights", fn, done, "Weights"))

    def _fail(self, text: str) -> None:
        self.last_error = text
        self.failed.emit(text)
        self.message.emit(text)

    def _batch1_analysis(self):
        a = self.document.analysis
        return a if a.batch_size == 1 and a.dtype == "float32" else None

    def _drop_erf(self) -> None:
        if self.erf is not None:
            self.erf = None
            self.erf_changed.emit()

    # --- following the document and the image ------------------------------------------------------------
    def _on_document_change(self) -> None:
        self.blocked = ""
        if self.erf is not None and self.stale:
            self._drop_erf()
        if self.auto_run:
            self._auto_timer.start()
        self.state_changed.emit()

    def _on_image_change(self) -> None:
        self._drop_erf()
        if self.auto_run or self.result is not None:
            self._auto_timer.start()
        self.state_changed.emit()

    def _on_auto_run_timeout(self) -> None:
        if self.document.first_error != "input":
            self.run()
