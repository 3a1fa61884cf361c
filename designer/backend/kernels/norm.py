"""Normalisation layers: batch norm (inference) and local response norm (PyTorch formulas)."""

from __future__ import annotations

import numpy as np

from ._util import alloc, as_f32, batched, parallel_apply, wide_base, wide_view


@batched
def batch_norm(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
               weight: np.ndarray | None = None, bias: np.ndarray | None = None, eps: float = 1e-5) -> np.ndarray:
    """Inference batch norm: ``y = (x − μ) / sqrt(σ² + eps) · γ + β`` per channel.

    Folded into one multiply-add: ``a = γ / sqrt(σ² + eps)``, ``y = x·a + (β − μ·a)``.
    """
    x = as_f32(x)
    scale = 1.0 / np.sqrt(np.asarray(running_var, np.float64) + eps)
    if weight is not None:
        scale *= weight
    shift = running_mean * -scale
    if bias is not None:
        shift += bias
    a, b = scale.astype(np.float32), shift.astype(np.float32)

    def affine(xs: np.ndarray, as_: np.ndarray, bs: np.ndarray, out: np.ndarray) -> None:
        np.multiply(xs, as_, out=out)
        out += bs

    wide = wide_base(x)
    if wide is not None:  # a strided conv output: work on its contiguous rows, return a wide view too
        base, row = wide
        out = parallel_apply(affine, alloc(base.shape), base, a[:, None], b[:, None])
        return wide_view(out, x.shape, row)
    return parallel_apply(affine, alloc(x.shape), x, a[:, None, None], b[:, None, None])


def local_response_norm(x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> np.ndarray:
    """``torch.nn.functional.local_response_norm`` over channels of ``[C, H, W]`` (or ``[N, C, H, W]``).

    ``y_c = x_c / (k + α/n · Σ_{c' = c − ⌊n/2⌋}^{c + ⌊(n−1)/2⌋} x_{c'}²)^β`` with zero padding
    outside ``[0, C)`` (PyTorch averages the zero-padded window with divisor ``n``).
    """
    x = as_f32(x)
    if x.ndim == 4:
        return np.stack([local_response_norm(xi, size, alpha, beta, k) for xi in x])
    c = x.shape[0]
    sq = np.square(x)
    lo, hi = size // 2, (size - 1) // 2
    total = np.zeros_like(x)
    for off in range(-lo, hi + 1):  # one vectorised add per window offset
        a, b = max(0, -off), min(c, c - off)
        if b > a:
            total[a:b] += sq[a + off:b + off]
    div = total * np.float32(alpha / size)
    div += np.float32(k)
    np.power(div, np.float32(beta), out=div)
    return x / div
