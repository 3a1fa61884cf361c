"""Transposed convolution, ``torch.nn.functional.conv_transpose2d`` semantics on ``[C_in, H, W]``.

Output size per axis (:func:`designer.core.arithmetic.conv_transpose_out`):
``out = (n − 1)·s − 2p + d·(k − 1) + output_padding + 1``.

Computed as GEMM + col2im: ``cols = W_gᵀ @ x_g`` gives, for every input pixel, its ``C_out/g·k_h·k_w``
contributions; each kernel offset ``(u, v)`` is then scatter-added (one strided add per offset)
into the full output at ``[d·u + s·i, d·v + s·j]``, which is finally cropped by ``p`` on each side. When
that crop would throw away almost all of a huge full output, only the inputs and taps landing inside the
output are computed (:mod:`.trim`).
"""

from __future__ import annotations

import numpy as np

from designer.core.arithmetic import conv_transpose_out

from ._util import IntPair, as_f32, batched, pair
from .trim import crop_axis, touching, worth_trimming


@batched
def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: IntPair = 1,
                     padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1,
                     dilation: IntPair = 1) -> np.ndarray:
    """Transposed convolution of ``x [C_in, H, W]`` with ``weight [C_in, C_out/groups, kh, kw]``.

    ``output_padding`` must be smaller than the stride or the dilation (PyTorch's rule).
    """
    x, weight = as_f32(x), as_f32(weight)
    c_in, h, w = x.shape
    _, cg_out, kh, kw = weight.shape
    s, p, op, d = pair(stride), pair(padding), pair(output_padding), pair(dilation)
    if weight.shape[0] != c_in or c_in % groups:
        raise ValueError(f"conv_transpose2d: input has {c_in} channels, weight {weight.shape}, groups={groups}")
    if any(o >= max(st, dd) for o, st, dd in zip(op, s, d)):
        raise ValueError(f"output_padding {op} must be smaller than stride {s} or dilation {d}")
    ho = conv_transpose_out(h, kh, s[0], p[0], d[0], op[0])
    wo = conv_transpose_out(w, kw, s[1], p[1], d[1], op[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"conv_transpose2d: padding {p} leaves no output for input {(h, w)}")
    out = transposed_window(x, weight, s, d, groups, p, (ho, wo))
    if bias is not None:
        out += as_f32(bias)[:, None, None]
    return out


def transposed_window(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], d: tuple[int, int], groups: int,
                      offset: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """The ``out_hw`` window at ``offset`` of the uncropped transposed convolution (no bias): the layer's output
    for ``offset = padding``, the input gradient of a padded Conv2d for ``offset = (top, left)``. Rows past the
    uncropped output are 0. A window that is a sliver of a huge uncropped output is computed trimmed."""
    _, h, w = x.shape
    _, _, kh, kw = weight.shape
    full_h = max((h - 1) * s[0] + d[0] * (kh - 1) + 1, offset[0] + out_hw[0])
    full_w = max((w - 1) * s[1] + d[1] * (kw - 1) + 1, offset[1] + out_hw[1])
    spans = (touching(out_hw[0], kh, s[0], d[0], offset[0], h), touching(out_hw[1], kw, s[1], d[1], offset[1], w))
    if worth_trimming((full_h, full_w), spans, s, d):
        return _trimmed(x, weight, s, d, groups, out_hw, spans)
    return _full_then_crop(x, weight, s, offset, d, groups, out_hw, (full_h, full_w))


def _full_then_crop(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], p: tuple[int, int],
                    d: tuple[int, int], groups: int, out_hw: tuple[int, int], full_hw: tuple[int, int]) -> np.ndarray:
    """GEMM, scatter-add of every kernel offset into the full output, crop by ``p`` (the module docstring)."""
    _, h, w = x.shape
    _, cg_out, kh, kw = weight.shape
    (ho, wo), (full_h, full_w) = out_hw, full_hw
    cols = _columns(x, weight, groups)  # [C_out, kh, kw, H, W]
    full = np.zeros((cg_out * groups, full_h, full_w), np.float32)
    for u in range(kh):
        for v in range(kw):
            r0, c0 = d[0] * u, d[1] * v
            full[:, r0:r0 + (h - 1) * s[0] + 1:s[0], c0:c0 + (w - 1) * s[1] + 1:s[1]] += cols[:, u, v]
    return np.ascontiguousarray(full[:, p[0]:p[0] + ho, p[1]:p[1] + wo])


def _trimmed(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], d: tuple[int, int], groups: int,
             out_hw: tuple[int, int], spans) -> np.ndarray:
    """Padding that crops away almost all of a huge zero-stuffed output (:mod:`.trim`): only the inputs and
    taps that land inside the output, unpadded, then the part of that inside the output put in place."""
    out = np.zeros((weight.shape[1] * groups, *out_hw), np.float32)
    if spans[0] is None or spans[1] is None:
        return out
    sub_x = x[:, spans[0].i0:spans[0].i1 + 1, spans[1].i0:spans[1].i1 + 1]
    sub_w = weight[:, :, spans[0].t0:spans[0].t1 + 1, spans[1].t0:spans[1].t1 + 1]
    sub = conv_transpose2d(np.ascontiguousarray(sub_x), np.ascontiguousarray(sub_w), None, s, 0, 0, groups, d)
    (rows, top, _), (cols, left, _) = crop_axis(out_hw[0], spans[0], s[0], d[0]), crop_axis(out_hw[1], spans[1], s[1], d[1])
    out[:, rows, cols] = sub[:, top:top + rows.stop - rows.start, left:left + cols.stop - cols.start]
    return out


def _columns(x: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    """``cols[o, u, v, i, j] = Σ_{c ∈ group(o)} W[c, o mod (C_out/g), u, v] · x[c, i, j]``."""
    c_in, h, w = x.shape
    _, cg_out, kh, kw = weight.shape
    cg_in = c_in // groups
    wg = weight.reshape(groups, cg_in, cg_out * kh * kw).transpose(0, 2, 1)  # [g, C_out/g·kh·kw, C_in/g]
    cols = np.matmul(wg, x.reshape(groups, cg_in, h * w))  # [g, C_out/g·kh·kw, H·W]
    return cols.reshape(groups * cg_out, kh, kw, h, w)
