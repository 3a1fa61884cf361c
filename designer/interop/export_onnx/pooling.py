"""ONNX for the pooling types: window pools with PyTorch's ceil mode, adaptive pools, spatial pyramid pooling.

Shapes are static (the design's input size), so PyTorch's rules are resolved here:

* ``ceil_mode``: the extra window PyTorch keeps (it must start inside the input or the left padding)
  becomes explicit end padding: ``extra = (out − 1)·s + d(k − 1) + 1 − (n + 2p)`` per axis, padded by a
  ``Pad`` node (−∞ for max, 0 for average) before a pool without padding. PyTorch divides an average
  by the window clipped to the padded input (``count_include_pad``) or to the input, so a ``Mul`` by
  ``k_h·k_w / divisor`` (a constant map) follows.
* adaptive pools: bin ``i`` of ``o`` over ``n`` covers ``[floor(i·n/o), ceil((i+1)·n/o))``. When ``o``
  divides ``n`` (``o = 1``: a global pool) one pool does it; otherwise each axis is cut into bins by
  ``Slice``, reduced (``ReduceMax``/``ReduceMean``, keepdims) and concatenated (a mean over a rectangle is
  the mean over rows of the means over columns).
"""

from __future__ import annotations

import numpy as np

from designer.core.arithmetic import adaptive_bins, effective_kernel

from .graph import LayerContext

POOL_OPS = {"MaxPool2d": "MaxPool", "AvgPool2d": "AveragePool"}


def _ceil_extra(ctx: LayerContext) -> list[int]:
    """End padding per axis that turns PyTorch's ceil-mode output size into a floor-mode one."""
    hp = ctx.hp
    dilation = hp.get("dilation", (1, 1))
    return [max((o - 1) * s + effective_kernel(k, d) - (n + 2 * p), 0)
            for n, o, k, s, p, d in zip(ctx.in_shape[1:], ctx.out_shape[1:], hp["kernel_size"], hp["stride"],
                                        hp["padding"], dilation)]


def _avg_divisor(n: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """PyTorch's average-pool divisor per output index along one axis."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, n) - np.maximum(start, 0)).astype(np.float64)


def window_pool(ctx: LayerContext, xs: list[str]) -> str:
    """``MaxPool2d``/``AvgPool2d`` → ``MaxPool``/``AveragePool`` (in ceil mode a ``Pad`` before, and a divisor
    ``Mul`` after an average)."""
    hp, op = ctx.hp, POOL_OPS[ctx.layer.type]
    is_max = op == "MaxPool"
    attrs = {"kernel_shape": list(hp["kernel_size"]), "strides": list(hp["stride"])}
    if is_max:
        attrs["dilations"] = list(hp["dilation"])
    (ph, pw), extra = hp["padding"], _ceil_extra(ctx)
    if not any(extra):
        attrs["pads"] = [ph, pw, ph, pw]
        if not is_max:
            attrs["count_include_pad"] = int(hp["count_include_pad"])
        return ctx.node(op, xs, **attrs)
    pads = ctx.ints("pads", [0, 0, ph, pw, 0, 0, ph + extra[0], pw + extra[1]])
    fill = ctx.const("pad_value", -np.inf if is_max else 0.0)
    padded = ctx.node("Pad", [xs[0], pads, fill], "pad", mode="constant")
    if is_max:
        return ctx.node(op, [padded], **attrs)
    pooled = ctx.node(op, [padded], "mean", **attrs)
    divisors = [_avg_divisor(n, o, k, s, p, hp["count_include_pad"])
                for n, o, k, s, p in zip(ctx.in_shape[1:], ctx.out_shape[1:], hp["kernel_size"], hp["stride"],
                                         hp["padding"])]
    kh, kw = hp["kernel_size"]
    correction = (kh * kw) / (divisors[0][:, None] * divisors[1][None, :])
    return ctx.node("Mul", [pooled, ctx.const("divisor_correction", correction[None, None])])


def adaptive(ctx: LayerContext, x: str, size: tuple[int, int], mode: str, what: str | None = None) -> str:
    """Adaptive ``mode`` ("max"/"avg") pool of ``x`` (``ctx.in_shape``) to ``size``; the last node is ``what``
    (``None``: the layer's main node)."""
    h, w = ctx.in_shape[1:]
    (oh, ow), is_max = size, mode == "max"
    prefix = f"{what}/" if what else ""
    if (oh, ow) == (1, 1):
        return ctx.node("GlobalMaxPool" if is_max else "GlobalAveragePool", [x], what)
    if h % oh == 0 and w % ow == 0:
        kernel = [h // oh, w // ow]
        op = "MaxPool" if is_max else "AveragePool"
        return ctx.node(op, [x], what, kernel_shape=kernel, strides=kernel)
    reduce = "ReduceMax" if is_max else "ReduceMean"
    axes = [(axis, n, o) for axis, n, o in ((2, h, oh), (3, w, ow)) if n != o]
    for step, (axis, n, o) in enumerate(axes):
        tag = f"{prefix}axis{axis}"
        parts = []
        for i, (a, b) in enumerate(adaptive_bins(n, o)):
            starts, ends, along = (ctx.ints(f"{tag}_bin{i}_{t}", [v]) for t, v in (("start", a), ("end", b),
                                                                                   ("axes", axis)))
            cut = ctx.node("Slice", [x, starts, ends, along], f"{tag}_bin{i}")
            parts.append(ctx.node(reduce, [cut], f"{tag}_bin{i}_reduce", axes=[axis], keepdims=1))
        x = ctx.node("Concat", parts, what if step == len(axes) - 1 else tag, axis=axis)
    return x


def adaptive_pool(ctx: LayerContext, xs: list[str]) -> str:
    """``AdaptiveAvgPool2d``/``AdaptiveMaxPool2d``."""
    return adaptive(ctx, xs[0], ctx.hp["output_size"], "max" if "Max" in ctx.layer.type else "avg")


def spatial_pyramid_pool(ctx: LayerContext, xs: list[str]) -> str:
    """SPP → per level an adaptive pool to n×n and a ``Flatten``; a ``Concat`` of the levels."""
    levels = []
    for n in ctx.hp["levels"]:
        pooled = adaptive(ctx, xs[0], (n, n), ctx.hp["mode"], f"level{n}x{n}")
        levels.append(ctx.node("Flatten", [pooled], f"level{n}x{n}/flatten", axis=1))
    return ctx.node("Concat", levels, axis=1)
