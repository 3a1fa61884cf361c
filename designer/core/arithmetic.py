"""Convolution arithmetic shared by the analysis and the NumPy backend.

Every function works on one spatial axis with plain Python ints, so an absurd input size
(10**9) is analysed without allocating anything.
"""

from __future__ import annotations

import math


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel: ``k_eff = d·(k − 1) + 1``."""
    return dilation * (kernel - 1) + 1


def conv_out(n: int, kernel: int, stride: int = 1, pad_total: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution (PyTorch floor rule).

    ``out = floor((n + p_total − d·(k − 1) − 1) / s) + 1`` where ``p_total`` is the padding of
    both sides together (``2p`` for symmetric padding). May be ≤ 0 when the kernel does not fit.
    """
    return (n + pad_total - effective_kernel(kernel, dilation)) // stride + 1


def pool_out(n: int, kernel: int, stride: int, pad: int = 0, dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a max/avg pool, exactly PyTorch's rule.

    ``out = floor((n + 2p − d(k − 1) − 1 [+ s − 1 in ceil mode]) / s) + 1``; in ceil mode the last
    window must start inside the input or the left padding: if ``(out − 1)·s ≥ n + p`` it is dropped.
    (So in ceil mode a window may be larger than a tiny input, as long as it starts inside it.)
    """
    span = n + 2 * pad - effective_kernel(kernel, dilation) + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= n + pad:
        out -= 1
    return out


def same_padding(n: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding ``(before, after)`` for any stride.

    ``out = ceil(n / s)``; total padding ``max((out − 1)·s + k_eff − n, 0)``, the extra row or
    column at the bottom/right.
    """
    out = -(-n // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - n, 0)
    return total // 2, total - total // 2


def valid_out(n: int, kernel: int, stride: int = 1, dilation: int = 1) -> int:
    """TensorFlow VALID output length ``ceil((n − k_eff + 1) / s)`` (= the floor rule with p = 0)."""
    return conv_out(n, kernel, stride, 0, dilation)


def ignored_tail(n: int, kernel: int, stride: int, pad_total: int = 0, dilation: int = 1) -> int:
    """Rows/columns at the end that no window covers when the stride does not tile the input.

    ``(n + p_total − k_eff) mod s`` positions of the padded input; only those that are real
    input (not padding) are counted.
    """
    span = n + pad_total - effective_kernel(kernel, dilation)
    if span < 0:
        return 0
    pad_after = pad_total - pad_total // 2
    return max(span % stride - pad_after, 0)


def conv_transpose_out(n: int, kernel: int, stride: int = 1, pad: int = 0, dilation: int = 1,
                       output_padding: int = 0) -> int:
    """Output length of a transposed convolution: ``(n − 1)s − 2p + d(k − 1) + output_padding + 1``."""
    return (n - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1


def adaptive_bins(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: bin i covers ``[floor(i·n/out), ceil((i+1)·n/out))``."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def upsample_out(n: int, scale: float) -> int:
    """Output length of ``Upsample(scale_factor=scale)``: ``floor(n · scale)``."""
    return math.floor(n * scale)


def nearest_source(out: int, n: int, scale: float) -> list[int]:
    """PyTorch's ``Upsample(mode="nearest")`` source index of each output position:
    ``min(⌊o · float32(1/scale)⌋, n − 1)`` (computed in float32 like PyTorch; exact for 2×)."""
    import numpy as np  # local: the rest of this module is plain Python

    if out == 2 * n:
        return [o // 2 for o in range(out)]
    src = np.floor(np.arange(out, dtype=np.float32) * np.float32(1.0 / scale)).astype(np.int64)
    return np.minimum(src, n - 1).tolist()
