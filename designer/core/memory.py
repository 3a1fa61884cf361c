"""Memory estimates: parameters, activations, the inference peak and the training-step peak.

Let ``b`` be the bytes per element (float32: 4) and ``B`` the batch size.

- ``input_bytes`` = B·numel(input)·b; ``params_bytes`` = (params + buffers)·b
- ``activations_bytes`` = B·Σ numel(layer output)·b, every layer counted once
- ``inference_peak_bytes``: params_bytes + the most bytes alive at once in one forward pass under
  ``torch.no_grad()`` (eval mode): the input, every output until its last reader has run, and each
  op's workspace (:mod:`designer.core.training_memory` with nothing saved)
- ``training_bytes``: the peak of one eager training step, PyTorch semantics: parameters, optimizer
  state and input, plus at the busiest moment of forward, backward or optimizer step the saved
  activations, gradients and workspace alive (:mod:`designer.core.training_memory`). The breakdown at
  that moment is ``training_<kind>_bytes`` for parameters, gradients, optimizer state, saved
  activations, input and transient (unsaved activations, activation gradients, workspace).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .spec import LAYER_SPECS
from .training_memory import OPTIMIZER_STATES, Op, StepMemory, simulate

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
TRAINING_NOTE = "PyTorch eager semantics"

BREAKDOWN = {
    "training_params_bytes": ("parameters",),
    "training_gradients_bytes": ("parameter gradients",),
    "training_optimizer_bytes": ("optimizer state",),
    "training_saved_bytes": ("saved activations",),
    "training_input_bytes": ("input",),
    "training_transient_bytes": ("activations", "activation gradients", "workspace"),
}
"""Summary keys → the kinds of :data:`designer.core.training_memory.KINDS` they add up."""

__all__ = ["BREAKDOWN", "DTYPE_BYTES", "OPTIMIZER_STATES", "TRAINING_NOTE", "analysis_step", "build_ops",
           "memory_report", "memory_summary", "step_memory"]


def _channels(shape) -> int:
    """Channels of a map; a vector counts as many (oneDNN treats it as blocked)."""
    if not shape:
        return 0
    return shape[0] if len(shape) == 3 else 1 << 30


def _param_tensors(row) -> tuple[int, ...]:
    spec = LAYER_SPECS.get(row.type)
    if spec is None or row.input_shape is None or row.output_shape is None or not spec.has_tensors:
        return ()
    sizes = []
    for tensor in spec.tensors(row.input_shape, row.hp).values():
        if not tensor.buffer:
            n = 1
            for d in tensor.shape:
                n *= d
            sizes.append(n)
    return tuple(sizes)


def build_ops(rows) -> list[Op]:
    """The analysis rows (execution order, a Branch after its inner layers) as simulator ops."""
    return [Op(name=r.name, type=r.type, inputs=tuple(r.inputs), output=r.output, hp=dict(r.hp),
               param_tensors=_param_tensors(r), in_channels=_channels(r.input_shape),
               out_channels=_channels(r.output_shape)) for r in rows]


def step_memory(tensor_sizes: Sequence[int], rows, totals: dict[str, int], batch: int, dtype: str,
                optimizer: str | None, keep_timeline: bool = False) -> StepMemory:
    """The simulated training step (``optimizer`` given) or inference pass (``None``)."""
    b = DTYPE_BYTES[dtype]
    return simulate(build_ops(rows), tensor_sizes, batch=batch, dtype_bytes=b, optimizer=optimizer,
                    params_bytes=(totals["params"] + totals["buffers"]) * b, keep_timeline=keep_timeline)


def memory_summary(tensor_sizes: list[int], rows, totals: dict[str, int], batch: int, dtype: str,
                   optimizer: str) -> tuple[dict[str, int], dict[str, Any]]:
    """The numbers of the module docstring (bytes), and where the training peak happens:
    ``{"phase", "layer", "largest": [[layer, bytes], …]}``."""
    b = DTYPE_BYTES[dtype]
    train = step_memory(tensor_sizes, rows, totals, batch, dtype, optimizer)
    infer = step_memory(tensor_sizes, rows, totals, batch, dtype, None)
    at_peak = train.breakdown()
    report = {
        "input_bytes": batch * tensor_sizes[0] * b,
        "params_bytes": (totals["params"] + totals["buffers"]) * b,
        "activations_bytes": batch * sum(r.output_elements for r in rows) * b,
        "inference_peak_bytes": infer.peak,
        "training_bytes": train.peak,
    }
    report.update({key: sum(at_peak.get(k, 0) for k in kinds) for key, kinds in BREAKDOWN.items()})
    point = train.peak_point
    where = {"phase": point.phase, "layer": point.layer,
             "largest": [[name, nbytes] for name, nbytes in train.largest_at_peak(5)]}
    return report, where


def memory_report(tensor_sizes: list[int], rows, totals: dict[str, int], batch: int, dtype: str,
                  optimizer: str) -> dict[str, int]:
    """The numbers of :func:`memory_summary`."""
    return memory_summary(tensor_sizes, rows, totals, batch, dtype, optimizer)[0]


def analysis_step(analysis, optimizer: str | None, keep_timeline: bool = True) -> StepMemory:
    """The simulated step of an :class:`~designer.core.analysis.Analysis` (its batch and dtype) with its
    timeline: a training step with ``optimizer``, or an inference pass (``None``)."""
    return step_memory(analysis.tensor_sizes, analysis.rows, analysis.totals, analysis.batch_size,
                       analysis.dtype, optimizer, keep_timeline)
