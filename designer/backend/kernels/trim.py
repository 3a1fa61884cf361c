"""Convolutions whose padding dwarfs the data: compute only where kernel taps meet the input.

Along one axis a (transposed) convolution pairs an index ``i`` (the output of a convolution, the input of a
transposed one) and a tap ``t`` at the position ``pos = s·i + d·t − p`` (on the input of a convolution, on the
output of a transposed one). A design such as a 1×1 conv with stride 30000 and padding 15000 on an 8×8 map, or
a 3×3 conv with dilation 5000 and padding 5000, has a small output, yet the plain kernels build the padded
(or zero-stuffed) map: gigabytes of zeros, beyond what the memory guard counts.

:func:`touching` finds the taps ``[t0, t1]`` and indices ``[i0, i1]`` whose positions can land on real data;
the kernels then run on that sub-problem alone (sliced weights, cropped input) and place its result in an
output of zeros, with the bias added by the caller. Taps and indices outside those ranges only ever meet
padding, so the result is the same. :func:`worth_trimming` keeps ordinary layers on their usual path.
"""

from __future__ import annotations

from dataclasses import dataclass

TRIM_FACTOR = 4
"""Trim when the padded (or zero-stuffed) plane is over this many times the trimmed one."""


@dataclass(frozen=True)
class AxisSpan:
    """The taps and indices of one axis whose positions can reach the data ``[0, n)``; ``start`` is the
    position of ``(i0, t0)`` and ``extent`` the positions the sub-problem spans."""

    t0: int
    t1: int
    i0: int
    i1: int
    start: int

    def extent(self, s: int, d: int) -> int:
        return (self.i1 - self.i0) * s + (self.t1 - self.t0) * d + 1


def touching(n: int, k: int, s: int, d: int, p: int, count: int) -> AxisSpan | None:
    """Taps ``t < k`` and indices ``i < count`` with some ``0 ≤ s·i + d·t − p < n``; ``None`` if none.

    For tap ``t`` the indices reaching the data are ``ceil((p − d·t)/s) ≤ i ≤ floor((p − d·t + n − 1)/s)``."""
    hits = [(t, max(-((d * t - p) // s), 0), min((p - d * t + n - 1) // s, count - 1)) for t in range(k)]
    hits = [h for h in hits if h[1] <= h[2]]  # (tap, first index, last index) of the taps that hit
    if not hits:
        return None
    i0, i1 = min(h[1] for h in hits), max(h[2] for h in hits)
    return AxisSpan(hits[0][0], hits[-1][0], i0, i1, s * i0 + d * hits[0][0] - p)


def worth_trimming(full: tuple[int, int], spans: tuple[AxisSpan | None, AxisSpan | None],
                   s: tuple[int, int], d: tuple[int, int]) -> bool:
    """Whether the plane the plain kernel builds (``full``) is much larger than the trimmed one."""
    if spans[0] is None or spans[1] is None:
        return True
    trimmed = spans[0].extent(s[0], d[0]) * spans[1].extent(s[1], d[1])
    return full[0] * full[1] > TRIM_FACTOR * trimmed + 4096


def crop_axis(n: int, span: AxisSpan, s: int, d: int) -> tuple[slice, int, int]:
    """The slice of the data the sub-problem reads and its padding ``(before, after)`` up to the extent."""
    extent = span.extent(s, d)
    first, last = max(span.start, 0), min(span.start + extent, n)
    before = first - span.start
    return slice(first, last), before, extent - before - (last - first)
