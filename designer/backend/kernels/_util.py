"""Shared helpers for the kernels: argument normalisation, padding, scratch buffers, threads.

All kernels work on one image ``[C, H, W]``; :func:`batched` lets them accept ``[1, C, H, W]``
(or any ``N``) as well, the way ``torch.nn.functional`` does.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from designer.core.arithmetic import same_padding

F = TypeVar("F", bound=Callable[..., np.ndarray])
IntPair = int | Sequence[int]
Padding4 = tuple[int, int, int, int]

N_THREADS = 2
_pool: ThreadPoolExecutor | None = None
_local = threading.local()


def pair(value: IntPair, name: str = "value") -> tuple[int, int]:
    """Normalise ``k`` or ``(kh, kw)`` to a pair of ints (``torch.nn.modules.utils._pair``)."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    items = tuple(int(v) for v in value)
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair, got {value!r}")
    return items[0], items[1]


def padding4(padding: Any, size: tuple[int, int], kernel: tuple[int, int],
             stride: tuple[int, int] = (1, 1), dilation: tuple[int, int] = (1, 1)) -> Padding4:
    """Normalise a padding argument to ``(top, bottom, left, right)``.

    Accepts an int, a symmetric pair ``(ph, pw)``, an explicit 4-tuple
    ``(ph_before, ph_after, pw_before, pw_after)``, or the strings ``"valid"`` (no padding)
    and ``"same"`` (TensorFlow SAME for any stride: ``out = ceil(n / s)``, the odd extra
    row/column at the bottom/right).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            top, bottom = same_padding(size[0], kernel[0], stride[0], dilation[0])
            left, right = same_padding(size[1], kernel[1], stride[1], dilation[1])
            return top, bottom, left, right
        raise ValueError(f"padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        return p, p, p, p
    items = tuple(int(v) for v in padding)
    if len(items) == 2:
        return items[0], items[0], items[1], items[1]
    if len(items) == 4:
        return items  # type: ignore[return-value]
    raise ValueError(f"padding must have 2 or 4 entries, got {padding!r}")


def batched(func: F) -> F:
    """Let a ``[C, H, W]`` kernel accept ``[N, C, H, W]``: run per image and stack."""

    @functools.wraps(func)
    def wrapper(x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        if x.ndim == 4:
            return np.stack([func(xi, *args, **kwargs) for xi in x])
        if x.ndim != 3:
            raise ValueError(f"{func.__name__} expects [C, H, W] or [N, C, H, W], got shape {x.shape}")
        return func(x, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def as_f32(x: np.ndarray) -> np.ndarray:
    """``x`` as a float32 array (no copy when it already is one; strided views stay views)."""
    return np.asarray(x, dtype=np.float32)


def scratch(tag: str, shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
    """A reusable, uninitialised per-thread buffer of ``shape``.

    Kernels use it for temporaries only (padded inputs, im2col matrices, accumulators), never
    for returned arrays; reusing it avoids the page faults of fresh large allocations.
    """
    cache: dict[str, np.ndarray] = getattr(_local, "cache", None) or {}
    _local.cache = cache
    n = math.prod(shape)
    buf = cache.get(tag)
    if buf is None or buf.size < n or buf.dtype != np.dtype(dtype):
        buf = np.empty(n, dtype=dtype)
        cache[tag] = buf
    return buf[:n].reshape(shape)


def release_scratch() -> None:
    """Free this thread's scratch buffers (e.g. after a run, to return memory)."""
    _local.cache = {}


def pad_into(x: np.ndarray, pads: Padding4, value: float = 0.0, tag: str = "pad",
             extra: int = 0) -> np.ndarray:
    """Copy ``x [C, H, W]`` into a scratch buffer padded by ``(top, bottom, left, right)``.

    ``extra`` adds trailing elements per channel after the padded plane (filled with
    ``value``) so flattened shifted views may run past the last row. Returns a
    ``[C, H + top + bottom, W + left + right]`` view.
    """
    top, bottom, left, right = pads
    c, h, w = x.shape
    if not (top or bottom or left or right or extra):
        return x
    hp, wp = h + top + bottom, w + left + right
    flat = scratch(tag, (c, hp * wp + extra), x.dtype)
    out = flat[:, : hp * wp].reshape(c, hp, wp)
    if extra:
        flat[:, hp * wp:] = value
    if top:
        out[:, :top] = value
    if bottom:
        out[:, hp - bottom:] = value
    if left:
        out[:, top:top + h, :left] = value
    if right:
        out[:, top:top + h, wp - right:] = value
    out[:, top:top + h, left:left + w] = x
    return out


def thread_pool() -> ThreadPoolExecutor:
    """The shared worker pool for splitting elementwise work across cores (NumPy drops the GIL)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=N_THREADS, thread_name_prefix="kernels")
    return _pool


def split_channels(n: int, parts: int = N_THREADS) -> list[slice]:
    """``parts`` contiguous slices covering ``range(n)`` (fewer when ``n`` is small)."""
    parts = max(1, min(parts, n))
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def run_split(func: Callable[[slice], None], n: int, parallel: bool = True) -> None:
    """Call ``func(slice)`` for channel slices of ``range(n)``, on the pool when ``parallel``."""
    slices = split_channels(n) if parallel else [slice(0, n)]
    if len(slices) == 1:
        func(slices[0])
        return
    futures = [thread_pool().submit(func, s) for s in slices[1:]]
    func(slices[0])
    for fut in futures:
        fut.result()


PARALLEL_MIN_ELEMENTS = 3 << 19
"""Elementwise work on arrays at least this large (6 MiB of float32) is split across the threads.

Smaller arrays stay on one thread: on these machines the two threads only gain when the work
is bound by main memory, and waking a worker and handing the GIL back and forth after every
NumPy call costs more than it saves on cache-resident maps."""
ZERO_BLOCK = 1 << 16
"""Elements per call of :func:`map_blocks` (a block and its zeros stay in the L2 cache)."""


def parallel_apply(func: Callable[..., None], out: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
    """Call ``func(*array_slices, out_slice)`` on channel slices (axis 0) of ``arrays`` and ``out``.

    ``func`` must write its result into ``out_slice``; big arrays are split across the threads
    (NumPy releases the GIL inside ufuncs). Arrays whose axis 0 is not ``out``'s are passed whole.
    """
    n = out.shape[0] if out.ndim else 1

    def work(sl: slice) -> None:
        func(*(a[sl] if a.ndim and a.shape[0] == n else a for a in arrays), out[sl])

    run_split(work, n, parallel=out.size >= PARALLEL_MIN_ELEMENTS and out.ndim > 0)
    return out


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """A read-only-by-convention per-thread array of zeros of ``shape`` (reused, never written)."""
    n = math.prod(shape)
    buf: np.ndarray | None = getattr(_local, "zeros", None)
    if buf is None or buf.size < n:
        buf = np.zeros(max(n, ZERO_BLOCK), np.float32)
        _local.zeros = buf
    return buf[:n].reshape(shape)


def map_blocks(func: Callable[..., None], out: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Call ``func(x_block, out_block)`` on blocks of about :data:`ZERO_BLOCK` elements.

    Contiguous arrays are cut into flat chunks, others (e.g. the strided "wide" conv outputs)
    into blocks of whole rows of axis 0. Small calls keep each block and any per-block
    temporary (such as :func:`zeros`) cache-resident; big arrays are split across the threads.
    """
    if out.ndim == 0:
        func(x, out)
        return out
    if x.flags.c_contiguous and out.flags.c_contiguous:
        xs, os_ = x.reshape(-1), out.reshape(-1)
    else:
        xs, os_ = x, out
    per = xs[0].size if xs.ndim > 1 and len(xs) else 1
    step = max(1, ZERO_BLOCK // per)

    def work(sl: slice) -> None:
        for i in range(sl.start, sl.stop, step):
            j = min(i + step, sl.stop)
            func(xs[i:j], os_[i:j])

    run_split(work, xs.shape[0], parallel=out.size >= PARALLEL_MIN_ELEMENTS)
    return out


class BufferPool:
    """Float32 buffers of a previous run that nobody references any more, by element count.

    Writing a new output into recycled memory avoids the page faults of fresh allocations
    (a few µs per 4 KiB page on a VM, several times the cost of the ufunc itself).
    """

    def __init__(self) -> None:
        self._free: dict[int, list[np.ndarray]] = {}

    def add(self, flat: np.ndarray) -> None:
        self._free.setdefault(flat.size, []).append(flat)

    def take(self, n: int) -> np.ndarray | None:
        free = self._free.get(n)
        return free.pop() if free else None


@contextlib.contextmanager
def using_pool(pool: BufferPool) -> Iterator[None]:
    """Let :func:`alloc` hand out ``pool``'s buffers in this thread while the block runs."""
    previous = getattr(_local, "pool", None)
    _local.pool = pool
    try:
        yield
    finally:
        _local.pool = previous


def alloc(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float32 array for a kernel's *output*: recycled from the active pool or new."""
    pool: BufferPool | None = getattr(_local, "pool", None)
    if pool is not None:
        buf = pool.take(math.prod(shape))
        if buf is not None:
            return buf.reshape(shape)
    return np.empty(shape, np.float32)


def wide_view(acc: np.ndarray, shape: tuple[int, int, int], row_stride: int) -> np.ndarray:
    """``[C, H, W]`` view of ``acc [C, L]`` whose rows are ``row_stride`` elements apart (base: ``acc``)."""
    return np.ndarray(shape, np.float32, buffer=acc, strides=(acc.strides[0], row_stride * 4, 4))


def wide_base(x: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(acc, row_stride)`` when ``x [C, H, W]`` is a :func:`wide_view` of a contiguous ``acc [C, L]``.

    Elementwise layers can then work on ``acc`` in long contiguous runs (the ``row_stride − W``
    wrap-around columns between rows are finite values, computed and ignored) instead of ``C·H``
    short rows, and return a wide view themselves.
    """
    base = x.base
    if (x.ndim != 3 or not isinstance(base, np.ndarray) or base.ndim != 2 or base.dtype != np.float32
            or not base.flags.c_contiguous or base.shape[0] != x.shape[0] or x.strides[2] != 4
            or x.strides[0] != base.strides[0] or x.strides[1] % 4
            or x.__array_interface__["data"][0] != base.__array_interface__["data"][0]):
        return None
    _, h, w = x.shape
    row = x.strides[1] // 4
    if row < w or base.shape[1] != (h - 1) * row + w:
        return None
    return base, row



def map_elementwise(func: Callable[[np.ndarray, np.ndarray], None], x: np.ndarray) -> np.ndarray:
    """``func(x_block, out_block)`` over a new output like ``x`` (:func:`map_blocks`), keeping wide views wide."""
    wide = wide_base(x)
    if wide is not None:
        base, row = wide
        return wide_view(map_blocks(func, alloc(base.shape), base), x.shape, row)
    return map_blocks(func, alloc(x.shape), x)
