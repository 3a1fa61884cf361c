"""Activations, Softmax, BatchNorm2d (inference) and LocalResponseNorm: forward kernels beside their VJPs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer

from .. import kernels as K
from ..grad.pointwise import POINTWISE_VJPS
from . import LayerFunction, hp_op, register


def batch_norm(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    """Running statistics when tracked; otherwise (like PyTorch in eval) the map's own statistics."""
    name, x = layer.name, xs[0]
    if layer.hp["track_running_stats"]:
        mean, var = w[f"{name}.running_mean"], w[f"{name}.running_var"]
    else:
        mean, var = x.mean(axis=(1, 2), dtype=np.float64), x.var(axis=(1, 2), dtype=np.float64)
    return K.batch_norm(x, mean, var, w.get(f"{name}.weight"), w.get(f"{name}.bias"), layer.hp["eps"])


FORWARDS = {
    "ReLU": hp_op(K.relu),
    "ReLU6": hp_op(K.relu6),
    "LeakyReLU": hp_op(K.leaky_relu, "negative_slope"),
    "ELU": hp_op(K.elu, "alpha"),
    "Sigmoid": hp_op(K.sigmoid),
    "Tanh": hp_op(K.tanh),
    "PReLU": lambda layer, xs, w: K.prelu(xs[0], w[f"{layer.name}.weight"]),
    "Softmax": lambda layer, xs, w: K.softmax(xs[0], 0),
    "BatchNorm2d": batch_norm,
    "LocalResponseNorm": hp_op(K.local_response_norm, "size", "alpha", "beta", "k"),
    "Dropout": hp_op(K.dropout, "p"),
}

if set(FORWARDS) != set(POINTWISE_VJPS):  # a forward without its VJP (or the reverse) must not pass silently
    raise ImportError(f"pointwise records without a forward or a VJP: {sorted(set(FORWARDS) ^ set(POINTWISE_VJPS))}")
register(*(LayerFunction(t, forward, POINTWISE_VJPS[t]) for t, forward in FORWARDS.items()))
