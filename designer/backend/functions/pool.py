"""Pooling: forward kernels, VJPs, and (max pools) their uniform-network stand-ins, which average instead."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer

from .. import kernels as K
from ..grad.base import NO_PARAMS, Grads
from ..grad.pool import (
    adaptive_avg_grad,
    adaptive_avg_pool2d_vjp,
    adaptive_max_pool2d_vjp,
    avg_pool2d_vjp,
    max_pool2d_vjp,
    spp_grad,
    spp_vjp,
)
from . import LayerFunction, hp_op, register


def _adaptive_max_as_avg(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                         weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """AdaptiveMaxPool2d in the uniform network: the adaptive average's VJP."""
    return [adaptive_avg_grad(xs[0].shape, gy)], NO_PARAMS


def _spp_as_avg(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """SpatialPyramidPool2d in the uniform network: every level averages its bins."""
    return [spp_grad(xs[0], gy, layer.hp["levels"], "avg")], NO_PARAMS


register(
    LayerFunction("MaxPool2d", hp_op(K.max_pool2d, "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
                  max_pool2d_vjp, uniform=avg_pool2d_vjp),
    LayerFunction("AvgPool2d", hp_op(K.avg_pool2d, "kernel_size", "stride", "padding", "ceil_mode",
                                     "count_include_pad"), avg_pool2d_vjp),
    LayerFunction("AdaptiveAvgPool2d", hp_op(K.adaptive_avg_pool2d, "output_size"), adaptive_avg_pool2d_vjp),
    LayerFunction("AdaptiveMaxPool2d", hp_op(K.adaptive_max_pool2d, "output_size"), adaptive_max_pool2d_vjp,
                  uniform=_adaptive_max_as_avg),
    LayerFunction("SpatialPyramidPool2d", hp_op(K.spatial_pyramid_pool, "levels", "mode"), spp_vjp,
                  uniform=_spp_as_avg),
)
