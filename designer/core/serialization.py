"""Reading and writing the ``cnn-designer/v1`` JSON format.

Reading goes through a versioned reader: the format string is checked first, then every field,
so that any problem becomes one ``DesignFormatError`` line naming the file, the layer (name or
index path) and the field. Names missing from the file are assigned after parsing
(``conv2d1``, ``relu3``, … counted per type in file order).

Limits (see README "Limits"): a design file is a regular file of at most :data:`MAX_DESIGN_BYTES`
(refused before reading); integers must fit in 64 bits; text (names, description) must be valid
Unicode (no lone surrogates such as ``"\\udc80"``, which no UTF-8 file could hold).
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from .design import Design, InputSpec, Layer
from .errors import DesignFormatError
from .files import RefusedFileError, atomic_write_bytes, read_limited
from .spec import LAYER_SPECS

FORMAT_NAME = "cnn-designer"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/v{FORMAT_VERSION}"
TOP_LEVEL_KEYS = ("format", "name", "description", "input", "layers")
TOO_DEEP = "branches are nested too deeply to read (more than a few hundred levels)"
MAX_DESIGN_BYTES = 64 * 2**20  # 64 MiB: far above any real design (VGG-16 is 3 kB), far below memory
INT64_MAX = 2**63 - 1


# --- reading -------------------------------------------------------------------------------------
class BigInt:
    """An integer literal beyond 64 bits, kept as its digits (never converted: Python refuses to convert
    more than 4300 digits, and ``float()`` of a 400-digit int overflows). No field accepts it, so the
    field's own check reports it, naming the field."""

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        shown = self.digits if len(self.digits) <= 30 else f"{self.digits[:12]}…{self.digits[-6:]}"
        return f"{shown} (a {len(self.digits.lstrip('-'))}-digit integer, beyond 64 bits)"


def _parse_int(text: str) -> int | BigInt:
    """``json`` hook for integer literals: ints within ±(2⁶³ − 1), otherwise a :class:`BigInt`."""
    if len(text.lstrip("-")) > 19:
        return BigInt(text)
    value = int(text)
    return value if -INT64_MAX <= value <= INT64_MAX else BigInt(text)


def parse_json(text: str, source: str) -> Any:
    """JSON text as Python data, with :func:`_parse_int`; any failure is one ``DesignFormatError``."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise DesignFormatError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                                source=source) from None
    except RecursionError:
        raise DesignFormatError(TOO_DEEP, source=source) from None
    except ValueError as exc:  # e.g. a number json cannot convert
        raise DesignFormatError(f"not valid JSON ({exc})", source=source) from None


def load_design(path: str | Path) -> Design:
    """The design in ``path``; a ``DesignFormatError`` naming the file when it is not a regular file of
    at most :data:`MAX_DESIGN_BYTES` (checked before reading), not UTF-8 JSON, or not a valid design."""
    source = str(path)
    try:
        text = read_limited(path, MAX_DESIGN_BYTES).decode("utf-8")
    except RefusedFileError as exc:
        raise DesignFormatError(f"cannot read the file: {exc}", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignFormatError(f"cannot read the file ({exc.__class__.__name__}: {exc})", source=source) from None
    return design_from_dict(parse_json(text, source), source, default_name=Path(path).stem)


def design_from_dict(data: Any, source: str = "<dict>", default_name: str = "untitled") -> Design:
    try:
        return _read_design(data, default_name)
    except DesignFormatError as exc:
        raise exc.located(source=source) from None
    except RecursionError:
        raise DesignFormatError(TOO_DEEP, source=source) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a value no check foresaw: still one located line
        raise DesignFormatError(f"cannot read the design ({type(exc).__name__}: {_short(str(exc))})",
                                source=source) from None


def _read_design(data: Any, default_name: str) -> Design:
    if not isinstance(data, dict):
        raise DesignFormatError(f"a design is a JSON object, got {type(data).__name__}")
    _check_format(data.get("format"))
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], TOP_LEVEL_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; a design has {', '.join(TOP_LEVEL_KEYS)}"
        raise DesignFormatError(f"unknown field{hint}", field=printable(unknown[0]))
    name = _optional_str(data, "name", default_name)
    description = _optional_str(data, "description", "")
    input_spec = _read_input(data.get("input"))
    layers = _read_sequence(data.get("layers", None), "layers", required=True)
    design = Design(name=name, input=input_spec, layers=layers, description=description)
    return _assign_names(design)


def _check_format(value: Any) -> None:
    if value is None:
        raise DesignFormatError(f"missing \"format\": \"{FORMAT}\"; this is not a CNN Designer design",
                                field="format")
    prefix = f"{FORMAT_NAME}/v"
    if not isinstance(value, str) or not value.startswith(prefix):
        raise DesignFormatError(f"not a CNN Designer design (format {_short(repr(value))}, expected {FORMAT!r})",
                                field="format")
    major = value[len(prefix):].split(".")[0].lstrip("0") or "0"
    if not major.isascii() or not major.isdigit():  # ASCII digits only: not "v¹", not "v١"
        raise DesignFormatError(f"unrecognised format version {_short(value)!r}", field="format")
    if len(major) > 9:  # compared by length: int() of 5000 digits is refused by Python itself
        raise DesignFormatError(f"format {_short(value)!r} is newer than this CNN Designer understands ({FORMAT}); "
                                "update CNN Designer to open it", field="format")
    if int(major) < 1:
        raise DesignFormatError(f"unrecognised format version {value!r} (the first version is {FORMAT})",
                                field="format")
    if int(major) > FORMAT_VERSION:
        raise DesignFormatError(f"format {value!r} is newer than this CNN Designer understands ({FORMAT}); "
                                "update CNN Designer to open it", field="format")


def _optional_str(data: dict, key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise DesignFormatError(f"must be a string, got {_short(repr(value))}", field=key)
    return check_text(value, key)


def check_text(value: str, field: str) -> str:
    """``value`` when it is valid Unicode text; a ``DesignFormatError`` on ``field`` when it holds a lone
    surrogate (``"\\ud800"`` … ``"\\udfff"`` alone: JSON escapes can spell it, but no UTF-8 file can hold it,
    so saving, printing and PNG names would all fail later)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DesignFormatError(f"holds a lone surrogate {value[exc.start]!r} at character {exc.start}; "
                                "text must be valid Unicode", field=field) from None
    return value


def _check_texts(value: Any, field: str) -> None:
    """:func:`check_text` on every string inside a hyperparameter value (keys and items of nested objects and
    lists too, e.g. a kernel preset's name), so a design that loads can always be saved and printed."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_texts(k, field)
            _check_texts(v, field)
    elif isinstance(value, list):
        for item in value:
            _check_texts(item, field)


def printable(text: str) -> str:
    """``text`` safe to show in a one-line message: control characters and lone surrogates escaped."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def _short(text: str, limit: int = 80) -> str:
    """``text`` cut to about ``limit`` characters for a message (a 5000-digit version stays one short line)."""
    return text if len(text) <= limit else f"{text[:limit - 10]}…({len(text)} characters)"


def _read_input(data: Any) -> InputSpec:
    if not isinstance(data, dict):
        raise DesignFormatError("missing or not an object {\"channels\", \"height\", \"width\"}", field="input")
    sizes = {}
    for key in ("channels", "height", "width"):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DesignFormatError(f"must be a positive integer, got {value!r}", field=f"input.{key}")
        sizes[key] = value
    unknown = set(data) - {"channels", "height", "width", "mean", "std"}
    if unknown:
        raise DesignFormatError("unknown field", field=f"input.{printable(min(unknown))}")
    stats = {key: _read_stats(data.get(key), key, sizes["channels"]) for key in ("mean", "std")}
    if stats["std"] is not None and min(stats["std"]) <= 0:
        raise DesignFormatError(f"must be positive, got {list(stats['std'])}", field="input.std")
    return InputSpec(**sizes, **stats)


def _read_stats(value: Any, key: str, channels: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) in (1, channels) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        raise DesignFormatError(f"must be a list of {channels} finite numbers (one per channel), got {value!r}",
                                field=f"input.{key}")
    return tuple(float(v) for v in value)


def _read_sequence(data: Any, where: str, required: bool = False) -> tuple[Layer, ...]:
    if not isinstance(data, list):
        what = "missing" if data is None else f"got {type(data).__name__}"
        raise DesignFormatError(f"must be a list of layers ({what})", field=where)
    return tuple(_read_layer(item, f"{where}[{i}]") for i, item in enumerate(data))


def _read_layer(data: Any, where: str) -> Layer:
    if not isinstance(data, dict):
        raise DesignFormatError(f"a layer is a JSON object, got {data!r}", layer=f"layer {where}")
    name = data.get("name", "")
    location = f"layer '{printable(name)}' ({where})" if isinstance(name, str) and name else f"layer {where}"
    try:
        return _read_layer_fields(data, where)
    except DesignFormatError as exc:
        raise exc.located(layer=location) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a value no check foresaw: still one located line
        raise DesignFormatError(f"cannot read this layer ({type(exc).__name__}: {_short(str(exc))})",
                                layer=location) from None


def _read_layer_fields(data: dict, where: str) -> Layer:
    type_name = data.get("type")
    if not isinstance(type_name, str) or type_name not in LAYER_SPECS:
        close = difflib.get_close_matches(str(type_name), LAYER_SPECS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else f"; known types: {', '.join(sorted(LAYER_SPECS))}"
        raise DesignFormatError(f"unknown layer type {type_name!r}{hint}", field="type")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise DesignFormatError(f"must be a string, got {_short(repr(name))}", field="name")
    check_text(name, "name")
    if "." in name:
        raise DesignFormatError("a layer name cannot contain '.': it separates the layer from its tensor in weight "
                                "keys such as 'conv1.weight', and PyTorch module names cannot hold it; use '_'",
                                field="name")
    spec = LAYER_SPECS[type_name]
    known = {p.name: p for p in spec.params}
    params = {}
    for key, value in data.items():
        if key in ("type", "name", "branches"):
            continue
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise DesignFormatError(f"{type_name} has no hyperparameter '{printable(key)}'{hint}",
                                    field=printable(key))
        try:
            known[key].check(value)
        except (ValueError, TypeError, OverflowError) as exc:  # OverflowError: float() of a huge int
            raise DesignFormatError(_short(str(exc), 300), field=key) from None
        _check_texts(value, key)
        params[key] = value
    for p in spec.params:
        if p.required and p.name not in params:
            raise DesignFormatError(f"{type_name} needs '{p.name}' ({p.doc})", field=p.name)
    branches = _read_branches(data, type_name, where)
    return Layer(type=type_name, name=name, params=params, branches=branches)


def _read_branches(data: dict, type_name: str, where: str) -> tuple[tuple[Layer, ...], ...]:
    if type_name != "Branch":
        if "branches" in data:
            raise DesignFormatError(f"only a Branch has branches, not a {type_name}", field="branches")
        return ()
    value = data.get("branches")
    if not isinstance(value, list) or not value:
        raise DesignFormatError("a Branch needs a non-empty list of branches (each a list of layers; "
                                "[] is the identity)", field="branches")
    return tuple(_read_sequence(b, f"{where}.branches[{i}]") for i, b in enumerate(value))


def _assign_names(design: Design) -> Design:
    """Check user names are unique and give unnamed layers ``<type><n>`` names in file order.

    One pass over the tree (O(n) for n layers, plus the numbers skipped over user names): the layer
    tuples are rebuilt once, top-down, instead of replacing one layer at a time (O(n²)).
    """
    taken: set[str] = set()
    count = 0
    for path, layer in design.walk_file_order():
        count += 1
        if layer.name:
            if layer.name in taken:
                raise DesignFormatError(f"duplicate layer name {printable(layer.name)!r}; names must be unique",
                                        layer=f"layer '{printable(layer.name)}' ({_path_text(path)})", field="name")
            taken.add(layer.name)
    if len(taken) == count:
        return design
    return replace(design, layers=_Namer(taken).name_sequence(design.layers))


class _Namer:
    """Hands out ``<type><n>``: the next free number per type (a counter per type only moves forward)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.counters: dict[str, int] = {}

    def next_name(self, type_name: str) -> str:
        base = type_name.lower()
        n = self.counters.get(base, 0) + 1
        while f"{base}{n}" in self.taken:
            n += 1
        self.counters[base] = n
        self.taken.add(f"{base}{n}")
        return f"{base}{n}"

    def name_sequence(self, layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
        """``layers`` with every unnamed one named, in file order (a Branch before its inner layers)."""
        return tuple(self.name_layer(layer) for layer in layers)

    def name_layer(self, layer: Layer) -> Layer:
        name = layer.name or self.next_name(layer.type)
        if name == layer.name and not layer.branches:
            return layer
        branches = tuple(self.name_sequence(b) for b in layer.branches)
        return Layer(type=layer.type, name=name, params=layer.params, branches=branches)  # faster than replace()


def _path_text(path: tuple[int, ...]) -> str:
    text = f"layers[{path[0]}]"
    for i in range(1, len(path), 2):
        text += f".branches[{path[i]}][{path[i + 1]}]"
    return text


path_text = _path_text


# --- writing -------------------------------------------------------------------------------------
def design_to_dict(design: Design) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "name": design.name}
    if design.description:
        data["description"] = design.description
    inp = design.input
    data["input"] = {"channels": inp.channels, "height": inp.height, "width": inp.width}
    for key in ("mean", "std"):
        if getattr(inp, key) is not None:
            data["input"][key] = list(getattr(inp, key))
    data["layers"] = [_layer_to_dict(layer) for layer in design.layers]
    return data


def _layer_to_dict(layer: Layer) -> dict[str, Any]:
    out: dict[str, Any] = {"type": layer.type, "name": layer.name}
    for p in layer.spec.params:  # registry order, only what the user set
        if p.name in layer.params:
            out[p.name] = _jsonable(layer.params[p.name])
    if layer.type == "Branch":
        out["branches"] = [[_layer_to_dict(inner) for inner in branch] for branch in layer.branches]
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def design_to_json(design: Design) -> str:
    return json.dumps(design_to_dict(design), indent=2, ensure_ascii=False) + "\n"


def save_design(design: Design, path: str | Path) -> None:
    """Write ``design`` at exactly ``path`` with :func:`designer.core.files.atomic_write_bytes` (temporary file,
    fsync, rename; the mode of an existing file kept, symbolic links written through). The JSON is encoded
    before anything is created: text that cannot be encoded (a lone surrogate) is a ``DesignFormatError``
    naming the layer and field, and leaves no file behind."""
    try:
        data = design_to_json(design).encode("utf-8")
    except UnicodeEncodeError:
        raise _unencodable(design, str(path)) from None
    atomic_write_bytes(path, data)


def _unencodable(design: Design, source: str) -> DesignFormatError:
    """The error naming the text that cannot be written as UTF-8 (a lone surrogate set by code, not a file)."""
    try:
        check_text(design.name, "name")
        check_text(design.description, "description")
        for path, layer in design.walk_file_order():
            location = f"layer '{printable(layer.name)}' ({_path_text(path)})"
            try:
                check_text(layer.name, "name")
                check_text(json.dumps(_jsonable(dict(layer.params)), ensure_ascii=False), "hyperparameters")
            except DesignFormatError as exc:
                return exc.located(source=source, layer=location)
    except DesignFormatError as exc:
        return exc.located(source=source)
    return DesignFormatError("holds text that cannot be written as UTF-8", source=source)
