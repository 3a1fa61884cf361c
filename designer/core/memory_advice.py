"""Will it fit? The largest batch for a memory budget, and the seeds' remedies with their effect computed.

The training-step peak grows with the batch ``B`` (every tensor but the parameters, their gradients and
the optimizer state is ``B`` times a per-image size), so the largest batch that fits a budget is found by
doubling then bisecting over :func:`designer.core.memory.step_memory`.

Remedies (seeds 000 and 004), each re-analysed so its effect is a number, not a promise:

- a smaller batch: the largest that fits;
- 16-bit floats (``float16``): every tensor halves;
- a larger stride early: the first stride-1 convolution gets stride 2, so every later map has a quarter of
  the positions (the design changes: later shapes shrink);
- in-place activations (``inplace=True``, as ``torch.nn`` has it) where PyTorch allows it and it saves
  memory: the layer before must not have saved its output for its own backward, and nothing else may read
  the activation's input.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis, analyze
from .design import Design, LayerPath
from .memory import step_memory
from .spec import INPLACE, LAYER_SPECS, saved_kinds

MAX_BATCH = 1 << 24


@dataclass(frozen=True)
class Remedy:
    """One way to need less memory: what to do, the training peak it gives, and the design it needs."""

    title: str
    detail: str
    peak_bytes: int
    fits: bool
    design: Design | None = None  # the changed design (None when only the settings change)
    batch_size: int | None = None
    dtype: str | None = None


def peak_at(a: Analysis, batch: int, dtype: str | None = None) -> int:
    """Training-step peak of ``a``'s design at another batch (and dtype)."""
    return step_memory(a.tensor_sizes, a.rows, a.totals, batch, dtype or a.dtype, a.optimizer).peak


def largest_batch(a: Analysis, budget: int, dtype: str | None = None) -> int:
    """The largest batch whose training peak is at most ``budget`` bytes (0: not even one image fits)."""
    if peak_at(a, 1, dtype) > budget:
        return 0
    low, high = 1, 2
    while high <= MAX_BATCH and peak_at(a, high, dtype) <= budget:
        low, high = high, high * 2
    if high > MAX_BATCH:
        return MAX_BATCH
    while high - low > 1:  # peak(low) fits, peak(high) does not
        mid = (low + high) // 2
        low, high = (mid, high) if peak_at(a, mid, dtype) <= budget else (low, mid)
    return low


def remedies(design: Design, a: Analysis, budget: int) -> list[Remedy]:
    """Every remedy that applies to ``design`` analysed as ``a``, with its training peak."""
    found = [_smaller_batch(a, budget), _half_precision(a, budget), _stride_early(design, a, budget),
             _inplace(design, a, budget)]
    return [r for r in found if r is not None]


def _smaller_batch(a: Analysis, budget: int) -> Remedy | None:
    batch = largest_batch(a, budget)
    if batch == 0 or batch == a.batch_size:
        return None
    verb = "smaller" if batch < a.batch_size else "larger"
    return Remedy(f"Batch {batch:,}", f"the largest batch that fits ({verb} than {a.batch_size:,})",
                  peak_at(a, batch), True, batch_size=batch)


def _half_precision(a: Analysis, budget: int) -> Remedy | None:
    if a.dtype in ("float16", "bfloat16"):
        return None
    peak = peak_at(a, a.batch_size, "float16")
    fits = largest_batch(a, budget, "float16")
    return Remedy("16-bit floats", f"float16 halves every tensor; batch up to {fits:,} fits", peak,
                  peak <= budget, dtype="float16")


def _first_stride_one_conv(design: Design) -> LayerPath | None:
    for path, layer in design.walk():
        if layer.type == "Conv2d" and tuple(layer.hp.get("stride", (1, 1))) == (1, 1):
            return path
    return None


def _stride_early(design: Design, a: Analysis, budget: int) -> Remedy | None:
    path = _first_stride_one_conv(design)
    if path is None:
        return None
    changed = design.set_params(path, stride=2)
    b = analyze(changed, a.batch_size, a.dtype, a.optimizer)
    if not b.valid:
        return None
    name = design.get(path).name
    peak = b.memory["training_bytes"]
    return Remedy(f"Stride 2 at {name}", f"every map after {name} has a quarter of the positions "
                  "(the output shapes change)", peak, peak <= budget, design=changed)


def inplace_candidates(design: Design, a: Analysis) -> list[LayerPath]:
    """Activations that may run in place: their producer did not save its output, and the activation is the
    only reader of its input (see the module docstring)."""
    readers: dict[int, int] = {}
    for row in a.rows:
        for t in row.inputs:
            readers[t] = readers.get(t, 0) + 1
    producer = {row.output: row for row in a.rows}
    rows = {row.path: row for row in a.rows}
    paths = []
    for path, layer in design.walk():
        row = rows[path]
        source = producer.get(row.inputs[0]) if row.inputs else None
        if (INPLACE not in layer.spec.traits or layer.hp.get("inplace") or source is None
                or readers.get(row.inputs[0], 0) != 1
                or "output" in saved_kinds(LAYER_SPECS[source.type], source.hp)):
            continue
        paths.append(path)
    return paths


def _inplace(design: Design, a: Analysis, budget: int) -> Remedy | None:
    paths = inplace_candidates(design, a)
    if not paths:
        return None
    changed = design
    for path in paths:
        changed = changed.set_params(path, inplace=True)
    b = analyze(changed, a.batch_size, a.dtype, a.optimizer)
    if b.memory["training_bytes"] >= a.memory["training_bytes"]:
        return None
    peak = b.memory["training_bytes"]
    return Remedy(f"In-place activations ({len(paths)})", "inplace=True where PyTorch allows it: the "
                  "activation overwrites its input instead of allocating an output", peak, peak <= budget,
                  design=changed)
