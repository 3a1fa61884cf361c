"""Formulas with the layer's numbers filled in, for the inspector (no Qt)."""

from __future__ import annotations

from ..core import Layer, LayerRow


def _n(value: int) -> str:
    return f"{value:,}"


def params_with_numbers(layer: Layer, row: LayerRow) -> str:
    """E.g. ``(3·3·64/1 + 1)·128 = 73,856``; empty when the layer has no parameters or no input."""
    shape, hp = row.input_shape, layer.hp
    if shape is None or row.output_shape is None:
        return ""
    builder = _PARAMS.get(layer.type)
    text = builder(shape, hp) if builder else ""
    if layer.type == "Branch":
        text = "sum over the branches"
    return f"{text} = {_n(row.params)}" if text else ""


def _conv(shape, hp) -> str:
    kh, kw = hp["kernel_size"]
    return f"({kh}·{kw}·{shape[0]}/{hp['groups']} + {int(hp['bias'])})·{hp['out_channels']}"


def _conv_t(shape, hp) -> str:
    kh, kw = hp["kernel_size"]
    return f"{shape[0]}·({hp['out_channels']}/{hp['groups']})·{kh}·{kw} + {int(hp['bias'])}·{hp['out_channels']}"


def _linear(shape, hp) -> str:
    return f"{shape[0]}·{hp['out_features']} + {int(hp['bias'])}·{hp['out_features']}"


def _bn(shape, hp) -> str:
    return f"2·{shape[0]}" if hp["affine"] else "0 (affine off)"


_PARAMS = {"Conv2d": _conv, "ConvTranspose2d": _conv_t, "Linear": _linear, "BatchNorm2d": _bn,
           "PReLU": lambda shape, hp: str(hp["num_parameters"])}


def macs_with_numbers(layer: Layer, row: LayerRow) -> str:
    """E.g. ``128·56·56·(64/1)·3·3 = 231,211,008``."""
    i, o, hp = row.input_shape, row.output_shape, layer.hp
    if i is None or o is None or not row.macs:
        return ""
    if layer.type == "Conv2d":
        kh, kw = hp["kernel_size"]
        text = f"{o[0]}·{o[1]}·{o[2]}·({i[0]}/{hp['groups']})·{kh}·{kw}"
    elif layer.type == "ConvTranspose2d":
        kh, kw = hp["kernel_size"]
        text = f"{i[0]}·{i[1]}·{i[2]}·({hp['out_channels']}/{hp['groups']})·{kh}·{kw}"
    elif layer.type == "Linear":
        text = f"{i[0]}·{hp['out_features']}"
    else:
        return ""
    return f"{text} = {_n(row.macs)}"
