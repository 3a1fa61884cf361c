"""Flatten, Linear, Upsample and Branch merges: forward beside VJP.

Branch merges: ``concat`` joins along channels/features (its VJP splits ``ḡ``); ``add`` and ``mul`` broadcast
like PyTorch, so the VJP of an operand that was broadcast sums ``∂L/∂x_k`` over the broadcast axes:
``add``: ``∂L/∂x_k = reduce_k(ḡ)``; ``mul`` (``y = Π x_j``): ``∂L/∂x_k = reduce_k(ḡ · Π_{j≠k} x_j)``.
In the uniform network a ``mul`` counts paths like an ``add`` (a gate is a path of weight one).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

import numpy as np

from designer.core import Layer

from .. import kernels as K
from ..grad.base import NO_PARAMS, Grads, f32
from ..grad.structure import flatten_vjp, linear_vjp, upsample_vjp
from ..kernels._util import alloc, wide_base, wide_view
from . import LayerFunction, hp_op, register


def _add_same_shape(xs: list[np.ndarray]) -> np.ndarray:
    """Sum of equal-shaped tensors into a recycled buffer (long runs when all are wide views of one geometry)."""
    if len(xs) == 1:
        return np.array(xs[0], dtype=np.float32)
    wides = [wide_base(x) for x in xs]
    if all(wb is not None for wb in wides) and len({wb[1] for wb in wides}) == 1:
        out = alloc(wides[0][0].shape)
        np.add(wides[0][0], wides[1][0], out=out)
        for wb in wides[2:]:
            out += wb[0]
        return wide_view(out, xs[0].shape, wides[0][1])
    out = alloc(xs[0].shape)
    np.add(xs[0], xs[1], out=out)
    for x in xs[2:]:
        out += x
    return out


def merge(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    """Branch: ``concat`` along axis 0, or ``add``/``mul`` with broadcasting."""
    how = layer.hp["merge"]
    if how == "concat":
        return np.concatenate(xs, axis=0)
    if how == "add" and len({x.shape for x in xs}) == 1:
        return _add_same_shape(xs)
    op = np.add if how == "add" else np.multiply
    return np.ascontiguousarray(reduce(op, xs), dtype=np.float32)


def reduce_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``g`` summed over the axes where ``shape`` was broadcast (size 1 in ``shape``, larger in ``g``)."""
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
    return f32(g.sum(axis=axes, keepdims=True) if axes else g)


def merge_vjp(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
              weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """See the module docstring."""
    how = layer.hp["merge"]
    if how == "concat":
        bounds = np.cumsum([x.shape[0] for x in xs])[:-1]
        return list(np.split(gy, bounds, axis=0)), NO_PARAMS
    if how == "add":
        return [reduce_to(gy, x.shape) for x in xs], NO_PARAMS
    grads = []
    for k, x in enumerate(xs):
        others = [xs[j] for j in range(len(xs)) if j != k]
        grads.append(reduce_to(reduce(np.multiply, others, gy), x.shape))
    return grads, NO_PARAMS


def merge_uniform(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                  weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """In the uniform network ``mul`` counts paths like ``add``."""
    if layer.hp["merge"] == "concat":
        return merge_vjp(layer, xs, y, gy, weights, params)
    return [reduce_to(gy, x.shape) for x in xs], NO_PARAMS


register(
    LayerFunction("Flatten", hp_op(K.flatten), flatten_vjp),
    LayerFunction("Linear", lambda layer, xs, w: K.linear(xs[0], w[f"{layer.name}.weight"],
                                                          w.get(f"{layer.name}.bias")), linear_vjp),
    LayerFunction("Upsample", lambda layer, xs, w: K.upsample(xs[0], None, layer.hp["scale_factor"],
                                                              layer.hp["mode"], layer.hp["align_corners"]),
                  upsample_vjp),
    LayerFunction("Branch", merge, merge_vjp, uniform=merge_uniform),
)
