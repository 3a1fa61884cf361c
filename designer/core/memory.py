"""Memory estimates: parameters, activations, inference peak (liveness) and training.

Let ``b`` be the bytes per element (float32: 4) and ``B`` the batch size.

- ``input_bytes`` = B·numel(input)·b; ``params_bytes`` = (params + buffers)·b
- ``activations_bytes`` = B·Σ numel(layer output)·b, every layer counted once
- ``inference_peak_bytes`` = params_bytes + the most bytes alive at once when layers run in order
  and each tensor is freed right after its last consumer (a Branch keeps its input alive until its
  last branch and the merge have run)
- ``training_bytes`` = trainable·b·(2 + optimizer states) + buffers·b + 2·(input + activations):
  weights and their gradients plus optimizer state; every activation kept for the backward pass
  plus a gradient of the same size.
"""

from __future__ import annotations

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


def peak_live_elements(tensor_sizes: list[int], rows) -> int:
    """Most elements alive at once; tensor 0 is the input, each row produces ``row.output``."""
    last_use = {t: len(rows) for t in range(len(tensor_sizes))}  # unused tensors live to the end
    for step, row in enumerate(rows):
        for t in row.inputs:
            last_use[t] = step
    if rows:
        last_use[rows[-1].output] = len(rows)
    consumers_done: dict[int, list[int]] = {}
    for t, step in last_use.items():
        consumers_done.setdefault(step, []).append(t)
    alive = tensor_sizes[0]
    peak = alive
    for step, row in enumerate(rows):
        alive += tensor_sizes[row.output]
        peak = max(peak, alive)
        alive -= sum(tensor_sizes[t] for t in consumers_done.get(step, ()))
    return peak


def memory_report(tensor_sizes: list[int], rows, totals: dict[str, int], batch: int, dtype: str,
                  optimizer: str) -> dict[str, int]:
    b = DTYPE_BYTES[dtype]
    input_bytes = batch * tensor_sizes[0] * b
    params_bytes = (totals["params"] + totals["buffers"]) * b
    activations = batch * sum(r.output_elements for r in rows) * b
    peak = params_bytes + batch * peak_live_elements(tensor_sizes, rows) * b
    training = (totals["trainable_params"] * b * (2 + OPTIMIZER_STATES[optimizer]) + totals["buffers"] * b
                + 2 * (input_bytes + activations))
    return {"input_bytes": input_bytes, "params_bytes": params_bytes, "activations_bytes": activations,
            "inference_peak_bytes": peak, "training_bytes": training}
