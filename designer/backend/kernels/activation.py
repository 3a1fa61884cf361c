"""Elementwise activations and softmax, numerically stable for inputs of ±1e4.

Every function accepts any shape and returns a new float32 array.
"""

from __future__ import annotations

import numpy as np

from ._util import as_f32, map_elementwise, zeros


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, block by block against a cached block of zeros.

    ``np.maximum`` with a scalar 0 takes a slow non-SIMD loop (about 2.5× the time of a
    multiply); with two arrays it is vectorised.
    """
    x = as_f32(x)
    return map_elementwise(lambda a, o: np.maximum(a, zeros(o.shape), out=o), x)


def relu6(x: np.ndarray) -> np.ndarray:
    """``min(max(x, 0), 6)``."""
    x = as_f32(x)

    def clip(a: np.ndarray, o: np.ndarray) -> None:
        np.maximum(a, zeros(o.shape), out=o)
        np.minimum(o, np.float32(6), out=o)

    return map_elementwise(clip, x)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """``x`` for ``x ≥ 0``, ``negative_slope · x`` otherwise."""
    x = as_f32(x)
    return np.where(x >= 0, x, x * np.float32(negative_slope))


def prelu(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``max(0, x) + a_c · min(0, x)`` with one slope (``[1]``) or one per channel (``[C]``).

    The channel axis is axis 0 of ``[C, H, W]`` / ``[F]``, axis 1 of a batch ``[N, C, ...]``.
    """
    x, weight = as_f32(x), as_f32(weight).reshape(-1)
    if weight.size > 1:
        axis = 1 if x.ndim == 4 or (x.ndim == 2) else 0
        shape = [1] * x.ndim
        shape[axis] = weight.size
        weight = weight.reshape(shape)
    return np.where(x >= 0, x, x * weight)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``x`` for ``x > 0``, ``α·(eˣ − 1)`` otherwise (``expm1`` of ``min(x, 0)``: no overflow)."""
    x = as_f32(x)
    neg = np.expm1(np.minimum(x, np.float32(0))) * np.float32(alpha)
    return np.where(x > 0, x, neg)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^{−x})`` computed from ``e = e^{−|x|} ≤ 1``: ``1/(1+e)`` or ``e/(1+e)``."""
    x = as_f32(x)
    e = np.exp(-np.abs(x))
    inv = np.float32(1) / (np.float32(1) + e)
    return np.where(x >= 0, inv, e * inv)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent (``np.tanh`` saturates without overflow)."""
    return np.tanh(as_f32(x))


def softmax(x: np.ndarray, dim: int = 0) -> np.ndarray:
    """``e^{x_i − max x} / Σ_j e^{x_j − max x}`` along ``dim`` (channels of ``[C, H, W]`` or features)."""
    x = as_f32(x)
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e
