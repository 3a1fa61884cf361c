"""Background jobs of the run controller: a worker thread per lane, newest request of each kind wins.

A ``Lane`` runs one job at a time on its own daemon thread. Only the latest pending request of each
kind waits (a new edit replaces an older pending run); kinds run in the lane's ``order``. Results come
back to the GUI thread through a queued signal, so handlers run between events. Every result carries
the identity of what it was computed for (``RunKey``), and the controller drops stale ones.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from ...backend.gradients import EffectiveRF
from ...core import Design, LayerRow


@dataclass(frozen=True, eq=False)
class RunKey:
    """What a result was computed for: the document's design (by identity), the image version and the
    weights version. Two keys match only if all three do."""

    design: Design
    image_version: int
    weights_version: int

    def matches(self, other: RunKey | None) -> bool:
        return (other is not None and same_network(other.design, self.design)
                and other.image_version == self.image_version and other.weights_version == self.weights_version)


def same_network(a: Design, b: Design) -> bool:
    """The same design object, or one only renamed (its layers tuple and input unchanged)."""
    return a is b or (a.layers is b.layers and a.input == b.input)


@dataclass(frozen=True)
class RunResult:
    """One finished run: what it ran for, its input and the output of every layer that ran.

    ``ran`` is the design actually executed (the layers before the first error); ``not_run`` names each
    layer that has no output and why."""

    key: RunKey
    ran: Design
    x: np.ndarray
    display: np.ndarray
    outputs: dict[str, np.ndarray]
    computed: list[str]
    timings: dict[str, float]
    sparsity: dict[str, float]
    rows: dict[str, LayerRow] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)

    @property
    def design(self) -> Design:
        return self.key.design


@dataclass(frozen=True)
class ErfResult:
    key: RunKey
    layer: str
    channel: int | None
    uniform: bool
    erf: EffectiveRF


@dataclass(frozen=True)
class CoverageResult:
    design: Design
    layer: str
    counts: np.ndarray | None
    error: str = ""


@dataclass
class Job:
    kind: str
    fn: Callable[[], Any]
    on_done: Callable[[Any], None]
    label: str = ""


class _Worker(threading.Thread):
    """A daemon thread executing one job at a time; ``done(job, result, exception)`` is emitted from it."""

    def __init__(self, name: str, done: Signal) -> None:
        super().__init__(name=name, daemon=True)
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.done = done

    def run(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                result = job.fn()
            except Exception as exc:
                self.done.emit(job, None, exc)
                continue
            self.done.emit(job, result, None)


class Lane(QObject):
    """One worker thread and its queue of pending jobs (latest per kind). Signals ``finished(job, result,
    error)`` on the GUI thread after each job, ``state_changed`` when busy or pending changes."""

    finished = Signal(object, object, object)
    state_changed = Signal()
    _done = Signal(object, object, object)

    def __init__(self, name: str, order: tuple[str, ...], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.order = order
        self.pending: dict[str, Job] = {}
        self.current: Job | None = None
        self.cancel = threading.Event()
        self._worker = _Worker(name, self._done)
        self._done.connect(self._on_done)
        self._worker.start()

    @property
    def busy(self) -> bool:
        return self.current is not None

    def submit(self, job: Job, cancel_current: bool = False) -> None:
        self.pending[job.kind] = job
        if cancel_current and self.current is not None and self.current.kind == job.kind:
            self.cancel.set()
        self._next()

    def drop(self, kind: str) -> None:
        """Forget a pending job of ``kind`` and cancel one in progress."""
        self.pending.pop(kind, None)
        if self.current is not None and self.current.kind == kind:
            self.cancel.set()
        self.state_changed.emit()

    def shutdown(self) -> None:
        self.cancel.set()
        self.pending.clear()
        self._worker.jobs.put(None)
        self._worker.join(timeout=10)

    def _next(self) -> None:
        if self.current is not None:
            return
        kind = next((k for k in self.order if k in self.pending), None)
        if kind is not None:
            self.current = self.pending.pop(kind)
            self.cancel.clear()
            self._worker.jobs.put(self.current)
        self.state_changed.emit()

    def _on_done(self, job: Job, result: Any, error: BaseException | None) -> None:
        self.current = None
        self.finished.emit(job, result, error)
        self._next()
