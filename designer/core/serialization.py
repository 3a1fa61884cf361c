"""Reading and writing the ``cnn-designer/v1`` JSON format.

Reading goes through a versioned reader: the format string is checked first, then every field,
so that any problem becomes one ``DesignFormatError`` line naming the file, the layer (name or
index path) and the field. Names missing from the file are assigned after parsing
(``conv2d1``, ``relu3``, … counted per type in file order).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from .design import Design, InputSpec, Layer
from .errors import DesignFormatError
from .spec import LAYER_SPECS

FORMAT_NAME = "cnn-designer"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/v{FORMAT_VERSION}"
TOP_LEVEL_KEYS = ("format", "name", "description", "input", "layers")
TOO_DEEP = "branches are nested too deeply to read (more than a few hundred levels)"


# --- reading -------------------------------------------------------------------------------------
def load_design(path: str | Path) -> Design:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignFormatError(f"cannot read the file ({exc.__class__.__name__}: {exc})", source=source) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DesignFormatError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                                source=source) from None
    except RecursionError:
        raise DesignFormatError(TOO_DEEP, source=source) from None
    return design_from_dict(data, source, default_name=Path(path).stem)


def design_from_dict(data: Any, source: str = "<dict>", default_name: str = "untitled") -> Design:
    try:
        return _read_design(data, default_name)
    except DesignFormatError as exc:
        raise exc.located(source=source) from None
    except RecursionError:
        raise DesignFormatError(TOO_DEEP, source=source) from None


def _read_design(data: Any, default_name: str) -> Design:
    if not isinstance(data, dict):
        raise DesignFormatError(f"a design is a JSON object, got {type(data).__name__}")
    _check_format(data.get("format"))
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], TOP_LEVEL_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; a design has {', '.join(TOP_LEVEL_KEYS)}"
        raise DesignFormatError(f"unknown field{hint}", field=unknown[0])
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
        raise DesignFormatError(f"not a CNN Designer design (format {value!r}, expected {FORMAT!r})",
                                field="format")
    major = value[len(prefix):].split(".")[0]
    if not major.isdigit():
        raise DesignFormatError(f"unrecognised format version {value!r}", field="format")
    if int(major) < 1:
        raise DesignFormatError(f"unrecognised format version {value!r} (the first version is {FORMAT})",
                                field="format")
    if int(major) > FORMAT_VERSION:
        raise DesignFormatError(f"format {value!r} is newer than this CNN Designer understands ({FORMAT}); "
                                "update CNN Designer to open it", field="format")


def _optional_str(data: dict, key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise DesignFormatError(f"must be a string, got {value!r}", field=key)
    return value


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
        raise DesignFormatError("unknown field", field=f"input.{min(unknown)}")
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
    location = f"layer '{name}' ({where})" if isinstance(name, str) and name else f"layer {where}"
    try:
        return _read_layer_fields(data, where)
    except DesignFormatError as exc:
        raise exc.located(layer=location) from None


def _read_layer_fields(data: dict, where: str) -> Layer:
    type_name = data.get("type")
    if not isinstance(type_name, str) or type_name not in LAYER_SPECS:
        close = difflib.get_close_matches(str(type_name), LAYER_SPECS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else f"; known types: {', '.join(sorted(LAYER_SPECS))}"
        raise DesignFormatError(f"unknown layer type {type_name!r}{hint}", field="type")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise DesignFormatError(f"must be a string, got {name!r}", field="name")
    spec = LAYER_SPECS[type_name]
    known = {p.name: p for p in spec.params}
    params = {}
    for key, value in data.items():
        if key in ("type", "name", "branches"):
            continue
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise DesignFormatError(f"{type_name} has no hyperparameter '{key}'{hint}", field=key)
        try:
            known[key].check(value)
        except ValueError as exc:
            raise DesignFormatError(str(exc), field=key) from None
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
    """Check user names are unique and give unnamed layers ``<type><n>`` names in file order."""
    taken: set[str] = set()
    for path, layer in design.walk_file_order():
        if layer.name:
            if layer.name in taken:
                raise DesignFormatError(f"duplicate layer name {layer.name!r}; names must be unique",
                                        layer=f"layer '{layer.name}' ({_path_text(path)})", field="name")
            taken.add(layer.name)
    counters: dict[str, int] = {}
    for path, layer in list(design.walk_file_order()):
        if layer.name:
            continue
        base = layer.type.lower()
        n = counters.get(base, 0) + 1
        while f"{base}{n}" in taken:
            n += 1
        counters[base] = n
        taken.add(f"{base}{n}")
        design = design.replace_layer(path, _renamed(design.get(path), f"{base}{n}"))
    return design


def _renamed(layer: Layer, name: str) -> Layer:
    from dataclasses import replace
    return replace(layer, name=name)


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
    """Atomic write: a temporary file in the same folder, then rename over the target."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(design_to_json(design))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
