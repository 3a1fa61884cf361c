"""Weight files of the ecosystem, read and written without PyTorch.

``read_weight_file(path)`` returns ``{key: array}`` from

* ``.npz`` (``np.savez`` of a ``state_dict``), read with ``allow_pickle=False``;
* ``.safetensors`` (the ``safetensors`` package's NumPy API; BF16 tensors widened to float32);
* PyTorch checkpoints (``torch.save(model.state_dict())``, the zip format of PyTorch ≥ 1.6): the
  archive's ``data.pkl`` is read by an allow-list unpickler that rebuilds tensors
  (``torch._utils._rebuild_tensor_v2`` over typed storages read from ``data/<key>``),
  ``collections.OrderedDict`` and plain containers, and nothing else. Any other global (a
  ``__reduce__`` calling ``os.system``) is refused before anything runs.

The format is detected from the content whatever the suffix (zip with ``data.pkl`` → PyTorch,
other zip → npz, 8-byte header length + JSON → safetensors); only regular files are opened. Keys
prefixed ``module.`` (``nn.DataParallel``) lose the prefix; a checkpoint dict holding the state
dict under ``state_dict``/``model``/… is unwrapped.

``write_weight_file(path, weights)`` writes ``.safetensors`` or ``.npz`` by suffix, atomically.
``backend.weights.load_weights`` reads every non-npz file through :func:`read_weights_for`: keys
matched to the design's layer names (``features.0.weight`` → ``features_0.weight``) and tensors
no layer takes refused (:func:`check_no_extras`).
"""

from __future__ import annotations

import _compat_pickle
import collections
import io
import json
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from designer.backend.weights import WeightsError
from designer.core.files import open_regular

Weights = dict[str, np.ndarray]
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights", "params")
READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    KeyError,
    struct.error,
    IndexError,
    TypeError,
)


class WeightFileError(WeightsError):
    """A weight file that cannot be read: ``"<path>: <reason>"`` (``reason`` alone in ``.reason``)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


class UnsafeCheckpointError(WeightFileError):
    """A checkpoint whose pickle asks for something other than tensors and containers."""


# --- PyTorch storages -------------------------------------------------------------------------
BF16 = "bfloat16"
STORAGE_DTYPES: dict[str, Any] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": BF16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stands for ``torch.<X>Storage`` while unpickling: only carries the element type."""

    def __init__(self, name: str) -> None:
        self.name, self.dtype = name, STORAGE_DTYPES[name]


def _widen_bf16(raw: np.ndarray) -> np.ndarray:
    """bfloat16 bits (uint16) → float32: the same bits in the high half of a float32."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(
    storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_ignored: Any
) -> np.ndarray:
    """``torch._utils._rebuild_tensor_v2``: a copy of ``storage[offset + Σ i_k·stride_k]``; bounds checked."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or min(size + stride, default=0) < 0 or offset < 0:
        raise ValueError(f"a tensor has an invalid layout (size {list(size)}, stride {list(stride)})")
    if int(np.prod(size, dtype=np.int64)) > storage.size:  # e.g. a stride-0 view inflating a tiny storage
        raise ValueError(
            f"a tensor of size {list(size)} is larger than its storage ({storage.size} elements)"
        )
    if 0 not in size:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.size:
            raise ValueError(
                f"a tensor of size {list(size)} reads past the end of its storage ({storage.size} elements)"
            )
    view = np.lib.stride_tricks.as_strided(
        storage[offset:] if storage.size else storage,
        shape=size,
        strides=[s * storage.itemsize for s in stride],
        writeable=False,
    )
    return np.array(view)


def _rebuild_parameter(data: np.ndarray, *_ignored: Any) -> np.ndarray:
    return data


def _rebuild_from_type_v2(func: Callable[..., Any], _new_type: Any, args: tuple, _state: Any) -> Any:
    return func(*args)


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): None,
    ("torch.nn.parameter", "Parameter"): None,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles a ``state_dict``: only ``ALLOWED_GLOBALS`` resolve, storages come from the archive."""

    def __init__(self, data: bytes, read_storage: Callable[[str], bytes]) -> None:
        super().__init__(io.BytesIO(data))
        self._read_storage = read_storage
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        """Only ``ALLOWED_GLOBALS``. Python 2 names (``torch.save`` writes protocol 2: ``__builtin__.exec``,
        ``commands.Popen``) are read as Python 3's, as ``pickle`` does, so a refusal names what would have
        been called (``builtins.exec``, ``subprocess.Popen``)."""
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        key = (module, name)
        if key not in ALLOWED_GLOBALS:
            raise UnsafeCheckpointError(
                "<checkpoint>",
                f"refused: the checkpoint's pickle calls {module}.{name}, which is not a tensor or "
                "a container; only state_dict tensors are loaded and nothing in the file was run",
            )
        return ALLOWED_GLOBALS[key]

    def persistent_load(self, pid: Any) -> np.ndarray:
        """``('storage', <X>Storage, key, location, numel)`` → the storage's elements as a flat array."""
        if not (
            isinstance(pid, tuple)
            and len(pid) == 5
            and pid[0] == "storage"
            and isinstance(pid[1], _StorageType)
        ):
            raise UnsafeCheckpointError(
                "<checkpoint>", f"refused: unknown persistent object {str(pid)[:60]!r}"
            )
        storage_type, key = pid[1], str(pid[2])
        if key not in self._storages:
            raw = self._read_storage(key)
            if storage_type.dtype == BF16:
                self._storages[key] = _widen_bf16(np.frombuffer(raw, dtype="<u2"))
            else:
                dtype = np.dtype(storage_type.dtype).newbyteorder("<")
                usable = len(raw) - len(raw) % dtype.itemsize
                self._storages[key] = np.frombuffer(raw[:usable], dtype=dtype)
        return self._storages[key]


def _read_torch_zip(archive: zipfile.ZipFile) -> Any:
    """The unpickled ``data.pkl`` of a PyTorch zip checkpoint (storages under ``<prefix>/data/``)."""
    pkl = next(n for n in archive.namelist() if n == "data.pkl" or n.endswith("/data.pkl"))
    prefix = pkl[: -len("data.pkl")]
    order = f"{prefix}byteorder"
    if order in archive.namelist() and archive.read(order).strip() != b"little":
        raise ValueError("big-endian checkpoints are not supported")
    return _TensorUnpickler(archive.read(pkl), lambda key: archive.read(f"{prefix}data/{key}")).load()


def _flatten_tensors(obj: Any, prefix: str = "") -> Weights:
    """Every array in nested dicts, keyed by dotted path."""
    out: Weights = {}
    if isinstance(obj, np.ndarray):
        out[prefix] = obj
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            out.update(_flatten_tensors(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def _state_dict_of(obj: Any) -> Weights:
    """The tensors of a loaded checkpoint: a plain state dict, or one under a usual key."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"expected a state_dict (a dict of tensors), got a {type(obj).__name__}")
    for key in STATE_DICT_KEYS:
        if isinstance(obj.get(key), Mapping) and _flatten_tensors(obj[key]):
            return _flatten_tensors(obj[key])
    tensors = _flatten_tensors(obj)
    if not tensors:
        raise ValueError(f"no tensors found (top-level keys: {', '.join(map(str, list(obj)[:8]))})")
    return tensors


# --- the formats ------------------------------------------------------------------------------
def _read_npz(path: Path) -> Weights:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _read_safetensors(path: Path) -> Weights:
    """``safetensors.numpy.load_file``; files with BF16 tensors are parsed here (NumPy has no bfloat16)."""
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ValueError(
            "reading .safetensors needs the 'safetensors' package (pip install safetensors)"
        ) from None
    header = _safetensors_header(path)
    if not any(isinstance(v, dict) and v.get("dtype") == "BF16" for v in header[0].values()):
        from safetensors import SafetensorError

        try:
            return load_file(str(path))
        except SafetensorError as exc:
            raise ValueError(str(exc)) from None
    return _read_safetensors_bf16(path, *header)


def _safetensors_header(path: Path) -> tuple[dict[str, Any], int]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100 * 2**20:
            raise ValueError(f"safetensors header of {n:,} bytes is implausible")
        return json.loads(f.read(n)), 8 + n


SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
    "BF16": "<u2",
}


def _read_safetensors_bf16(path: Path, header: dict[str, Any], start: int) -> Weights:
    buffer = np.memmap(path, dtype=np.uint8, mode="r")
    out: Weights = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        begin, end = (start + int(o) for o in info["data_offsets"])
        flat = np.frombuffer(buffer[begin:end].tobytes(), dtype=SAFETENSORS_DTYPES[info["dtype"]])
        flat = _widen_bf16(flat) if info["dtype"] == "BF16" else flat
        out[key] = flat.reshape(info["shape"])
    return out


def _read_zip(path: Path) -> Weights:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return _state_dict_of(_read_torch_zip(archive))
    return _read_npz(path)


def detect_format(path: Path) -> str:
    """``"zip"`` (PyTorch or npz), ``"safetensors"`` or ``"pickle"`` from the first bytes."""
    with open_regular(path) as f:  # a FIFO or a device is refused, never waited on
        head = f.read(9)
    if head.startswith(b"PK"):
        return "zip"
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:1] == b"\x80":
        return "pickle"
    raise ValueError("not a weight file (expected .npz, .safetensors, or a .pt/.pth saved by torch.save)")


def strip_module_prefix(weights: Weights) -> Weights:
    """``module.conv1.weight`` → ``conv1.weight`` when every key has the ``nn.DataParallel`` prefix."""
    if weights and all(k.startswith("module.") for k in weights):
        return {k[len("module.") :]: v for k, v in weights.items()}
    return weights


def read_weight_file(path: str | Path) -> Weights:
    """``{tensor key: array}`` from an ``.npz``, ``.safetensors`` or PyTorch ``.pt``/``.pth`` file.

    Never runs code from the file: a PyTorch checkpoint is unpickled with an allow-list
    (tensors, ``OrderedDict``, plain containers). Raises ``WeightFileError`` with one line naming
    the file (``UnsafeCheckpointError`` when the pickle asks for anything else).
    """
    path = Path(path)
    try:
        kind = detect_format(path)
        if kind == "pickle":
            raise UnsafeCheckpointError(path, "refused: a bare pickle (pickle.dump, or torch.save before 1.6) is "
                                        "never unpickled, as it could run code; re-save the state_dict with "
                                        "a current torch.save or as .safetensors")
        weights = _read_zip(path) if kind == "zip" else _read_safetensors(path)
    except UnsafeCheckpointError as exc:
        raise UnsafeCheckpointError(path, exc.reason) from None
    except READ_ERRORS + (pickle.UnpicklingError, json.JSONDecodeError, StopIteration) as exc:
        raise WeightFileError(path, f"cannot read weights: {str(exc) or type(exc).__name__}") from None
    return strip_module_prefix(weights)


def write_weight_file(path: str | Path, weights: Mapping[str, np.ndarray]) -> None:
    """Write ``weights`` as ``.safetensors`` or ``.npz`` (uncompressed) according to the suffix, atomically
    (a failed write leaves the old file, never half a new one)."""
    path = Path(path)
    arrays = {k: np.ascontiguousarray(v) for k, v in weights.items()}
    suffix = path.suffix.lower()
    from designer.core.files import atomic_write

    if suffix == ".safetensors":
        from safetensors.numpy import save

        atomic_write(path, lambda handle: handle.write(save(arrays)))
    elif suffix == ".npz":
        atomic_write(path, lambda handle: np.savez(handle, **arrays))
    else:
        raise WeightFileError(path, "cannot write weights: use a .npz or .safetensors suffix")


def is_npz(path: str | Path) -> bool:
    """Whether ``path`` is (or claims to be) an ``np.savez`` archive rather than another weight format:
    a zip without a PyTorch ``data.pkl``, or a file this module does not recognise (the npz reader
    then reports it)."""
    try:
        if detect_format(Path(path)) != "zip":
            return False
        with zipfile.ZipFile(path) as archive:
            return not any(n == "data.pkl" or n.endswith("/data.pkl") for n in archive.namelist())
    except (OSError, ValueError, zipfile.BadZipFile):
        return True


def match_design_keys(weights: Weights, expected: Mapping[str, object]) -> Weights:
    """``weights`` with PyTorch module paths renamed to design layer names where that makes a key fit:
    ``features.0.weight`` → ``features_0.weight`` (imported designs name layers that way)."""
    renamed = dict(weights)
    for key in weights:
        layer, _, tensor = key.rpartition(".")
        alias = f"{layer.replace('.', '_')}.{tensor}"
        if key not in expected and alias in expected and alias not in weights:
            renamed[alias] = renamed.pop(key)
    return renamed


IGNORED_EXTRAS = (".num_batches_tracked",)  # BatchNorm's step counter: no effect at inference


def check_no_extras(weights: Mapping[str, np.ndarray], expected: Mapping[str, object]) -> None:
    """Refuse tensors no layer takes (naming the first and its shape): a checkpoint of another network,
    or of the same network before an exporter folded its BatchNorms, must not load silently."""
    extra = [k for k in weights if k not in expected and not k.endswith(IGNORED_EXTRAS)]
    if extra:
        shape = list(np.shape(weights[extra[0]]))
        raise WeightsError(
            f"the weights hold '{extra[0]}' (shape {shape}), which no layer of the design takes; "
            f"{len(extra)} extra tensor(s) in all"
        )


def read_weights_for(path: str | Path, expected: Mapping[str, object]) -> Weights:
    """``read_weight_file`` with keys matched to a design's (see :func:`match_design_keys`) and no extra
    tensors (:func:`check_no_extras`); errors carry the reason only (``load_weights`` names the file)."""
    try:
        weights = match_design_keys(read_weight_file(path), expected)
    except WeightFileError as exc:
        raise WeightsError(exc.reason) from None
    check_no_extras(weights, expected)
    return weights
