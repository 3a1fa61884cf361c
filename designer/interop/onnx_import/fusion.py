"""Activations that exporters spell as several elementwise nodes, recognised by what they compute.

A region is a set of elementwise nodes whose only data input is one tensor ``x`` (the other
operands are stored scalars) and whose only result used outside is its last node's output. The
region is evaluated in float64 on probe values and compared with the candidate activations, so
every spelling is found: ``x·Sigmoid(x)`` (SiLU), ``0.5·x·(1 + erf(x/√2))`` in any operand
order (GELU), the tanh form of GELU, ``x·relu6(x + 3)/6`` (Hardswish), ``relu6(x + 3)/6``
(Hardsigmoid). A match becomes one node of the matching op; anything else is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .model import Node, OnnxGraph

PROBE = np.concatenate([np.linspace(-8.0, 8.0, 321), [-1e-3, 1e-3, 2.5, -2.5, 3.0, -3.0]])
_erf = np.vectorize(math.erf)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 6.0)


# (ONNX-style op, attributes, f(x)) in the order they are tried
CANDIDATES: tuple[tuple[str, dict, Callable[[np.ndarray], np.ndarray]], ...] = (
    ("designer.SiLU", {}, lambda x: x * _sigmoid(x)),
    ("Gelu", {"approximate": "none"}, lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))),
    (
        "Gelu",
        {"approximate": "tanh"},
        lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    ),
    ("HardSwish", {}, lambda x: x * _relu6(x + 3.0) / 6.0),
    ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, lambda x: _relu6(x + 3.0) / 6.0),
    ("Clip", {"min": 0.0, "max": 6.0}, _relu6),
    ("Relu", {}, lambda x: np.maximum(x, 0.0)),
    ("Sigmoid", {}, _sigmoid),
    ("Tanh", {}, np.tanh),
)

BINARY = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": np.divide,
    "Pow": np.power,
    "Max": np.maximum,
    "Min": np.minimum,
}
UNARY = {
    "Erf": _erf,
    "Tanh": np.tanh,
    "Sigmoid": _sigmoid,
    "Relu": lambda x: np.maximum(x, 0.0),
    "Neg": np.negative,
    "Exp": np.exp,
    "Sqrt": np.sqrt,
    "Abs": np.abs,
    "Identity": lambda x: x,
}


def _evaluate(node: Node, values: list[np.ndarray]) -> np.ndarray:
    if node.op in BINARY:
        return BINARY[node.op](values[0], values[1])
    if node.op in UNARY:
        return UNARY[node.op](values[0])
    if node.op == "Clip":
        lo = values[1] if len(values) > 1 and values[1] is not None else -np.inf
        hi = values[2] if len(values) > 2 and values[2] is not None else np.inf
        return np.clip(values[0], lo, hi)
    alpha, beta = node.attr("alpha", 0.2), node.attr("beta", 0.5)  # HardSigmoid
    return np.clip(alpha * values[0] + beta, 0.0, 1.0)


ELEMENTWISE = set(BINARY) | set(UNARY) | {"Clip", "HardSigmoid"}


class _Fuser:
    def __init__(self, graph: OnnxGraph, nodes: list[Node], data: set[str]) -> None:
        self.graph, self.data = graph, data
        self.order = {id(n): i for i, n in enumerate(nodes)}
        self.alive = list(nodes)
        self.consumers: dict[str, list[Node]] = {}
        for node in nodes:
            for name in set(node.inputs):
                self.consumers.setdefault(name, []).append(node)

    def replace(self, part: list[Node], fused: Node) -> None:
        """Put ``fused`` where the region's last node was; the region's nodes are gone."""
        drop = {id(n) for n in part}
        self.order[id(fused)] = self.order[id(part[-1])]
        self.alive = [n for n in self.alive if id(n) not in drop] + [fused]
        for name in {i for n in part for i in n.inputs} | set(fused.inputs):
            users = [n for n in self.consumers.get(name, []) if id(n) not in drop]
            self.consumers[name] = users + ([fused] if name in fused.inputs else [])

    def _scalar(self, name: str) -> np.ndarray | None:
        value = self.graph.constant(name) if name else None
        return None if value is None or value.size != 1 else np.float64(np.ravel(value)[0])

    def _eligible(self, node: Node, available: set[str]) -> bool:
        if node.op not in ELEMENTWISE or len(node.outputs) != 1:
            return False
        return all(not i or i in available or self._scalar(i) is not None for i in node.inputs) and any(
            i in available for i in node.inputs
        )

    def region(self, x: str) -> list[Node]:
        """Elementwise nodes computable from ``x`` and scalars alone, in graph order."""
        available, members = {x}, []
        frontier = [x]
        while frontier:
            name = frontier.pop()
            for node in self.consumers.get(name, []):
                if node not in members and self._eligible(node, available):
                    members.append(node)
                    available.add(node.outputs[0])
                    frontier.append(node.outputs[0])
        return sorted(members, key=lambda n: self.order[id(n)])

    def _closed(self, part: list[Node], exit_node: Node) -> bool:
        """No result of ``part`` but the exit's is used outside it (or is the graph output)."""
        inside = {id(n) for n in part}
        for node in part:
            if node is exit_node:
                continue
            out = node.outputs[0]
            if out == self.graph.output_name or any(id(c) not in inside for c in self.consumers.get(out, [])):
                return False
        return True

    def _compute(self, x: str, part: list[Node]) -> np.ndarray | None:
        """The region's output on ``PROBE`` (``None`` when a node cannot be evaluated, e.g. a missing
        operand)."""
        values: dict[str, np.ndarray] = {x: PROBE}
        with np.errstate(all="ignore"):
            for node in part:
                args = [values.get(i, self._scalar(i)) if i else None for i in node.inputs]
                try:
                    values[node.outputs[0]] = _evaluate(node, args)
                except (TypeError, ValueError, IndexError):
                    return None
        return values[part[-1].outputs[0]]

    def match(self, x: str) -> tuple[list[Node], Node] | None:
        """The largest closed sub-region ending in one node that computes a candidate activation."""
        members = self.region(x)
        for exit_node in reversed(members):
            part = _ancestors(members, exit_node)
            if len(part) < 2 or not self._closed(part, exit_node):
                continue
            y = self._compute(x, part)
            for op, attrs, fn in CANDIDATES:
                if y is not None and np.allclose(y, fn(PROBE), rtol=1e-5, atol=1e-5):
                    return part, _fused_node(op, attrs, x, exit_node)
        return None


def _ancestors(members: list[Node], exit_node: Node) -> list[Node]:
    """``exit_node`` and the members it depends on, in graph order."""
    produced = {n.outputs[0]: n for n in members}
    keep, stack = {id(exit_node)}, [exit_node]
    while stack:
        for name in stack.pop().inputs:
            node = produced.get(name)
            if node is not None and id(node) not in keep:
                keep.add(id(node))
                stack.append(node)
    return [n for n in members if id(n) in keep]


def _fused_node(op: str, attrs: dict, x: str, exit_node: Node) -> Node:
    """One node for the region; a leaf name that only named the exit's op (``Mul_3``) names the activation."""
    leaf = exit_node.leaf
    if not leaf or leaf.lower().startswith(exit_node.op.lower()):
        leaf = op.rsplit(".", 1)[-1].lower()
    return Node(op, exit_node.name, [x], list(exit_node.outputs), dict(attrs), exit_node.scope, leaf)


def fuse_activations(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``nodes`` with every recognised multi-node activation replaced by one node (tensors are tried in
    graph order; a fusion keeps the names of the tensors after it, so the scan goes on from there)."""
    fuser = _Fuser(graph, nodes, data)
    for name in [graph.input_name] + [o for n in nodes for o in n.outputs if o in data]:
        found = fuser.match(name)
        if found is not None:
            fuser.replace(*found)
    return sorted(fuser.alive, key=lambda n: fuser.order[id(n)])
