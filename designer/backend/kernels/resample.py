"""Upsampling: nearest and bilinear, ``torch.nn.functional.interpolate`` semantics.

Output size per axis: ``floor(n · scale)`` (:func:`designer.core.arithmetic.upsample_out`) or an
explicit ``size``. Source coordinates follow PyTorch exactly, in float32:

* nearest: ``src = min(floor(dst · r), n − 1)`` with ``r = 1/scale`` (or ``n/out`` given a size);
* bilinear, ``align_corners=True``: ``src = dst · (n − 1)/(out − 1)``;
* bilinear, ``align_corners=False``: ``src = max((dst + 0.5) · r − 0.5, 0)``;
  then ``y = (1 − λ)·x[i0] + λ·x[i1]`` with ``i0 = floor(src)``, ``i1 = min(i0 + 1, n − 1)``, ``λ = src − i0``,
  applied along H then along W.

An axis whose output length equals its input length is copied unchanged in every mode, as PyTorch
does, even when ``scale`` is not 1 (``floor(n · scale) == n`` for ``scale < (n + 1)/n``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from designer.core.arithmetic import upsample_out

from ._util import as_f32, batched


def _out_and_ratio(n: int, size: int | None, scale: float | None) -> tuple[int, np.float32]:
    """Output length and PyTorch's source/destination ratio ``r`` for one axis."""
    if size is not None:
        return int(size), np.float32(np.float32(n) / np.float32(size))
    if scale is None:
        raise ValueError("upsample needs size or scale_factor")
    return upsample_out(n, scale), np.float32(1.0 / scale)


def _nearest_index(n: int, out: int, ratio: np.float32) -> np.ndarray:
    if out == n:
        return np.arange(n)
    if out == 2 * n:
        return np.arange(out) // 2
    src = np.floor(np.arange(out, dtype=np.float32) * ratio).astype(np.int64)
    return np.minimum(src, n - 1)


def linear_weights(n: int, out: int, ratio: np.float32, align_corners: bool):
    """``(i0, i1, λ)`` per output index (see the module docstring); the identity when ``out == n``."""
    if out == n:
        index = np.arange(n)
        return index, index, np.zeros(n, np.float32)
    dst = np.arange(out, dtype=np.float32)
    if align_corners:
        r = np.float32(n - 1) / np.float32(out - 1) if out > 1 else np.float32(0)
        src = dst * r
    else:
        src = np.maximum((dst + np.float32(0.5)) * ratio - np.float32(0.5), np.float32(0))
    i0 = src.astype(np.int64)
    lam = (src - i0.astype(np.float32)).astype(np.float32)
    i1 = np.where(i0 < n - 1, i0 + 1, i0)
    return i0, i1, lam


def _pair_or_none(v: float | Sequence[float] | None) -> tuple:
    if v is None:
        return None, None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return v, v
    return tuple(v)


@batched
def upsample(x: np.ndarray, size: int | Sequence[int] | None = None,
             scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
             align_corners: bool = False) -> np.ndarray:
    """Resize ``x [C, H, W]`` by ``scale_factor`` or to ``size``; ``mode`` nearest or bilinear."""
    x = as_f32(x)
    sizes, scales = _pair_or_none(size), _pair_or_none(scale_factor)
    (oh, rh), (ow, rw) = (_out_and_ratio(n, sz, sc) for n, sz, sc in zip(x.shape[1:], sizes, scales))
    if mode == "nearest":
        ih, iw = _nearest_index(x.shape[1], oh, rh), _nearest_index(x.shape[2], ow, rw)
        return np.ascontiguousarray(x[:, ih][:, :, iw])
    if mode != "bilinear":
        raise ValueError(f"upsample mode must be 'nearest' or 'bilinear', got {mode!r}")
    h0, h1, lh = linear_weights(x.shape[1], oh, rh, align_corners)
    w0, w1, lw = linear_weights(x.shape[2], ow, rw, align_corners)
    rows = x[:, h0] * (1 - lh)[:, None] + x[:, h1] * lh[:, None]
    return np.ascontiguousarray(rows[:, :, w0] * (1 - lw) + rows[:, :, w1] * lw, dtype=np.float32)


def upsample_nearest(x: np.ndarray, scale_factor: float = 2.0) -> np.ndarray:
    """``upsample(x, scale_factor=…, mode="nearest")``."""
    return upsample(x, scale_factor=scale_factor, mode="nearest")


def upsample_bilinear(x: np.ndarray, scale_factor: float = 2.0, align_corners: bool = False) -> np.ndarray:
    """``upsample(x, scale_factor=…, mode="bilinear")``."""
    return upsample(x, scale_factor=scale_factor, mode="bilinear", align_corners=align_corners)
