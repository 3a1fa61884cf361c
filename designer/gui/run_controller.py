"""Running the design in the background: one worker thread owns the backend ``Runner``.

The window never freezes: every use of the runner (run, re-seed, load/save weights, effective
receptive field) is a job executed in order on the worker thread; results come back through queued
signals. Only the latest request of each kind waits (a new edit replaces an older pending run and
cancels the one in progress). The runner itself recomputes only the layers an edit changed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QThread, QTimer, Signal

from ..backend import Cancelled, Runner, load_weights, save_weights
from ..backend.gradients import EffectiveRF, effective_rf
from ..core import Design, LayerRow, analyze
from .document import DesignDocument
from .image_source import InputImage

AUTO_RUN_DELAY_MS = 150
ORDER = ("weights", "run", "erf")  # pending jobs of these kinds run in this order


@dataclass(frozen=True)
class RunResult:
    """One finished run: the design it ran, its input and every layer's output."""

    design: Design
    x: np.ndarray
    display: np.ndarray
    outputs: dict[str, np.ndarray]
    computed: list[str]
    timings: dict[str, float]
    sparsity: dict[str, float]
    rows: dict[str, LayerRow] = field(default_factory=dict)


@dataclass(frozen=True)
class ErfResult:
    layer: str
    channel: int | None
    uniform: bool
    erf: EffectiveRF


@dataclass
class Job:
    kind: str
    fn: Callable[[], Any]
    on_done: Callable[[Any], None]
    label: str = ""


class _Worker(threading.Thread):
    """A daemon thread executing one job at a time; results go back through a queued Qt signal
    (``done(job, result, exception)``), so the GUI thread handles them between events."""

    def __init__(self, done: Signal) -> None:
        super().__init__(name="cnn-designer-run", daemon=True)
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.done = done

    def run(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                result = job.fn()
            except Exception as exc:  # noqa: BLE001  (reported to the user, never raised in the GUI thread)
                self.done.emit(job, None, exc)
                continue
            self.done.emit(job, result, None)


class RunController(QObject):
    """Signals: ``state_changed`` (busy, auto-run), ``progress(i, n, layer)``, ``result_changed``,
    ``erf_changed``, ``message(text)`` for the status bar, ``failed(text)``."""

    state_changed = Signal()
    progress = Signal(int, int, str)
    result_changed = Signal()
    erf_changed = Signal()
    message = Signal(str)
    failed = Signal(str)
    _done = Signal(object, object, object)
    _progress = Signal(int, int, str)

    def __init__(self, document: DesignDocument, image: InputImage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.image = document, image
        self.seed = 0
        self.auto_run = False
        self.result: RunResult | None = None
        self.erf: ErfResult | None = None
        self.timings: dict[str, float] = {}
        self.last_error = ""
        self._runner: Runner | None = None  # touched by jobs only (worker thread)
        self._cancel = threading.Event()
        self._pending: dict[str, Job] = {}
        self._current: Job | None = None
        self._ran: tuple[int, int] | None = None  # (id of design, image version) of the last good run
        self._worker = _Worker(self._done)
        self._done.connect(self._on_job_done)
        self._progress.connect(self.progress)
        self._worker.start()
        self._auto_timer = QTimer(self, singleShot=True, interval=AUTO_RUN_DELAY_MS)
        self._auto_timer.timeout.connect(self._on_auto_run_timeout)
        document.changed.connect(self._on_document_change)
        image.changed.connect(self._on_image_change)

    # --- state ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def running(self) -> bool:
        return self._current is not None and self._current.kind == "run"

    @property
    def job_label(self) -> str:
        return self._current.label if self._current is not None else ""

    @property
    def stale(self) -> bool:
        """The shown outputs are from another design or image than the current one."""
        return self.result is not None and self._ran != (id(self.document.design), self.image.version)

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
        """Stop the worker (cancelling a run in progress); safe to call twice."""
        self._cancel.set()
        self._pending.clear()
        self._worker.jobs.put(None)
        self._worker.join(timeout=10)

    # --- requests -----------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the current design on the current image (cancelling a run in progress)."""
        design = self.document.design
        if not self.document.analysis.valid:
            self._fail("The design has errors; fix them to run it")
            return
        key = (id(design), self.image.version)
        if not self.busy and key == self._ran:
            self.message.emit("Feature maps are up to date")
            return
        x, display = self.image.prepare(design.input), self.image.fitted(design.input)
        job = Job("run", lambda: self._run_job(design, x, display), lambda r: self._on_run_done(r, key),
                  "Running")
        if self.running:
            self._cancel.set()
        self._queue(job)

    def cancel(self) -> None:
        self._pending.pop("run", None)
        if self.running:
            self._cancel.set()
        self.state_changed.emit()

    def reseed(self, seed: int) -> None:
        design = self.document.design
        self.seed = seed
        self._weights_job(lambda: self._new_runner(design, None, seed), f"Weights re-seeded with seed {seed}")

    def load_weights(self, path: str) -> None:
        design = self.document.design
        self._weights_job(lambda: self._new_runner(design, load_weights(path, design), self.seed),
                          f"Loaded weights from {path}")

    def save_weights(self, path: str) -> None:
        design = self.document.design

        def save() -> None:
            runner = self._runner_for(design)
            save_weights(path, runner.weights)
        self._queue(Job("weights", save, lambda _: self.message.emit(f"Saved weights to {path}"), "Saving"))

    def request_erf(self, layer: str, unit: tuple[int, int] | None, channel: int | None, uniform: bool) -> None:
        """Effective receptive field of one unit of the last run (on the worker thread)."""
        result = self.result
        if result is None or layer not in result.outputs:
            return

        def compute() -> ErfResult:
            if uniform:
                return ErfResult(layer, channel, True, effective_rf(result.design, None, layer, unit, True, channel))
            runner = self._runner_for(result.design)
            return ErfResult(layer, channel, False, effective_rf(runner, result.x, layer, unit, False, channel))
        self._queue(Job("erf", compute, self._on_erf_done, "Effective receptive field"))

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Process events until every job is done (tests and the screenshot mode)."""
        clock = QElapsedTimer()
        clock.start()
        while (self.busy or self._pending or self._auto_timer.isActive()) and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
            QThread.msleep(5)
        return not (self.busy or self._pending)

    # --- jobs (worker thread) ------------------------------------------------------------------------
    def _runner_for(self, design: Design) -> Runner:
        if self._runner is None:
            self._runner = Runner(design, seed=self.seed)
        elif self._runner.design is not design:
            self._runner.update(design)
        return self._runner

    def _new_runner(self, design: Design, weights, seed: int) -> None:
        self._runner = Runner(design, weights, seed=seed)

    def _run_job(self, design: Design, x: np.ndarray, display: np.ndarray) -> RunResult:
        runner = self._runner_for(design)
        outputs = runner.run(x, progress=self._progress.emit, cancel=self._cancel.is_set)
        sparsity = {name: float(np.count_nonzero(out == 0)) / max(out.size, 1) for name, out in outputs.items()}
        rows = {row.name: row for row in analyze(design).rows}
        return RunResult(design, x, display, outputs, list(runner.last_computed), dict(runner.last_timings),
                         sparsity, rows)

    # --- scheduling (GUI thread) -----------------------------------------------------------------------
    def _queue(self, job: Job) -> None:
        self._pending[job.kind] = job
        self._next()

    def _next(self) -> None:
        if self._current is not None:
            return
        kind = next((k for k in ORDER if k in self._pending), None)
        if kind is None:
            self.state_changed.emit()
            return
        self._current = self._pending.pop(kind)
        self._cancel.clear()
        self.state_changed.emit()
        self._worker.jobs.put(self._current)

    def _on_job_done(self, job: Job, result: Any, error: Exception | None) -> None:
        self._current = None
        if isinstance(error, Cancelled):
            if "run" not in self._pending:
                self.message.emit(f"Run cancelled; {error}".replace("cancelled before", "stopped before"))
        elif error is not None:
            self._fail(f"{job.label or job.kind} failed: {error}")
        else:
            job.on_done(result)
        self._next()

    def _on_run_done(self, result: RunResult, key: tuple[int, int]) -> None:
        self._ran = key
        names = set(result.outputs)
        self.timings = {n: t for n, t in {**self.timings, **result.timings}.items() if n in names}
        self.result = result
        self.erf = None
        self.last_error = ""
        total = sum(result.timings.values()) * 1000
        n = len(result.computed)
        self.message.emit(f"Ran {n} of {len(result.outputs)} layers in {total:.0f} ms"
                          + ("" if n == len(result.outputs) else " (the rest reused from the last run)"))
        self.result_changed.emit()

    def _on_erf_done(self, erf: ErfResult) -> None:
        self.erf = erf
        self.erf_changed.emit()

    def _weights_job(self, fn: Callable[[], None], done_text: str) -> None:
        def done(_: Any) -> None:
            self.message.emit(done_text)
            self._ran = None
            if self.result is not None or self.auto_run:
                self.run()
        self._queue(Job("weights", fn, done, "Weights"))

    def _fail(self, text: str) -> None:
        self.last_error = text
        self.failed.emit(text)
        self.message.emit(text)

    # --- following the document and the image ------------------------------------------------------------
    def _on_document_change(self) -> None:
        if self.auto_run:
            self._auto_timer.start()
        self.state_changed.emit()

    def _on_image_change(self) -> None:
        if self.auto_run or self.result is not None:
            self._auto_timer.start()
        self.state_changed.emit()

    def _on_auto_run_timeout(self) -> None:
        if self.document.analysis.valid:
            self.run()
