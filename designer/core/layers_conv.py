"""Convolution layer types: Conv2d and ConvTranspose2d."""

from __future__ import annotations

from . import arithmetic as ar
from .errors import LayerError
from .params import ParamSpec
from .spec import (
    HP,
    WEIGHTED,
    LayerSpec,
    RFStep,
    Shape,
    Tensors,
    fmt_once,
    fmt_pair,
    need_map,
    register,
    weight_and_bias,
)

IN_CHANNELS = ParamSpec("in_channels", "opt_int", None, "Channels of the input; inferred when absent, checked when given.")
OUT_CHANNELS = ParamSpec("out_channels", "int", doc="Channels produced by the convolution (C_out).")
KERNEL = ParamSpec("kernel_size", "pair", doc="Size of the convolving kernel (k or [k_h, k_w]).")
STRIDE = ParamSpec("stride", "pair", 1, "Stride of the convolution (s). Default: 1")
DILATION = ParamSpec("dilation", "pair", 1, "Spacing between kernel elements (d); k_eff = d(k−1)+1. Default: 1")
GROUPS = ParamSpec("groups", "int", 1, "Blocked connections: C_in and C_out must be divisible by g. Default: 1")
BIAS = ParamSpec("bias", "bool", True, "Adds a learnable bias per output channel. Default: true")
INIT = ParamSpec("init", "init", None, "Hand-made kernel presets, one per output channel (backend).")


def resolve_conv_padding(hp: HP, h: int, w: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Conv2d padding as ``((top, bottom), (left, right))``.

    ``"same"``: TensorFlow SAME for any stride (``out = ceil(n/s)``, extra row/column at the
    bottom/right); ``"valid"``: no padding; ``p`` or ``[p_h, p_w]``: symmetric.
    """
    padding = hp["padding"]
    if padding == "same":
        return tuple(  # type: ignore[return-value]
            ar.same_padding(n, k, s, d) for n, k, s, d in zip((h, w), hp["kernel_size"], hp["stride"], hp["dilation"])
        )
    if padding == "valid":
        return (0, 0), (0, 0)
    return (padding[0], padding[0]), (padding[1], padding[1])


def _check_channels(type_name: str, c_in: int, hp: HP) -> None:
    declared = hp["in_channels"]
    if declared is not None and declared != c_in:
        raise LayerError(f"in_channels is {declared} but the input has {c_in} channels")
    g = hp["groups"]
    for label, c in (("input", c_in), ("output", hp["out_channels"])):
        if c % g:
            raise LayerError(
                f"{label} channels ({c}) are not divisible by groups ({g}); "
                f"each of the {g} groups needs a whole number of channels"
            )


KERNEL_PRESETS = ("identity", "box_blur", "gaussian_blur", "sharpen", "sobel_x", "sobel_y", "laplacian",
                  "vertical_line", "horizontal_line")


def _check_init(hp: HP) -> None:
    """Kernel presets: known names, one for all or one per output channel, an odd square kernel."""
    if hp["init"] is None:
        return
    names = hp["init"]["preset"]
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in KERNEL_PRESETS]
    if unknown:
        raise LayerError(f"unknown kernel preset {unknown[0]!r}; choose from {', '.join(KERNEL_PRESETS)}")
    if len(names) not in (1, hp["out_channels"]):
        raise LayerError(f"init names {len(names)} presets but the layer has {hp['out_channels']} output channels "
                         "(give one for all, or one per channel)")
    kh, kw = hp["kernel_size"]
    if kh != kw or kh % 2 == 0:
        raise LayerError(f"kernel presets need an odd square kernel, got {kh}×{kw}")


def _conv_shape(in_shape: Shape, hp: HP) -> Shape:
    c, h, w = need_map(in_shape, "Conv2d")
    _check_channels("Conv2d", c, hp)
    _check_init(hp)
    pads = resolve_conv_padding(hp, h, w)
    out = [
        ar.conv_out(n, k, s, sum(p), d)
        for n, k, s, d, p in zip((h, w), hp["kernel_size"], hp["stride"], hp["dilation"], pads)
    ]
    if min(out) <= 0:
        k_eff = [ar.effective_kernel(k, d) for k, d in zip(hp["kernel_size"], hp["dilation"])]
        padded = [n + sum(p) for n, p in zip((h, w), pads)]
        dilated = hp["dilation"] != (1, 1)
        kernel = (f"the dilated kernel (extent {fmt_pair(k_eff)})" if dilated
                  else f"the {fmt_pair(hp['kernel_size'])} kernel")
        raise LayerError(
            f"{kernel} is larger than the padded input {fmt_pair(padded)} ({h}×{w} plus padding); "
            f"use a smaller kernel{' or dilation' if dilated else ''}, or more padding"
        )
    return hp["out_channels"], out[0], out[1]


def _conv_tensors(in_shape: Shape, hp: HP) -> Tensors:
    """``weight [C_out, C_in/g, k_h, k_w]`` (OIHW) and ``bias [C_out]``: ``(k_h·k_w·C_in/g + bias)·C_out``."""
    c_out = hp["out_channels"]
    return weight_and_bias((c_out, in_shape[0] // hp["groups"], *hp["kernel_size"]), c_out, hp["bias"])


def _conv_params_text(in_shape: Shape, hp: HP) -> str:
    kh, kw = hp["kernel_size"]
    return f"({kh}·{kw}·{in_shape[0]}/{hp['groups']} + {int(hp['bias'])})·{hp['out_channels']}"


def _conv_macs_text(i: Shape, o: Shape, hp: HP) -> str:
    kh, kw = hp["kernel_size"]
    return f"{o[0]}·{o[1]}·{o[2]}·({i[0]}/{hp['groups']})·{kh}·{kw}"


def _conv_macs(in_shape: Shape, out_shape: Shape, hp: HP) -> int:
    """``C_out·H_out·W_out·(C_in/g)·k_h·k_w``."""
    kh, kw = hp["kernel_size"]
    return out_shape[0] * out_shape[1] * out_shape[2] * (in_shape[0] // hp["groups"]) * kh * kw


def _conv_rf(in_shape: Shape, hp: HP) -> tuple[RFStep, RFStep]:
    pads = resolve_conv_padding(hp, in_shape[1], in_shape[2])
    return tuple(  # type: ignore[return-value]
        RFStep("window", ar.effective_kernel(k, d), s, p[0], d)
        for k, d, s, p in zip(hp["kernel_size"], hp["dilation"], hp["stride"], pads)
    )


def ignored_advice(in_shape: Shape, hp: HP, pads, what: str) -> list[tuple[str, str]]:
    """Warning when the stride does not tile the (padded) input: the last rows/columns are unused."""
    _, h, w = in_shape
    ignored = [  # a window narrower than its stride skips rows by design: not a tiling problem
        ar.ignored_tail(n, k, s, sum(p), d) if ar.effective_kernel(k, d) >= s else 0
        for n, k, s, d, p in zip((h, w), hp["kernel_size"], hp["stride"], hp.get("dilation", (1, 1)), pads)
    ]
    parts = [f"the last {n} {axis}{'s' if n > 1 else ''}" for n, axis in zip(ignored, ("row", "column")) if n]
    if not parts:
        return []
    kh, kw = hp["kernel_size"]
    dilation = hp.get("dilation", (1, 1))
    extent = "" if dilation == (1, 1) else (
        f" (dilated extent {ar.effective_kernel(kh, dilation[0])}×{ar.effective_kernel(kw, dilation[1])})")
    return [(
        "warning",
        (f"{what} {kh}×{kw}{extent} with stride {fmt_once(hp['stride'])} does not tile the {h}×{w} input: "
        f"{' and '.join(parts)} are never seen; adjust padding, kernel or stride (or the input size)"),
    )]


def _conv_advice(in_shape: Shape, out_shape: Shape, hp: HP) -> list[tuple[str, str]]:
    pads = resolve_conv_padding(hp, in_shape[1], in_shape[2])
    return ignored_advice(in_shape, hp, pads, "the kernel")


def _conv_label(hp: HP) -> str:
    parts = [f"{hp['out_channels']}", fmt_pair(hp["kernel_size"])]
    if hp.get("stride", (1, 1)) != (1, 1):
        parts.append(f"s{fmt_once(hp['stride'])}")
    padding = hp.get("padding")
    if isinstance(padding, str):
        parts.append(padding)
    elif padding and padding != (0, 0):
        parts.append(f"p{fmt_once(padding)}")
    if hp.get("output_padding", (0, 0)) != (0, 0):
        parts.append(f"op{fmt_once(hp['output_padding'])}")
    if hp["dilation"] != (1, 1):
        parts.append(f"d{fmt_once(hp['dilation'])}")
    if hp["groups"] != 1:
        parts.append(f"g{hp['groups']}")
    if not hp["bias"]:
        parts.append("no bias")
    return " ".join(parts)


CONV2D = register(LayerSpec(
    type="Conv2d",
    family="Convolution",
    doc="2-D convolution over a C×H×W map (torch.nn.Conv2d).",
    params=(
        IN_CHANNELS, OUT_CHANNELS, KERNEL, STRIDE,
        ParamSpec("padding", "padding", 0, "Zero padding on both sides (p, [p_h, p_w]), or 'same' "
                  "(out = ceil(n/s), TensorFlow split) or 'valid' (p = 0). Default: 0", minimum=0),
        DILATION, GROUPS, BIAS, INIT,
    ),
    shape_formula="H_out = floor((H + 2p − d(k−1) − 1)/s) + 1; 'same': ceil(H/s)",
    params_formula="(k_h·k_w·C_in/g + bias)·C_out",
    shape=_conv_shape, tensors=_conv_tensors, macs=_conv_macs, rf=_conv_rf,
    advice=_conv_advice, label=_conv_label, traits=frozenset({WEIGHTED}),
    params_text=_conv_params_text, macs_text=_conv_macs_text,
    default_params={"out_channels": 64, "kernel_size": 3, "padding": 1}, saves=("input",),
    fit_defaults=lambda params, s: ({**params, "out_channels": max(s[0], 16) if s[0] > 3 else 64}
                                    if s and len(s) == 3 else params),
))


def _convt_shape(in_shape: Shape, hp: HP) -> Shape:
    c, h, w = need_map(in_shape, "ConvTranspose2d")
    _check_channels("ConvTranspose2d", c, hp)
    for op, s, d in zip(hp["output_padding"], hp["stride"], hp["dilation"]):
        if op >= max(s, d):
            raise LayerError(f"output_padding ({op}) must be smaller than the stride ({s}) or the dilation ({d})")
    out = [
        ar.conv_transpose_out(n, k, s, p, d, op)
        for n, k, s, p, d, op in zip((h, w), hp["kernel_size"], hp["stride"], hp["padding"], hp["dilation"],
                                     hp["output_padding"])
    ]
    if min(out) <= 0:
        raise LayerError(f"the padding {fmt_once(hp['padding'])} removes the whole output ({fmt_pair(out)})")
    return hp["out_channels"], out[0], out[1]


def _convt_tensors(in_shape: Shape, hp: HP) -> Tensors:
    """``weight [C_in, C_out/g, k_h, k_w]`` and ``bias [C_out]``: ``C_in·(C_out/g)·k_h·k_w + bias·C_out``."""
    c_out = hp["out_channels"]
    return weight_and_bias((in_shape[0], c_out // hp["groups"], *hp["kernel_size"]), c_out, hp["bias"])


def _convt_params_text(in_shape: Shape, hp: HP) -> str:
    kh, kw = hp["kernel_size"]
    return f"{in_shape[0]}·({hp['out_channels']}/{hp['groups']})·{kh}·{kw} + {int(hp['bias'])}·{hp['out_channels']}"


def _convt_macs_text(i: Shape, o: Shape, hp: HP) -> str:
    kh, kw = hp["kernel_size"]
    return f"{i[0]}·{i[1]}·{i[2]}·({hp['out_channels']}/{hp['groups']})·{kh}·{kw}"


def _convt_macs(in_shape: Shape, out_shape: Shape, hp: HP) -> int:
    """``C_in·H_in·W_in·(C_out/g)·k_h·k_w``."""
    kh, kw = hp["kernel_size"]
    c, h, w = in_shape
    return c * h * w * (hp["out_channels"] // hp["groups"]) * kh * kw


def _convt_rf(in_shape: Shape, hp: HP) -> tuple[RFStep, RFStep]:
    return tuple(  # type: ignore[return-value]
        RFStep("transpose", ar.effective_kernel(k, d), s, p, d)
        for k, d, s, p in zip(hp["kernel_size"], hp["dilation"], hp["stride"], hp["padding"])
    )


CONV_TRANSPOSE2D = register(LayerSpec(
    type="ConvTranspose2d",
    family="Convolution",
    doc="Transposed (fractionally strided) convolution, the gradient of Conv2d (torch.nn.ConvTranspose2d).",
    params=(
        IN_CHANNELS, OUT_CHANNELS, KERNEL, STRIDE,
        ParamSpec("padding", "pair", 0, "Removes p rows/columns from each side of the output "
                  "(the input gets d(k−1)−p implicit zero padding). Default: 0", minimum=0),
        ParamSpec("output_padding", "pair", 0, "Extra size added to one side of the output; "
                  "must be < stride or dilation. Default: 0", minimum=0),
        GROUPS, BIAS, DILATION,
    ),
    shape_formula="H_out = (H − 1)s − 2p + d(k−1) + output_padding + 1",
    params_formula="C_in·(C_out/g)·k_h·k_w + bias·C_out",
    shape=_convt_shape, tensors=_convt_tensors, macs=_convt_macs, rf=_convt_rf, label=_conv_label,
    traits=frozenset({WEIGHTED}), params_text=_convt_params_text, macs_text=_convt_macs_text,
    default_params={"out_channels": 64, "kernel_size": 2, "stride": 2}, saves=("input",),
))
