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

import os
import zlib
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from designer.core import Design, Layer, analyze, get_spec
from designer.core.files import atomic_write
from designer.core.spec import TensorSpec

from .npz import READ_ERRORS, NpyReadError, open_npz
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
    w = _standard_normal(rng, shape)
    w *= np.float32(np.sqrt(2.0 / fan_in))
    return w


NORMAL_CHUNK = 1 << 22  # values: a larger tensor is drawn in pieces of this size, on every core


def _standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """float32 ``N(0, 1)`` samples of ``shape``, drawn directly in float32 (no float64 pass).

    A tensor of more than ``NORMAL_CHUNK`` values (VGG-16's fc6 has 102.8 M) is cut into fixed pieces,
    each from its own generator seeded from ``rng``, filled on a thread pool (NumPy releases the GIL
    while it fills): about twice as fast on two cores, and the same values whatever the core count.
    """
    n = int(np.prod(shape))
    if n <= NORMAL_CHUNK:
        return rng.standard_normal(shape, dtype=np.float32)
    out = np.empty(n, np.float32)
    seeds = rng.integers(0, 2**63 - 1, size=-(-n // NORMAL_CHUNK), dtype=np.int64)

    def fill(k: int) -> None:
        piece = out[k * NORMAL_CHUNK:(k + 1) * NORMAL_CHUNK]
        np.random.default_rng(int(seeds[k])).standard_normal(out=piece, dtype=np.float32)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(fill, range(len(seeds))))
    return out.reshape(shape)


def init_weights(design: Design, seed: int = 0) -> Weights:
    """Fresh weights for every layer of ``design``."""
    in_shapes = input_shapes(design)
    weights: Weights = {}
    for _, layer in design.walk():
        if has_weights(layer):
            weights.update(init_layer(layer, in_shapes[layer.name], seed))
    return weights


FLOAT32_MAX = float(np.finfo(np.float32).max)
VALUE_RULES: dict[str, tuple[float, str]] = {
    "running_var": (0.0, "a variance cannot be negative"),  # tensor name → (smallest value allowed, why)
}
"""Per tensor name, the lowest value a tensor may hold (BatchNorm2d's ``running_var`` ≥ 0: ``sqrt(var + eps)``)."""


def _where(arr: np.ndarray, bad: np.ndarray) -> str:
    """``value at [i, j, …]`` of the first element where ``bad`` holds (for a message)."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{float(arr[index]):g} at {list(index)}"


def check_values(arr: np.ndarray, layer: str, tensor: str) -> None:
    """Refuse NaN or infinite values, values beyond float32's range (from float64 files) and values a tensor
    cannot hold (:data:`VALUE_RULES`) with one line naming the layer and the tensor.

    Two reductions (min and max, no temporary arrays); NaN propagates through both."""
    if arr.size == 0 or arr.dtype.kind not in "f":
        return
    lo, hi = float(np.min(arr)), float(np.max(arr))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise WeightsError(f"layer '{layer}': {tensor} holds NaN or infinite values "
                           f"(first: {_where(arr, ~np.isfinite(arr))})")
    if max(hi, -lo) > FLOAT32_MAX:
        raise WeightsError(f"layer '{layer}': {tensor} holds values beyond float32's range (±{FLOAT32_MAX:.3g}) "
                           f"(first: {_where(arr, np.abs(arr) > FLOAT32_MAX)})")
    rule = VALUE_RULES.get(tensor)
    if rule is not None and lo < rule[0]:
        raise WeightsError(f"layer '{layer}': {tensor} holds values below {rule[0]:g} ({rule[1]}) "
                           f"(first: {_where(arr, arr < rule[0])})")


def check_header(key: str, dtype: np.dtype, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    """A tensor's dtype and shape against the design (from an array or from an ``.npy`` header alone)."""
    layer, tensor = key.rsplit(".", 1)
    if dtype.kind not in "biuf":
        raise WeightsError(f"layer '{layer}': {tensor} is not numeric (dtype {dtype})")
    if tuple(shape) != tuple(expected):
        raise WeightsError(f"layer '{layer}': {tensor} has shape {list(shape)} but the design needs {list(expected)}")


def _check_present(keys: Collection[str], expected: Mapping[str, tuple[int, ...]]) -> None:
    missing = [k for k in expected if k not in keys]
    if missing:
        layer = missing[0].rsplit(".", 1)[0]
        raise WeightsError(f"layer '{layer}': the weights lack '{missing[0]}' "
                           f"(shape {list(expected[missing[0]])}); {len(missing)} tensor(s) missing in all")


def check_weights(weights: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]],
                  copy: bool = True) -> Weights:
    """The float32 tensors ``expected`` names, checked (dtype, shape, :func:`check_values`); extra keys
    (e.g. ``num_batches_tracked``) dropped.

    The result holds fresh copies, so later in-place edits of the caller's arrays cannot change it
    (``copy=False`` only converts, for arrays nobody else holds, such as those just read from a file).
    """
    checked: Weights = {}
    for key, shape in expected.items():
        if key not in weights:
            continue
        arr = np.asarray(weights[key])
        check_header(key, arr.dtype, arr.shape, shape)
        check_values(arr, *key.rsplit(".", 1))
        checked[key] = np.array(arr, dtype=np.float32, order="C", copy=True if copy else None)
    _check_present(weights, expected)
    return checked


NPZ_READ_ERRORS = READ_ERRORS  # what a damaged or truncated archive raises (kept for importers)


def load_weights(path: str | Path, design: Design) -> Weights:
    """Weights from an ``.npz`` file (``np.savez`` of a ``state_dict``), checked against ``design``.

    Header first (:mod:`.npz`): each needed member's header must be numeric, of the design's shape and
    no larger than the member, and the member list must hold every tensor the design needs; only then
    are the needed members inflated. Members the design does not need are never read. Errors name the file: a file
    that cannot be read as weights gives ``FILE: cannot read weights: …``, a misfit ``FILE: layer …``.
    """
    from designer.interop.weight_files import is_npz, read_weights_for  # .pt/.safetensors (lazy import)

    try:
        expected = expected_shapes(design)
        if not is_npz(path):
            return check_weights(read_weights_for(path, expected), expected, copy=False)
        with open_npz(path) as archive:
            present = [key for key in expected if key in archive.keys]
            for key in present:  # every header before any data: a misfit costs no inflation
                header = archive.header(key)
                check_header(key, header.dtype, header.shape, expected[key])
            _check_present(present, expected)
            raw = {key: archive.read(key) for key in present}
        return check_weights(raw, expected, copy=False)
    except NpyReadError as exc:
        raise WeightsError(f"{path}: cannot read weights: {exc}") from None
    except WeightsError as exc:
        raise WeightsError(f"{path}: {exc}") from None


def save_weights(path: str | Path, weights: Mapping[str, np.ndarray]) -> None:
    """Write weights (keys as in a PyTorch ``state_dict``) at exactly ``path``, atomically
    (:func:`designer.core.files.atomic_write`): ``.safetensors`` for that suffix, else an uncompressed ``.npz``."""
    if str(path).lower().endswith(".safetensors"):
        from designer.interop.weight_files import write_weight_file

        write_weight_file(path, weights)
        return
    arrays = {k: np.asarray(v) for k, v in weights.items()}
    atomic_write(path, lambda handle: np.savez(handle, **arrays))
