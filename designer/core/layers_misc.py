"""Activation, normalisation, linear and structural layer types."""

from __future__ import annotations

from . import arithmetic as ar
from .errors import LayerError
from .params import ParamSpec
from .spec import GLOBAL, HP, IDENTITY, LayerSpec, RFStep, Shape, fmt_once, need_map, numel, register

# --- activations: elementwise, shape-preserving, no MACs -------------------------------------
ACTIVATIONS: dict[str, tuple[str, tuple[ParamSpec, ...]]] = {
    "ReLU": ("max(0, x); units can die (never activate again) after a large update", ()),
    "ReLU6": ("min(max(0, x), 6); bounded, suits low-precision arithmetic", ()),
    "LeakyReLU": ("x if x ≥ 0 else negative_slope·x; avoids dead units",
                  (ParamSpec("negative_slope", "float", 0.01, "Slope for x < 0. Default: 0.01", minimum=-1e9),)),
    "ELU": ("x if x > 0 else alpha·(exp(x) − 1); smooth, mean closer to zero",
            (ParamSpec("alpha", "float", 1.0, "Saturation value for x → −∞ is −alpha. Default: 1.0", minimum=0),)),
    "Sigmoid": ("1 / (1 + exp(−x)); saturates, derivative at most 0.25, not zero-centred", ()),
    "Tanh": ("tanh(x); zero-centred but saturates", ()),
    "Softmax": ("exp(x_i − max) / Σ exp(x_j − max) over channels (C×H×W) or features (F)", ()),
}

for _type, (_doc, _params) in ACTIVATIONS.items():
    register(LayerSpec(
        type=_type, family="Activation", doc=_doc, params=_params,
        label=(lambda hp: " ".join(f"{v:g}" for v in hp.values())),
    ))


def _prelu_params(in_shape: Shape, hp: HP) -> tuple[int, int]:
    n = hp["num_parameters"]
    if n != 1 and n != in_shape[0]:
        raise LayerError(f"num_parameters must be 1 or the number of channels ({in_shape[0]}), got {n}")
    return n, 0


def _prelu_shape(in_shape: Shape, hp: HP) -> Shape:
    _prelu_params(in_shape, hp)
    return in_shape


register(LayerSpec(
    type="PReLU", family="Activation",
    doc="x if x ≥ 0 else a·x with a learned slope a (one, or one per channel)",
    params=(ParamSpec("num_parameters", "int", 1, "Number of slopes: 1 or C. Default: 1"),
            ParamSpec("init", "float", 0.25, "Initial slope. Default: 0.25", minimum=-1e9)),
    params_formula="num_parameters", shape=_prelu_shape, count_params=_prelu_params,
    label=lambda hp: f"{hp['num_parameters']} slope{'s' if hp['num_parameters'] > 1 else ''}",
))


# --- normalisation -----------------------------------------------------------------------------
def _bn_shape(in_shape: Shape, hp: HP) -> Shape:
    c, _, _ = need_map(in_shape, "BatchNorm2d")
    if hp["num_features"] is not None and hp["num_features"] != c:
        raise LayerError(f"num_features is {hp['num_features']} but the input has {c} channels")
    return in_shape


def _bn_params(in_shape: Shape, hp: HP) -> tuple[int, int]:
    """γ and β (2C) when affine; running mean and variance (2C buffers) when tracked."""
    c = in_shape[0]
    return (2 * c if hp["affine"] else 0), (2 * c if hp["track_running_stats"] else 0)


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
    shape=_bn_shape, count_params=_bn_params,
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
    shape=_lrn_shape,
    advice=lambda i, o, hp: [("hint", ("local response normalisation brings little in practice (VGG found no "
                                      "gain); BatchNorm2d or no normalisation is the usual choice today"))],
    label=lambda hp: f"n={hp['size']}",
))

register(LayerSpec(
    type="Dropout", family="Structure",
    doc="Zeroes each element with probability p while training (scaled by 1/(1−p)); identity at inference",
    params=(ParamSpec("p", "float", 0.5, "Probability of an element to be zeroed. Default: 0.5", minimum=0,
                      maximum=1),),
    label=lambda hp: f"p={hp['p']:g}",
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


register(LayerSpec(
    type="Linear", family="Linear", doc="y = W·x + b, fully connected (torch.nn.Linear)",
    params=(ParamSpec("in_features", "opt_int", None, "Input features; inferred when absent, checked when given."),
            ParamSpec("out_features", "int", doc="Output features."),
            ParamSpec("bias", "bool", True, "Learnable bias. Default: true")),
    shape_formula="(out_features,)", params_formula="in·out + bias·out",
    shape=_linear_shape,
    count_params=lambda s, hp: (s[0] * hp["out_features"] + (hp["out_features"] if hp["bias"] else 0), 0),
    macs=lambda i, o, hp: i[0] * hp["out_features"],
    rf=lambda s, hp: GLOBAL,
    label=lambda hp: f"→ {hp['out_features']}" + ("" if hp["bias"] else " no bias"),
))


def _upsample_shape(in_shape: Shape, hp: HP) -> Shape:
    c, h, w = need_map(in_shape, "Upsample")
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

register(LayerSpec(
    type="Branch", family="Structure",
    doc="Parallel branches on the same input, merged by channel concatenation or addition "
        "(Inception, ResNet); an empty branch is the identity",
    params=(ParamSpec("merge", "choice", "concat", "concat (channels/features) or add. Default: concat",
                      choices=("concat", "add")),),
    shape_formula="concat: (ΣC_b, H, W); add: every branch's shape",
    label=lambda hp: hp["merge"],
))
