"""The README's table of layer types, generated from the registry (``tests/test_registry.py`` checks it).

``python -m designer.core.layer_table README.md`` rewrites the block between the markers in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .params import ParamSpec
from .spec import FAMILIES, LAYER_SPECS, LayerSpec

START, END = "<!-- layer-table:start -->", "<!-- layer-table:end -->"
INFERRED = ("in_channels", "in_features", "num_features", "num_channels")  # inferred from the input


def _default_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return str(value)


def _param_text(p: ParamSpec) -> str:
    name = p.name + (": " + " \\| ".join(p.choices) if p.choices else "")
    return name if p.required or p.default is None else f"{name} ({_default_text(p.default)})"


def _row(spec: LayerSpec) -> str:
    params = [_param_text(p) for p in spec.params if p.name not in INFERRED]
    if spec.type == "Branch":
        params.insert(0, "branches (list of layer lists; `[]` is the identity)")
    return f"| {spec.type} | {', '.join(params) or '—'} | {spec.shape_formula} | {spec.doc} |"


def layer_table() -> str:
    """One row per registered type, by family: name, hyperparameters (defaults), output shape, what it does."""
    order = {f: i for i, f in enumerate(FAMILIES)}
    specs = sorted(LAYER_SPECS.values(), key=lambda s: (order.get(s.family, len(order)), s.type))
    lines = ["| type | hyperparameters (default) | output shape | what it computes |", "|---|---|---|---|"]
    return "\n".join(lines + [_row(s) for s in specs])


def replace_block(text: str) -> str:
    """``text`` with the block between the markers replaced by the current table."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{layer_table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    path.write_text(replace_block(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
