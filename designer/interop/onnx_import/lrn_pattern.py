"""PyTorch's LocalResponseNorm as the exporters (and CNN Designer's own ONNX export) spell it.

``F.local_response_norm`` is not one ONNX ``LRN`` but its own formula over a 5-D view::

    d = x·x                                   [N, C, H, W]
    d = view(d, [N, 1, C, H, W])              (Reshape / Unsqueeze)
    d = pad(d, channels: ⌊n/2⌋ before, ⌊(n−1)/2⌋ after)   (a Pad node, or the pool's own pads)
    d = AveragePool(d, kernel [n, 1, 1])      (zeros counted)
    d = view(d, [N, C, H, W])                 (Squeeze / Reshape / an If choosing a Squeeze)
    y = x / (k + α·d)^β                       (Mul, Add, Pow, Div in either operand order)

``fuse_local_response_norm`` finds this chain backwards from each ``Div`` and replaces it by one
``designer.LocalResponseNorm`` node (PyTorch's window, any size ``n``); a chain that differs anywhere
(other pads, a stride, another operand) is left alone and reported as unsupported ops as before.
"""

from __future__ import annotations

import numpy as np

from .model import Node, OnnxGraph
from .rewrite import all_inputs

RESHAPES = ("Reshape", "Squeeze", "Unsqueeze", "Identity")
IF_BODY_OPS = frozenset(RESHAPES + ("Constant",))
FUSED_OP = "designer.LocalResponseNorm"


class _Chain:
    """Walks producers backwards over data tensors; ``None`` ends a match."""

    def __init__(self, graph: OnnxGraph, nodes: list[Node], data: set[str]) -> None:
        self.graph, self.data = graph, data
        self.producer = {o: n for n in nodes for o in n.outputs if o}

    def scalar(self, name: str) -> float | None:
        value = self.graph.constant(name) if self.graph.is_constant(name) else None
        return float(np.asarray(value).reshape(-1)[0]) if value is not None and np.size(value) == 1 else None

    def split(self, node: Node | None, op: str) -> tuple[str, float] | None:
        """``(data operand, scalar operand)`` of a binary ``op`` node with one stored scalar."""
        if node is None or node.op != op or len(node.inputs) != 2:
            return None
        for data, other in (node.inputs, node.inputs[::-1]):
            value = self.scalar(other)
            if data in self.data and value is not None:
                return data, value
        return None

    def through_reshapes(self, name: str) -> tuple[str, list[Node]]:
        """Up through layout-keeping reshapes (an ``If`` whose branches only reshape counts as one)."""
        passed = []
        node = self.producer.get(name)
        while node is not None and (node.op in RESHAPES or self._reshaping_if(node)):
            passed.append(node)
            name = next(i for i in node.inputs if i in self.data) if node.op != "If" else self._if_input(node)
            node = self.producer.get(name)
        return name, passed

    def _reshaping_if(self, node: Node) -> bool:
        if node.op != "If":
            return False
        bodies = [node.attr("then_branch"), node.attr("else_branch")]
        return all(b is not None and {n.op_type for n in b.node} <= IF_BODY_OPS for b in bodies) \
            and self._if_input(node) is not None

    def _if_input(self, node: Node) -> str | None:
        """The one outer data tensor both branches of an ``If`` read."""
        outer = {i for b in (node.attr("then_branch"), node.attr("else_branch")) for n in b.node
                 for i in n.input if i in self.data}
        return next(iter(outer)) if len(outer) == 1 else None


def _channel_pads(chain: _Chain, pool: Node) -> tuple[str, tuple[int, int], list[Node]] | None:
    """Above the pool: the 5-D tensor's source, the channel padding (the pool's and a ``Pad``'s), nodes."""
    pads = list(pool.attr("pads", [0] * 6))
    if len(pads) != 6 or any(pads[i] for i in (1, 2, 4, 5)):
        return None
    before, after = pads[0], pads[3]
    name, passed = pool.inputs[0], []
    node = chain.producer.get(name)
    if node is not None and node.op == "Pad" and node.attr("mode", "constant") == "constant":
        amounts = chain.graph.constant(node.inputs[1]) if chain.graph.is_constant(node.inputs[1]) else None
        fill = chain.scalar(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else 0.0
        if amounts is None or len(amounts) != 10 or fill != 0.0 or len(node.inputs) > 3 and node.inputs[3]:
            return None
        amounts = [int(a) for a in amounts]
        if any(amounts[i] for i in (0, 1, 3, 4, 5, 6, 8, 9)):
            return None
        before, after = before + amounts[2], after + amounts[7]
        passed.append(node)
        name = node.inputs[0]
    return name, (before, after), passed


def _match(chain: _Chain, div: Node) -> tuple[str, dict, list[Node]] | None:
    """``(x, LRN attributes, the nodes replaced)`` when ``div`` ends PyTorch's LocalResponseNorm."""
    if div.op != "Div" or len(div.inputs) != 2 or not all(i in chain.data for i in div.inputs):
        return None
    x = div.inputs[0]
    power = chain.split(chain.producer.get(div.inputs[1]), "Pow")
    plus = chain.split(chain.producer.get(power[0]), "Add") if power else None
    times = chain.split(chain.producer.get(plus[0]), "Mul") if plus else None
    if times is None:
        return None
    mean, reshaped = chain.through_reshapes(times[0])
    pool = chain.producer.get(mean)
    if pool is None or pool.op != "AveragePool" or pool.attr("count_include_pad", 0) != 1:
        return None
    kernel, strides = list(pool.attr("kernel_shape", [])), list(pool.attr("strides", [1, 1, 1]))
    if len(kernel) != 3 or kernel[1:] != [1, 1] or strides != [1, 1, 1] or pool.attr("ceil_mode", 0):
        return None
    size = kernel[0]
    padded = _channel_pads(chain, pool)
    if padded is None or padded[1] != (size // 2, (size - 1) // 2):
        return None
    source, viewed = chain.through_reshapes(padded[0])
    square = chain.producer.get(source)
    shape_5d, shape_x = chain.graph.shape(padded[0]), chain.graph.shape(x)
    if square is None or square.op != "Mul" or list(square.inputs) != [x, x] or shape_5d is None \
            or shape_x is None or list(shape_5d[1:]) != [1, *shape_x[1:]]:
        return None
    nodes = [div, chain.producer[div.inputs[1]], chain.producer[power[0]], chain.producer[plus[0]],
             *reshaped, pool, *padded[2], *viewed, square]
    attrs = {"size": size, "alpha": times[1], "beta": power[1], "bias": plus[1]}
    return x, attrs, nodes


def fuse_local_response_norm(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``nodes`` with each PyTorch LocalResponseNorm chain (see the module docstring) as one node named
    like its ``Div``; intermediate tensors used elsewhere keep the chain as it is."""
    chain = _Chain(graph, nodes, data)
    users: dict[str, int] = {}
    for node in nodes:
        for name in set(all_inputs(node)):
            users[name] = users.get(name, 0) + 1
    drop: set[int] = set()
    for node in nodes:
        found = _match(chain, node) if node.op == "Div" else None
        if found is None:
            continue
        x, attrs, chain_nodes = found
        inner = [o for n in chain_nodes[1:] for o in n.outputs if o]
        expected = {o: 1 for o in inner}
        if any(users.get(o, 0) != expected[o] for o in inner) or graph.output_name in inner:
            continue
        node.op, node.inputs, node.attrs = FUSED_OP, [x], attrs
        drop.update(id(n) for n in chain_nodes[1:])
    return [n for n in nodes if id(n) not in drop]
