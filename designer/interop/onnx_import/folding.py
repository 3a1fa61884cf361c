"""Constant folding of the nodes that do not depend on the image's values.

Exporters compute some attributes in the graph: TorchScript builds a ``ZeroPad2d``'s pads with
``Concat → Reshape → Slice → Transpose → Cast``, ``view(N, -1)`` builds its target shape from
``Shape → Gather → Unsqueeze → Concat``. Such nodes are evaluated once here with ONNX's reference
evaluator (``Shape`` of a tensor from the inferred shapes), so the mappings see stored values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import OnnxGraph


def _shape_value(graph: OnnxGraph, node) -> np.ndarray | None:
    shape = graph.shape(node.inputs[0])
    if shape is None:
        return None
    if node.op == "Size":
        return np.array(int(np.prod(shape)), dtype=np.int64)
    start, end = node.attr("start", 0), node.attr("end")
    return np.array(shape[start:end], dtype=np.int64)


def _foldable(graph: OnnxGraph) -> tuple[dict[str, np.ndarray], list]:
    """``(values known already, protos to evaluate)``: ``Shape``/``Size`` of tensors with inferred shapes, and
    every node whose inputs are all constants or outputs of such nodes (no control flow)."""
    known: dict[str, np.ndarray] = {}
    later: set[str] = set()
    pending = []
    for node, proto in zip(graph.nodes, graph.protos):
        if node.op in ("Shape", "Size") and not graph.is_constant(node.inputs[0]):
            value = _shape_value(graph, node)
            if value is not None:
                known[node.outputs[0]] = value
            continue
        ready = all(not i or i in known or i in later or graph.is_constant(i) for i in node.inputs)
        if node.inputs and ready and node.op not in ("If", "Loop", "Scan"):
            pending.append(proto)
            later.update(node.outputs)
    return known, pending


def fold_constants(graph: OnnxGraph) -> dict[str, np.ndarray]:
    """``{tensor: value}`` for every foldable node output (only the shapes when evaluation fails)."""
    feeds, pending = _foldable(graph)
    if not pending:
        return feeds
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator  # only for models that compute constants

    names = {i for p in pending for i in p.input if i and i not in feeds} - {
        o for p in pending for o in p.output
    }
    stored = [numpy_helper.from_array(np.asarray(graph.constant(n)), n) for n in sorted(names)]
    outputs = [o for p in pending for o in p.output if o]
    inputs = [
        helper.make_tensor_value_info(k, numpy_helper.from_array(v).data_type, list(v.shape))
        for k, v in feeds.items()
    ]
    try:
        model = helper.make_model(
            helper.make_graph(
                pending,
                "fold",
                inputs,
                [helper.make_empty_tensor_value_info(o) for o in outputs],
                initializer=stored,
            ),
            opset_imports=list(graph.model.opset_import),
            ir_version=graph.model.ir_version,
        )
        values = ReferenceEvaluator(model).run(None, feeds)
    except Exception:
        return feeds
    return feeds | {o: np.asarray(v) for o, v in zip(outputs, values)}
