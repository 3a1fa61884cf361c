"""Hyperparameter values ↔ the text typed in the inspector (no Qt).

``parse(spec, text)`` returns the JSON value the design stores (``None`` = use the default) or
raises ``ValueError`` naming the problem; ``to_text`` is its inverse. Pairs accept ``3``,
``3,1``, ``3×1``, ``3x1`` and ``[3, 1]``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...core.params import ParamSpec

_SPLIT = re.compile(r"\s*[,×xX*]\s*|\s+")

KIND_TEXT = {
    "int": "int", "opt_int": "int, optional", "pair": "int or tuple", "opt_pair": "int or tuple, optional",
    "padding": "int, tuple or str", "float": "float", "scale": "float or tuple", "bool": "bool",
    "choice": "str", "levels": "list of int", "init": "dict, optional",
}


def _numbers(text: str, convert) -> list:
    parts = [p for p in _SPLIT.split(text.strip().strip("[]()")) if p]
    try:
        return [convert(p) for p in parts]
    except ValueError:
        raise ValueError(f"expected numbers, got {text!r}") from None


def _one_or_pair(text: str, convert) -> Any:
    values = _numbers(text, convert)
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values
    raise ValueError(f"expected one number or two (h, w), got {text!r}")


def parse(spec: ParamSpec, text: str) -> Any:
    """The value for ``text``; empty text means "not set" (``None``) unless the field is required."""
    text = text.strip()
    if not text:
        if spec.required:
            raise ValueError(f"{spec.name} is required")
        return None
    kind = spec.kind
    if kind in ("int", "opt_int"):
        value: Any = _one_int(text)
    elif kind in ("pair", "opt_pair"):
        value = _one_or_pair(text, int)
    elif kind == "padding":
        value = text.lower() if text.lower() in ("same", "valid") else _one_or_pair(text, int)
    elif kind == "float":
        value = _one_float(text)
    elif kind == "scale":
        value = _one_or_pair(text, float)
    elif kind == "levels":
        value = _numbers(text, int)
    elif kind == "init":
        value = _json(text)
    else:
        value = text
    spec.check(value)
    return value


def _one_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected an integer, got {text!r}") from None


def _one_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None


def to_text(value: Any) -> str:
    """Text shown for a stored value (``None`` → empty, so the placeholder shows the default)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and value[0] == value[1] and all(isinstance(v, int) for v in value):
            return str(value[0])
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def default_text(spec: ParamSpec) -> str:
    """Placeholder text: the default, or what happens when the field is empty."""
    if spec.required:
        return "required"
    if spec.default is None:
        if spec.name == "stride" and spec.kind == "opt_pair":
            return "default = kernel_size"
        return "auto (inferred)" if spec.kind == "opt_int" else "none"
    return f"default {to_text(spec.default)}"


SYMBOLS = {  # how a hyperparameter appears in the registry's formulas
    "kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "groups": "g", "out_channels": "C_out",
    "in_channels": "C_in", "bias": "bias", "output_padding": "output_padding", "out_features": "out",
    "in_features": "in", "output_size": "o", "scale_factor": "scale", "levels": "n", "affine": "γ, β",
    "track_running_stats": "buffers", "num_parameters": "num_parameters",
}


def tooltip(spec: ParamSpec, layer_spec) -> str:
    """PyTorch-docstring style: ``name (type, optional): doc``, then the formulas it enters."""
    optional = "" if spec.required or "optional" in KIND_TEXT.get(spec.kind, "") else ", optional"
    lines = [f"<b>{spec.name}</b> (<i>{KIND_TEXT.get(spec.kind, spec.kind)}{optional}</i>): {spec.doc}"]
    if spec.choices:
        lines.append("Choices: " + ", ".join(spec.choices))
    symbol = SYMBOLS.get(spec.name)
    for title, formula in (("Shape", layer_spec.shape_formula), ("Params", layer_spec.params_formula)):
        if formula and formula != "output shape = input shape":
            enters = f" (as <b>{symbol}</b>)" if symbol and _mentions(formula, symbol) else ""
            lines.append(f"<b>{title}</b>{enters}: {formula}")
    return "<br>".join(lines)


def _mentions(formula: str, symbol: str) -> bool:
    return re.search(rf"(?<![A-Za-z_]){re.escape(symbol)}(?![A-Za-z])", formula) is not None
