"""One mapping per ONNX op type: the design layers (with PyTorch ``state_dict`` tensors) it becomes.

Weights follow the design's layouts: Conv2d ``[C_out, C_in/g, kh, kw]``, ConvTranspose2d
``[C_in, C_out/g, kh, kw]`` (both ONNX's own), Linear ``[out, in]`` (Gemm ``B`` transposed when
``transB = 0``, scaled by ``alpha``; bias ``beta·C``).
"""

from __future__ import annotations

import numpy as np

from .errors import Unsupported
from .mapping import (
    Ctx,
    Draft,
    Mapped,
    Merge,
    as_f32,
    float_attr,
    maps,
    pad_amounts,
    pair_attr,
    same_pads,
    symmetric,
    window_pads,
    zero_pad,
)
from .model import Node


# --- convolution ---------------------------------------------------------------------------------
def _conv_padding(pads, size, kernel, stride, dilation) -> tuple[list[Draft], object]:
    """Conv2d padding for ONNX pads: symmetric → ``[p_h, p_w]``; TF SAME → ``"same"``; otherwise a
    ``ZeroPad2d`` before an unpadded conv."""
    if symmetric(pads):
        return [], [pads[0], pads[1]]
    if pads == same_pads(size, kernel, stride, dilation, upper=True):
        return [], "same"
    return [zero_pad(pads)], 0


@maps("Conv", produces=("Conv2d", "ZeroPad2d"))
def conv(node: Node, ctx: Ctx) -> Mapped:
    shape = ctx.map_input(node)
    w = ctx.const(node, 1, "weight")
    if w.ndim != 4:
        raise Unsupported(f"is a {w.ndim - 2}-D convolution; only 2-D maps")
    b = ctx.const(node, 2, "bias", required=False)
    kernel, stride, dilation = (
        (w.shape[2], w.shape[3]),
        pair_attr(node, "strides", 1),
        pair_attr(node, "dilations", 1),
    )
    pads = window_pads(node, shape[2:], kernel, stride, dilation)
    pre, padding = _conv_padding(pads, shape[2:], kernel, stride, dilation)
    params = {
        "out_channels": int(w.shape[0]),
        "kernel_size": list(kernel),
        "stride": list(stride),
        "padding": padding,
        "dilation": list(dilation),
        "groups": int(node.attr("group", 1)),
        "bias": b is not None,
    }
    tensors = {"weight": as_f32(w)} | ({"bias": as_f32(b)} if b is not None else {})
    return pre + [Draft("Conv2d", params, tensors)]


def _transpose_padding(node: Node, size, out, kernel, stride, dilation) -> tuple[list[int], list[int]]:
    """``(padding, output_padding)`` of the ConvTranspose2d giving the node's output size ``out``."""
    out_pad = pair_attr(node, "output_padding", 0)
    base = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(size, stride, dilation, kernel)]
    begin = [int(v) for v in node.attr("pads", [0, 0, 0, 0])[:2]]
    if node.attr("auto_pad", "NOTSET") != "NOTSET" or node.attr("output_shape") is not None:
        total = [b + op - o for b, op, o in zip(base, out_pad, out)]
        upper = node.attr("auto_pad", "SAME_UPPER") != "SAME_LOWER"
        begin = [t // 2 if upper else t - t // 2 for t in total]
    extra = [o - b + 2 * p for o, b, p in zip(out, base, begin)]  # torch: out = base − 2p + output_padding
    for axis in range(2):
        if begin[axis] < 0 or not 0 <= extra[axis] < max(stride[axis], dilation[axis]):
            end = base[axis] + out_pad[axis] - out[axis] - begin[axis]
            raise Unsupported(
                f"crops {begin[axis]} before and {end} after along axis {axis + 2}, which no "
                "ConvTranspose2d padding expresses"
            )
    return begin, extra


@maps("ConvTranspose", produces=("ConvTranspose2d",))
def conv_transpose(node: Node, ctx: Ctx) -> Mapped:
    """torch crops ``p`` at the start and ``p − output_padding`` at the end of ``(n − 1)s + d(k − 1) + 1``:
    ONNX pads ``(b, e)`` and output_padding ``op`` map to ``padding = b``, ``output_padding = b − e + op``
    when ``0 ≤ b − e + op < max(s, d)`` (``auto_pad``/``output_shape`` give ``b`` from the output size)."""
    shape = ctx.map_input(node)
    w = ctx.const(node, 1, "weight")
    if w.ndim != 4:
        raise Unsupported(f"is a {w.ndim - 2}-D transposed convolution; only 2-D maps")
    b = ctx.const(node, 2, "bias", required=False)
    group = int(node.attr("group", 1))
    kernel, stride, dilation = (
        (w.shape[2], w.shape[3]),
        pair_attr(node, "strides", 1),
        pair_attr(node, "dilations", 1),
    )
    padding, output_padding = _transpose_padding(
        node, shape[2:], ctx.out_shape(node)[2:], kernel, stride, dilation
    )
    params = {
        "out_channels": int(w.shape[1]) * group,
        "kernel_size": list(kernel),
        "stride": list(stride),
        "padding": padding,
        "output_padding": output_padding,
        "groups": group,
        "dilation": list(dilation),
        "bias": b is not None,
    }
    tensors = {"weight": as_f32(w)} | ({"bias": as_f32(b)} if b is not None else {})
    return [Draft("ConvTranspose2d", params, tensors)]


# --- pooling -------------------------------------------------------------------------------------
@maps(
    "MaxPool", "AveragePool", produces={"MaxPool": ("MaxPool2d",), "AveragePool": ("AvgPool2d", "ZeroPad2d")}
)
def pool(node: Node, ctx: Ctx) -> Mapped:
    """Symmetric pads map to the pool's padding; asymmetric ones only for an average that counts the
    padded zeros (a ``ZeroPad2d`` first); a max pool's asymmetric pads are refused (zeros ≠ −∞)."""
    shape = ctx.map_input(node)
    if len([o for o in node.outputs if o]) > 1 and node.outputs[1] in ctx.data:
        raise Unsupported("its indices output is used")
    kernel = pair_attr(node, "kernel_shape", 1)
    stride, dilation = pair_attr(node, "strides", 1), pair_attr(node, "dilations", 1)
    pads = window_pads(node, shape[2:], kernel, stride, dilation)
    is_max = node.op == "MaxPool"
    count_pad = bool(node.attr("count_include_pad", 0))
    params = {
        "kernel_size": list(kernel),
        "stride": list(stride),
        "ceil_mode": bool(node.attr("ceil_mode", 0)),
    }
    pre: list[Draft] = []
    if symmetric(pads):
        params["padding"] = [pads[0], pads[1]]
    elif not is_max and count_pad:
        pre = [zero_pad(pads)]
    else:
        raise Unsupported(f"asymmetric pads {list(pads)} (top, left, bottom, right) have no exact pool layer")
    if is_max:
        params["dilation"] = list(dilation)
    elif dilation != (1, 1):
        raise Unsupported("a dilated average pool has no layer")
    else:
        params["count_include_pad"] = count_pad
    return pre + [Draft("MaxPool2d" if is_max else "AvgPool2d", params)]


@maps(
    "GlobalAveragePool",
    "GlobalMaxPool",
    produces={"GlobalAveragePool": ("AdaptiveAvgPool2d",), "GlobalMaxPool": ("AdaptiveMaxPool2d",)},
)
def global_pool(node: Node, ctx: Ctx) -> Mapped:
    ctx.map_input(node)
    return [Draft("AdaptiveAvgPool2d" if "Average" in node.op else "AdaptiveMaxPool2d", {"output_size": 1})]


@maps(
    "ReduceMean",
    "ReduceMax",
    produces={"ReduceMean": ("AdaptiveAvgPool2d", "Flatten"), "ReduceMax": ("AdaptiveMaxPool2d", "Flatten")},
)
def reduce_spatial(node: Node, ctx: Ctx) -> Mapped:
    """A mean/max over H and W (``x.mean((2, 3))``) is a global pool; without ``keepdims`` a Flatten
    follows."""
    shape = ctx.in_shape(node)
    axes = node.attr("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1]:
        axes = ctx.const(node, 1, "axes")
    axes = sorted(int(a) % len(shape) for a in (axes if axes is not None else range(len(shape))))
    if len(shape) != 4 or axes != [2, 3]:
        raise Unsupported(f"reduces axes {axes} of a {len(shape)}-D tensor; only H and W of a map maps")
    draft = Draft("AdaptiveAvgPool2d" if node.op == "ReduceMean" else "AdaptiveMaxPool2d", {"output_size": 1})
    return [draft] if node.attr("keepdims", 1) else [draft, Draft("Flatten", role="flatten")]


# --- normalisation -------------------------------------------------------------------------------
@maps("BatchNormalization", produces=("BatchNorm2d",))
def batch_norm(node: Node, ctx: Ctx) -> Mapped:
    ctx.map_input(node)
    if node.attr("training_mode", 0) or any(o in ctx.data for o in node.outputs[1:] if o):
        raise Unsupported("is in training mode")
    names = ("weight", "bias", "running_mean", "running_var")
    tensors = {n: as_f32(ctx.const(node, i + 1, n)) for i, n in enumerate(names)}
    return [Draft("BatchNorm2d", {"eps": float_attr(node, "epsilon", 1e-5)}, tensors)]


@maps("InstanceNormalization", "GroupNormalization", produces=("GroupNorm",))
def group_norm(node: Node, ctx: Ctx) -> Mapped:
    """InstanceNorm is GroupNorm with one group per channel; GroupNormalization-18's per-group scale
    and bias are repeated over each group's channels."""
    c = ctx.map_input(node)[1]
    groups = c if node.op == "InstanceNormalization" else int(node.attr("num_groups"))
    scale, bias = ctx.const(node, 1, "scale"), ctx.const(node, 2, "bias")
    if scale.size == groups and groups != c:
        scale, bias = np.repeat(scale, c // groups), np.repeat(bias, c // groups)
    params = {"num_groups": groups, "num_channels": c, "eps": float_attr(node, "epsilon", 1e-5)}
    return [Draft("GroupNorm", params, {"weight": as_f32(scale), "bias": as_f32(bias)})]


@maps("LRN", "designer.LocalResponseNorm", produces=("LocalResponseNorm",))
def lrn(node: Node, ctx: Ctx) -> Mapped:
    """ONNX ``LRN`` sums over channels ``[c − ⌊(n−1)/2⌋, c + ⌈(n−1)/2⌉]``, PyTorch's LocalResponseNorm (the
    app's) over ``[c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]``: the same for odd ``n`` only. ``designer.LocalResponseNorm`` is
    PyTorch's own spelling, recognised by :mod:`.lrn_pattern`, for any ``n``."""
    ctx.map_input(node)
    if node.op == "LRN" and int(node.attr("size")) % 2 == 0:
        raise Unsupported(f"has the even size {node.attr('size')}, whose window ONNX centres one channel "
                          "later than PyTorch's LocalResponseNorm")
    params = {
        "size": int(node.attr("size")),
        "alpha": float_attr(node, "alpha", 1e-4),
        "beta": float_attr(node, "beta", 0.75),
        "k": float_attr(node, "bias", 1.0),
    }
    return [Draft("LocalResponseNorm", params)]


# --- linear and shape ----------------------------------------------------------------------------
@maps("Gemm", "MatMul", produces=("Linear",))
def linear(node: Node, ctx: Ctx) -> Mapped:
    """``y = alpha·A·B' + beta·C`` with ``A`` the ``N×F`` data and ``B``, ``C`` stored."""
    ctx.map_input(node, rank=2)
    if node.inputs[0] not in ctx.data or node.attr("transA", 0):
        raise Unsupported("multiplies by a data tensor from the right, or transposes it")
    b = ctx.const(node, 1, "weight")
    if b.ndim != 2:
        raise Unsupported(f"has a {b.ndim}-D weight")
    weight = (b if node.attr("transB", 0) else b.T) * float_attr(node, "alpha", 1.0)
    c = ctx.const(node, 2, "bias", required=False) if node.op == "Gemm" else None
    tensors = {"weight": as_f32(weight)}
    if c is not None:
        tensors["bias"] = as_f32(np.broadcast_to(c * float_attr(node, "beta", 1.0), (weight.shape[0],)))
    return [Draft("Linear", {"out_features": int(weight.shape[0]), "bias": c is not None}, tensors)]


@maps("Flatten", "Reshape", "Squeeze", produces=("Flatten",))
def flatten(node: Node, ctx: Ctx) -> Mapped:
    """Decided by shapes: ``N×C×H×W → N×(C·H·W)`` is a Flatten (``view(N, -1)``, ``flatten(1)``,
    ``squeeze`` of 1×1 maps); a reshape that changes nothing is dropped; any other is refused."""
    shape, out = ctx.in_shape(node), ctx.out_shape(node)
    if tuple(out) == tuple(shape):
        return []
    if len(out) == 2 and out[0] == shape[0] and len(shape) == 4 and out[1] == int(np.prod(shape[1:])):
        return [Draft("Flatten")]
    raise Unsupported(f"reshapes {list(shape)} to {list(out)}, which is not a flatten")


@maps("Identity", "Dropout", produces=())
def identity(node: Node, ctx: Ctx) -> Mapped:
    """Identity, and Dropout at inference, compute nothing: dropped."""
    ctx.x(node)
    return []


@maps("Pad", produces=("ZeroPad2d",))
def pad(node: Node, ctx: Ctx) -> Mapped:
    return [zero_pad(pad_amounts(node, ctx), role="")]


@maps("Resize", "Upsample", produces=("Upsample",))
def resize(node: Node, ctx: Ctx) -> Mapped:
    """Nearest (torch: ``asymmetric`` + ``floor``) or bilinear (``half_pixel``/``pytorch_half_pixel``, or
    ``align_corners``); the scale is the output size over the input size (or the stored scales)."""
    shape, out = ctx.map_input(node), ctx.out_shape(node)
    mode = node.attr("mode", "nearest")
    coords = node.attr(
        "coordinate_transformation_mode", "asymmetric" if node.op == "Upsample" else "half_pixel"
    )
    if out[:2] != shape[:2]:
        raise Unsupported("resizes the batch or channel axis")
    scales = None
    scale_input = 2 if node.op == "Resize" and ctx.graph.opset >= 11 else 1
    if (
        len(node.inputs) > scale_input
        and node.inputs[scale_input]
        and ctx.graph.is_constant(node.inputs[scale_input])
    ):
        values = ctx.const(node, scale_input, "scales")
        scales = [float(v) for v in values[2:]] if values.size == 4 else None
    if scales is None:
        scales = [o / i for o, i in zip(out[2:], shape[2:])]
    if mode == "nearest":
        rounding = node.attr("nearest_mode", "round_prefer_floor")
        if node.op == "Resize" and (coords != "asymmetric" or rounding != "floor"):
            raise Unsupported(
                f"nearest with '{coords}' coordinates and '{rounding}' rounding differs from torch's nearest"
            )
        return [Draft("Upsample", {"scale_factor": scales, "mode": "nearest"})]
    if mode in ("linear", "bilinear") and coords in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        return [
            Draft(
                "Upsample",
                {"scale_factor": scales, "mode": "bilinear", "align_corners": coords == "align_corners"},
            )
        ]
    raise Unsupported(f"mode '{mode}' with '{coords}' coordinates has no Upsample layer")


# --- merges --------------------------------------------------------------------------------------
MERGES = {"Add": "add", "Sum": "add", "Mul": "mul", "Concat": "concat"}


@maps(*MERGES, produces=("Branch",))
def merge(node: Node, ctx: Ctx) -> Mapped:
    """Joins branches: elementwise sum/product of data tensors, or concatenation along channels/features.

    An operand that is a stored constant (``x + c``) has no layer; a one-input Concat is the identity."""
    data = ctx.data_inputs(node)
    if len(data) != len([i for i in node.inputs if i]):
        raise Unsupported("combines a data tensor with a stored constant")
    if node.op == "Concat":
        rank = len(ctx.out_shape(node))
        if int(node.attr("axis")) % rank != 1:
            raise Unsupported(f"concatenates along axis {node.attr('axis')}; only channels/features map")
        if len(data) == 1:
            return []
    return Merge(MERGES[node.op])


NOT_IMPORTED: dict[str, str] = {
    "Dropout": "ONNX Dropout is the identity at inference: dropped",
    "Identity": "ONNX Identity computes nothing: dropped",
    "SpatialPyramidPool2d": "no ONNX op; exporters spell it as adaptive pools, flattens and a concat",
}
"""Layer types no ONNX op becomes, and why (checked against ``LAYER_SPECS`` by a test)."""
