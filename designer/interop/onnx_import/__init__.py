"""Open an ONNX model as a design with its weights.

``import_onnx(path, input_shape=None) -> (Design, weights)``: the model is read with its shapes
inferred and its shape arithmetic folded (:mod:`.model`, :mod:`.folding`), the graph's data path is
cleaned up (:mod:`.rewrite`, :mod:`.fusion`, :mod:`.vector_heads`), every node is mapped by the
registry (:mod:`.ops`, one mapping per ONNX op type), the mapped DAG is reduced to nested branches
(:mod:`.structure`) and named (:mod:`.build`). Everything is checked before anything is returned:
unsupported ops are listed together in one ``OnnxImportError`` line (each op type with its count
and first node), and the design is analysed and its weights checked against it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from designer.core import LAYER_SPECS, Design, analyze

from . import ops, ops_activations
from .build import build_design
from .errors import DynamicInputError, OnnxImportError, Unsupported
from .fusion import fuse_activations
from .group_split import fuse_split_groups
from .lrn_pattern import fuse_local_response_norm
from .mapping import OP_MAPPINGS, Ctx, Draft, Merge
from .model import Node, OnnxGraph
from .rewrite import (
    data_tensors,
    fold_batchnorm_into_linear,
    fold_pad_into_conv,
    fuse_group_norm,
    fuse_matmul_add,
    prune,
    share_concat_prefixes,
)
from .structure import Unit, series_parallel
from .vector_heads import drop_broadcast_expands, vector_heads_to_pixels

__all__ = ["OP_MAPPINGS", "DynamicInputError", "OnnxImportError", "import_onnx", "op_coverage"]


def op_coverage() -> dict[str, tuple[str, ...]]:
    """``{ONNX op type: design layer types it can become}`` from the registry (empty: dropped)."""
    return {op: entry.produces for op, entry in sorted(OP_MAPPINGS.items())}


def _check_layer(draft: Draft) -> None:
    """The draft's type exists in this version and its hyperparameters are valid."""
    spec = LAYER_SPECS.get(draft.type)
    if spec is None:
        raise Unsupported(f"needs the layer type {draft.type}, which this version does not have")
    known = {p.name: p for p in spec.params}
    for key, value in draft.params.items():
        if key not in known:
            raise Unsupported(f"needs {draft.type}({key}=…), which this version does not have")
        try:
            known[key].check(value)
        except ValueError as exc:
            raise Unsupported(f"{draft.type} {key} {exc}") from None


def _map_node(node: Node, ctx: Ctx) -> Unit:
    entry = OP_MAPPINGS.get(node.op)
    if entry is None:
        raise Unsupported("")
    try:
        mapped = entry.fn(node, ctx)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:  # a malformed node
        raise Unsupported(f"cannot be read ({type(exc).__name__}: {exc})") from None
    if isinstance(mapped, Merge):
        _check_layer(Draft("Branch", {"merge": mapped.merge}))
        return Unit(node, ctx.data_inputs(node), node.outputs[0], merge=mapped.merge)
    for draft in mapped:
        _check_layer(draft)
    return Unit(node, [ctx.x(node)], node.outputs[0], drafts=mapped)


def _problem_text(path: Path, problems: dict[str, list[tuple[Node, str]]]) -> str:
    parts = []
    for op, found in problems.items():
        node, reason = found[0]
        parts.append(f"{op} ×{len(found)} (first: '{node.name}'{': ' + reason if reason else ''})")
    noun = "op type" if len(problems) == 1 else "op types"
    return f"{path}: cannot import {len(problems)} {noun}: " + "; ".join(parts)


def map_nodes(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Unit]:
    """One unit per node; every node that cannot be mapped is collected into one error."""
    ctx, units = Ctx(graph, data), []
    problems: dict[str, list[tuple[Node, str]]] = {}
    for node in nodes:
        try:
            units.append(_map_node(node, ctx))
        except Unsupported as exc:
            problems.setdefault(node.op, []).append((node, str(exc)))
    if problems:
        raise OnnxImportError(_problem_text(graph.path, problems))
    return units


def clean_graph(graph: OnnxGraph) -> tuple[list[Node], set[str]]:
    """The data nodes the output depends on, with split activations and padding fused."""
    data = data_tensors(graph, graph.nodes)
    nodes = prune(graph, graph.nodes, data)
    for step in (
        fuse_local_response_norm,
        fuse_split_groups,
        fuse_activations,
        fuse_group_norm,
        fuse_matmul_add,
        fold_batchnorm_into_linear,
        vector_heads_to_pixels,
        drop_broadcast_expands,
        fold_pad_into_conv,
        share_concat_prefixes,
        prune,
    ):
        nodes = step(graph, nodes, data)
    return nodes, data


def _verify(path: Path, design: Design, weights: dict[str, np.ndarray]) -> None:
    """The imported design analyses without errors and its weights have the shapes it needs."""
    from designer.backend.weights import WeightsError, check_weights, expected_shapes

    report = analyze(design)
    errors = [i for i in report.issues if i.level == "error"]
    if errors:
        raise OnnxImportError(
            f"{path}: the imported design has an error at layer '{errors[0].layer}': {errors[0].message}"
        )
    try:
        check_weights(weights, expected_shapes(design), copy=False)
    except WeightsError as exc:
        raise OnnxImportError(f"{path}: {exc}") from None


def import_onnx(
    path: str | Path, input_shape: tuple[int, int, int] | None = None
) -> tuple[Design, dict[str, np.ndarray]]:
    """The ONNX model at ``path`` as ``(design, weights)``; weights are keyed ``"<layer>.<tensor>"``
    in PyTorch layouts, ready for ``designer.backend.runner.Runner(design, weights)``.

    ``input_shape`` ``(C, H, W)`` sets the input size (needed when the model's is dynamic: without it
    ``DynamicInputError`` says so). Raises ``OnnxImportError`` (one line naming the file and the node)
    when the model cannot be imported: unsupported ops (all listed), a graph that is not
    series-parallel, missing external data.
    """
    graph = OnnxGraph(path, input_shape)
    nodes, data = clean_graph(graph)
    units = map_nodes(graph, nodes, data)
    if graph.output_name not in data:
        raise OnnxImportError(f"{graph.path}: the output does not depend on the input image")
    items = series_parallel(units, graph.input_name, graph.output_name)
    design, weights = build_design(graph, items)
    _verify(graph.path, design, weights)
    return design, weights
