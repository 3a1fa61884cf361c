"""Stored PyTorch results for Branch merges that broadcast (``add``/``mul``) and for activations at their kinks.

``python -m tests.backend_grad.merge_broadcast_reference`` (with torch) regenerates ``merge_broadcast.npz``;
``test_merge_broadcast.py`` checks the NumPy forward and VJP against it with or without torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).with_name("merge_broadcast.npz")
MERGE_CASES: dict[str, tuple[str, tuple[tuple[int, ...], ...]]] = {
    "se_gate": ("mul", ((6, 5, 4), (6, 1, 1))),
    "gate_first": ("mul", ((6, 1, 1), (6, 5, 4))),
    "spatial_gate": ("mul", ((1, 5, 4), (6, 5, 4))),
    "three_way": ("mul", ((1, 5, 4), (6, 5, 4), (6, 1, 1))),
    "row_col": ("mul", ((6, 5, 1), (6, 1, 4))),
    "vector": ("mul", ((7,), (1,))),
    "add_bias": ("add", ((6, 5, 4), (6, 1, 1))),
    "add_three": ("add", ((1, 1, 4), (6, 5, 4), (6, 5, 1))),
    "add_vector": ("add", ((1,), (7,))),
}
KINKS = np.array([-4.0, -3.0, -2.9, -0.5, 0.0, 0.5, 2.9, 3.0, 4.0, 6.0, 7.0], np.float32)
KINK_TYPES = ("Hardswish", "Hardsigmoid", "ReLU6", "ReLU", "SiLU")


def merge_inputs(name: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The operands and the output gradient of one case (a fixed seed per case)."""
    merge, shapes = MERGE_CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out_shape = np.broadcast_shapes(*shapes)
    return xs, rng.standard_normal(out_shape).astype(np.float32)


def torch_merge(name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(y, [∂L/∂x_k])`` by PyTorch autograd (a leading batch axis of 1, as in a network)."""
    import torch

    merge, _ = MERGE_CASES[name]
    xs, gy = merge_inputs(name)
    txs = [torch.tensor(x[None], requires_grad=True) for x in xs]
    y = txs[0]
    for t in txs[1:]:
        y = y * t if merge == "mul" else y + t
    y.backward(torch.tensor(gy[None]))
    return y[0].detach().numpy(), [t.grad[0].numpy() for t in txs]


def torch_kink_grads(type_name: str) -> np.ndarray:
    """``f'(x)`` at :data:`KINKS` as PyTorch's backward gives it."""
    import torch

    x = torch.tensor(KINKS, requires_grad=True)
    getattr(torch.nn, type_name)()(x).sum().backward()
    return x.grad.numpy()


def build() -> dict[str, np.ndarray]:
    entries: dict[str, np.ndarray] = {}
    for name in MERGE_CASES:
        y, grads = torch_merge(name)
        entries[f"{name}/y"] = y
        entries.update({f"{name}/dx{k}": g for k, g in enumerate(grads)})
    entries.update({f"kink/{t}": torch_kink_grads(t) for t in KINK_TYPES})
    return entries


def main() -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("merge_broadcast_reference: PyTorch is needed to regenerate the reference", file=sys.stderr)
        return 1
    np.savez_compressed(REFERENCE, **build())
    print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
