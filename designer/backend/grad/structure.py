"""VJPs of Flatten, Linear, Upsample and Branch.

* Flatten: ``∂L/∂x = reshape(ḡ, x.shape)``.
* Linear ``y = W·x + b``: ``∂L/∂x = Wᵀ·ḡ``, ``∂L/∂W = ḡ·xᵀ``, ``∂L/∂b = ḡ``.
* Upsample reads ``x`` at PyTorch's source indices (nearest ``⌊dst·r⌋``; bilinear the taps ``i0, i1`` with
  weights ``1 − λ, λ``, separable), so its VJP scatter-adds ``ḡ`` (times the tap weights) back to those
  indices, one axis after the other. The indices never decrease along an axis, so each scatter is one
  ``np.add.reduceat`` over runs of equal indices.
* Branch merges: see ``designer.backend.functions.structure``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer
from designer.core.arithmetic import nearest_source

from ..kernels.resample import linear_weights
from .base import NO_PARAMS, Grads, f32, key


def flatten_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """Flatten: ``∂L/∂x = reshape(ḡ, x.shape)``."""
    return [gy.reshape(xs[0].shape)], NO_PARAMS


def linear_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
               weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """Linear: ``∂L/∂x = Wᵀ·ḡ``, ``∂L/∂W = ḡ·xᵀ``, ``∂L/∂b = ḡ``."""
    w = weights[key(layer, "weight")]
    dx = f32(gy @ w)
    if not params:
        return [dx], {}
    grads = {key(layer, "weight"): f32(np.outer(gy, xs[0]))}
    if layer.hp["bias"]:
        grads[key(layer, "bias")] = f32(gy)
    return [dx], grads


def nearest_index(n: int, out: int, scale: float) -> np.ndarray:
    """PyTorch's nearest source index ``min(⌊dst·r⌋, n − 1)``, ``r = float32(1/scale)`` (core arithmetic)."""
    return np.arange(n) if out == n else np.asarray(nearest_source(out, n, scale))


def linear_taps(n: int, out: int, scale: float, align_corners: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i0, i1, λ)`` of the forward bilinear kernel for ``scale`` (ratio ``float32(1/scale)``, as PyTorch);
    the identity when the axis keeps its length."""
    return linear_weights(n, out, np.float32(1.0 / scale), align_corners)


def scatter_sorted(g: np.ndarray, index: np.ndarray, n: int, axis: int) -> np.ndarray:
    """``out`` with ``out[…, m, …] = Σ_{t : index[t] = m} g[…, t, …]`` along ``axis``; ``index`` non-decreasing."""
    uniq, starts = np.unique(index, return_index=True)
    shape = list(g.shape)
    shape[axis] = n
    out = np.zeros(shape, np.float32)
    where = [slice(None)] * g.ndim
    where[axis] = uniq
    out[tuple(where)] = np.add.reduceat(g, starts, axis=axis)
    return out


def _bilinear_axis(g: np.ndarray, taps: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, axis: int) -> np.ndarray:
    i0, i1, lam = taps
    shape = [1] * g.ndim
    shape[axis] = lam.size
    lam = lam.reshape(shape)
    return scatter_sorted(g * (1 - lam), i0, n, axis) + scatter_sorted(g * lam, i1, n, axis)


def upsample_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                 weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """Upsample (nearest or bilinear, align_corners): scatter ``ḡ`` back to the source taps."""
    hp, (_, h, w) = layer.hp, xs[0].shape
    (sh, sw), (oh, ow) = hp["scale_factor"], gy.shape[1:]
    if hp["mode"] == "nearest":
        rows = scatter_sorted(gy, nearest_index(w, ow, sw), w, axis=2)
        return [scatter_sorted(rows, nearest_index(h, oh, sh), h, axis=1)], NO_PARAMS
    align = hp["align_corners"]
    rows = _bilinear_axis(gy, linear_taps(w, ow, sw, align), w, axis=2)
    return [f32(_bilinear_axis(rows, linear_taps(h, oh, sh, align), h, axis=1))], NO_PARAMS
