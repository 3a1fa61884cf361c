"""Depthwise convolution (``groups == C_in``): per-channel im2col blocks and batched GEMV.

``y[o, i, j] = Σ_{u, v} w[o, 0, u, v] · x_pad[o // m, s_h·i + d_h·u, s_w·j + d_w·v]`` with channel
multiplier ``m = C_out / C_in``. There is no reduction over channels, so one big GEMM does not
help; instead the channels are processed in cache-sized blocks, and for each block

1. the input is split into *phase planes* (``s_h·s_w`` of them, one for stride 1):
   ``P[a, b][c, i, j] = x_pad[c, s_h·i + a, s_w·j + b]``, zero outside the input. Every
   kernel offset ``(u, v)`` then reads one plane (``a = d_h·u mod s_h``, ``b = d_w·v mod s_w``)
   at the *stride-1* shift ``(d_h·u div s_h, d_w·v div s_w)``, so on the flattened plane it is a
   contiguous slice — also for strided layers;
2. the ``k_h·k_w`` slices are copied into a small column buffer ``[B, k_h·k_w, L]``
   ("wide" rows of ``Wq`` columns, the last ``Wq − W_out`` of each row being wrap-around);
3. one batched ``matmul`` ``[B, 1, k_h·k_w] @ [B, k_h·k_w, L]`` (a GEMV per channel) writes the
   block's wide output rows.

The phase planes are filled once for the whole layer; steps 2–3 run block by block (two NumPy
calls per block). The returned array is a strided ``[C_out, H_out, W_out]`` view of the wide
rows. Blocks can be split across the worker threads (:data:`PARALLEL_MIN_WORK`; each thread has
its own column buffer), but on the 2-core machines we measured one thread was as fast.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._util import Padding4, alloc, run_split, scratch, wide_view

COLS_BYTES = 1024 * 1024
"""Target size of one channel block's column buffer (fewer, longer calls beat staying in L2)."""
PARALLEL_MIN_WORK = 1 << 40
"""Layers with at least this many multiply-adds split their channel blocks across the threads.

Effectively never: on the 2-core machines we measured, a second thread doing cache-resident
copies and GEMVs gains nothing (the GIL hand-offs after every call cost more than it saves)."""


def depthwise_conv2d(x: np.ndarray, weight: np.ndarray, s: tuple[int, int], pads: Padding4,
                     d: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Depthwise ``conv2d`` without bias; ``weight [C_in·m, 1, kh, kw]``. Returns ``[C_out, H_out, W_out]``."""
    c_out, _, kh, kw = weight.shape
    mult = c_out // x.shape[0]
    if mult > 1:
        x = np.repeat(x, mult, axis=0)
    top, bottom, left, right = pads
    h, w = x.shape[1:]
    ho, wo = out_hw
    sh, sw = s
    hq, wq = -(-(h + top + bottom) // sh), -(-(w + left + right) // sw)
    # kernel offset (u, v) -> (phase index, start in the flattened phase plane)
    phases: list[tuple[int, int]] = []
    offsets: list[tuple[int, int]] = []
    for u in range(kh):
        for v in range(kw):
            phase = (d[0] * u % sh, d[1] * v % sw)
            if phase not in phases:
                phases.append(phase)
            offsets.append((phases.index(phase), d[0] * u // sh * wq + d[1] * v // sw))
    length = (ho - 1) * wq + wo  # wide output: W_out valid columns every Wq
    plane_len = max(hq * wq, max(off for _, off in offsets) + length)
    k = kh * kw
    w3 = np.ascontiguousarray(weight.reshape(c_out, 1, k), dtype=np.float32)
    acc = alloc((c_out, length))
    planes = scratch("dw_planes", (len(phases), c_out, plane_len))
    for p, phase in enumerate(phases):
        _fill_phase(planes[p], x, phase, (sh, sw), (top, left), (hq, wq))
    block = max(1, COLS_BYTES // (4 * k * length))
    # one plane (stride 1, or dilation a multiple of the stride): the offsets step uniformly, so a
    # single strided copy gathers all of them
    uniform = len(phases) == 1
    st = planes.strides
    gather = as_strided(planes[0], (c_out, kh, kw, length), (st[1], d[0] // sh * wq * 4, d[1] // sw * 4, 4),
                        writeable=False) if uniform else None

    def work(chs: slice) -> None:
        cols = scratch("dw_cols", (min(block, chs.stop - chs.start), k, length))
        for c0 in range(chs.start, chs.stop, block):
            c1 = min(c0 + block, chs.stop)
            n = c1 - c0
            cb = cols[:n]
            if gather is not None:
                np.copyto(cb.reshape(n, kh, kw, length), gather[c0:c1])
            else:
                for j, (p, off) in enumerate(offsets):
                    np.copyto(cb[:, j], planes[p, c0:c1, off:off + length])
            np.matmul(w3[c0:c1], cb, out=acc[c0:c1].reshape(n, 1, length))

    run_split(work, c_out, parallel=c_out > 1 and c_out * length * k >= PARALLEL_MIN_WORK)
    return wide_view(acc, (c_out, ho, wo), wq)


def _fill_phase(plane: np.ndarray, x: np.ndarray, phase: tuple[int, int], s: tuple[int, int],
                before: tuple[int, int], size: tuple[int, int]) -> None:
    """``plane[c, i·Wq + j] = x_pad[c, s_h·i + a, s_w·j + b]`` (zero in the padding and the tail)."""
    (a, b), (sh, sw), (top, left), (hq, wq) = phase, s, before, size
    n, h, w = x.shape
    grid = plane[:, : hq * wq].reshape(n, hq, wq)
    # rows i with 0 <= s_h·i + a − top < h, columns likewise
    i0, j0 = max(0, -(-(top - a) // sh)), max(0, -(-(left - b) // sw))
    i1, j1 = min(hq, -(-(h + top - a) // sh)), min(wq, -(-(w + left - b) // sw))
    plane[:, hq * wq:] = 0
    if i1 <= i0 or j1 <= j0:
        grid[:] = 0
        return
    grid[:, :i0] = 0
    grid[:, i1:] = 0
    grid[:, i0:i1, :j0] = 0
    grid[:, i0:i1, j1:] = 0
    r0, q0 = sh * i0 + a - top, sw * j0 + b - left
    grid[:, i0:i1, j0:j1] = x[:, r0: r0 + sh * (i1 - i0 - 1) + 1: sh, q0: q0 + sw * (j1 - j0 - 1) + 1: sw]
