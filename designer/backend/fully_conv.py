"""Turn a classifier into a fully convolutional network (OverFeat / FCN, seed article 000).

``to_fully_convolutional(design, weights)``:

* the first Linear after a Flatten of a ``C×H×W`` map becomes ``Conv2d(out, kernel_size=(H, W))``
  with ``weight.reshape(out, C, H, W)`` (``torch.flatten`` is channel-major, so this is exact);
* every later Linear becomes a 1×1 Conv2d with ``weight.reshape(out, in, 1, 1)``;
* the Flatten is dropped; adaptive pools that are the identity at the design's input size are
  dropped, any other adaptive pool or a spatial pyramid pool is an error (they fix the size).

Run on an image larger by ``m·S`` (``S`` = the network's total stride), the output is an
``(m + 1)²`` grid whose cell ``(i, j)`` is the original network's output on the crop starting at
``(S·i, S·j)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Design, Layer, analyze

FIXED_SIZE = ("SpatialPyramidPool2d",)
ADAPTIVE = ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")


class FullyConvError(ValueError):
    """The design cannot be made fully convolutional (names the layer and the reason)."""


def to_fully_convolutional(design: Design, weights: Mapping[str, np.ndarray]
                           ) -> tuple[Design, dict[str, np.ndarray]]:
    """The converted design and its weights (see the module docstring); ``design`` is unchanged."""
    report = analyze(design)
    if not report.valid:
        first = next(i for i in report.issues if i.level == "error")
        raise FullyConvError(f"layer '{first.layer}': the design has errors: {first.message}")
    rows = {r.name: r for r in report.rows}
    _reject_nested(design)
    new_weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    layers: list[Layer] = []
    flat_map: tuple[int, ...] | None = None  # the C×H×W map the last Flatten flattened
    for layer in design.layers:
        row = rows[layer.name]
        if layer.type in ADAPTIVE:
            if tuple(row.input_shape) != tuple(row.output_shape):
                raise FullyConvError(
                    f"layer '{layer.name}': {layer.type} maps {_fmt(row.input_shape)} to {_fmt(row.output_shape)} "
                    "at the design's input size; only an identity adaptive pool can be dropped")
            continue
        if layer.type in FIXED_SIZE:
            raise FullyConvError(f"layer '{layer.name}': {layer.type} produces a fixed-length vector; "
                                 "a fully convolutional network cannot contain it")
        if layer.type == "Flatten":
            flat_map = tuple(row.input_shape) if len(row.input_shape) == 3 else flat_map
            continue
        if layer.type == "Linear":
            layer, flat_map = _linear_to_conv(layer, row.input_shape, flat_map, new_weights), (1, 1, 1)
        layers.append(layer)
    if flat_map is None:
        raise FullyConvError(f"design '{design.name}': no Flatten/Linear to convert; it is already fully convolutional")
    return Design(f"{design.name} (fully convolutional)", design.input, tuple(layers), design.description), new_weights


def _linear_to_conv(layer: Layer, in_shape: tuple[int, ...], flat_map: tuple[int, ...] | None,
                    weights: dict[str, np.ndarray]) -> Layer:
    """A Linear as the equivalent Conv2d (same name, so the weight keys stay)."""
    if flat_map is None:
        raise FullyConvError(f"layer '{layer.name}': a Linear without a Flatten before it cannot be converted")
    c, h, w = flat_map if flat_map != (1, 1, 1) else (in_shape[0], 1, 1)
    hp = layer.hp
    key = f"{layer.name}.weight"
    weights[key] = np.ascontiguousarray(weights[key].reshape(hp["out_features"], c, h, w))
    params = {"out_channels": hp["out_features"], "kernel_size": [h, w] if h != w else h, "bias": hp["bias"]}
    if hp["bias"]:
        params.pop("bias")
    return Layer("Conv2d", layer.name, params)


def _reject_nested(design: Design) -> None:
    for path, layer in design.walk():
        if len(path) > 1 and layer.type in ("Flatten", "Linear", *ADAPTIVE, *FIXED_SIZE):
            raise FullyConvError(f"layer '{layer.name}': {layer.type} inside a Branch is not supported "
                                 "by the fully convolutional conversion")


def _fmt(shape) -> str:
    return "×".join(str(d) for d in shape[1:]) if shape and len(shape) == 3 else str(shape)
