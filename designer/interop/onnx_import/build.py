"""Nested items → a ``Design`` with readable unique layer names, and its weights.

A layer's name is its PyTorch module path when the exporter recorded one, dots as underscores:
the ``state_dict`` prefix of its stored weight (``layer1.0.conv1.weight`` → ``layer1_0_conv1``),
else the node's module scope (TorchScript ``/layer1/layer1.0/conv1/Conv``, the dynamo exporter's
``name_scopes``), else the op. Names shared by several layers get the op's own name appended
(``layer1_0_relu``), then a number.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from pathlib import Path

import numpy as np

from designer.core import Design, InputSpec, Layer

from .mapping import Draft
from .model import Node, OnnxGraph
from .structure import BranchItem, Placed

GENERATED_WEIGHT_NAME = re.compile(r"^(onnx::|val_|_v_|const|initializer)", re.IGNORECASE)


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")


def module_path(scope: list[str]) -> str:
    """``["layer1", "layer1.0", "conv1"]``, ``["features", "features.2", "conv", "conv.0"]`` (TorchScript:
    each part relative to an ancestor) or ``["layer1", "layer1.0", "layer1.0.conv1"]`` (dynamo) →
    ``layer1.0.conv1``: a dotted part continues the longest tail of the path it starts with."""
    path: list[str] = []
    for part in filter(None, scope):
        segments = part.split(".")
        overlap = 0
        if len(segments) > 1:
            overlap = max(
                (k for k in range(1, len(segments)) if path[len(path) - k :] == segments[:k]), default=0
            )
        path += segments[overlap:]
    return ".".join(path)


def base_name(node: Node, shared: Collection[str] = ()) -> tuple[str, str]:
    """``(base, detail)``: the readable name and what tells it apart from others with the same base.

    A weight name counts only when no other node uses the same tensor (the dynamo exporter's optimiser
    merges equal initializers, e.g. every fresh BatchNorm's ones, under one layer's name)."""
    weight = next(
        (
            i
            for i in node.inputs[1:2]
            if i.endswith(".weight") and not GENERATED_WEIGHT_NAME.match(i) and i not in shared
        ),
        "",
    )
    leaf = _clean(re.sub(r"_output_\d+$", "", node.leaf)).lower() or node.op.lower()
    if weight:
        return _clean(weight[: -len(".weight")]), leaf
    path = _clean(module_path(node.scope))
    if path:
        return path, leaf
    return leaf, ""


def _distinguish(base: str, detail: str) -> str:
    """``base`` with ``detail`` appended, minus what they share (``layer1_0_relu`` + ``relu_2`` →
    ``layer1_0_relu_2``)."""
    tail = base.rsplit("_", 1)[-1]
    if detail.startswith(tail):
        detail = detail[len(tail) :].strip("_")
    return f"{base}_{detail}" if detail else base


def _unique(wanted: list[tuple[str, str]]) -> list[str]:
    counts = Counter(base for base, _ in wanted)
    names = [_distinguish(base, detail) if counts[base] > 1 else base for base, detail in wanted]
    taken: set[str] = set()
    result = []
    for name in names:
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}_{n}", n + 1
        taken.add(unique)
        result.append(unique)
    return result


def _flatten(items: list) -> list:
    out = []
    for item in items:
        if isinstance(item, BranchItem):
            for branch in item.branches:
                out += _flatten(branch)
        out.append(item)
    return out


def _wanted(item, shared: Collection[str]) -> tuple[str, str]:
    base, detail = base_name(item.node, shared)
    role = item.draft.role if isinstance(item, Placed) else ""
    return (f"{base}_{role}", detail) if role else (base, detail)


def build_design(graph: OnnxGraph, items: list) -> tuple[Design, dict[str, np.ndarray]]:
    """The design (named after the model file) and its weights keyed ``"<layer>.<tensor>"``."""
    every = _flatten(items)
    uses = Counter(name for node in graph.nodes for name in set(node.inputs[1:]))
    shared = {name for name, n in uses.items() if n > 1}
    names = dict(zip(map(id, every), _unique([_wanted(i, shared) for i in every])))
    weights: dict[str, np.ndarray] = {}

    def layers(seq: list) -> tuple[Layer, ...]:
        out = []
        for item in seq:
            name = names[id(item)]
            if isinstance(item, BranchItem):
                branches = tuple(layers(b) for b in item.branches)
                out.append(Layer("Branch", name, {"merge": item.merge}, branches))
                continue
            draft: Draft = item.draft
            weights.update({f"{name}.{k}": v for k, v in draft.tensors.items()})
            out.append(Layer(draft.type, name, dict(draft.params)))
        return tuple(out)

    _, c, h, w = graph.input_shape
    design = Design(
        name=Path(graph.path).stem,
        input=InputSpec(c, h, w),
        layers=layers(items),
        description=f"Imported from {Path(graph.path).name}.",
    )
    return design, weights
