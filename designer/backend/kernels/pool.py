"""Max, average, adaptive and spatial-pyramid pooling on ``[C, H, W]`` (PyTorch semantics).

Output size per axis (:func:`designer.core.arithmetic.pool_out`):
``out = floor_or_ceil((n + 2p − d(k − 1) − 1) / s) + 1``, in ceil mode dropping a last window
that would start in the right padding. Windows are reduced offset by offset over strided
views (``k_h·k_w`` vectorised passes, never a loop over pixels).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from designer.core.arithmetic import adaptive_bins, pool_out

from ._util import IntPair, alloc, as_f32, batched, pad_into, pair, parallel_apply


def _window_views(xp: np.ndarray, k: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
                  out_hw: tuple[int, int]) -> np.ndarray:
    """``views[c, u, v, i, j] = xp[c, s_h·i + d_h·u, s_w·j + d_w·v]`` (read-only strided view)."""
    st = xp.strides
    return as_strided(xp, (xp.shape[0], k[0], k[1], *out_hw),
                      (st[0], d[0] * st[1], d[1] * st[2], s[0] * st[1], s[1] * st[2]), writeable=False)


def _pool_geometry(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None, padding: IntPair,
                   dilation: IntPair, ceil_mode: bool) -> tuple:
    """Normalised ``k, s, p, d``, the output size and the ``(top, bottom, left, right)`` padding.

    The bottom/right padding also covers ceil-mode windows that run past ``n + p``.
    """
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p, d = pair(padding, "padding"), pair(dilation, "dilation")
    if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
        raise ValueError(f"pool padding {p} must be at most half the kernel {k}")
    h, w = x.shape[1:]
    out = (pool_out(h, k[0], s[0], p[0], d[0], ceil_mode), pool_out(w, k[1], s[1], p[1], d[1], ceil_mode))
    if out[0] <= 0 or out[1] <= 0:
        raise ValueError(f"pool window {k} does not fit the padded input {(h, w)}")
    need = [(o - 1) * st + dd * (kk - 1) + 1 for o, st, dd, kk in zip(out, s, d, k)]
    pads = (p[0], max(p[0], need[0] - p[0] - h), p[1], max(p[1], need[1] - p[1] - w))
    return k, s, p, d, out, pads


@batched
def max_pool2d(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False) -> np.ndarray:
    """``y[c, i, j] = max_{u, v} x_pad[c, s_h·i + d_h·u, s_w·j + d_w·v]``, padding = −∞.

    Args follow ``torch.nn.functional.max_pool2d``; ``stride`` defaults to ``kernel_size``.
    """
    x = as_f32(x)
    k, s, _, d, out_hw, pads = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
    xp = pad_into(x, pads, value=-np.inf, tag="pool_pad")
    views = _window_views(xp, k, s, d, out_hw)
    out = alloc((x.shape[0], *out_hw))

    def reduce(vs: np.ndarray, o: np.ndarray) -> None:
        np.copyto(o, vs[:, 0, 0])
        for u in range(k[0]):
            for v in range(k[1]):
                if u or v:
                    np.maximum(o, vs[:, u, v], out=o)

    return parallel_apply(reduce, out, views)


def _divisor(n: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """Window sizes along one axis, PyTorch's rule.

    ``start = i·s − p``, ``end = min(start + k, n + p)``; with ``count_include_pad`` the size is
    ``end − start``, otherwise ``min(end, n) − max(start, 0)``.
    """
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return (end - start).astype(np.float32)
    return (np.minimum(end, n) - np.maximum(start, 0)).astype(np.float32)


@batched
def avg_pool2d(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
    """``y[c, i, j] = Σ_{window} x_pad / divisor`` (zero padding; see :func:`_divisor`).

    Args follow ``torch.nn.functional.avg_pool2d``; ``stride`` defaults to ``kernel_size``.
    """
    x = as_f32(x)
    k, s, p, d, out_hw, pads = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode)
    xp = pad_into(x, pads, value=0.0, tag="pool_pad")
    views = _window_views(xp, k, s, d, out_hw)
    out = alloc((x.shape[0], *out_hw))
    np.copyto(out, views[:, 0, 0])
    for u in range(k[0]):
        for v in range(k[1]):
            if u or v:
                np.add(out, views[:, u, v], out=out)
    dh = _divisor(x.shape[1], out_hw[0], k[0], s[0], p[0], count_include_pad)
    dw = _divisor(x.shape[2], out_hw[1], k[1], s[1], p[1], count_include_pad)
    out /= dh[:, None] * dw[None, :]
    return out


def _adaptive_axis(x: np.ndarray, axis: int, out: int, reduce: str) -> np.ndarray:
    """Reduce ``axis`` of ``x`` into ``out`` PyTorch adaptive bins (a loop over bins, not pixels)."""
    n = x.shape[axis]
    if n % out == 0:
        shape = (*x.shape[:axis], out, n // out, *x.shape[axis + 1:])
        return getattr(x.reshape(shape), reduce)(axis=axis + 1)
    parts = [getattr(x.take(range(a, b), axis=axis), reduce)(axis=axis, keepdims=True)
             for a, b in adaptive_bins(n, out)]
    return np.concatenate(parts, axis=axis)


def _adaptive(x: np.ndarray, output_size: IntPair | tuple[int | None, int | None], reduce: str) -> np.ndarray:
    x = as_f32(x)
    if isinstance(output_size, (int, np.integer)):
        output_size = (int(output_size), int(output_size))
    oh = x.shape[1] if output_size[0] is None else int(output_size[0])
    ow = x.shape[2] if output_size[1] is None else int(output_size[1])
    y = _adaptive_axis(_adaptive_axis(x, 1, oh, reduce), 2, ow, reduce)
    return np.ascontiguousarray(y, dtype=np.float32)


@batched
def adaptive_avg_pool2d(x: np.ndarray, output_size: IntPair) -> np.ndarray:
    """Mean over PyTorch's adaptive bins ``[floor(i·n/o), ceil((i+1)·n/o))`` per axis."""
    return _adaptive(x, output_size, "mean")


@batched
def adaptive_max_pool2d(x: np.ndarray, output_size: IntPair) -> np.ndarray:
    """Max over PyTorch's adaptive bins ``[floor(i·n/o), ceil((i+1)·n/o))`` per axis."""
    return _adaptive(x, output_size, "max")


def spatial_pyramid_pool(x: np.ndarray, levels: tuple[int, ...] = (4, 2, 1), mode: str = "max") -> np.ndarray:
    """Spatial pyramid pooling (He et al. 2014): ``concat_n flatten(adaptive_pool(x, n×n))``.

    Output ``[C·Σn²]`` for ``[C, H, W]`` input (``[N, C·Σn²]`` for a batch), level by level, each
    level flattened channel-major like ``torch.flatten``.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"spatial_pyramid_pool mode must be 'max' or 'avg', got {mode!r}")
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    if x.ndim == 4:
        return np.stack([spatial_pyramid_pool(xi, levels, mode) for xi in x])
    return np.concatenate([pool(x, n).reshape(-1) for n in levels])
