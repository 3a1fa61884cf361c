"""VJPs of the pooling layers (PyTorch semantics, incl. ceil_mode, adaptive bins and SPP).

Window pools read ``x_pad[c, s·i + d·u, s·j + d·v]`` for the offsets ``(u, v)`` of the window, so their
gradients are ``k_h·k_w`` strided scatter-adds (one vectorised add per offset, never a loop over pixels):

* max: ``∂L/∂x`` receives ``ḡ[c, i, j]`` at the *first* position of the window (row-major) that equals the
  maximum — PyTorch's tie rule, which matters after a ReLU (windows of zeros);
* avg: every window position receives ``ḡ[c, i, j] / div[i, j]`` with PyTorch's divisor (``count_include_pad``,
  windows clipped at ``n + p`` in ceil mode).

Adaptive average pooling is separable, ``y = A_h · x · A_wᵀ`` with ``A[i, a_i:b_i] = 1/(b_i − a_i)`` over
PyTorch's bins ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)``, so ``∂L/∂x = A_hᵀ · ḡ · A_w``. Adaptive max gathers each bin,
takes the first row-major argmax and scatters ``ḡ`` there. SPP splits ``ḡ`` by level and sums the
adaptive VJPs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer
from designer.core.arithmetic import adaptive_bins, pool_out

from .base import NO_PARAMS, Grads, crop, f32

Geometry = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int, int, int]]


def pool_geometry(hp: Mapping, shape: tuple[int, ...]) -> Geometry:
    """``(k, s, d, out_hw, (top, bottom, left, right))``; bottom/right padding covers ceil-mode windows."""
    k, s, p = hp["kernel_size"], hp["stride"], hp["padding"]
    d = hp.get("dilation", (1, 1))
    h, w = shape[1:]
    out = tuple(pool_out(n, kk, ss, pp, dd, hp["ceil_mode"]) for n, kk, ss, pp, dd in zip((h, w), k, s, p, d))
    need = [(o - 1) * ss + dd * (kk - 1) + 1 for o, ss, dd, kk in zip(out, s, d, k)]
    pads = (p[0], max(p[0], need[0] - p[0] - h), p[1], max(p[1], need[1] - p[1] - w))
    return k, s, d, out, pads  # type: ignore[return-value]


def _offset_slices(u: int, v: int, s, d, out_hw) -> tuple[slice, slice, slice]:
    """The strided slice of ``x_pad`` read by window offset ``(u, v)``."""
    return (slice(None), slice(d[0] * u, d[0] * u + (out_hw[0] - 1) * s[0] + 1, s[0]),
            slice(d[1] * v, d[1] * v + (out_hw[1] - 1) * s[1] + 1, s[1]))


def max_pool2d_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                   weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """MaxPool2d: ``ḡ`` goes to the first maximum of each window (see the module docstring)."""
    x = xs[0]
    k, s, d, out_hw, (top, bottom, left, right) = pool_geometry(layer.hp, x.shape)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right)), constant_values=-np.inf)
    dxp = np.zeros(xp.shape, np.float32)
    taken = np.zeros(y.shape, bool)
    for u in range(k[0]):
        for v in range(k[1]):
            sl = _offset_slices(u, v, s, d, out_hw)
            hit = (xp[sl] == y) & ~taken
            dxp[sl] += np.where(hit, gy, np.float32(0))
            taken |= hit
    return [crop(dxp, top, left, *x.shape[1:])], NO_PARAMS


def avg_divisor(n: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """PyTorch's window sizes along one axis: ``start = i·s − p``, ``end = min(start + k, n + p)``;
    ``end − start`` with ``count_include_pad``, else ``min(end, n) − max(start, 0)``."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start if include_pad else np.minimum(end, n) - np.maximum(start, 0)
    return size.astype(np.float32)


def avg_pool2d_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                   weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """AvgPool2d: each window position receives ``ḡ / divisor`` (see the module docstring)."""
    hp, x = layer.hp, xs[0]
    k, s, d, out_hw, (top, bottom, left, right) = pool_geometry(hp, x.shape)
    include = hp.get("count_include_pad", True)
    div = np.outer(avg_divisor(x.shape[1], out_hw[0], k[0], s[0], hp["padding"][0], include),
                   avg_divisor(x.shape[2], out_hw[1], k[1], s[1], hp["padding"][1], include))
    share = f32(gy / div)
    dxp = np.zeros((x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right), np.float32)
    for u in range(k[0]):
        for v in range(k[1]):
            dxp[_offset_slices(u, v, s, d, out_hw)] += share
    return [crop(dxp, top, left, *x.shape[1:])], NO_PARAMS


def _average_matrix(n: int, out: int) -> np.ndarray:
    """``A [out, n]`` with ``A[i, a_i:b_i] = 1/(b_i − a_i)`` over PyTorch's adaptive bins."""
    a = np.zeros((out, n), np.float32)
    for i, (lo, hi) in enumerate(adaptive_bins(n, out)):  # one row per bin
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


def adaptive_avg_grad(x_shape: tuple[int, ...], gy: np.ndarray) -> np.ndarray:
    """``∂L/∂x = A_hᵀ · ḡ · A_w`` for ``y = adaptive_avg_pool2d(x, ḡ.shape[1:])``."""
    ah = _average_matrix(x_shape[1], gy.shape[1])
    aw = _average_matrix(x_shape[2], gy.shape[2])
    return f32(np.matmul(np.matmul(ah.T, gy), aw))


def _bin_index(n: int, out: int) -> np.ndarray:
    """``idx [out, L]``: the positions of each bin, the last one repeated up to the longest bin's length."""
    bins = np.array(adaptive_bins(n, out))
    length = int((bins[:, 1] - bins[:, 0]).max())
    return np.minimum(bins[:, :1] + np.arange(length), bins[:, 1:] - 1)


def adaptive_max_grad(x: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``ḡ`` scattered to the first row-major maximum of each adaptive bin (repeats never come first)."""
    c, h, w = x.shape
    ih, iw = _bin_index(h, gy.shape[1]), _bin_index(w, gy.shape[2])
    gathered = x[:, ih][:, :, :, iw]  # [C, o_h, L_h, o_w, L_w]
    lw = iw.shape[1]
    arg = gathered.transpose(0, 1, 3, 2, 4).reshape(c, ih.shape[0], iw.shape[0], -1).argmax(axis=-1)
    rows = ih[np.arange(ih.shape[0])[None, :, None], arg // lw]  # rows[c, i, j] = ih[i, t_h]
    cols = iw[np.arange(iw.shape[0])[None, None, :], arg % lw]
    flat = (np.arange(c)[:, None, None] * h + rows) * w + cols
    dx = np.bincount(flat.ravel(), weights=gy.ravel().astype(np.float64), minlength=c * h * w)
    return dx.reshape(c, h, w).astype(np.float32)


def adaptive_avg_pool2d_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                            weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """AdaptiveAvgPool2d: ``A_hᵀ · ḡ · A_w``."""
    return [adaptive_avg_grad(xs[0].shape, gy)], NO_PARAMS


def adaptive_max_pool2d_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                            weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """AdaptiveMaxPool2d: ``ḡ`` to the first maximum of each bin."""
    return [adaptive_max_grad(xs[0], gy)], NO_PARAMS


def spp_grad(x: np.ndarray, gy: np.ndarray, levels: tuple[int, ...], mode: str) -> np.ndarray:
    """SPP: ``y = concat_n flatten(pool_n(x))`` so ``∂L/∂x = Σ_n pool_n'ᵀ(ḡ_n)``, ``ḡ_n`` reshaped ``[C, n, n]``."""
    c = x.shape[0]
    dx = np.zeros(x.shape, np.float32)
    start = 0
    for n in levels:  # one adaptive VJP per pyramid level
        g = gy[start:start + c * n * n].reshape(c, n, n)
        start += c * n * n
        dx += adaptive_max_grad(x, g) if mode == "max" else adaptive_avg_grad(x.shape, g)
    return dx


def spp_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
            weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """SpatialPyramidPool2d: the sum of the levels' adaptive VJPs."""
    return [spp_grad(xs[0], gy, layer.hp["levels"], layer.hp["mode"])], NO_PARAMS
