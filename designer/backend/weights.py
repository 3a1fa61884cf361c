"""Layer weights in PyTorch ``state_dict`` layout, keyed ``"<layer name>.<tensor>"``.

Which tensors a layer has, their shapes and how they start come from its spec (``LayerSpec.tensors``):
e.g. Conv2d ``weight [C_out, C_in/g, kh, kw]`` (OIHW), ConvTranspose2d ``weight [C_in, C_out/g, kh, kw]``,
Linear ``weight [out, in]``, BatchNorm2d/GroupNorm ``weight``/``bias [C]``, BatchNorm2d's buffers
``running_mean``/``running_var [C]``, PReLU ``weight [num_parameters]``.

Fresh weights follow each tensor's ``init`` rule: He-normal (``std = sqrt(2 / fan_in)``, ``fan_in =
weight[0].size`` as PyTorch computes it), zeros, ones or a hyperparameter's value, from a generator seeded by
``(seed, crc32(layer name))`` so that each layer's weights do not depend on the others. A layer with
``"init": {"preset": [...]}`` gets its hand-made kernels instead.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from designer.core import Design, Layer, analyze, get_spec
from designer.core.spec import TensorSpec

from .presets import preset_weight

Weights = dict[str, np.ndarray]


class WeightsError(ValueError):
    """Weights that do not fit the design (one line naming the layer and both shapes)."""


def layer_tensors(layer: Layer, in_shape: tuple[int, ...]) -> dict[str, TensorSpec]:
    """``{key: TensorSpec}`` of one layer's tensors given its input shape (empty for parameter-free layers)."""
    if not layer.spec.has_tensors:
        return {}
    return {f"{layer.name}.{t}": spec for t, spec in layer.spec.tensors(in_shape, layer.hp).items()}


def layer_weight_shapes(layer: Layer, in_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` of one layer's tensors given its input shape (empty for parameter-free layers)."""
    return {k: t.shape for k, t in layer_tensors(layer, in_shape).items()}


def has_weights(layer: Layer) -> bool:
    """Whether ``layer``'s type can own tensors (Branch rows sum their inner layers and own none)."""
    return layer.spec.has_tensors


def input_shapes(design: Design) -> dict[str, tuple[int, ...]]:
    """Input shape of every parametric layer at the design's input size.

    Raises ``WeightsError`` naming the first layer whose input shape is unknown (a design error).
    """
    report = analyze(design)
    shapes: dict[str, tuple[int, ...]] = {}
    for row in report.rows:
        if not get_spec(row.type).has_tensors:
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
        if has_weights(layer):
            result.update(layer_weight_shapes(layer, in_shapes[layer.name]))
    return result


def layer_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one layer: independent of every other layer's."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def init_layer(layer: Layer, in_shape: tuple[int, ...], seed: int = 0) -> Weights:
    """Fresh tensors for one layer, each by its spec's ``init`` rule (see the module docstring)."""
    tensors = layer_tensors(layer, in_shape)
    rng = layer_rng(seed, layer.name)
    out: Weights = {key: _fresh(tensor, layer, rng) for key, tensor in tensors.items()}
    preset = layer.hp.get("init")
    if isinstance(preset, dict) and "preset" in preset:
        w = tensors[f"{layer.name}.weight"].shape
        try:
            out[f"{layer.name}.weight"] = preset_weight(preset["preset"], w[0], w[1], w[2:])
        except ValueError as exc:
            raise WeightsError(f"layer '{layer.name}': {exc}") from None
    return out


def _fresh(tensor: TensorSpec, layer: Layer, rng: np.random.Generator) -> np.ndarray:
    if tensor.init == "he_normal":
        return _he_normal(rng, tensor.shape)
    if tensor.init.startswith("hp:"):
        return np.full(tensor.shape, layer.hp[tensor.init[3:]], np.float32)
    return (np.ones if tensor.init == "ones" else np.zeros)(tensor.shape, np.float32)


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
        if has_weights(layer):
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
