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


def fold_constants(graph: OnnxGraph) -> dict[str, np.ndarray]:
    """``{tensor: value}`` for every foldable node output (empty when nothing folds or evaluation fails)."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    known: dict[str, np.ndarray] = {}
    pending = []
    for node, proto in zip(graph.nodes, graph._protos):
        if (
            node.op in ("Shape", "Size")
            and node.inputs[0] not in known
            and not graph.is_constant(node.inputs[0])
        ):
            value = _shape_value(graph, node)
            if value is not None:
                known[node.outputs[0]] = value
            continue
        if (
            node.inputs
            and all(not i or i in known or graph.is_constant(i) for i in node.inputs)
            and node.op not in ("If", "Loop", "Scan")
        ):
            pending.append(proto)
            known.update({o: None for o in node.outputs})  # type: ignore[misc]
    if not pending:
        return {k: v for k, v in known.items() if v is not None}
    feeds = {k: v for k, v in known.items() if v is not None}
    names = {i for p in pending for i in p.input if i and i not in known}
    stored = [numpy_helper.from_array(np.asarray(graph.constant(n)), n) for n in sorted(names)]
    outputs = [o for p in pending for o in p.output if o]
    try:
        model = helper.make_model(
            helper.make_graph(
                pending,
                "fold",
                [
                    helper.make_tensor_value_info(k, numpy_helper.from_array(v).data_type, list(v.shape))
                    for k, v in feeds.items()
                ],
                [helper.make_empty_tensor_value_info(o) for o in outputs],
                initializer=stored,
            ),
            opset_imports=list(graph.model.opset_import),
            ir_version=graph.model.ir_version,
        )
        values = ReferenceEvaluator(model).run(None, feeds)
    except Exception:  # noqa: BLE001 (folding is an optimisation: anything it cannot evaluate stays a node)
        return feeds
    return feeds | {o: np.asarray(v) for o, v in zip(outputs, values)}
