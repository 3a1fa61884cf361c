"""VJPs of Conv2d and ConvTranspose2d: each one's input gradient is the other one's forward pass.

Conv2d, with ``x_pad`` the input padded by ``(top, bottom, left, right)`` and ``o`` in group ``g(o)``::

    y[o, i, j] = b[o] + Σ_{c ∈ g(o)} Σ_{u, v} W[o, c, u, v] · x_pad[c, s_h·i + d_h·u, s_w·j + d_w·v]

so ``∂L/∂x_pad[c, s·i + d·u, …] += W[o, c, u, v]·ḡ[o, i, j]``: a transposed convolution of ``ḡ`` with the
*same* weight tensor (read as ``[C_in', C_out'/g, kh, kw]``), the same stride, dilation and groups, no
padding, of which only the window at the padding offset is computed (rows the stride never reaches get
zero; :func:`..kernels.transposed_window`, trimmed when the padding dwarfs the data).
``∂L/∂W[o, c, u, v] = Σ_{i,j} ḡ[o, i, j] · x_pad[c, s·i + d·u, s·j + d·v]`` is one GEMM of ``ḡ`` with the
im2col columns of ``x_pad``; ``∂L/∂b[o] = Σ_{i,j} ḡ[o, i, j]``.

ConvTranspose2d is the adjoint of that map: its input gradient is a Conv2d of ``ḡ`` (placed back in the
uncropped output, i.e. zero-padded by ``p``) with the same weights, stride, dilation and groups, and its
weight gradient is ``∂L/∂W[c, o', u, v] = Σ_{i,j} x[c, i, j] · ḡ_pad[o, s·i + d·u, s·j + d·v]``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer, resolve_conv_padding

from .. import kernels as K
from ..kernels import trim
from .base import Grads, f32, key


def _grouped_outer(a: np.ndarray, cols: np.ndarray, groups: int) -> np.ndarray:
    """``blockdiag_g(a_g @ cols_gᵀ)`` for ``a [A, L]`` and ``cols [B, L]``: returns ``[A, B/groups]``."""
    a_rows, b_rows = a.shape[0], cols.shape[0]
    out = np.matmul(a.reshape(groups, a_rows // groups, -1),
                    cols.reshape(groups, b_rows // groups, -1).transpose(0, 2, 1))
    return out.reshape(a_rows, b_rows // groups)


def _pad(x: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (top, bottom), (left, right))) if top or bottom or left or right else x


def _conv_weight_grad(x: np.ndarray, gy: np.ndarray, w_shape: tuple[int, ...], s: tuple[int, int],
                      pads: tuple[int, int, int, int], d: tuple[int, int], groups: int) -> np.ndarray:
    """``∂L/∂W = ḡ · im2col(x_pad)ᵀ`` per group. When the padding dwarfs the data (:mod:`..kernels.trim`) only
    the taps and outputs that reach the data enter (every other tap meets zeros only: its gradient is 0)."""
    top, bottom, left, right = pads
    kernel = w_shape[2:]
    spans = (trim.touching(x.shape[1], kernel[0], s[0], d[0], top, gy.shape[1]),
             trim.touching(x.shape[2], kernel[1], s[1], d[1], left, gy.shape[2]))
    padded = (x.shape[1] + top + bottom, x.shape[2] + left + right)
    if not trim.worth_trimming(padded, spans, s, d):
        cols = K.im2col(f32(_pad(x, *pads)), kernel, s, d, gy.shape[1:], tag="grad_cols")
        return _grouped_outer(gy.reshape(gy.shape[0], -1), cols, groups).reshape(w_shape)
    grad = np.zeros(w_shape, np.float32)
    if spans[0] is None or spans[1] is None:
        return grad
    (rows, t, b), (cs, l, r) = (trim.crop_axis(x.shape[1], spans[0], s[0], d[0]),
                                trim.crop_axis(x.shape[2], spans[1], s[1], d[1]))
    sub_k = (spans[0].t1 - spans[0].t0 + 1, spans[1].t1 - spans[1].t0 + 1)
    sub_gy = np.ascontiguousarray(gy[:, spans[0].i0:spans[0].i1 + 1, spans[1].i0:spans[1].i1 + 1])
    cols = K.im2col(f32(_pad(x[:, rows, cs], t, b, l, r)), sub_k, s, d, sub_gy.shape[1:], tag="grad_cols")
    sub = _grouped_outer(sub_gy.reshape(sub_gy.shape[0], -1), cols, groups)
    grad[:, :, spans[0].t0:spans[0].t1 + 1, spans[1].t0:spans[1].t1 + 1] = sub.reshape(*w_shape[:2], *sub_k)
    return grad


def conv2d_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
               weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """Conv2d (groups, dilation, stride, symmetric or SAME-asymmetric padding); see the module docstring."""
    hp, x = layer.hp, xs[0]
    w = weights[key(layer, "weight")]
    s, d, groups = hp["stride"], hp["dilation"], hp["groups"]
    (top, bottom), (left, right) = resolve_conv_padding(hp, x.shape[1], x.shape[2])
    dx = K.transposed_window(f32(gy), w, s, d, groups, (top, left), x.shape[1:])
    if not params:
        return [dx], {}
    grads = {key(layer, "weight"): _conv_weight_grad(x, f32(gy), w.shape, s, (top, bottom, left, right), d, groups)}
    if hp["bias"]:
        grads[key(layer, "bias")] = gy.sum(axis=(1, 2), dtype=np.float64).astype(np.float32)
    return [dx], grads


def conv_transpose2d_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                         weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """ConvTranspose2d (groups, dilation, stride, padding, output_padding); see the module docstring."""
    hp, x = layer.hp, xs[0]
    w = weights[key(layer, "weight")]
    s, d, groups = hp["stride"], hp["dilation"], hp["groups"]
    p, op = hp["padding"], hp["output_padding"]
    after = tuple(max(pp - o, 0) for pp, o in zip(p, op))  # zeros past the cropped output
    pads = (p[0], after[0], p[1], after[1])
    dx = K.conv2d(f32(gy), w, None, s, pads, d, groups)[:, :x.shape[1], :x.shape[2]]
    dx = f32(dx)
    if not params:
        return [dx], {}
    gy_pad = f32(_pad(gy, *pads))
    cols = K.im2col(gy_pad, w.shape[2:], s, d, x.shape[1:], tag="grad_cols")  # [C_out·kh·kw, H·W]
    grads = {key(layer, "weight"): _grouped_outer(x.reshape(x.shape[0], -1), cols, groups).reshape(w.shape)}
    if hp["bias"]:
        grads[key(layer, "bias")] = gy.sum(axis=(1, 2), dtype=np.float64).astype(np.float32)
    return [dx], grads

