"""Depthwise convolution (``groups == C_in``): per-offset multiply-add, split across threads.

``y[o, i, j] = Σ_{u, v} w[o, 0, u, v] · x_pad[o // m, s_h·i + d_h·u, s_w·j + d_w·v]`` with channel
multiplier ``m = C_out / C_in``. There is no reduction over channels, so a GEMM does not help;
instead each kernel offset is one view of the padded input times a per-channel weight,
accumulated in cache-sized channel blocks. NumPy releases the GIL in ufuncs, so the channel
range is split across the worker threads.

For stride 1 the views are contiguous slices of the flattened padded plane (offset
``d_h·u·Wp + d_w·v``), giving a "wide" output of ``Wp`` columns per row that is returned as a
strided view; other strides use 2-D strided views.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._util import Padding4, alloc, pad_into, run_split, wide_view

BLOCK_BYTES = 256 * 1024
"""Target size of one channel block's accumulator (fits L2 together with its temporary)."""


def depthwise_conv2d(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], pads: Padding4,
                     d: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Depthwise ``conv2d`` without bias; ``weight [C_in·m, 1, kh, kw]``. Returns ``[C_out, H_out, W_out]``."""
    c_out, _, kh, kw = weight.shape
    mult = c_out // x.shape[0]
    if mult > 1:
        x = np.repeat(x, mult, axis=0)
    xp = pad_into(x, pads, tag="dw_pad")
    ho, wo = out_hw
    w = weight.reshape(c_out, kh * kw)
    if s == (1, 1):
        wp = xp.shape[2]
        flat = xp.reshape(c_out, -1)
        length = (ho - 1) * wp + wo
        views = [flat[:, d[0] * u * wp + d[1] * v:][:, :length] for u in range(kh) for v in range(kw)]
        acc = alloc((c_out, length))
        _run_blocks(views, w, acc)
        return wide_view(acc, (c_out, ho, wo), wp)
    st = xp.strides
    views = [as_strided(xp[:, d[0] * u:, d[1] * v:], (c_out, ho, wo), (st[0], s[0] * st[1], s[1] * st[2]),
                        writeable=False) for u in range(kh) for v in range(kw)]
    out = alloc((c_out, ho, wo))
    _run_blocks(views, w, out)
    return out


def _run_blocks(views: list[np.ndarray], w: np.ndarray, out: np.ndarray) -> None:
    """``out[c] = Σ_k w[c, k] · views[k][c]``, channel block by channel block, on the threads."""
    c_out = out.shape[0]
    per_channel = out[0].size
    block = max(1, BLOCK_BYTES // (per_channel * 4))
    wk_shape = (c_out,) + (1,) * (out.ndim - 1)

    def work(chs: slice) -> None:
        tmp = np.empty((min(block, chs.stop - chs.start), *out.shape[1:]), np.float32)
        for c0 in range(chs.start, chs.stop, block):
            c1 = min(c0 + block, chs.stop)
            o, t = out[c0:c1], tmp[: c1 - c0]
            for k, view in enumerate(views):
                wk = w[c0:c1, k].reshape((c1 - c0,) + wk_shape[1:])
                if k == 0:
                    np.multiply(view[c0:c1], wk, out=o)
                else:
                    np.multiply(view[c0:c1], wk, out=t)
                    np.add(o, t, out=o)

    run_split(work, c_out, parallel=out.size >= 64 * 1024)
