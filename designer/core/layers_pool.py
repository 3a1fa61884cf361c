"""Pooling layer types: max/avg, adaptive and spatial pyramid pooling."""

from __future__ import annotations

from . import arithmetic as ar
from .errors import LayerError
from .layers_conv import ignored_advice
from .params import ParamSpec
from .spec import GLOBAL, HP, IDENTITY, LayerSpec, RFStep, Shape, fmt_once, fmt_pair, need_map, register

KERNEL = ParamSpec("kernel_size", "pair", doc="Size of the pooling window (k or [k_h, k_w]).")
STRIDE = ParamSpec("stride", "opt_pair", None, "Stride of the window. Default: kernel_size")
PADDING = ParamSpec("padding", "pair", 0, "Implicit padding on both sides, at most half the kernel. Default: 0",
                    minimum=0)
CEIL = ParamSpec("ceil_mode", "bool", False, "Round the output size up (Caffe) instead of down. Default: false")
POOL_FORMULA = "H_out = floor((H + 2p − d(k−1) − 1)/s) + 1 (ceil with ceil_mode; last window starts inside)"


def _resolve_stride(hp: HP) -> HP:
    """PyTorch: a pool's stride defaults to its kernel size."""
    return {**hp, "stride": hp["stride"] or hp["kernel_size"]}


def _pool_shape_for(type_name: str):
    def shape(in_shape: Shape, hp: HP) -> Shape:
        c, h, w = need_map(in_shape, type_name)
        dilation = hp.get("dilation", (1, 1))
        for k, p in zip(hp["kernel_size"], hp["padding"]):
            if p > k // 2:
                raise LayerError(f"padding {p} is more than half the {k}-wide window (at most {k // 2})")
        out = [
            ar.pool_out(n, k, s, p, d, hp["ceil_mode"])
            for n, k, s, p, d in zip((h, w), hp["kernel_size"], hp["stride"], hp["padding"], dilation)
        ]
        if min(out) <= 0:
            raise LayerError(
                f"the {fmt_pair(hp['kernel_size'])} window is larger than the padded {h}×{w} input"
            )
        return c, out[0], out[1]
    return shape


def _pool_rf(in_shape: Shape, hp: HP) -> tuple[RFStep, RFStep]:
    dilation = hp.get("dilation", (1, 1))
    return tuple(  # type: ignore[return-value]
        RFStep("window", ar.effective_kernel(k, d), s, p, d)
        for k, d, s, p in zip(hp["kernel_size"], dilation, hp["stride"], hp["padding"])
    )


def _pool_advice(in_shape: Shape, out_shape: Shape, hp: HP) -> list[tuple[str, str]]:
    advice = []
    kh, kw = hp["kernel_size"]
    if max(kh, kw) > 3 and tuple(out_shape[1:]) != (1, 1):  # a global pool loses nothing it should keep
        advice.append((
            "warning",
            (f"a {kh}×{kw} pooling window keeps 1 of {kh * kw} activations per window and loses too much "
            "information; prefer 2×2 stride 2 (discards 75%) or 3×3 stride 2"),
        ))
    if not hp["ceil_mode"]:
        pads = [(p, p) for p in hp["padding"]]
        advice += ignored_advice(in_shape, hp, pads, "the window")
    return advice


def _pool_label(hp: HP) -> str:
    parts = [fmt_pair(hp["kernel_size"])]
    if hp["stride"] != hp["kernel_size"]:
        parts.append(f"s{fmt_once(hp['stride'])}")
    if hp["padding"] != (0, 0):
        parts.append(f"p{fmt_once(hp['padding'])}")
    if hp.get("dilation", (1, 1)) != (1, 1):
        parts.append(f"d{fmt_once(hp['dilation'])}")
    if hp["ceil_mode"]:
        parts.append("ceil")
    return " ".join(parts)


register(LayerSpec(
    type="MaxPool2d", family="Pooling",
    doc="Maximum over each window, per channel (torch.nn.MaxPool2d); keeps texture.",
    params=(KERNEL, STRIDE, PADDING,
            ParamSpec("dilation", "pair", 1, "Spacing between window elements. Default: 1"), CEIL),
    shape_formula=POOL_FORMULA, shape=_pool_shape_for("MaxPool2d"), rf=_pool_rf, advice=_pool_advice,
    label=_pool_label, finalize=_resolve_stride, default_params={"kernel_size": 2},
    saves=("input", "indices"),
))

register(LayerSpec(
    type="AvgPool2d", family="Pooling",
    doc="Mean over each window, per channel (torch.nn.AvgPool2d); keeps background.",
    params=(KERNEL, STRIDE, PADDING, CEIL,
            ParamSpec("count_include_pad", "bool", True, "Count padded zeros in the mean. Default: true")),
    shape_formula=POOL_FORMULA, shape=_pool_shape_for("AvgPool2d"), rf=_pool_rf, advice=_pool_advice,
    label=_pool_label, finalize=_resolve_stride, default_params={"kernel_size": 2},
    saves=("input",),
))


def _adaptive_shape_for(type_name: str):
    def shape(in_shape: Shape, hp: HP) -> Shape:
        c, _, _ = need_map(in_shape, type_name)
        return c, hp["output_size"][0], hp["output_size"][1]
    return shape


def _adaptive_rf(in_shape: Shape, hp: HP):
    return IDENTITY if tuple(in_shape[1:]) == hp["output_size"] else GLOBAL


for _name, _what in (("AdaptiveAvgPool2d", "mean"), ("AdaptiveMaxPool2d", "maximum")):
    register(LayerSpec(
        type=_name, family="Pooling",
        doc=f"{_what.capitalize()} over output_size bins whatever the input size (torch.nn.{_name}); "
            "bin i covers [floor(i·H/o), ceil((i+1)·H/o)).",
        params=(ParamSpec("output_size", "pair", doc="Output H×W (o or [o_h, o_w])."),),
        shape_formula="(C, o_h, o_w)", shape=_adaptive_shape_for(_name), rf=_adaptive_rf,
        label=lambda hp: f"→ {fmt_pair(hp['output_size'])}", default_params={"output_size": 1},
        saves=("input", "indices") if _what == "maximum" else ("input",),
    ))


def _spp_shape(in_shape: Shape, hp: HP) -> Shape:
    c, _, _ = need_map(in_shape, "SpatialPyramidPool2d")
    return (c * sum(n * n for n in hp["levels"]),)


register(LayerSpec(
    type="SpatialPyramidPool2d", family="Pooling",
    doc="Spatial pyramid pooling (He et al. 2014): adaptive pools to n×n bins per level, flattened and "
        "concatenated level by level; a fixed-length vector for any input size.",
    params=(ParamSpec("levels", "levels", [4, 2, 1], "Bins per side at each level. Default: [4, 2, 1]"),
            ParamSpec("mode", "choice", "max", "Pooling per bin: max or avg. Default: max", choices=("max", "avg"))),
    shape_formula="(C·Σ n²,)", shape=_spp_shape, rf=lambda in_shape, hp: GLOBAL,
    label=lambda hp: f"{hp['mode']} {list(hp['levels'])}",
    saves=lambda hp: ("input", "indices") if hp["mode"] == "max" else ("input",),
))
