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


def _sequence(graph: Graph, report: Analysis, layers: tuple[Layer, ...], x: str,
              shapes: dict[str, tuple[int, ...]]) -> str:
    """Emit ``layers`` from tensor ``x``; returns the last tensor. ``shapes`` collects each layer's output
    tensor and shape (value_info: viewers show the shapes, the checker verifies them)."""
    for layer in layers:
        inputs = ([_sequence(graph, report, branch, x, shapes) for branch in layer.branches]
                  if layer.type == "Branch" else [x])
        row = report.row(layer.name)
        x = ONNX_LAYERS[layer.type](LayerContext(graph, layer, row), inputs)
        shapes[x] = tuple(row.output_shape)
    return x


def build_onnx(design: Design, weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """The checked ONNX model of ``design`` with ``weights`` (``{"<layer>.<tensor>": array}``, e.g.
    ``Runner(design).weights``). Raises ``ExportError`` (design errors, a type without mapping) or
    ``WeightsError`` (weights that do not fit)."""
    model = _unchecked_model(design, weights)
    if not _large(weights):
        onnx.checker.check_model(model, full_check=True)
    return model


def _unchecked_model(design: Design, weights: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    report, checked = prepare_export(design, weights)
    missing = sorted({layer.type for _, layer in design.walk()} - set(ONNX_LAYERS))
    if missing:
        raise ExportError(f"no ONNX mapping for layer type {missing[0]}; nothing was written")
    graph, shapes = Graph(checked or {}, frozenset(layer.name for _, layer in design.walk())), {}
    last = _sequence(graph, report, design.layers, "input", shapes)
    graph.rename_output(last)
    out_shape = report.rows[-1].output_shape if report.rows else design.input.shape
    return helper.make_model(
        helper.make_graph(
            graph.nodes, class_name(design.name),
            [_value("input", design.input.shape)], [_value("output", out_shape)],
            initializer=list(graph.initializers.values()),
            value_info=[_value(t, s) for t, s in shapes.items() if t not in (last, "input")],
            doc_string=f"{design.name}: {totals_text(report)}. {input_text(design)}"),
        opset_imports=[helper.make_opsetid("", OPSET)], producer_name="CNN Designer",
        doc_string=design.description)


def _large(weights: Mapping[str, np.ndarray]) -> bool:
    """Whether the weights need external data (protobuf cannot hold 2 GB; the checker needs a path then)."""
    return sum(np.asarray(w).size * 4 for w in weights.values()) >= EXTERNAL_DATA_BYTES  # float32


def _value(name: str, shape: tuple[int, ...]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *shape])


def export_onnx(design: Design, path: str | Path, weights: Mapping[str, np.ndarray]) -> list[Path]:
    """Write ``design`` with ``weights`` as an ONNX model to ``path``; returns the paths written (a model over
    1 GiB keeps its weights in ``<path>.data`` beside it). Raises ``ExportError``, ``WeightsError`` or
    ``OSError`` (the path cannot be written). The model is serialised once, checked (``onnx.checker``, with
    shape inference) and written atomically: no half-written file is left behind (a model with external
    data is written by ``onnx.save_model`` and checked from its path)."""
    path = Path(path)
    model = _unchecked_model(design, weights)
    if _large(weights):
        data = path.with_name(path.name + ".data")
        onnx.save_model(model, path, save_as_external_data=True, location=data.name, size_threshold=1024)
        onnx.checker.check_model(str(path))
        return [path, data]
    data = model.SerializeToString()
    del model
    onnx.checker.check_model(data, full_check=True)
    atomic_write(path, lambda handle: handle.write(data))
    return [path]
