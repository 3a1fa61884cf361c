"""SiLU, Hardswish, Hardsigmoid, GELU, Identity, GroupNorm and ZeroPad2d: each forward beside its VJP.

Derivatives follow PyTorch's backward kernels exactly, kinks included:

* SiLU ``y = x·σ(x)``: ``f' = σ(x)·(1 + x·(1 − σ(x)))``;
* Hardswish ``y = x·ReLU6(x + 3)/6``: ``f' = 0`` for ``x ≤ −3``, ``x/3 + ½`` for ``−3 < x < 3``, ``1`` for ``x ≥ 3``
  (PyTorch ≥ 2.x takes the outer value at both kinks);
* Hardsigmoid ``y = ReLU6(x + 3)/6``: ``f' = 1/6`` for ``−3 < x < 3``, else ``0``;
* GELU ``y = x·Φ(x)``: ``f' = Φ(x) + x·φ(x)``; with ``approximate='tanh'``, ``y = ½x(1 + tanh u)``,
  ``u = √(2/π)(x + 0.044715x³)``: ``f' = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)``;
* GroupNorm over groups of ``C/G`` channels and all positions, ``x̂ = (x − μ_g)/σ_g``, ``y = γ_c·x̂ + β_c``:
  with ``ĝ = ḡ·γ`` and ``N`` elements per group, ``∂L/∂x = (ĝ − mean_g(ĝ) − x̂·mean_g(ĝ·x̂))/σ_g``,
  ``∂L/∂γ = Σ ḡ·x̂``, ``∂L/∂β = Σ ḡ`` over the positions;
* ZeroPad2d: the VJP crops ``ḡ`` back to the input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from designer.core import Layer

from .. import kernels as K
from ..grad.base import NO_PARAMS, Grads, elementwise, f32, identity_vjp, key
from . import LayerFunction, register

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715


def erf(x: np.ndarray) -> np.ndarray:
    """The error function to ~1e-12 (float64 inside): a Taylor series for ``|x| < 2.5``, else the continued
    fraction of ``erfc`` (NumPy has no ``erf``)."""
    z = np.asarray(x, np.float64)
    a = np.abs(z)
    out = np.empty_like(z)
    small = a < 2.5
    zs = z[small]
    term, total, z2 = zs.copy(), zs.copy(), zs * zs
    for n in range(1, 60):
        term = term * (-z2) / n
        total += term / (2 * n + 1)
    out[small] = total * (2.0 / math.sqrt(math.pi))
    al = a[~small]
    frac = np.zeros_like(al)
    for n in range(60, 0, -1):  # erfc(a) = e^{−a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …))))
        frac = (n / 2.0) / (al + frac)
    erfc = np.exp(-al * al) / math.sqrt(math.pi) / (al + frac)
    out[~small] = np.sign(z[~small]) * (1.0 - erfc)
    return out


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + erf(np.asarray(x, np.float64) / math.sqrt(2.0)))


# --- SiLU -----------------------------------------------------------------------------------------
def silu(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    x = xs[0]
    return f32(x * K.sigmoid(x))


def _silu_grad(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SiLU: ``σ(x)·(1 + x·(1 − σ(x)))``."""
    s = K.sigmoid(x)
    return s * (np.float32(1) + x * (np.float32(1) - s))


# --- Hardswish / Hardsigmoid ----------------------------------------------------------------------
def hardswish(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    x = xs[0]
    return f32(x * np.clip(x + np.float32(3), 0, 6) / np.float32(6))


def _hardswish_grad(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hardswish: ``0`` for ``x ≤ −3``, ``x/3 + ½`` on (−3, 3), ``1`` for ``x ≥ 3`` (PyTorch's kinks)."""
    mid = x / np.float32(3) + np.float32(0.5)
    return np.where(x <= -3, np.float32(0), np.where(x < 3, mid, np.float32(1)))


def hardsigmoid(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    return f32(np.clip(xs[0] + np.float32(3), 0, 6) / np.float32(6))


def _hardsigmoid_grad(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hardsigmoid: ``1/6`` strictly inside (−3, 3), else 0."""
    return np.where((x > -3) & (x < 3), np.float32(1 / 6), np.float32(0))


# --- GELU -------------------------------------------------------------------------------------------
def _tanh_u(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x ** 3))


def gelu(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    x = np.asarray(xs[0], np.float64)
    if layer.hp["approximate"] == "tanh":
        return f32(0.5 * x * (1.0 + _tanh_u(x)))
    return f32(x * _normal_cdf(x))


def _gelu_grad(layer: Layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """GELU: ``Φ(x) + x·φ(x)`` (exact) or the tanh form's derivative (module docstring)."""
    x = np.asarray(x, np.float64)
    if layer.hp["approximate"] == "tanh":
        t = _tanh_u(x)
        du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x)
        return f32(0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return f32(_normal_cdf(x) + x * pdf)


# --- Identity ---------------------------------------------------------------------------------------
def identity(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    return xs[0]


# --- GroupNorm --------------------------------------------------------------------------------------
def _groups(layer: Layer, x: np.ndarray) -> np.ndarray:
    """``x`` as ``[G, C/G · H · W]`` (float64)."""
    return np.asarray(x, np.float64).reshape(layer.hp["num_groups"], -1)


def _channel(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    return v.reshape((-1,) + (1,) * (x.ndim - 1))


def _group_norm_normalised(layer: Layer, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x̂ [G, N], 1/σ [G, 1])`` with the biased variance over each group, as PyTorch."""
    g = _groups(layer, x)
    centred = g - g.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + layer.hp["eps"])
    return centred * inv_std, inv_std


def group_norm(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    x = xs[0]
    y = _group_norm_normalised(layer, x)[0].reshape(x.shape)
    if layer.hp["affine"]:
        y = y * _channel(w[key(layer, "weight")], x) + _channel(w[key(layer, "bias")], x)
    return f32(y)


def group_norm_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                   weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """See the module docstring."""
    x = xs[0]
    x_hat, inv_std = _group_norm_normalised(layer, x)
    g = np.asarray(gy, np.float64)
    if layer.hp["affine"]:
        g = g * _channel(weights[key(layer, "weight")], x)
    g = g.reshape(x_hat.shape)
    dx = (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True)) * inv_std
    grads: dict[str, np.ndarray] = {}
    if params and layer.hp["affine"]:
        per_channel = (x.shape[0], -1)
        grads[key(layer, "weight")] = f32((gy * x_hat.reshape(x.shape)).reshape(per_channel).sum(axis=1))
        grads[key(layer, "bias")] = f32(np.asarray(gy).reshape(per_channel).sum(axis=1))
    return [f32(dx.reshape(x.shape))], grads


# --- ZeroPad2d --------------------------------------------------------------------------------------
def zero_pad(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    left, right, top, bottom = layer.hp["padding"]
    return np.pad(f32(xs[0]), ((0, 0), (top, bottom), (left, right)))


def zero_pad_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                 weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """``∂L/∂x = ḡ`` without the padded border."""
    left, _, top, _ = layer.hp["padding"]
    _, h, w = xs[0].shape
    return [f32(gy[:, top:top + h, left:left + w])], NO_PARAMS


register(
    LayerFunction("SiLU", silu, elementwise(_silu_grad)),
    LayerFunction("Hardswish", hardswish, elementwise(_hardswish_grad)),
    LayerFunction("Hardsigmoid", hardsigmoid, elementwise(_hardsigmoid_grad)),
    LayerFunction("GELU", gelu, elementwise(_gelu_grad)),
    LayerFunction("Identity", identity, identity_vjp),
    LayerFunction("GroupNorm", group_norm, group_norm_vjp),
    LayerFunction("ZeroPad2d", zero_pad, zero_pad_vjp),
)
