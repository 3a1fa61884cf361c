"""Building an ONNX graph layer by layer: nodes named after layers, weights as initializers named like the
``state_dict``.

A layer's main node is named after the layer and its output tensor too (``conv1``); the nodes it
needs around it are ``<layer>/<what>`` (``conv1/pad``). Non-trained constants (pads, scales, axes)
are ``Constant`` nodes, so the initializers are exactly the ``state_dict`` tensors the graph uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from designer.core import Layer, LayerRow

Shape = tuple[int, ...]


@dataclass
class Graph:
    """The nodes and initializers so far; ``weights`` are the app's ``{"<layer>.<tensor>": array}``;
    ``layer_names`` are kept for the layers' main nodes (a helper ``a/pad`` never takes a layer's name)."""

    weights: Mapping[str, np.ndarray]
    layer_names: frozenset[str] = frozenset()
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: dict[str, onnx.TensorProto] = field(default_factory=dict)
    tensor_names: set[str] = field(default_factory=lambda: {"input", "output"})
    node_names: set[str] = field(default_factory=set)

    @staticmethod
    def _fresh(name: str, taken: set[str], reserved: frozenset[str] = frozenset()) -> str:
        unique, k = name, 1
        while unique in taken or unique in reserved:
            unique, k = f"{name}_{k}", k + 1
        taken.add(unique)
        return unique

    def add(self, op: str, inputs: Sequence[str], name: str, main: bool = False, **attrs: Any) -> str:
        """Append a node named ``name`` (made unique unless it is a layer's ``main`` node) whose one output
        tensor has that name; returns the tensor."""
        node_name = self._fresh(name, self.node_names, frozenset() if main else self.layer_names)
        out = self._fresh(name, self.tensor_names, frozenset() if main else self.layer_names)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=node_name, **attrs))
        return out

    def add_split(self, tensor: str, parts: int, axis: int, name: str) -> list[str]:
        """A ``Split`` of ``tensor`` into ``parts`` equal parts along ``axis``; returns their tensors
        (``<name>_1``, …)."""
        node_name = self._fresh(name, self.node_names, self.layer_names)
        outs = [self._fresh(f"{name}_{k}", self.tensor_names, self.layer_names) for k in range(1, parts + 1)]
        self.nodes.append(helper.make_node("Split", [tensor], outs, name=node_name, axis=axis))
        return outs

    def constant(self, name: str, value: np.ndarray) -> str:
        """A ``Constant`` node holding ``value``; returns its output tensor's name."""
        node_name = self._fresh(name, self.node_names, self.layer_names)
        out = self._fresh(name, self.tensor_names, self.layer_names)
        self.nodes.append(helper.make_node("Constant", [], [out], name=node_name,
                                           value=numpy_helper.from_array(np.asarray(value), out)))
        return out

    def initializer(self, key: str) -> str:
        """The weight ``key`` as an initializer of the same name (float32)."""
        if key not in self.initializers:
            array = np.ascontiguousarray(self.weights[key], dtype=np.float32)
            self.initializers[key] = numpy_helper.from_array(array, key)
            self.tensor_names.add(key)
        return key

    def rename_output(self, tensor: str, name: str = "output") -> None:
        """Give the graph's last tensor the name ``output`` (an ``Identity`` when it is the input itself)."""
        if tensor == "input":
            self.nodes.append(helper.make_node("Identity", ["input"], [name], name=name))
            return
        for node in self.nodes:
            for seq in (node.input, node.output):
                for i, t in enumerate(seq):
                    if t == tensor:
                        seq[i] = name


@dataclass
class LayerContext:
    """What an emitter needs: the graph, the layer, its analysis row (shapes without the batch)."""

    graph: Graph
    layer: Layer
    row: LayerRow

    @property
    def hp(self) -> dict[str, Any]:
        return self.layer.hp

    @property
    def in_shape(self) -> Shape:
        return tuple(self.row.input_shape)

    @property
    def out_shape(self) -> Shape:
        return tuple(self.row.output_shape)

    def node(self, op: str, inputs: Sequence[str], what: str | None = None, **attrs: Any) -> str:
        """The layer's main node (``what`` None: named after the layer) or a helper ``<layer>/<what>``."""
        if what is None:
            return self.graph.add(op, inputs, self.layer.name, main=True, **attrs)
        return self.graph.add(op, inputs, f"{self.layer.name}/{what}", **attrs)

    def split(self, tensor: str, parts: int, axis: int, what: str) -> list[str]:
        """``tensor`` in ``parts`` equal parts along ``axis`` (a helper ``Split`` node ``<layer>/<what>``)."""
        return self.graph.add_split(tensor, parts, axis, f"{self.layer.name}/{what}")

    def const(self, what: str, value: Any, dtype: Any = np.float32) -> str:
        return self.graph.constant(f"{self.layer.name}/{what}", np.asarray(value, dtype=dtype))

    def ints(self, what: str, values: Sequence[int]) -> str:
        """An int64 1-D constant (pads, axes, shapes)."""
        return self.const(what, list(values), np.int64)

    def weight(self, tensor: str) -> str | None:
        """The initializer ``<layer>.<tensor>``, or ``None`` when the layer has no such tensor."""
        key = f"{self.layer.name}.{tensor}"
        return self.graph.initializer(key) if key in self.graph.weights else None
