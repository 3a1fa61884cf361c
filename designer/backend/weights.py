"""Layer weights in PyTorch ``state_dict`` layout, keyed ``"<layer name>.<tensor>"``.

* Conv2d ``weight [C_out, C_in/g, kh, kw]`` (OIHW), ConvTranspose2d ``weight [C_in, C_out/g, kh, kw]``,
  Linear ``weight [out, in]``, each with ``bias [C_out]`` when the layer has one;
* BatchNorm2d ``weight``/``bias [C]`` (affine) and ``running_mean``/``running_var [C]``;
* PReLU ``weight [num_parameters]``.

Fresh weights are He-normal (``std = sqrt(2 / fan_in)``, ``fan_in = weight[0].size`` as PyTorch
computes it), zero biases and identity BatchNorm statistics, from a generator seeded by
``(seed, crc32(layer name))`` so that each layer's weights do not depend on the others. A
Conv2d with ``"init": {"preset": [...]}`` gets its hand-made kernels instead.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from designer.core import Design, Layer, analyze

from .presets import preset_weight

Weights = dict[str, np.ndarray]
PARAMETRIC = ("Conv2d", "ConvTranspose2d", "Linear", "BatchNorm2d", "PReLU")


class WeightsError(ValueError):
    """Weights that do not fit the design (one line naming the layer and both shapes)."""


def layer_weight_shapes(layer: Layer, in_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` of one layer's tensors given its input shape (empty for parameter-free layers)."""
    hp, name, t = layer.hp, layer.name, layer.type
    shapes: dict[str, tuple[int, ...]] = {}
    if t in ("Conv2d", "ConvTranspose2d"):
        c_in, c_out, (kh, kw), g = in_shape[0], hp["out_channels"], hp["kernel_size"], hp["groups"]
        shapes[f"{name}.weight"] = (c_out, c_in // g, kh, kw) if t == "Conv2d" else (c_in, c_out // g, kh, kw)
        if hp["bias"]:
            shapes[f"{name}.bias"] = (c_out,)
    elif t == "Linear":
        shapes[f"{name}.weight"] = (hp["out_features"], in_shape[0])
        if hp["bias"]:
            shapes[f"{name}.bias"] = (hp["out_features"],)
    elif t == "BatchNorm2d":
        c = in_shape[0]
        if hp["affine"]:
            shapes[f"{name}.weight"] = shapes[f"{name}.bias"] = (c,)
        if hp["track_running_stats"]:
            shapes[f"{name}.running_mean"] = shapes[f"{name}.running_var"] = (c,)
    elif t == "PReLU":
        shapes[f"{name}.weight"] = (hp["num_parameters"],)
    return shapes


def input_shapes(design: Design) -> dict[str, tuple[int, ...]]:
    """Input shape of every parametric layer at the design's input size.

    Raises ``WeightsError`` naming the first layer whose input shape is unknown (a design error).
    """
    report = analyze(design)
    shapes: dict[str, tuple[int, ...]] = {}
    for row in report.rows:
        if row.type not in PARAMETRIC:
            continue
        if row.input_shape is None or row.output_shape is None:
            errors = [i.message for i in report.issues if i.level == "error"] or ["shape unknown"]
            raise WeightsError(f"layer '{row.name}': cannot size its weights: {errors[0]}")
        shapes[row.name] = tuple(row.input_shape)
    return shapes


def expected_shapes(design: Design) -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` for every tensor the design needs."""
    in_shapes = input_shapes(design)
    result: dict[str, tuple[int, ...]] = {}
    for _, layer in design.walk():
        if layer.type in PARAMETRIC:
            result.update(layer_weight_shapes(layer, in_shapes[layer.name]))
    return result


def layer_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one layer: independent of every other layer's."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def init_layer(layer: Layer, in_shape: tuple[int, ...], seed: int = 0) -> Weights:
    """Fresh tensors for one layer (see the module docstring)."""
    shapes = layer_weight_shapes(layer, in_shape)
    out: Weights = {}
    rng = layer_rng(seed, layer.name)
    for key, shape in shapes.items():
        tensor = key.rsplit(".", 1)[1]
        if tensor == "weight" and layer.type in ("Conv2d", "ConvTranspose2d", "Linear"):
            out[key] = _he_normal(rng, shape)
        elif tensor in ("weight", "running_var"):
            fill = layer.hp["init"] if layer.type == "PReLU" else 1.0
            out[key] = np.full(shape, fill, np.float32)
        else:
            out[key] = np.zeros(shape, np.float32)
    preset = layer.hp.get("init") if layer.type == "Conv2d" else None
    if preset:
        w = shapes[f"{layer.name}.weight"]
        try:
            out[f"{layer.name}.weight"] = preset_weight(preset["preset"], w[0], w[1], w[2:])
        except ValueError as exc:
            raise WeightsError(f"layer '{layer.name}': {exc}") from None
    return out


def _he_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``N(0, 2 / fan_in)`` with ``fan_in = prod(shape[1:])`` (PyTorch's fan-in of a weight)."""
    fan_in = max(1, int(np.prod(shape[1:])))
    w = rng.standard_normal(shape, dtype=np.float32)
    w *= np.float32(np.sqrt(2.0 / fan_in))
    return w


def init_weights(design: Design, seed: int = 0) -> Weights:
    """Fresh weights for every layer of ``design``."""
    in_shapes = input_shapes(design)
    weights: Weights = {}
    for _, layer in design.walk():
        if layer.type in PARAMETRIC:
            weights.update(init_layer(layer, in_shapes[layer.name], seed))
    return weights


def check_weights(weights: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]],
                  copy: bool = True) -> Weights:
    """The float32 tensors ``expected`` names, checked; extra keys (e.g. ``num_batches_tracked``) dropped.

    The result holds fresh copies, so later in-place edits of the caller's arrays cannot change it
    (``copy=False`` only converts, for arrays nobody else holds, such as those just read from a file).
    """
    checked: Weights = {}
    for key, shape in expected.items():
        if key not in weights:
            continue
        arr = np.asarray(weights[key])
        layer, tensor = key.rsplit(".", 1)
        if arr.dtype.kind not in "biuf":
            raise WeightsError(f"layer '{layer}': {tensor} is not numeric (dtype {arr.dtype})")
        if tuple(arr.shape) != tuple(shape):
            raise WeightsError(f"layer '{layer}': {tensor} has shape {list(arr.shape)} "
                               f"but the design needs {list(shape)}")
        checked[key] = np.array(arr, dtype=np.float32, order="C", copy=True if copy else None)
    missing = [k for k in expected if k not in weights]
    if missing:
        layer = missing[0].rsplit(".", 1)[0]
        raise WeightsError(f"layer '{layer}': the weights lack '{missing[0]}' "
                           f"(shape {list(expected[missing[0]])}); {len(missing)} tensor(s) missing in all")
    return checked


# what a damaged or truncated archive raises while it is opened or an entry is read
NPZ_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)


def load_weights(path: str | Path, design: Design) -> Weights:
    """Weights from an ``.npz`` file (``np.savez`` of a ``state_dict``), checked against ``design``."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise WeightsError(f"{path}: cannot read weights: not an .npz archive (np.savez of a state_dict)")
        with data:
            raw = {k: data[k] for k in data.files}
    except WeightsError:
        raise
    except NPZ_READ_ERRORS as exc:
        raise WeightsError(f"{path}: cannot read weights: {str(exc) or type(exc).__name__}") from None
    try:
        return check_weights(raw, expected_shapes(design), copy=False)
    except WeightsError as exc:
        raise WeightsError(f"{path}: {exc}") from None


def save_weights(path: str | Path, weights: Mapping[str, np.ndarray]) -> None:
    """Write weights as an uncompressed ``.npz`` (keys as in a PyTorch ``state_dict``)."""
    np.savez(path, **{k: np.asarray(v) for k, v in weights.items()})
