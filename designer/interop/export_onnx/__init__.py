"""A design with its weights as an ONNX model (``export_onnx``), for the CLI and File › Export.

The model (opset 17, checked by ``onnx.checker``) takes ``input`` ``[N, C, H, W]`` (``N`` symbolic, the
design's C, H, W) and gives ``output``; node names are the layer names (helper nodes
``<layer>/<what>``); the initializers are the weights, named like the ``state_dict`` keys
(``conv1.weight``). See :mod:`.layers` for how each type maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from designer.core import Analysis, Design, Layer
from designer.core.files import atomic_write

from ..export_checks import ExportError, class_name, input_text, prepare_export, totals_text
from .graph import Graph, LayerContext
from .layers import ONNX_LAYERS

__all__ = ["ONNX_LAYERS", "OPSET", "ExportError", "build_onnx", "export_onnx"]

OPSET = 17
EXTERNAL_DATA_BYTES = 1 << 30  # larger weights go to "<file>.data" beside the model (protobuf's 2 GB limit)


def _sequence(graph: Graph, report: Analysis, layers: tuple[Layer, ...], x: str) -> str:
    for layer in layers:
        inputs = ([_sequence(graph, report, branch, x) for branch in layer.branches]
                  if layer.type == "Branch" else [x])
        x = ONNX_LAYERS[layer.type](LayerContext(graph, layer, report.row(layer.name)), inputs)
    return x


def build_onnx(design: Design, weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """The checked ONNX model of ``design`` with ``weights`` (``{"<layer>.<tensor>": array}``, e.g.
    ``Runner(design).weights``). Raises ``ExportError`` (design errors, a type without mapping) or
    ``WeightsError`` (weights that do not fit)."""
    report, checked = prepare_export(design, weights)
    missing = sorted({layer.type for _, layer in design.walk()} - set(ONNX_LAYERS))
    if missing:
        raise ExportError(f"no ONNX mapping for layer type {missing[0]}; nothing was written")
    graph = Graph(checked or {})
    graph.rename_output(_sequence(graph, report, design.layers, "input"))
    out_shape = report.rows[-1].output_shape if report.rows else design.input.shape
    model = helper.make_model(
        helper.make_graph(
            graph.nodes, class_name(design.name),
            [_value("input", design.input.shape)], [_value("output", out_shape)],
            initializer=list(graph.initializers.values()),
            doc_string=f"{design.name}: {totals_text(report)}. {input_text(design)}"),
        opset_imports=[helper.make_opsetid("", OPSET)], producer_name="CNN Designer",
        doc_string=design.description)
    if not _large(model):
        onnx.checker.check_model(model, full_check=True)
    return model


def _large(model: onnx.ModelProto) -> bool:
    """Whether the weights need external data (protobuf cannot hold 2 GB; the checker needs a path then)."""
    return sum(len(t.raw_data) for t in model.graph.initializer) >= EXTERNAL_DATA_BYTES


def _value(name: str, shape: tuple[int, ...]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *shape])


def export_onnx(design: Design, path: str | Path, weights: Mapping[str, np.ndarray]) -> list[Path]:
    """Write ``design`` with ``weights`` as an ONNX model to ``path``; returns the paths written (a model over
    1 GiB keeps its weights in ``<path>.data`` beside it). Raises ``ExportError``, ``WeightsError`` or
    ``OSError`` (the path cannot be written); no half-written file is left behind."""
    path = Path(path)
    model = build_onnx(design, weights)
    if _large(model):
        data = path.with_name(path.name + ".data")
        onnx.save_model(model, path, save_as_external_data=True, location=data.name, size_threshold=1024)
        onnx.checker.check_model(str(path))
        return [path, data]
    atomic_write(path, lambda handle: handle.write(model.SerializeToString()))
    return [path]
