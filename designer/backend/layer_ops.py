"""``LAYER_OPS[type](layer, inputs, weights) -> output``: the forward kernels of the layer records.

A view of :mod:`designer.backend.functions` (one record per layer type holds forward, VJP and uniform rule).
"""

from __future__ import annotations

from .functions import LAYER_OPS, Op

__all__ = ["LAYER_OPS", "Op"]
