"""2-D convolution, ``torch.nn.functional.conv2d`` semantics on one image ``[C, H, W]``.

Output size per axis: ``out = floor((n + p_before + p_after − d·(k − 1) − 1) / s) + 1``
(:func:`designer.core.arithmetic.conv_out`), and

``y[o, i, j] = b[o] + Σ_{c ∈ group(o)} Σ_{u, v} w[o, c, u, v] · x_pad[c, s·i + d·u, s·j + d·v]``.

Padding that dwarfs the data (a huge stride or dilation with matching padding) is trimmed first
(:mod:`.trim`). The method is chosen per layer (see :func:`choose_method`): a plain matmul for 1×1 kernels,
shifted-GEMM accumulation for stride-1 layers on large maps, im2col GEMM otherwise, and a
per-channel im2col + batched GEMV path for depthwise layers (:mod:`.depthwise`). A 1×1 layer
whose input is a "wide" strided view (see :func:`._util.wide_base`) multiplies the wide rows
directly and returns a wide view too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from designer.core.arithmetic import conv_out

from ..cancel import check_cancel
from ._util import (
    IntPair,
    Padding4,
    alloc,
    as_f32,
    batched,
    pad_into,
    padding4,
    pair,
    parallel_apply,
    scratch,
    wide_base,
    wide_view,
)
from .depthwise import depthwise_conv2d
from .trim import crop_axis, touching, worth_trimming

SHIFTED_MIN_PIXELS = 48 * 48
"""Stride-1 layers whose output has at least this many pixels use shifted-GEMM accumulation."""
CHUNK_ELEMENTS = 512 * 1024
"""Elements of the shifted-GEMM temporary (2 MiB): one column chunk of all output channels."""
WIDE_COLS_ELEMENTS = 2 * 1024 * 1024
"""Elements of one column chunk of the wide im2col buffer (8 MiB)."""


@batched
def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: IntPair = 1,
           padding: Any = 0, dilation: IntPair = 1, groups: int = 1, method: str | None = None) -> np.ndarray:
    """Convolve ``x [C_in, H, W]`` with ``weight [C_out, C_in/groups, kh, kw]``.

    Args:
        stride, dilation: int or ``(h, w)``. Default: 1.
        padding: int, ``(ph, pw)``, ``(top, bottom, left, right)``, ``"same"`` or ``"valid"``.
        groups: channel groups; ``groups == C_in`` is the depthwise case. Default: 1.
        method: force ``"matmul"``, ``"shifted"``, ``"im2col"`` or ``"depthwise"`` (tests).

    Returns:
        ``[C_out, H_out, W_out]`` float32.
    """
    x, weight = as_f32(x), as_f32(weight)
    c_out, c_per_group, kh, kw = weight.shape
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    if x.shape[0] != c_per_group * groups or c_out % groups:
        raise ValueError(f"conv2d: input has {x.shape[0]} channels, weight {weight.shape} with groups={groups}")
    pads = padding4(padding, x.shape[1:], (kh, kw), s, d)
    ho = conv_out(x.shape[1], kh, s[0], pads[0] + pads[1], d[0])
    wo = conv_out(x.shape[2], kw, s[1], pads[2] + pads[3], d[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"conv2d: kernel {kh}×{kw} does not fit the padded input {x.shape[1:]}")
    spans = (touching(x.shape[1], kh, s[0], d[0], pads[0], ho), touching(x.shape[2], kw, s[1], d[1], pads[2], wo))
    padded = (x.shape[1] + pads[0] + pads[1], x.shape[2] + pads[2] + pads[3])
    method = method or choose_method(x.shape, weight.shape, s, groups, ho * wo)
    if worth_trimming(padded, spans, s, d):
        out = _conv_trimmed(x, weight, s, d, groups, (ho, wo), spans)
    elif method == "depthwise":
        out = depthwise_conv2d(x, weight, s, pads, d, (ho, wo))
    elif method == "matmul":
        out = _conv_matmul(x, weight, s, pads, groups, (ho, wo))
    elif method in ("shifted", "wide"):
        if s != (1, 1):
            raise ValueError(f"conv2d: the {method} method needs stride 1")
        conv = _conv_shifted if method == "shifted" else _conv_wide
        out = conv(x, weight, pads, d, groups, (ho, wo))
    else:
        out = _conv_im2col(x, weight, s, pads, d, groups, (ho, wo))
    if bias is not None:
        wide = wide_base(out)
        target, b = (wide[0], as_f32(bias)[:, None]) if wide is not None else (out, as_f32(bias)[:, None, None])
        parallel_apply(lambda o, bb, o2: np.add(o, bb, out=o2), target, target, b)
    return out


def _conv_trimmed(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], d: tuple[int, int], groups: int,
                  out_hw: tuple[int, int], spans) -> np.ndarray:
    """Padding that dwarfs the data (:mod:`.trim`): convolve only the taps and outputs that reach the data, with
    just the padding they need; every other output is 0 (the bias is added by the caller)."""
    out = np.zeros((weight.shape[0], *out_hw), np.float32)
    if spans[0] is None or spans[1] is None:
        return out
    (rows, top, bottom), (cols, left, right) = (crop_axis(x.shape[1], spans[0], s[0], d[0]),
                                                crop_axis(x.shape[2], spans[1], s[1], d[1]))
    sub_w = weight[:, :, spans[0].t0:spans[0].t1 + 1, spans[1].t0:spans[1].t1 + 1]
    sub = conv2d(np.ascontiguousarray(x[:, rows, cols]), np.ascontiguousarray(sub_w), None, s,
                 (top, bottom, left, right), d, groups)
    out[:, spans[0].i0:spans[0].i1 + 1, spans[1].i0:spans[1].i1 + 1] = sub
    return out


def choose_method(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: tuple[int, int],
                  groups: int, out_pixels: int) -> str:
    """Pick the convolution strategy for one layer (see the module docstring)."""
    c_in = x_shape[0]
    _, c_per_group, kh, kw = w_shape
    if groups > 1 and groups == c_in and c_per_group == 1 and c_in > 1:
        return "depthwise"
    if kh == kw == 1:
        return "matmul"
    if stride == (1, 1) and out_pixels >= SHIFTED_MIN_PIXELS:
        return "shifted"
    return "im2col"


def _grouped_matmul(w2: np.ndarray, cols: np.ndarray, groups: int, out: np.ndarray) -> None:
    """``out [C_out, L] = blockdiag(w2 per group) @ cols [K, L]``; ``w2`` is ``[C_out, K/groups]``."""
    if groups == 1:
        np.matmul(w2, cols, out=out)
        return
    og, kg = w2.shape[0] // groups, w2.shape[1]
    np.matmul(w2.reshape(groups, og, kg), cols.reshape(groups, kg, -1), out=out.reshape(groups, og, -1))


def _conv_matmul(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], pads: Padding4, groups: int,
                 out_hw: tuple[int, int]) -> np.ndarray:
    """1×1 kernel: ``y = W[C_out, C_in/g] @ x[:, ::s_h, ::s_w]`` (one GEMM, grouped if needed)."""
    ho, wo = out_hw
    wide = wide_base(x) if s == (1, 1) and not any(pads) else None
    if wide is not None:  # a strided ("wide") input: one GEMM on its rows gives a wide output, no copy
        base, row = wide
        out = alloc((weight.shape[0], base.shape[1]))
        _grouped_matmul(weight.reshape(weight.shape[0], -1), base, groups, out)
        return wide_view(out, (weight.shape[0], ho, wo), row)
    xp = pad_into(x, pads)
    xs = xp[:, : (ho - 1) * s[0] + 1: s[0], : (wo - 1) * s[1] + 1: s[1]]
    cols = xs.reshape(x.shape[0], ho * wo)  # copies only when strided
    out = alloc((weight.shape[0], ho, wo))
    _grouped_matmul(weight.reshape(weight.shape[0], -1), cols, groups, out.reshape(weight.shape[0], -1))
    return out


def im2col(xp: np.ndarray, kernel: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
           out_hw: tuple[int, int], tag: str = "cols") -> np.ndarray:
    """Columns ``[C·kh·kw, H_out·W_out]`` of a padded image, rows ordered ``(c, u, v)`` like OIHW.

    ``cols[(c, u, v), (i, j)] = xp[c, s_h·i + d_h·u, s_w·j + d_w·v]`` — one strided view, one copy.
    """
    c = xp.shape[0]
    (kh, kw), (ho, wo) = kernel, out_hw
    st = xp.strides
    view = as_strided(xp, (c, kh, kw, ho, wo),
                      (st[0], d[0] * st[1], d[1] * st[2], s[0] * st[1], s[1] * st[2]), writeable=False)
    cols = scratch(tag, (c, kh, kw, ho, wo))
    np.copyto(cols, view)
    return cols.reshape(c * kh * kw, ho * wo)


def _conv_im2col(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], pads: Padding4,
                 d: tuple[int, int], groups: int, out_hw: tuple[int, int]) -> np.ndarray:
    """im2col then one GEMM: ``y = W[C_out, C_in/g·kh·kw] @ cols``."""
    cols = im2col(pad_into(x, pads), weight.shape[2:], s, d, out_hw)
    out = alloc((weight.shape[0], *out_hw))
    _grouped_matmul(weight.reshape(weight.shape[0], -1), cols, groups, out.reshape(weight.shape[0], -1))
    return out


def _conv_shifted(x: np.ndarray, weight: np.ndarray, pads: Padding4, d: tuple[int, int], groups: int,
                  out_hw: tuple[int, int]) -> np.ndarray:
    """Stride 1: accumulate one GEMM per kernel offset on the flattened padded input.

    With the padded plane flattened to ``[C, Hp·Wp]``, offset ``(u, v)`` is the contiguous slice
    starting at ``d_h·u·Wp + d_w·v``, so ``acc[:, q] += W[:, :, u, v] @ xp[:, q + off]`` computes a
    "wide" output of ``Wp`` columns per row whose first ``W_out`` columns are the result. No
    im2col buffer: the accumulator is the returned array itself (a strided view of the wide
    rows), and the per-offset products go through a small cache-sized temporary, column chunk
    by column chunk.
    """
    c_out = weight.shape[0]
    kh, kw = weight.shape[2:]
    ho, wo = out_hw
    xp = pad_into(x, pads, tag="pad")
    wp = xp.shape[2]
    flat = xp.reshape(x.shape[0], -1)
    length = (ho - 1) * wp + wo
    acc = alloc((c_out, length))
    wt = np.ascontiguousarray(weight.transpose(2, 3, 0, 1))  # [kh, kw, C_out, C_in/g]
    offsets = [(u, v, d[0] * u * wp + d[1] * v) for u in range(kh) for v in range(kw)]
    chunk = max(2048, CHUNK_ELEMENTS // c_out)
    tmp_full = scratch("acc_tmp", (c_out, min(chunk, length)))
    for q0 in range(0, length, chunk):
        check_cancel("inside a convolution")
        q1 = min(q0 + chunk, length)
        tmp, target = tmp_full[:, : q1 - q0], acc[:, q0:q1]
        for n, (u, v, off) in enumerate(offsets):
            cols = flat[:, off + q0: off + q1]
            if n == 0:
                _grouped_matmul(wt[u, v], cols, groups, target)
            else:
                _grouped_matmul(wt[u, v], cols, groups, tmp)
                np.add(target, tmp, out=target)
    return wide_view(acc, (c_out, ho, wo), wp)


def _conv_wide(x: np.ndarray, weight: np.ndarray, pads: Padding4, d: tuple[int, int], groups: int,
               out_hw: tuple[int, int]) -> np.ndarray:
    """Stride 1: im2col of the flattened padded input, one column chunk at a time.

    On the flat ``[C, Hp·Wp]`` plane, ``cols[(c, u, v), q] = xp[c, q + d_h·u·Wp + d_w·v]`` is a
    single strided view (uniform strides per axis), so each chunk of "wide" output columns is
    one copy into a cache-sized buffer and one GEMM with ``K = C/g·kh·kw`` straight into the
    returned array (a strided view dropping the ``Wp − W_out`` wrap-around columns per row).
    """
    c_in = x.shape[0]
    c_out, _, kh, kw = weight.shape
    ho, wo = out_hw
    xp = pad_into(x, pads, tag="pad")
    wp = xp.shape[2]
    flat = xp.reshape(c_in, -1)
    length = (ho - 1) * wp + wo
    acc = alloc((c_out, length))
    st = flat.strides
    chunk = max(1024, WIDE_COLS_ELEMENTS // (c_in * kh * kw))
    w2 = weight.reshape(c_out, -1)
    for q0 in range(0, length, chunk):
        check_cancel("inside a convolution")
        n = min(chunk, length - q0)
        view = as_strided(flat[:, q0:], (c_in, kh, kw, n), (st[0], d[0] * wp * 4, d[1] * 4, 4), writeable=False)
        cols = scratch("wide_cols", (c_in, kh, kw, n))
        np.copyto(cols, view)
        _grouped_matmul(w2, cols.reshape(c_in * kh * kw, n), groups, acc[:, q0:q0 + n])
    return wide_view(acc, (c_out, ho, wo), wp)
