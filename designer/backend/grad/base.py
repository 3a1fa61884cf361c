"""Shared types and helpers of the vector-Jacobian products.

A VJP receives what the forward pass saw and produced, and the gradient of a scalar loss ``L``
with respect to the layer's output, ``ḡ = ∂L/∂y``; it returns ``∂L/∂x`` for every input (a list,
one per input tensor: one for most layers, one per branch for a Branch) and, when ``params`` is
true, ``∂L/∂θ`` for the layer's tensors keyed like ``runner.weights`` (``"<layer>.weight"``,
``"<layer>.bias"``). Buffers (BatchNorm running statistics) get no gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from designer.core import Layer

Grads = tuple[list[np.ndarray], dict[str, np.ndarray]]
Vjp = Callable[..., Grads]
"""``vjp(layer, inputs, output, grad_output, weights, params=True) -> (grad_inputs, {key: grad})``."""

NO_PARAMS: dict[str, np.ndarray] = {}


def key(layer: Layer, tensor: str) -> str:
    """``"<layer name>.<tensor>"``, the ``state_dict`` key of one of the layer's tensors."""
    return f"{layer.name}.{tensor}"


def f32(a: np.ndarray) -> np.ndarray:
    """``a`` as a contiguous float32 array (no copy when it already is one)."""
    return np.ascontiguousarray(a, dtype=np.float32)


def elementwise(derivative: Callable[[Layer, np.ndarray, np.ndarray], np.ndarray]) -> Vjp:
    """A VJP for ``y = f(x)`` elementwise: ``∂L/∂x = ḡ ⊙ f'(x)``, with ``derivative(layer, x, y) = f'(x)``."""

    def vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
            weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
        return [f32(gy * derivative(layer, xs[0], y))], NO_PARAMS

    vjp.__doc__ = derivative.__doc__
    return vjp


def identity_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                 weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """``y = x``: ``∂L/∂x = ḡ`` (Dropout at inference; every nonlinearity in the uniform ERF variant)."""
    return [gy.reshape(xs[0].shape)], NO_PARAMS


def crop(a: np.ndarray, top: int, left: int, h: int, w: int) -> np.ndarray:
    """``a[:, top:top+h, left:left+w]`` as a contiguous array, zero-filled where ``a`` is too small."""
    out = a[:, top:top + h, left:left + w]
    if out.shape[1:] == (h, w):
        return f32(out)
    full = np.zeros((a.shape[0], h, w), np.float32)
    full[:, :out.shape[1], :out.shape[2]] = out
    return full
