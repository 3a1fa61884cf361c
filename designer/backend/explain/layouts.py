"""Memory layouts: where each element of a tensor lives, and weights saved in TensorFlow/Keras layout.

Activations: PyTorch stores a batch as **NCHW** (a whole channel plane after another), TensorFlow as
**NHWC** (all channels of one pixel together)::

    NCHW: address(n, c, h, w) = ((n·C + c)·H + h)·W + w
    NHWC: address(n, h, w, c) = ((n·H + h)·W + w)·C + c

Conv weights: PyTorch **OIHW** ``[C_out, C_in/g, kh, kw]``, TensorFlow **HWIO** ``[kh, kw, C_in/g, C_out]``.

``tensorflow_weights(design, weights)`` converts a ``state_dict`` to what ``keras_layer.set_weights`` takes,
keyed ``"<layer>/<variable>"`` (``save_tensorflow_weights`` writes them as ``.npz``):

* Conv2d → ``kernel`` HWIO (``w.transpose(2, 3, 1, 0)``; ``groups`` as in ``keras.layers.Conv2D(groups=g)``),
  ``bias``;
* ConvTranspose2d → ``kernel`` ``[kh, kw, C_out, C_in]`` (``keras.layers.Conv2DTranspose``; groups 1 only);
* Linear → ``kernel [in, out]`` (``w.T``), ``bias``. The first Linear after a Flatten of a ``C×H×W`` map
  has its rows reordered from PyTorch's C·H·W flattening to Keras' H·W·C, so a Keras model with
  ``Flatten()`` on NHWC maps computes the same numbers;
* BatchNorm2d → ``gamma``, ``beta``, ``moving_mean``, ``moving_variance``; GroupNorm → ``gamma``, ``beta``;
* PReLU → ``alpha [1, 1, C]`` (``keras.layers.PReLU(shared_axes=[1, 2])``).

Padding is not a weight: use ``padding="same"``/``"valid"`` or an explicit ``ZeroPadding2D`` in Keras.
``TF_RULES`` has one entry per layer type (types without tensors map to :func:`_no_tensors`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from designer.core import Design, Layer, analyze
from designer.core.files import atomic_write

LAYOUTS = {"NCHW": "nchw", "NHWC": "nhwc"}


def address(index: tuple[int, int, int, int], shape: tuple[int, int, int, int], layout: str) -> int:
    """Linear address of ``(n, c, h, w)`` in a tensor of logical shape ``(N, C, H, W)`` stored as ``layout``."""
    n, c, h, w = index
    _, cs, hs, ws = shape
    if layout == "NCHW":
        return ((n * cs + c) * hs + h) * ws + w
    if layout == "NHWC":
        return ((n * hs + h) * ws + w) * cs + c
    raise ValueError(f"layout must be NCHW or NHWC, got {layout!r}")


def first_addresses(shape: tuple[int, ...], layout: str, count: int = 16) -> list[tuple[int, tuple[int, ...]]]:
    """``(address, logical index)`` of the first ``count`` addresses of a ``(C, H, W)`` (batch 1) or
    weight tensor. Activations: ``NCHW``/``NHWC`` (index ``(c, h, w)``); weights: ``OIHW``/``HWIO``
    (index ``(o, i, kh, kw)`` of the PyTorch weight)."""
    orders = {"NCHW": (0, 1, 2), "NHWC": (1, 2, 0), "OIHW": (0, 1, 2, 3), "HWIO": (2, 3, 1, 0)}
    if layout not in orders:
        raise ValueError(f"layout must be one of {', '.join(orders)}, got {layout!r}")
    order = orders[layout]
    if len(order) != len(shape):
        raise ValueError(f"{layout} needs a {len(order)}-D shape, got {list(shape)}")
    stored_shape = tuple(shape[a] for a in order)
    total = int(np.prod(shape))
    result = []
    for addr in range(min(count, total)):
        stored = np.unravel_index(addr, stored_shape)
        logical = [0] * len(shape)
        for axis, value in zip(order, stored):
            logical[axis] = int(value)
        result.append((addr, tuple(logical)))
    return result


# --- TensorFlow / Keras weights ------------------------------------------------------------------------

TFRule = Callable[[Layer, Mapping[str, np.ndarray], "tuple[int, ...] | None"], dict[str, np.ndarray]]


def _get(weights: Mapping[str, np.ndarray], layer: Layer, tensor: str) -> np.ndarray | None:
    value = weights.get(f"{layer.name}.{tensor}")
    return None if value is None else np.asarray(value, np.float32)


def _with_bias(layer: Layer, weights, kernel: np.ndarray) -> dict[str, np.ndarray]:
    out = {"kernel": np.ascontiguousarray(kernel)}
    bias = _get(weights, layer, "bias")
    if bias is not None:
        out["bias"] = bias
    return out


def _conv(layer: Layer, weights, flat_map) -> dict[str, np.ndarray]:
    """OIHW → HWIO."""
    return _with_bias(layer, weights, _get(weights, layer, "weight").transpose(2, 3, 1, 0))


def _conv_transpose(layer: Layer, weights, flat_map) -> dict[str, np.ndarray]:
    """``[C_in, C_out, kh, kw]`` → Keras Conv2DTranspose ``[kh, kw, C_out, C_in]`` (it has no ``groups``)."""
    if layer.hp.get("groups", 1) != 1:
        raise ValueError(f"layer '{layer.name}': Keras' Conv2DTranspose has no groups (this layer has "
                         f"groups={layer.hp['groups']}); save it in PyTorch layout instead")
    return _with_bias(layer, weights, _get(weights, layer, "weight").transpose(2, 3, 1, 0))


def _linear(layer: Layer, weights, flat_map) -> dict[str, np.ndarray]:
    """``[out, in]`` → ``[in, out]``, rows reordered C·H·W → H·W·C after a Flatten of a map."""
    w = _get(weights, layer, "weight")
    if flat_map is not None:
        c, h, wd = flat_map
        w = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
    return _with_bias(layer, weights, w.T)


def _norm(*names: str) -> TFRule:
    def rule(layer: Layer, weights, flat_map) -> dict[str, np.ndarray]:
        tensors = ("weight", "bias", "running_mean", "running_var")
        return {n: _get(weights, layer, t) for n, t in zip(names, tensors) if _get(weights, layer, t) is not None}
    return rule


def _prelu(layer: Layer, weights, flat_map) -> dict[str, np.ndarray]:
    return {"alpha": _get(weights, layer, "weight").reshape(1, 1, -1)}


def _no_tensors(layer: Layer, weights, flat_map) -> dict[str, np.ndarray]:
    return {}


TF_RULES: dict[str, TFRule] = {
    "Conv2d": _conv, "ConvTranspose2d": _conv_transpose, "Linear": _linear, "PReLU": _prelu,
    "BatchNorm2d": _norm("gamma", "beta", "moving_mean", "moving_variance"), "GroupNorm": _norm("gamma", "beta"),
    **dict.fromkeys((
        "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "SpatialPyramidPool2d",
        "LocalResponseNorm", "Dropout", "Identity", "ZeroPad2d", "Flatten", "Upsample", "Branch", "ReLU", "ReLU6",
        "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "SiLU", "Hardswish", "Hardsigmoid", "GELU"), _no_tensors),
}


def tensorflow_weights(design: Design, weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{"<layer>/<variable>": array}`` in TensorFlow/Keras layout (see the module docstring)."""
    flat_map: tuple[int, ...] | None = None
    result: dict[str, np.ndarray] = {}
    for row in analyze(design).rows:
        layer = design.get(row.path)
        if layer.type == "Flatten":
            shape = tuple(row.input_shape or ())
            flat_map = shape if len(shape) == 3 and shape[1] * shape[2] > 1 else None
        rule = TF_RULES.get(layer.type)
        if rule is None:
            raise ValueError(f"layer '{layer.name}': no TensorFlow layout rule for {layer.type}")
        for variable, array in rule(layer, weights, flat_map if layer.type == "Linear" else None).items():
            result[f"{layer.name}/{variable}"] = array
        if layer.type == "Linear":
            flat_map = None
    return result


def save_tensorflow_weights(path: str | Path, design: Design, weights: Mapping[str, np.ndarray]) -> None:
    """Write :func:`tensorflow_weights` as an uncompressed ``.npz`` at exactly ``path``, atomically; in Keras:
    ``layer.set_weights([data[f"{layer.name}/kernel"], data[f"{layer.name}/bias"]])``."""
    arrays = tensorflow_weights(design, weights)
    atomic_write(path, lambda handle: np.savez(handle, **arrays))
