"""Max vs average pooling of one feature map (seed articles 002 and 004).

Max pooling keeps the strongest response of each window (texture, edges); average pooling keeps the
window's mean (smooth background). Either way a ``k×k`` window with stride ``s`` keeps one value per
window: the discarded fraction of activations is ``1 − (H_out·W_out)/(H·W)`` — 75% for 2×2 stride 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import avg_pool2d, max_pool2d


@dataclass(frozen=True)
class PoolComparison:
    """Both pools of one map ``[C, H, W]`` with the same window."""

    kernel: int
    stride: int
    max_map: np.ndarray
    avg_map: np.ndarray
    in_hw: tuple[int, int]

    @property
    def discarded_fraction(self) -> float:
        """``1 − (H_out·W_out)/(H·W)``."""
        kept = self.max_map.shape[1] * self.max_map.shape[2]
        return 1.0 - kept / (self.in_hw[0] * self.in_hw[1])

    def text(self) -> str:
        k, s = self.kernel, self.stride
        return (f"{k}×{k} stride {s}: {self.in_hw[0]}×{self.in_hw[1]} → {self.max_map.shape[1]}×"
                f"{self.max_map.shape[2]}, {100 * self.discarded_fraction:.0f}% of the activations discarded; "
                f"max keeps the strongest of each {k * k} (texture), average their mean (background)")


def compare_pools(fmap: np.ndarray, kernel: int = 2, stride: int | None = None) -> PoolComparison:
    """Max and average pooling of ``fmap`` (``[H, W]`` or ``[C, H, W]``) with a ``kernel×kernel`` window."""
    x = np.asarray(fmap, np.float32)
    x = x[None] if x.ndim == 2 else x
    if x.ndim != 3:
        raise ValueError(f"expected a [H, W] or [C, H, W] map, got shape {list(np.shape(fmap))}")
    stride = stride or kernel
    if min(x.shape[1:]) < kernel:
        raise ValueError(f"the {kernel}×{kernel} window is larger than the {x.shape[1]}×{x.shape[2]} map")
    return PoolComparison(kernel, stride, max_pool2d(x, kernel, stride), avg_pool2d(x, kernel, stride),
                          (x.shape[1], x.shape[2]))
