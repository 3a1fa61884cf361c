"""VJPs of the activations, Softmax, BatchNorm2d (inference) and LocalResponseNorm.

Elementwise ``y = f(x)`` gives ``∂L/∂x = ḡ ⊙ f'(x)``; at the kinks the derivative is PyTorch's:
ReLU ``[x > 0]``, ReLU6 ``[0 < x < 6]``, LeakyReLU/PReLU ``1`` for ``x > 0`` else the slope,
ELU ``1`` for ``x > 0`` else ``α·eˣ``, Sigmoid ``y(1 − y)``, Tanh ``1 − y²``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer

from ..kernels.norm import channel_window_sum
from .base import NO_PARAMS, Grads, elementwise, f32, identity_vjp, key


def _relu(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ReLU: ``f'(x) = [x > 0]``."""
    return x > 0


def _relu6(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ReLU6: ``f'(x) = [0 < x < 6]``."""
    return (x > 0) & (x < 6)


def _leaky(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LeakyReLU: ``f'(x) = 1`` for ``x > 0`` else ``negative_slope``."""
    return np.where(x > 0, np.float32(1), np.float32(layer.hp["negative_slope"]))


def _elu(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ELU: ``f'(x) = 1`` for ``x > 0`` else ``α·eˣ`` (``exp`` of ``min(x, 0)``: no overflow)."""
    return np.where(x > 0, np.float32(1), np.float32(layer.hp["alpha"]) * np.exp(np.minimum(x, np.float32(0))))


def _sigmoid(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sigmoid: ``f'(x) = y·(1 − y)``."""
    return y * (np.float32(1) - y)


def _tanh(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tanh: ``f'(x) = 1 − y²``."""
    return np.float32(1) - y * y


def _channel_shape(weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A PReLU slope vector shaped to broadcast over axis 0 of ``[C, H, W]`` or ``[F]``."""
    return weight.reshape((weight.size,) + (1,) * (x.ndim - 1)) if weight.size > 1 else weight.reshape(())


def prelu_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
              weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """PReLU ``y = x`` (x > 0) else ``a·x``: ``∂L/∂x = ḡ·(1 or a)``, ``∂L/∂a = Σ ḡ·x·[x ≤ 0]`` per slope."""
    x, w = xs[0], weights[key(layer, "weight")]
    a = _channel_shape(w, x)
    dx = f32(gy * np.where(x > 0, np.float32(1), a))
    if not params:
        return [dx], {}
    neg = np.where(x > 0, np.float32(0), gy * x)
    da = neg.reshape(w.size, -1).sum(axis=1) if w.size > 1 else neg.sum(keepdims=True).reshape(1)
    return [dx], {key(layer, "weight"): f32(da)}


def softmax_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """Softmax over axis 0: ``∂L/∂x = y ⊙ (ḡ − Σ_c ḡ_c·y_c)``."""
    return [f32(y * (gy - (gy * y).sum(axis=0, keepdims=True)))], NO_PARAMS


def batch_norm_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                   weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """BatchNorm2d in inference: ``y = γ·x̂ + β``, ``x̂ = (x − μ)/σ``, ``σ = sqrt(var + eps)`` per channel.

    Running statistics (the usual case) are constants: ``∂L/∂x = ḡ·γ/σ``. Without tracked statistics the
    map's own mean and biased variance over ``N = H·W`` are used, and
    ``∂L/∂x = γ/(σN) · (N·ḡ − Σḡ − x̂·Σ ḡx̂)``. Always ``∂L/∂γ = Σ ḡ·x̂``, ``∂L/∂β = Σ ḡ``.
    """
    hp, x, name = layer.hp, xs[0], layer.name
    tracked = hp["track_running_stats"]
    if tracked:
        mean, var = weights[f"{name}.running_mean"], weights[f"{name}.running_var"]
    else:
        mean, var = x.mean(axis=(1, 2), dtype=np.float64), x.var(axis=(1, 2), dtype=np.float64)
    inv = (1.0 / np.sqrt(np.asarray(var, np.float64) + hp["eps"]))[:, None, None]
    gamma = weights[f"{name}.weight"][:, None, None] if hp["affine"] else np.float32(1)
    xhat = (x - np.asarray(mean, np.float64)[:, None, None]) * inv if (params or not tracked) else None
    if tracked:
        dx = gy * (gamma * inv).astype(np.float32)
    else:
        n = x.shape[1] * x.shape[2]
        sum_g = gy.sum(axis=(1, 2), keepdims=True, dtype=np.float64)
        sum_gx = (gy * xhat).sum(axis=(1, 2), keepdims=True)
        dx = gamma * inv / n * (n * gy - sum_g - xhat * sum_gx)
    grads: dict[str, np.ndarray] = {}
    if params and hp["affine"]:
        grads[f"{name}.weight"] = f32((gy * xhat).sum(axis=(1, 2)))
        grads[f"{name}.bias"] = f32(gy.sum(axis=(1, 2), dtype=np.float64))
    return [f32(dx)], grads


def lrn_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
            weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """LocalResponseNorm ``y_c = x_c·D_c^{−β}``, ``D_c = k + α/n·Σ_{c' ∈ [c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]} x²_{c'}``.

    ``∂L/∂x_j = ḡ_j·D_j^{−β} − (2αβ/n)·x_j·Σ_{c ∈ [j − ⌊(n−1)/2⌋, j + ⌊n/2⌋]} ḡ_c·y_c/D_c``: the window
    sum of the second term runs over the channels whose window contains ``j`` (the mirrored window).
    """
    hp, x = layer.hp, xs[0].astype(np.float64)
    n, alpha, beta = hp["size"], hp["alpha"], hp["beta"]
    lo, hi = n // 2, (n - 1) // 2
    div = hp["k"] + alpha / n * channel_window_sum(x * x, lo, hi)
    g = gy.astype(np.float64)
    back = channel_window_sum(g * x * div ** (-beta - 1), hi, lo)
    return [f32(g * div ** (-beta) - (2 * alpha * beta / n) * x * back)], NO_PARAMS


POINTWISE_VJPS = {
    "ReLU": elementwise(_relu),
    "ReLU6": elementwise(_relu6),
    "LeakyReLU": elementwise(_leaky),
    "ELU": elementwise(_elu),
    "Sigmoid": elementwise(_sigmoid),
    "Tanh": elementwise(_tanh),
    "PReLU": prelu_vjp,
    "Softmax": softmax_vjp,
    "BatchNorm2d": batch_norm_vjp,
    "LocalResponseNorm": lrn_vjp,
    "Dropout": identity_vjp,
}
