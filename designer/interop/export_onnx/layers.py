"""One ONNX emitter per layer type: ``emit(ctx, inputs) -> output tensor`` (opset 17, ``[N, C, H, W]``).

``ONNX_LAYERS`` is keyed by type name; a test fails when a type of ``LAYER_SPECS`` is missing. The
app's maps are ``[C, H, W]`` per image and ONNX's ``[N, C, H, W]``: channels are axis 1 (Softmax,
Concat, Flatten from axis 1), and a Branch's broadcasting ``add``/``mul`` align the same way.
Where ONNX's operator differs from PyTorch the emitter composes it:

* Conv2d TensorFlow SAME with a stride: ``Pad`` (odd row/column at the bottom/right) + ``Conv``;
* LocalResponseNorm: ``x / (k + α·mean_n(x²))^β`` from an ``AveragePool`` over channels (PyTorch's own
  formulation, window ``[c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]``). ONNX ``LRN`` centres an even window differently, and
  ``onnx.reference`` (1.23) normalises only the first N channels of a batch of N, so ``LRN`` is not used;
* ConvTranspose2d with groups: one ``ConvTranspose`` per group between ``Split`` and ``Concat`` (the same
  arithmetic; ``onnx.reference`` 1.23 slices a grouped weight by output channels and fails or is wrong);
* BatchNorm2d without running statistics: the batch's mean and (biased) variance per channel (PyTorch in
  eval mode), ``ReduceMean`` over ``N, H, W``;
* GroupNorm: ``InstanceNormalization`` over ``[N, G, C/G·H·W]``, then the per-channel ``γ``, ``β``;
* GELU: ``0.5·x·(1 + erf(x/√2))`` or the tanh form; SiLU: ``x·sigmoid(x)``; ReLU6: ``Clip(0, 6)``;
* Upsample: ``Resize`` with PyTorch's coordinates (nearest: ``asymmetric`` + ``floor``; bilinear:
  ``pytorch_half_pixel`` or ``align_corners``), scale 1 on an axis whose length does not change; a factor that
  is not a whole number becomes PyTorch's interpolation matrices (``MatMul``), see :func:`upsample`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from designer.backend.kernels.resample import linear_weights
from designer.core import resolve_conv_padding
from designer.core.arithmetic import nearest_source

from .graph import LayerContext
from .pooling import adaptive_pool, spatial_pyramid_pool, window_pool

Emitter = Callable[[LayerContext, list[str]], str]


def _optional(*names: str | None) -> list[str]:
    """Inputs with absent optional ones as ``""`` (and trailing absent ones dropped)."""
    out = [n or "" for n in names]
    while out and not out[-1]:
        out.pop()
    return out


def conv2d(ctx: LayerContext, xs: list[str]) -> str:
    hp = ctx.hp
    (top, bottom), (left, right) = resolve_conv_padding(hp, *ctx.in_shape[1:])
    x = xs[0]
    if hp["padding"] == "same" and hp["stride"] != (1, 1):
        pads = ctx.ints("pads", [0, 0, top, left, 0, 0, bottom, right])
        x = ctx.node("Pad", [x, pads], "pad", mode="constant")
        top = bottom = left = right = 0
    return ctx.node("Conv", _optional(x, ctx.weight("weight"), ctx.weight("bias")),
                    kernel_shape=list(hp["kernel_size"]), strides=list(hp["stride"]),
                    pads=[top, left, bottom, right], dilations=list(hp["dilation"]), group=hp["groups"])


def conv_transpose2d(ctx: LayerContext, xs: list[str]) -> str:
    """``ConvTranspose``. PyTorch's ``output_padding`` ``op`` keeps ``op`` more rows of the full transposed
    convolution than the symmetric crop ``p`` would: an end crop of ``p − op``. Rows past the full extent
    (``op > p``) hold only the bias: a ``Pad`` and an ``Add`` (onnxruntime refuses ``output_padding ≥
    stride``, which PyTorch allows with a dilation)."""
    hp = ctx.hp
    (ph, pw), (oph, opw) = hp["padding"], hp["output_padding"]
    extra = [max(oph - ph, 0), max(opw - pw, 0)]
    bias = ctx.weight("bias")
    attrs = {"kernel_shape": list(hp["kernel_size"]), "strides": list(hp["stride"]),
             "pads": [ph, pw, max(ph - oph, 0), max(pw - opw, 0)], "dilations": list(hp["dilation"]),
             "group": hp["groups"]}
    if not any(extra):
        return _conv_transpose(ctx, xs[0], bias, attrs, None)
    y = _conv_transpose(ctx, xs[0], None, attrs, "full")
    pads = ctx.ints("output_padding_pads", [0, 0, 0, 0, 0, 0, *extra])
    y = ctx.node("Pad", [y, pads], "output_padding" if bias else None, mode="constant")
    return ctx.node("Add", [y, _channel_vector(ctx, bias, "bias_per_channel")]) if bias else y


def _conv_transpose(ctx: LayerContext, x: str, bias: str | None, attrs: dict, what: str | None) -> str:
    """``ConvTranspose``; with ``g`` groups, ``Split`` input, weight and bias into ``g`` parts along
    channels, one ``ConvTranspose`` per group, ``Concat`` (group ``k`` maps input channels
    ``[k·C_in/g, (k+1)·C_in/g)`` to output channels ``[k·C_out/g, (k+1)·C_out/g)``, as a grouped one does)."""
    weight, groups = ctx.weight("weight"), attrs["group"]
    if groups == 1:
        return ctx.node("ConvTranspose", _optional(x, weight, bias), what, **attrs)
    parts = zip(ctx.split(x, groups, 1, "input_groups"), ctx.split(weight, groups, 0, "weight_groups"),
                ctx.split(bias, groups, 0, "bias_groups") if bias else [None] * groups)
    ys = [ctx.node("ConvTranspose", _optional(xk, wk, bk), f"group{k}", **{**attrs, "group": 1})
          for k, (xk, wk, bk) in enumerate(parts, start=1)]
    return ctx.node("Concat", ys, what, axis=1)


def _channel_vector(ctx: LayerContext, tensor: str, what: str) -> str:
    """A per-channel ``[C]`` tensor shaped to broadcast over ``[N, C, H, W]`` (``[C, 1, 1]``)."""
    if len(ctx.in_shape) == 1:
        return tensor
    return ctx.node("Unsqueeze", [tensor, ctx.ints(f"{what}_axes", [1, 2])], what)


def _affine(ctx: LayerContext, x: str) -> str:
    """``x·γ + β`` per channel when the layer has them; the last node is the layer's main node."""
    gamma, beta = ctx.weight("weight"), ctx.weight("bias")
    if gamma is None:
        return ctx.node("Identity", [x])
    scaled = ctx.node("Mul", [x, _channel_vector(ctx, gamma, "weight_per_channel")], "scale")
    return ctx.node("Add", [scaled, _channel_vector(ctx, beta, "bias_per_channel")])


def batch_norm(ctx: LayerContext, xs: list[str]) -> str:
    hp, c = ctx.hp, ctx.in_shape[0]
    if hp["track_running_stats"]:
        scale = ctx.weight("weight") or ctx.const("weight_ones", np.ones(c))
        shift = ctx.weight("bias") or ctx.const("bias_zeros", np.zeros(c))
        return ctx.node("BatchNormalization", [xs[0], scale, shift, ctx.weight("running_mean"),
                                               ctx.weight("running_var")],
                        epsilon=hp["eps"], momentum=1.0 - hp["momentum"])
    mean = ctx.node("ReduceMean", [xs[0]], "batch_mean", axes=[0, 2, 3], keepdims=1)
    centred = ctx.node("Sub", [xs[0], mean], "centred")
    squared = ctx.node("Mul", [centred, centred], "squared")
    var = ctx.node("ReduceMean", [squared], "batch_var", axes=[0, 2, 3], keepdims=1)
    std = ctx.node("Sqrt", [ctx.node("Add", [var, ctx.const("eps", hp["eps"])], "var_eps")], "std")
    return _affine(ctx, ctx.node("Div", [centred, std], "normalized"))


def group_norm(ctx: LayerContext, xs: list[str]) -> str:
    hp, g = ctx.hp, ctx.hp["num_groups"]
    grouped = ctx.node("Reshape", [xs[0], ctx.ints("group_shape", [0, g, -1])], "grouped")
    normed = ctx.node("InstanceNormalization", [grouped, ctx.const("ones", np.ones(g)),
                                                 ctx.const("zeros", np.zeros(g))], "group_normalized",
                      epsilon=hp["eps"])
    back = ctx.node("Reshape", [normed, ctx.node("Shape", [xs[0]], "input_shape")], "ungrouped")
    return _affine(ctx, back)


def local_response_norm(ctx: LayerContext, xs: list[str]) -> str:
    """``x / (k + α·mean(x²))^β``, the mean over the window of ``n`` channels ``[c − ⌊n/2⌋, c + ⌊(n−1)/2⌋]``
    (zeros beyond the edges count): ``x²`` as ``[N, 1, C, H, W]``, an ``AveragePool`` of ``n × 1 × 1``."""
    hp, size = ctx.hp, ctx.hp["size"]
    squares = ctx.node("Unsqueeze", [ctx.node("Mul", [xs[0], xs[0]], "square"), ctx.ints("axes", [1])],
                       "square_5d")
    mean = ctx.node("AveragePool", [squares], "window_mean", kernel_shape=[size, 1, 1],
                    pads=[size // 2, 0, 0, (size - 1) // 2, 0, 0], count_include_pad=1)
    mean = ctx.node("Squeeze", [mean, ctx.ints("squeeze_axes", [1])], "window_mean_4d")
    scaled = ctx.node("Add", [ctx.node("Mul", [mean, ctx.const("alpha", hp["alpha"])], "alpha_mean"),
                              ctx.const("k", hp["k"])], "k_plus")
    return ctx.node("Div", [xs[0], ctx.node("Pow", [scaled, ctx.const("beta", hp["beta"])], "power")])


def gelu(ctx: LayerContext, xs: list[str]) -> str:
    x = xs[0]
    if ctx.hp["approximate"] == "tanh":
        cube = ctx.node("Mul", [ctx.node("Mul", [x, x], "square"), x], "cube")
        inner = ctx.node("Add", [x, ctx.node("Mul", [cube, ctx.const("c", 0.044715)], "c_cube")], "inner")
        phi = ctx.node("Tanh", [ctx.node("Mul", [inner, ctx.const("sqrt_2_over_pi", math.sqrt(2 / math.pi))],
                                         "scaled")], "tanh")
    else:
        phi = ctx.node("Erf", [ctx.node("Div", [x, ctx.const("sqrt2", math.sqrt(2.0))], "scaled")], "erf")
    one_plus = ctx.node("Add", [phi, ctx.const("one", 1.0)], "one_plus")
    return ctx.node("Mul", [ctx.node("Mul", [x, ctx.const("half", 0.5)], "half_x"), one_plus])


def prelu(ctx: LayerContext, xs: list[str]) -> str:
    slope = ctx.weight("weight")
    if ctx.hp["num_parameters"] > 1:
        slope = _channel_vector(ctx, slope, "weight_per_channel")
    return ctx.node("PRelu", [xs[0], slope])


def _resize_is_exact(ctx: LayerContext) -> bool:
    """Whether ONNX ``Resize`` computes what PyTorch does: every axis keeps its length or grows by a whole
    factor (PyTorch maps nearest sources with float32 ``1/scale``: checked index by index)."""
    for n, out, scale in zip(ctx.in_shape[1:], ctx.out_shape[1:], ctx.hp["scale_factor"]):
        if out == n:
            continue
        if not float(scale).is_integer() or scale < 1:
            return False
        exact = [o // int(scale) for o in range(out)]
        if ctx.hp["mode"] == "nearest" and nearest_source(out, n, scale) != exact:
            return False
    return True


def _interpolation_matrix(ctx: LayerContext, n: int, out: int, scale: float) -> np.ndarray:
    """``A [out, n]``, ``y = A·x`` along one axis: PyTorch's nearest source or bilinear taps (as the app)."""
    matrix = np.zeros((out, n), np.float32)
    rows = np.arange(out)
    if ctx.hp["mode"] == "nearest":
        matrix[rows, nearest_source(out, n, scale)] = 1.0
        return matrix
    i0, i1, lam = linear_weights(n, out, np.float32(1.0 / scale), ctx.hp["align_corners"])
    np.add.at(matrix, (rows, i0), 1 - lam)
    np.add.at(matrix, (rows, i1), lam)
    return matrix


def upsample(ctx: LayerContext, xs: list[str]) -> str:
    """``Resize`` (nearest: ``asymmetric`` + ``floor``; bilinear: ``pytorch_half_pixel`` or
    ``align_corners``) for whole scale factors; otherwise ``y = A_h·x·A_wᵀ`` as two ``MatMul`` with PyTorch's
    interpolation matrices (ONNX rounds output sizes and source coordinates differently from PyTorch's
    float32 ``1/scale``)."""
    hp = ctx.hp
    (n_h, n_w), (o_h, o_w) = ctx.in_shape[1:], ctx.out_shape[1:]
    if _resize_is_exact(ctx):
        scales = [1.0, 1.0] + [1.0 if o == n else s
                               for n, o, s in zip((n_h, n_w), (o_h, o_w), hp["scale_factor"])]
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
        if hp["mode"] == "bilinear":
            attrs = {"mode": "linear", "coordinate_transformation_mode":
                     "align_corners" if hp["align_corners"] else "pytorch_half_pixel"}
        return ctx.node("Resize", [xs[0], "", ctx.const("scales", scales)], **attrs)
    x = xs[0]
    if o_w != n_w:
        a_w = _interpolation_matrix(ctx, n_w, o_w, hp["scale_factor"][1])
        last = "resize_width" if o_h != n_h else None
        x = ctx.node("MatMul", [x, ctx.const("width_matrix_t", a_w.T)], last)
    if o_h != n_h:
        x = ctx.node("MatMul", [ctx.const("height_matrix", _interpolation_matrix(ctx, n_h, o_h,
                                                                                hp["scale_factor"][0])), x])
    return x


def zero_pad(ctx: LayerContext, xs: list[str]) -> str:
    padding = ctx.hp["padding"]
    left, right, top, bottom = (padding,) * 4 if isinstance(padding, int) else padding
    return ctx.node("Pad", [xs[0], ctx.ints("pads", [0, 0, top, left, 0, 0, bottom, right])], mode="constant")


def merge(ctx: LayerContext, xs: list[str]) -> str:
    """Branch: ``Concat`` on channels, or ``Add``/``Sum``/``Mul`` with NumPy broadcasting."""
    how = ctx.hp["merge"]
    if how == "concat":
        return ctx.node("Concat", xs, axis=1)
    if len(xs) == 1:
        return ctx.node("Identity", xs)
    if how == "add":
        return ctx.node("Add" if len(xs) == 2 else "Sum", xs)
    product = xs[0]
    for k, x in enumerate(xs[1:-1], start=2):
        product = ctx.node("Mul", [product, x], f"product{k}")
    return ctx.node("Mul", [product, xs[-1]])


def _op(op: str, **fixed: object) -> Emitter:
    """A one-node emitter with fixed attributes."""
    return lambda ctx, xs: ctx.node(op, xs, **fixed)


def _op_hp(op: str, **attr_of_hp: str) -> Emitter:
    """A one-node emitter whose attributes are hyperparameters (``attribute="hp name"``)."""
    return lambda ctx, xs: ctx.node(op, xs, **{a: ctx.hp[h] for a, h in attr_of_hp.items()})


ONNX_LAYERS: dict[str, Emitter] = {
    "Conv2d": conv2d,
    "ConvTranspose2d": conv_transpose2d,
    "MaxPool2d": window_pool,
    "AvgPool2d": window_pool,
    "AdaptiveAvgPool2d": adaptive_pool,
    "AdaptiveMaxPool2d": adaptive_pool,
    "SpatialPyramidPool2d": spatial_pyramid_pool,
    "BatchNorm2d": batch_norm,
    "GroupNorm": group_norm,
    "LocalResponseNorm": local_response_norm,
    "Dropout": lambda ctx, xs: ctx.node("Dropout", [xs[0], ctx.const("ratio", ctx.hp["p"])]),
    "Identity": _op("Identity"),
    "ReLU": _op("Relu"),
    "ReLU6": lambda ctx, xs: ctx.node("Clip", [xs[0], ctx.const("min", 0.0), ctx.const("max", 6.0)]),
    "LeakyReLU": _op_hp("LeakyRelu", alpha="negative_slope"),
    "PReLU": prelu,
    "ELU": _op_hp("Elu", alpha="alpha"),
    "Sigmoid": _op("Sigmoid"),
    "Tanh": _op("Tanh"),
    "SiLU": lambda ctx, xs: ctx.node("Mul", [xs[0], ctx.node("Sigmoid", xs, "sigmoid")]),
    "Hardswish": _op("HardSwish"),
    "Hardsigmoid": _op("HardSigmoid", alpha=1.0 / 6.0, beta=0.5),
    "GELU": gelu,
    "Softmax": _op("Softmax", axis=1),
    "Flatten": _op("Flatten", axis=1),
    "Linear": lambda ctx, xs: ctx.node("Gemm", _optional(xs[0], ctx.weight("weight"), ctx.weight("bias")),
                                       transB=1),
    "Upsample": upsample,
    "ZeroPad2d": zero_pad,
    "Branch": merge,
}
"""Every layer type's ONNX nodes."""
