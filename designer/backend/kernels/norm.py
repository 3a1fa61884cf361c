"""Normalisation layers: batch norm (inference) and local response norm (PyTorch formulas)."""

from __future__ import annotations

import numpy as np

from ..cancel import check_cancel
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


LRN_DIRECT_MAX_OFFSETS = 16
"""Windows of at most this many channels are summed offset by offset (exactly PyTorch's sums, the usual
``size = 5``); wider windows use a float64 prefix sum over channels, whose cost does not depend on ``size``."""
LRN_CHUNK_ELEMENTS = 1 << 20
"""Elements of one row chunk: bounds the float64 temporaries (8 MiB) and how long a cancel waits."""


def local_response_norm(x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> np.ndarray:
    """``torch.nn.functional.local_response_norm`` over channels of ``[C, H, W]`` (or ``[N, C, H, W]``).

    ``y_c = x_c / (k + α/n · Σ_{c' = c − ⌊n/2⌋}^{c + ⌊(n−1)/2⌋} x_{c'}²)^β`` with zero padding
    outside ``[0, C)`` (PyTorch averages the zero-padded window with divisor ``n``). The window sums
    come from :func:`channel_window_sum`, whose cost does not depend on ``n``. Rows are processed in
    chunks; :func:`designer.backend.cancel.check_cancel` runs between chunks.
    """
    x = as_f32(x)
    if x.ndim == 4:
        return np.stack([local_response_norm(xi, size, alpha, beta, k) for xi in x])
    c, h, w = x.shape
    out = alloc(x.shape)  # recycled memory of a previous run when there is some
    rows = max(1, LRN_CHUNK_ELEMENTS // max(1, c * w))
    for top in range(0, h, rows):
        check_cancel("inside LocalResponseNorm")
        xs = x[:, top:top + rows]
        div = channel_window_sum(np.square(xs), size // 2, (size - 1) // 2)
        div *= np.float32(alpha / size)
        div += np.float32(k)
        np.power(div, np.float32(beta), out=div)
        np.divide(xs, div, out=out[:, top:top + rows])
    return out


def channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """``out[c] = Σ_{c' = c − before}^{c + after} a[c']`` over axis 0, zeros outside ``[0, C)``, in ``a``'s dtype.

    Offsets beyond ``±C`` add nothing, so the window is first clipped to ``C`` each side. Narrow windows
    (at most :data:`LRN_DIRECT_MAX_OFFSETS` offsets) add one shifted slice per offset; wide ones are
    differences of the float64 prefix sum ``S_j = Σ_{c' < j} a[c']``:
    ``out[c] = S_{min(C, c + after + 1)} − S_{max(0, c − before)}`` — O(C) per pixel whatever the window.
    """
    c = a.shape[0]
    before, after = min(before, c), min(after, c)
    if before + after + 1 <= LRN_DIRECT_MAX_OFFSETS:
        total = np.zeros_like(a)
        for off in range(-before, after + 1):
            lo, hi = max(0, -off), min(c, c - off)
            if hi > lo:
                total[lo:hi] += a[lo + off:hi + off]
        return total
    prefix = np.zeros((c + 1, *a.shape[1:]), np.float64)
    np.cumsum(a, axis=0, dtype=np.float64, out=prefix[1:])
    channels = np.arange(c)
    upper, lower = np.minimum(channels + after + 1, c), np.maximum(channels - before, 0)
    return (prefix[upper] - prefix[lower]).astype(a.dtype, copy=False)
