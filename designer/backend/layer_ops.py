"""One function per layer type: ``op(layer, inputs, weights) -> output``.

``LAYER_OPS`` maps a design layer type to the kernel call that runs it, so adding a layer type
adds one entry. Feature maps are ``[C, H, W]``, vectors ``[F]``; weights are the runner's
``state_dict``-style dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from designer.core import Layer

from . import kernels as K
from .kernels._util import alloc, wide_base, wide_view

Op = Callable[[Layer, list[np.ndarray], Mapping[str, np.ndarray]], np.ndarray]


def _conv2d(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    hp = layer.hp
    return K.conv2d(xs[0], w[f"{layer.name}.weight"], w.get(f"{layer.name}.bias"), hp["stride"], hp["padding"],
                    hp["dilation"], hp["groups"])


def _conv_transpose2d(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    hp = layer.hp
    return K.conv_transpose2d(xs[0], w[f"{layer.name}.weight"], w.get(f"{layer.name}.bias"), hp["stride"],
                              hp["padding"], hp["output_padding"], hp["groups"], hp["dilation"])


def _batch_norm(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    """Running statistics when tracked; otherwise (like PyTorch in eval) the map's own statistics."""
    name, x = layer.name, xs[0]
    if layer.hp["track_running_stats"]:
        mean, var = w[f"{name}.running_mean"], w[f"{name}.running_var"]
    else:
        mean, var = x.mean(axis=(1, 2), dtype=np.float64), x.var(axis=(1, 2), dtype=np.float64)
    return K.batch_norm(x, mean, var, w.get(f"{name}.weight"), w.get(f"{name}.bias"), layer.hp["eps"])


def _merge(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    """Branch: ``concat`` along channels/features or elementwise ``add`` (shapes must agree)."""
    if layer.hp["merge"] == "concat":
        return np.concatenate(xs, axis=0)
    shapes = {x.shape for x in xs}
    if len(shapes) > 1:
        raise ValueError(f"cannot add branches of shapes {sorted(shapes)}")
    if len(xs) == 1:
        return np.array(xs[0], dtype=np.float32)
    wides = [wide_base(x) for x in xs]
    if all(wb is not None for wb in wides) and len({wb[1] for wb in wides}) == 1:  # same wide geometry
        out = alloc(wides[0][0].shape)
        np.add(wides[0][0], wides[1][0], out=out)
        for wb in wides[2:]:
            out += wb[0]
        return wide_view(out, xs[0].shape, wides[0][1])
    out = alloc(xs[0].shape)  # recycled memory of a previous run when there is some
    np.add(xs[0], xs[1], out=out)
    for x in xs[2:]:
        out += x
    return out


def _hp_op(fn: Callable[..., np.ndarray], *names: str) -> Op:
    """An op that passes the named hyperparameters positionally to ``fn``."""
    return lambda layer, xs, w: fn(xs[0], *(layer.hp[n] for n in names))


LAYER_OPS: dict[str, Op] = {
    "Conv2d": _conv2d,
    "ConvTranspose2d": _conv_transpose2d,
    "MaxPool2d": _hp_op(K.max_pool2d, "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": _hp_op(K.avg_pool2d, "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AdaptiveAvgPool2d": _hp_op(K.adaptive_avg_pool2d, "output_size"),
    "AdaptiveMaxPool2d": _hp_op(K.adaptive_max_pool2d, "output_size"),
    "SpatialPyramidPool2d": _hp_op(K.spatial_pyramid_pool, "levels", "mode"),
    "BatchNorm2d": _batch_norm,
    "LocalResponseNorm": _hp_op(K.local_response_norm, "size", "alpha", "beta", "k"),
    "Dropout": _hp_op(K.dropout, "p"),
    "ReLU": _hp_op(K.relu),
    "ReLU6": _hp_op(K.relu6),
    "LeakyReLU": _hp_op(K.leaky_relu, "negative_slope"),
    "PReLU": lambda layer, xs, w: K.prelu(xs[0], w[f"{layer.name}.weight"]),
    "ELU": _hp_op(K.elu, "alpha"),
    "Sigmoid": _hp_op(K.sigmoid),
    "Tanh": _hp_op(K.tanh),
    "Softmax": lambda layer, xs, w: K.softmax(xs[0], 0),
    "Flatten": _hp_op(K.flatten),
    "Linear": lambda layer, xs, w: K.linear(xs[0], w[f"{layer.name}.weight"], w.get(f"{layer.name}.bias")),
    "Upsample": lambda layer, xs, w: K.upsample(xs[0], None, layer.hp["scale_factor"], layer.hp["mode"],
                                                layer.hp["align_corners"]),
    "Branch": _merge,
}
