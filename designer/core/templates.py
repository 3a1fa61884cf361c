"""Starting layers for the palette and the block templates, as data (no Qt).

A new layer starts with its spec's ``default_params``. Block templates insert several layers at once;
their channel counts follow the tensor arriving at the insertion point so a fresh block fits where it
is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .design import Layer
from .spec import get_spec

Shape = tuple[int, ...] | None


def default_layer(type_name: str, in_shape: Shape = None) -> Layer:
    """A new layer of ``type_name`` that works in most places (names are fixed on insertion)."""
    params = get_spec(type_name).starting_params(in_shape)
    branches = ((), ()) if type_name == "Branch" else ()
    return Layer(type_name, "", params, branches)


def _channels(in_shape: Shape, fallback: int = 64) -> int:
    return in_shape[0] if in_shape and len(in_shape) == 3 else fallback


def _conv(c_out: int, k: int | list[int], pad: int | list[int] = 0, **extra) -> Layer:
    return Layer("Conv2d", "", {"out_channels": c_out, "kernel_size": k, "padding": pad, **extra})


def _bn() -> Layer:
    return Layer("BatchNorm2d", "", {})


def _act(type_name: str = "ReLU") -> Layer:
    return Layer(type_name, "", {})


def _relu() -> Layer:
    return _act("ReLU")


def squeeze_excitation_layers(c: int, reduction: int = 4, gate: str = "Sigmoid", act: str = "ReLU") -> Layer:
    """``x · σ(W₂ δ(W₁ avgpool(x)))`` (Hu et al. 2018) as a ``mul`` Branch: identity × the 1×1 gate."""
    squeeze = max(c // reduction, 1)
    gate_branch = (Layer("AdaptiveAvgPool2d", "", {"output_size": 1}), _conv(squeeze, 1), _act(act),
                   _conv(c, 1), _act(gate))
    return Layer("Branch", "", {"merge": "mul"}, ((), gate_branch))


def _inverted_residual(c: int, expand: int, act: str, se: bool) -> Layer:
    """1×1 expand, 3×3 depthwise, (SE), 1×1 linear projection, added to the identity (MobileNetV2/EfficientNet)."""
    e = c * expand
    body = [_conv(e, 1, 0, bias=False), _bn(), _act(act), _conv(e, 3, 1, groups=e, bias=False), _bn(), _act(act)]
    if se:
        body.append(squeeze_excitation_layers(e, reduction=4 * expand, act=act))
    body += [_conv(c, 1, 0, bias=False), _bn()]
    return Layer("Branch", "", {"merge": "add"}, (tuple(body), ()))


def conv_bn_relu(in_shape: Shape) -> list[Layer]:
    return [_conv(max(_channels(in_shape), 32) if _channels(in_shape) > 3 else 64, 3, 1, bias=False), _bn(), _relu()]


def depthwise_separable(in_shape: Shape) -> list[Layer]:
    c = _channels(in_shape, 32)
    return [_conv(c, 3, 1, groups=c, bias=False), _bn(), _relu(), _conv(2 * c, 1, 0, bias=False), _bn(), _relu()]


def spatially_separable(in_shape: Shape) -> list[Layer]:
    c = _channels(in_shape)
    return [_conv(c, [3, 1], [1, 0]), _conv(c, [1, 3], [0, 1]), _relu()]


def bottleneck(in_shape: Shape) -> list[Layer]:
    c = _channels(in_shape, 256)
    r = max(c // 4, 1)
    return [_conv(r, 1, 0, bias=False), _bn(), _relu(), _conv(r, 3, 1, bias=False), _bn(), _relu(),
            _conv(c, 1, 0, bias=False), _bn()]


def residual_basic(in_shape: Shape) -> list[Layer]:
    c = _channels(in_shape)
    body = (_conv(c, 3, 1, bias=False), _bn(), _relu(), _conv(c, 3, 1, bias=False), _bn())
    return [Layer("Branch", "", {"merge": "add"}, (body, ())), _relu()]


def inception(in_shape: Shape) -> list[Layer]:
    c = _channels(in_shape, 192)
    q = max(c // 4, 8)
    branches = (
        (_conv(q, 1), _relu()),
        (_conv(q // 2 or 1, 1), _relu(), _conv(q, 3, 1), _relu()),
        (_conv(q // 4 or 1, 1), _relu(), _conv(q // 2 or 1, 5, 2), _relu()),
        (Layer("MaxPool2d", "", {"kernel_size": 3, "stride": 1, "padding": 1}), _conv(q // 2 or 1, 1), _relu()),
    )
    return [Layer("Branch", "", {"merge": "concat"}, branches)]


def squeeze_excitation(in_shape: Shape) -> list[Layer]:
    return [squeeze_excitation_layers(_channels(in_shape))]


def mbconv(in_shape: Shape) -> list[Layer]:
    return [_inverted_residual(_channels(in_shape, 16), 6, "SiLU", se=True)]


def inverted_residual(in_shape: Shape) -> list[Layer]:
    return [_inverted_residual(_channels(in_shape, 16), 6, "ReLU6", se=False)]


def fc_head(in_shape: Shape) -> list[Layer]:
    head = [Layer("Flatten", "", {}), Layer("Linear", "", {"out_features": 256}), _relu(),
            Layer("Dropout", "", {}), Layer("Linear", "", {"out_features": 10})]
    if in_shape and len(in_shape) == 3:
        head.insert(0, Layer("AdaptiveAvgPool2d", "", {"output_size": 1}))
    return head


@dataclass(frozen=True)
class BlockTemplate:
    key: str
    title: str
    doc: str
    build: Callable[[Shape], list[Layer]]


BLOCKS: dict[str, BlockTemplate] = {b.key: b for b in (
    BlockTemplate("conv_bn_relu", "Conv-BN-ReLU", "3×3 conv (no bias), batch norm, ReLU", conv_bn_relu),
    BlockTemplate("depthwise_separable", "Depthwise separable",
                  "3×3 depthwise conv (groups = C) then 1×1 pointwise conv, each with BN-ReLU (MobileNet)",
                  depthwise_separable),
    BlockTemplate("spatially_separable", "Spatially separable", "3×1 conv then 1×3 conv: a 3×3 region with "
                  "6·C² instead of 9·C² weights", spatially_separable),
    BlockTemplate("bottleneck", "1×1 bottleneck", "1×1 reduce to C/4, 3×3, 1×1 expand back to C (ResNet-50)",
                  bottleneck),
    BlockTemplate("residual_basic", "Residual basic block", "two 3×3 conv-BN on a branch added to an identity "
                  "shortcut, then ReLU (ResNet-18)", residual_basic),
    BlockTemplate("inception", "Inception block", "1×1, 1×1→3×3, 1×1→5×5 and pool→1×1 branches concatenated "
                  "(GoogLeNet)", inception),
    BlockTemplate("squeeze_excitation", "Squeeze-excitation", "global average pool, 1×1 reduce (C/4), ReLU, 1×1 "
                  "expand, sigmoid: a per-channel gate multiplied onto the map (SENet)", squeeze_excitation),
    BlockTemplate("mbconv", "MBConv", "1×1 expand ×6, 3×3 depthwise, squeeze-excitation, 1×1 project, with SiLU, "
                  "added to the input (EfficientNet)", mbconv),
    BlockTemplate("inverted_residual", "Inverted residual", "1×1 expand ×6, 3×3 depthwise, 1×1 linear project, "
                  "with ReLU6, added to the input (MobileNetV2)", inverted_residual),
    BlockTemplate("fc_head", "FC head", "global average pool, flatten, Linear-ReLU-Dropout, Linear classifier",
                  fc_head),
)}
