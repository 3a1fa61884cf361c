"""One ``TorchLayer`` per layer type: how the generated code constructs it and calls it.

A constructor shows only what differs from PyTorch's defaults, like ``extra_repr``:
``nn.Conv2d(3, 64, kernel_size=3, padding=1)``. Keyword arguments are the design's
hyperparameters (their names and defaults are ``torch.nn``'s), minus those the entry skips or
computes (input channels and features come from the analysed input shape).
``TORCH_LAYERS`` is keyed by type name; a test fails when a type of ``LAYER_SPECS`` is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from designer.core import LAYER_SPECS, Layer
from designer.core.params import REQUIRED
from designer.core.spec import ELEMENTWISE, types_with

Shape = tuple[int, ...]
Args = Callable[[Layer, Shape], list[Any]]


def py(value: Any) -> str:
    """Python source for a hyperparameter value: a tuple of equal values is one value as PyTorch takes it
    (``(3, 3)`` → ``3``), ``(1, 2)`` → ``(1, 2)``, a list stays a list, ``"max"`` → ``"max"``, ``2.0`` →
    ``2.0``."""
    if isinstance(value, tuple) and len(value) > 1 and len(set(value)) == 1:
        return py(value[0])
    if isinstance(value, (tuple, list)):
        inner = ", ".join(py(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


@dataclass(frozen=True)
class TorchLayer:
    """How one layer type appears in the generated module.

    ``module``: the constructor (``nn.Conv2d``); ``positional``: its positional arguments for a layer and its
    input shape; ``skip``: hyperparameters not passed as keywords; ``always``: keywords written even at their
    default; ``adjust``: rewrites the keyword dict (e.g. a pool's stride equal to its kernel is dropped);
    ``call``: the forward expression from the module access and the input variable; ``aliases``: the output
    may be the input itself or a view of it (an in-place layer after it would overwrite the input);
    ``helpers``: names of helper definitions the file needs when ``uses_helpers(layer)``; ``note``: a comment
    for the constructor line.
    """

    module: str
    positional: Args = field(default=lambda layer, shape: [])
    skip: frozenset[str] = frozenset()
    always: frozenset[str] = frozenset()
    adjust: Callable[[Layer, Shape, dict[str, Any]], dict[str, Any]] = field(
        default=lambda layer, shape, kw: kw)
    call: Callable[[Layer, str, str], str] = field(default=lambda layer, module, x: f"{module}({x})")
    aliases: bool = False
    helpers: tuple[str, ...] = ()
    uses_helpers: Callable[[Layer], bool] = field(default=lambda layer: True)
    note: Callable[[Layer], str] = field(default=lambda layer: "")

    def keywords(self, layer: Layer, shape: Shape, hp: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments that differ from the defaults (``hp``: the layer's hyperparameters, possibly
        overridden by the writer, e.g. ``inplace``)."""
        kw = {}
        for p in layer.spec.params:
            if p.name in self.skip or p.name not in hp:
                continue
            default = None if p.default is REQUIRED else p.normalize(p.default)
            if p.name in self.always or p.default is REQUIRED or hp[p.name] != default:
                kw[p.name] = hp[p.name]
        return self.adjust(layer, shape, kw)

    def arguments(self, layer: Layer, shape: Shape, hp: dict[str, Any]) -> list[str]:
        """The constructor's arguments as source: ``["3", "64", "kernel_size=3", "padding=1"]``."""
        args = [py(v) for v in self.positional(layer, shape)]
        return args + [f"{k}={py(v)}" for k, v in self.keywords(layer, shape, hp).items()]


def _channels(layer: Layer, shape: Shape) -> list[Any]:
    return [shape[0]]


def _hp(*names: str) -> Args:
    return lambda layer, shape: [layer.hp[n] for n in names]


# --- convolutions --------------------------------------------------------------------------------
def needs_pre_pad(layer: Layer) -> bool:
    """TensorFlow SAME that PyTorch's ``padding="same"`` does not do: with a stride (PyTorch allows stride 1
    only), or uneven (``d·(k − 1)`` odd: PyTorch pads a copy of the input and warns)."""
    hp = layer.hp
    uneven = any(d * (k - 1) % 2 for k, d in zip(hp["kernel_size"], hp["dilation"]))
    return hp["padding"] == "same" and (hp["stride"] != (1, 1) or uneven)


def _conv_adjust(layer: Layer, shape: Shape, kw: dict[str, Any]) -> dict[str, Any]:
    """``"valid"`` is the default ``0``; SAME with a stride is padded before the conv (``tf_same_pad``)."""
    if kw.get("padding") == "valid" or needs_pre_pad(layer):
        kw.pop("padding", None)
    return kw


def _conv_call(layer: Layer, module: str, x: str) -> str:
    return f"{module}(tf_same_pad({x}, {module}))" if needs_pre_pad(layer) else f"{module}({x})"


CONV_SKIP = frozenset({"in_channels", "out_channels", "init"})


def _conv_args(layer: Layer, shape: Shape) -> list[Any]:
    """``in_channels`` (from the input shape) and ``out_channels``, positional as PyTorch users write them."""
    return [shape[0], layer.hp["out_channels"]]


def _same_note(layer: Layer) -> str:
    return "TensorFlow SAME: padded in forward" if needs_pre_pad(layer) else ""


# --- pools -----------------------------------------------------------------------------------------
def _pool_adjust(layer: Layer, shape: Shape, kw: dict[str, Any]) -> dict[str, Any]:
    """PyTorch's pool stride defaults to the kernel size."""
    if kw.get("stride") == layer.hp["kernel_size"]:
        kw.pop("stride")
    return kw


def _upsample_adjust(layer: Layer, shape: Shape, kw: dict[str, Any]) -> dict[str, Any]:
    """``align_corners`` only for interpolating modes (PyTorch refuses it with nearest) and only when true."""
    if layer.hp["mode"] == "nearest" or not layer.hp["align_corners"]:
        kw.pop("align_corners", None)
    return kw


def _spp_adjust(layer: Layer, shape: Shape, kw: dict[str, Any]) -> dict[str, Any]:
    """SPP levels are a list (``levels=[4, 2, 1]``), not a pair to collapse."""
    return {**kw, "levels": list(kw["levels"])} if "levels" in kw else kw


POOL = TorchLayer("", adjust=_pool_adjust)
ACTIVATION = TorchLayer("")


def _named(base: TorchLayer, module: str) -> TorchLayer:
    return TorchLayer(module, base.positional, base.skip, base.always, base.adjust, base.call, base.aliases)


TORCH_LAYERS: dict[str, TorchLayer] = {
    "Conv2d": TorchLayer("nn.Conv2d", _conv_args, CONV_SKIP, frozenset({"kernel_size"}), _conv_adjust,
                         _conv_call, helpers=("tf_same_pad",), uses_helpers=needs_pre_pad, note=_same_note),
    "ConvTranspose2d": TorchLayer("nn.ConvTranspose2d", _conv_args, CONV_SKIP),
    "MaxPool2d": _named(POOL, "nn.MaxPool2d"),
    "AvgPool2d": _named(POOL, "nn.AvgPool2d"),
    "AdaptiveAvgPool2d": TorchLayer("nn.AdaptiveAvgPool2d", _hp("output_size"), frozenset({"output_size"})),
    "AdaptiveMaxPool2d": TorchLayer("nn.AdaptiveMaxPool2d", _hp("output_size"), frozenset({"output_size"})),
    "SpatialPyramidPool2d": TorchLayer("SpatialPyramidPool2d", adjust=_spp_adjust,
                                       helpers=("SpatialPyramidPool2d",)),
    "BatchNorm2d": TorchLayer("nn.BatchNorm2d", _channels, frozenset({"num_features"})),
    "GroupNorm": TorchLayer("nn.GroupNorm", lambda layer, shape: [layer.hp["num_groups"], shape[0]],
                            frozenset({"num_groups", "num_channels"})),
    "LocalResponseNorm": TorchLayer("nn.LocalResponseNorm", _hp("size"), frozenset({"size"})),
    "Dropout": TorchLayer("nn.Dropout", aliases=True),
    "Identity": TorchLayer("nn.Identity", aliases=True),
    "Flatten": TorchLayer("nn.Flatten", aliases=True),
    "Softmax": TorchLayer("nn.Softmax", lambda layer, shape: [], adjust=lambda layer, shape, kw: {"dim": 1}),
    "PReLU": TorchLayer("nn.PReLU"),
    "Linear": TorchLayer("nn.Linear", lambda layer, shape: [shape[0], layer.hp["out_features"]],
                         frozenset({"in_features", "out_features"})),
    "Upsample": TorchLayer("nn.Upsample", always=frozenset({"scale_factor"}), adjust=_upsample_adjust),
    "ZeroPad2d": TorchLayer("nn.ZeroPad2d", _hp("padding"), frozenset({"padding"})),
    # every weightless elementwise activation is the torch.nn module of the same name (the registry uses torch's names)
    **{t: _named(ACTIVATION, f"nn.{t}") for t in sorted(types_with(ELEMENTWISE)) if not LAYER_SPECS[t].has_tensors},
    "Branch": TorchLayer(""),  # written out in forward (torch.cat / + / *), see writer.merge_expression
}
"""Every layer type's code (``Branch`` has no module: its merge is written into ``forward``)."""
