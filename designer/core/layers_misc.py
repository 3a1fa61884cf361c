"""Activation, normalisation, linear and structural layer types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import arithmetic as ar
from .errors import LayerError
from .params import ParamSpec
from .spec import (
    ELEMENTWISE,
    GLOBAL,
    HP,
    IDENTITY,
    INPLACE,
    TRANSPARENT,
    UNIFORM_IDENTITY,
    WEIGHTED,
    LayerSpec,
    RFStep,
    Shape,
    Tensors,
    TensorSpec,
    bias,
    fmt_once,
    fmt_shape,
    gamma,
    inplace_saves,
    need_map,
    numel,
    register,
    weight_and_bias,
)

# --- activations: elementwise, shape-preserving, no MACs -------------------------------------
INPLACE_PARAM = ParamSpec("inplace", "bool", False, "Overwrite the input with the output. While training this "
                          "frees a map only where PyTorch's backward needs neither (LeakyReLU, ELU); ReLU keeps its "
                          "output either way, and ReLU6, SiLU and Hardswish copy their input first. Default: false")
_ACTIVATION_TRAITS = frozenset({ELEMENTWISE, UNIFORM_IDENTITY, TRANSPARENT})


@dataclass(frozen=True)
class _Activation:
    doc: str
    params: tuple[ParamSpec, ...] = ()
    inplace: bool = False  # has torch.nn's ``inplace`` switch
    elementwise: bool = True  # Softmax is not: it mixes channels
    saves: tuple[str, ...] | Callable[[HP], tuple[str, ...]] = ("input",)  # autograd's saved tensors


ACTIVATION_TYPES: dict[str, _Activation] = {
    "ReLU": _Activation("max(0, x); units can die (never activate again) after a large update", inplace=True,
                        saves=("output",)),
    "ReLU6": _Activation("min(max(0, x), 6); bounded, suits low-precision arithmetic", inplace=True,
                         saves=inplace_saves(("input",), ("input_copy",))),
    "LeakyReLU": _Activation("x if x ≥ 0 else negative_slope·x; avoids dead units",
                             (ParamSpec("negative_slope", "float", 0.01, "Slope for x < 0. Default: 0.01",
                                        minimum=-1e9),), inplace=True,
                             saves=inplace_saves(("input",), ("output",))),
    "ELU": _Activation("x if x > 0 else alpha·(exp(x) − 1); smooth, mean closer to zero",
                       (ParamSpec("alpha", "float", 1.0, "Saturation value for x → −∞ is −alpha. Default: 1.0",
                                  minimum=0),), inplace=True, saves=inplace_saves(("input",), ("output",))),
    "Sigmoid": _Activation("1 / (1 + exp(−x)); saturates, derivative at most 0.25, not zero-centred",
                           saves=("output",)),
    "Tanh": _Activation("tanh(x); zero-centred but saturates", saves=("output",)),
    "SiLU": _Activation("x·sigmoid(x) (swish); smooth, non-monotonic, EfficientNet's activation", inplace=True,
                        saves=inplace_saves(("input",), ("input_copy",))),
    "Hardswish": _Activation("x·ReLU6(x + 3)/6; a cheap swish (MobileNetV3)", inplace=True,
                             saves=inplace_saves(("input",), ("input_copy",))),
    "Hardsigmoid": _Activation("ReLU6(x + 3)/6; a cheap sigmoid, the gate of MobileNetV3's squeeze-excitation"),
    "GELU": _Activation("x·Φ(x) with Φ the standard normal CDF ('tanh': 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))))",
                        (ParamSpec("approximate", "choice", "none", "'none' (exact erf) or 'tanh'. Default: none",
                                   choices=("none", "tanh")),)),
    "Softmax": _Activation("exp(x_i − max) / Σ exp(x_j − max) over channels (C×H×W) or features (F)",
                           elementwise=False, saves=("output",)),
}


def _activation_label(defaults: dict):
    """Only the values that differ from the defaults, e.g. ``0.2`` or ``tanh inplace``."""
    def label(hp: HP) -> str:
        parts = []
        for name, value in hp.items():
            if value == defaults.get(name):
                continue
            parts.append(name if value is True else (f"{value:g}" if isinstance(value, float) else str(value)))
        return " ".join(parts)
    return label


for _type, _act in ACTIVATION_TYPES.items():
    _params = _act.params + ((INPLACE_PARAM,) if _act.inplace else ())
    _traits = _ACTIVATION_TRAITS if _act.elementwise else frozenset({UNIFORM_IDENTITY})
    register(LayerSpec(
        type=_type, family="Activation", doc=_act.doc, params=_params,
        traits=_traits | ({INPLACE} if _act.inplace else set()),
        label=_activation_label({p.name: p.default for p in _params}),
        saves=_act.saves,
    ))


def _prelu_check(in_shape: Shape, hp: HP) -> None:
    n = hp["num_parameters"]
    if n != 1 and n != in_shape[0]:
        raise LayerError(f"num_parameters must be 1 or the number of channels ({in_shape[0]}), got {n}")


def _prelu_shape(in_shape: Shape, hp: HP) -> Shape:
    _prelu_check(in_shape, hp)
    return in_shape


register(LayerSpec(
    type="PReLU", family="Activation",
    doc="x if x ≥ 0 else a·x with a learned slope a (one, or one per channel)",
    params=(ParamSpec("num_parameters", "int", 1, "Number of slopes: 1 or C. Default: 1"),
            ParamSpec("init", "float", 0.25, "Initial slope. Default: 0.25", minimum=-1e9)),
    params_formula="num_parameters", shape=_prelu_shape,
    tensors=lambda s, hp: {"weight": TensorSpec((hp["num_parameters"],), "hp:init")},
    params_text=lambda s, hp: str(hp["num_parameters"]),
    traits=_ACTIVATION_TRAITS, saves=("input",),
    label=lambda hp: f"{hp['num_parameters']} slope{'s' if hp['num_parameters'] > 1 else ''}",
))

register(LayerSpec(
    type="Identity", family="Structure", doc="y = x, a placeholder (torch.nn.Identity)",
    traits=frozenset({UNIFORM_IDENTITY, TRANSPARENT}),
))


# --- normalisation -----------------------------------------------------------------------------
def _bn_shape(in_shape: Shape, hp: HP) -> Shape:
    c, _, _ = need_map(in_shape, "BatchNorm2d")
    if hp["num_features"] is not None and hp["num_features"] != c:
        raise LayerError(f"num_features is {hp['num_features']} but the input has {c} channels")
    return in_shape


def _affine_tensors(c: int, hp: HP) -> Tensors:
    """γ (``weight``, starts at 1) and β (``bias``, starts at 0), ``[C]`` each, when ``affine``."""
    return {"weight": gamma((c,)), "bias": bias((c,))} if hp["affine"] else {}


def _bn_tensors(in_shape: Shape, hp: HP) -> Tensors:
    """γ and β (2C) when affine; running mean and variance (2C buffers, 0 and 1) when tracked."""
    c = in_shape[0]
    tensors = _affine_tensors(c, hp)
    if hp["track_running_stats"]:
        tensors["running_mean"] = TensorSpec((c,), "zeros", buffer=True)
        tensors["running_var"] = TensorSpec((c,), "ones", buffer=True)
    return tensors


register(LayerSpec(
    type="BatchNorm2d", family="Normalization",
    doc="y = (x − mean)/sqrt(var + eps)·γ + β per channel; inference uses the running statistics",
    params=(ParamSpec("num_features", "opt_int", None, "Channels C; inferred when absent, checked when given."),
            ParamSpec("eps", "float", 1e-5, "Added to the variance for stability. Default: 1e-5", minimum=0),
            ParamSpec("momentum", "float", 0.1, "Running-statistics update rate. Default: 0.1", minimum=0,
                      maximum=1),
            ParamSpec("affine", "bool", True, "Learnable γ and β. Default: true"),
            ParamSpec("track_running_stats", "bool", True, "Keep running mean/var buffers. Default: true")),
    params_formula="2·C (γ, β) + 2·C buffers (running mean, var)",
    shape=_bn_shape, tensors=_bn_tensors, traits=frozenset({UNIFORM_IDENTITY, TRANSPARENT}),
    params_text=lambda s, hp: f"2·{s[0]}" if hp["affine"] else "0 (affine off)",
    cancels_bias=lambda s, hp: True, saves=("input", "stats"),
))


def _group_norm_check(in_shape: Shape, hp: HP) -> Shape:
    c, g = in_shape[0], hp["num_groups"]
    if hp["num_channels"] is not None and hp["num_channels"] != c:
        raise LayerError(f"num_channels is {hp['num_channels']} but the input has {c} channels")
    if c % g:
        divisors = [d for d in range(1, c + 1) if c % d == 0]
        choices = ", ".join(map(str, divisors[:12])) + (" …" if len(divisors) > 12 else "")
        raise LayerError(f"num_groups ({g}) does not divide the {c} channels ({c}/{g} = {c / g:.2f}); "
                         f"each group needs a whole number of channels: choose one of {choices}")
    if numel(in_shape) // g == 1:
        raise LayerError(f"each of the {g} groups holds a single value ({fmt_shape(in_shape)} input), so its variance "
                         "is undefined (PyTorch refuses it); use fewer groups")
    return in_shape


def _group_norm_fit(params: dict, in_shape: Shape | None) -> dict:
    """The largest group count up to the default that divides the arriving channels (32 groups on 48 → 24)."""
    if not in_shape or in_shape[0] % params["num_groups"] == 0:
        return params
    c = in_shape[0]
    return {**params, "num_groups": max(d for d in range(1, min(c, params["num_groups"]) + 1) if c % d == 0)}


register(LayerSpec(
    type="GroupNorm", family="Normalization",
    doc="y = (x − mean)/sqrt(var + eps)·γ + β with mean and variance over each group of C/G channels and all "
        "positions of one image; independent of the batch (torch.nn.GroupNorm)",
    params=(ParamSpec("num_groups", "int", doc="Groups G; must divide the channels."),
            ParamSpec("num_channels", "opt_int", None, "Channels C; inferred when absent, checked when given."),
            ParamSpec("eps", "float", 1e-5, "Added to the variance for stability. Default: 1e-5", minimum=0),
            ParamSpec("affine", "bool", True, "Learnable per-channel γ and β. Default: true")),
    shape_formula="output shape = input shape; G must divide C", params_formula="2·C (γ, β)",
    shape=_group_norm_check, tensors=lambda s, hp: _affine_tensors(s[0], hp),
    traits=frozenset({UNIFORM_IDENTITY, TRANSPARENT}),
    params_text=lambda s, hp: f"2·{s[0]}" if hp["affine"] else "0 (affine off)",
    cancels_bias=lambda s, hp: hp["num_groups"] == s[0],  # one channel per group: its mean removes the bias
    default_params={"num_groups": 32}, saves=("input", "stats"), fit_defaults=_group_norm_fit,
    label=lambda hp: f"G={hp['num_groups']}",
))


def _lrn_shape(in_shape: Shape, hp: HP) -> Shape:
    need_map(in_shape, "LocalResponseNorm")
    return in_shape


register(LayerSpec(
    type="LocalResponseNorm", family="Normalization",
    doc="b_c = a_c / (k + alpha/n · Σ a²_{c'} over n neighbouring channels)^beta (AlexNet)",
    params=(ParamSpec("size", "int", doc="Number of neighbouring channels n."),
            ParamSpec("alpha", "float", 1e-4, "Multiplicative factor. Default: 1e-4", minimum=0),
            ParamSpec("beta", "float", 0.75, "Exponent. Default: 0.75", minimum=0),
            ParamSpec("k", "float", 1.0, "Additive factor. Default: 1", minimum=0)),
    shape=_lrn_shape, traits=frozenset({UNIFORM_IDENTITY}), default_params={"size": 5},
    advice=lambda i, o, hp: [("hint", ("local response normalisation brings little in practice (VGG found no "
                                      "gain); BatchNorm2d or no normalisation is the usual choice today"))],
    label=lambda hp: f"n={hp['size']}", saves=("input", "work", "work", "work"),
))

register(LayerSpec(
    type="Dropout", family="Structure",
    doc="Zeroes each element with probability p while training (scaled by 1/(1−p)); identity at inference",
    params=(ParamSpec("p", "float", 0.5, "Probability of an element to be zeroed. Default: 0.5", minimum=0,
                      maximum=1),),
    label=lambda hp: f"p={hp['p']:g}", traits=frozenset({UNIFORM_IDENTITY, TRANSPARENT}), saves=("mask",),
))


# --- linear and structure ---------------------------------------------------------------------
def _flatten_rf(in_shape: Shape, hp: HP):
    return GLOBAL if len(in_shape) == 3 else IDENTITY


register(LayerSpec(
    type="Flatten", family="Structure", doc="C×H×W → a vector of C·H·W features (torch.nn.Flatten)",
    shape_formula="(C·H·W,)", shape=lambda in_shape, hp: (numel(in_shape),), rf=_flatten_rf,
))


def _linear_shape(in_shape: Shape, hp: HP) -> Shape:
    if len(in_shape) != 1:
        raise LayerError(
            f"Linear expects a flat vector but gets a {'×'.join(map(str, in_shape))} feature map; insert a "
            f"Flatten before it (it would then get in_features = {numel(in_shape):,})"
        )
    if hp["in_features"] is not None and hp["in_features"] != in_shape[0]:
        raise LayerError(f"in_features is {hp['in_features']:,} but the input has {in_shape[0]:,} features")
    return (hp["out_features"],)


def _linear_tensors(in_shape: Shape, hp: HP) -> Tensors:
    """``weight [out, in]`` and ``bias [out]``: ``in·out + bias·out``."""
    return weight_and_bias((hp["out_features"], in_shape[0]), hp["out_features"], hp["bias"])


register(LayerSpec(
    type="Linear", family="Linear", doc="y = W·x + b, fully connected (torch.nn.Linear)",
    params=(ParamSpec("in_features", "opt_int", None, "Input features; inferred when absent, checked when given."),
            ParamSpec("out_features", "int", doc="Output features."),
            ParamSpec("bias", "bool", True, "Learnable bias. Default: true")),
    shape_formula="(out_features,)", params_formula="in·out + bias·out",
    shape=_linear_shape, tensors=_linear_tensors, traits=frozenset({WEIGHTED}),
    params_text=lambda s, hp: f"{s[0]}·{hp['out_features']} + {int(hp['bias'])}·{hp['out_features']}",
    macs_text=lambda i, o, hp: f"{i[0]}·{hp['out_features']}", default_params={"out_features": 10},
    macs=lambda i, o, hp: i[0] * hp["out_features"],
    rf=lambda s, hp: GLOBAL, saves=("input",),
    label=lambda hp: f"→ {hp['out_features']}" + ("" if hp["bias"] else " no bias"),
))


def _upsample_shape(in_shape: Shape, hp: HP) -> Shape:
    c, h, w = need_map(in_shape, "Upsample")
    if hp["align_corners"] and hp["mode"] == "nearest":  # torch.nn.functional.interpolate refuses it too
        raise LayerError("align_corners can only be set with an interpolating mode (bilinear), not with nearest")
    out = (c, ar.upsample_out(h, hp["scale_factor"][0]), ar.upsample_out(w, hp["scale_factor"][1]))
    if min(out[1:]) < 1:
        raise LayerError(f"scale factor {fmt_once(tuple(f'{v:g}' for v in hp['scale_factor']))} shrinks the "
                         f"{h}×{w} input to nothing ({out[1]}×{out[2]})")
    return out


def _upsample_rf(in_shape: Shape, hp: HP) -> tuple[RFStep, RFStep]:
    taps = 2 if hp["mode"] == "bilinear" else 1
    return tuple(RFStep("upsample", taps, s, 0) for s in hp["scale_factor"])  # type: ignore[return-value]


register(LayerSpec(
    type="Upsample", family="Structure",
    doc="Resize by scale_factor with nearest or bilinear interpolation (torch.nn.Upsample)",
    params=(ParamSpec("scale_factor", "scale", 2.0, "Multiplier for H and W. Default: 2"),
            ParamSpec("mode", "choice", "nearest", "nearest or bilinear. Default: nearest",
                      choices=("nearest", "bilinear")),
            ParamSpec("align_corners", "bool", False, "Bilinear only: align corner pixels. Default: false")),
    shape_formula="H_out = floor(H·scale)", shape=_upsample_shape, rf=_upsample_rf,
    label=lambda hp: f"×{fmt_once(tuple(f'{v:g}' for v in hp['scale_factor']))} {hp['mode']}",
))

def _zero_pad_shape(in_shape: Shape, hp: HP) -> Shape:
    c, h, w = need_map(in_shape, "ZeroPad2d")
    left, right, top, bottom = hp["padding"]
    return c, h + top + bottom, w + left + right


def _zero_pad_rf(in_shape: Shape, hp: HP) -> tuple[RFStep, RFStep]:
    """A 1-wide window: the field keeps its size, its start moves by the padding before (top/left)."""
    left, _, top, _ = hp["padding"]
    return RFStep("window", 1, 1, top), RFStep("window", 1, 1, left)


def _zero_pad_label(hp: HP) -> str:
    left, right, top, bottom = hp["padding"]
    return f"p{left}" if len({left, right, top, bottom}) == 1 else f"l{left} r{right} t{top} b{bottom}"


register(LayerSpec(
    type="ZeroPad2d", family="Structure",
    doc="Pads the map with zeros: padding p (all sides) or [left, right, top, bottom] (torch.nn.ZeroPad2d)",
    params=(ParamSpec("padding", "pad4", doc="p or [left, right, top, bottom] (PyTorch order).", minimum=0),),
    shape_formula="H_out = H + top + bottom; W_out = W + left + right",
    shape=_zero_pad_shape, rf=_zero_pad_rf, label=_zero_pad_label, default_params={"padding": 1},
))


MERGES = ("concat", "add", "mul")

register(LayerSpec(
    type="Branch", family="Structure",
    doc="Parallel branches on the same input, merged by channel concatenation (Inception), addition (ResNet) or "
        "multiplication (squeeze-excitation gates); add and mul broadcast like PyTorch (64×56×56 · 64×1×1); "
        "an empty branch is the identity",
    params=(ParamSpec("merge", "choice", "concat", "concat (channels/features), add or mul (broadcasting). "
                      "Default: concat", choices=MERGES),),
    shape_formula="concat: (ΣC_b, H, W); add/mul: the broadcast shape of the branches",
    params_text=lambda s, hp: "sum over the branches",
    label=lambda hp: hp["merge"], saves=lambda hp: ("operands",) if hp["merge"] == "mul" else (),
))
