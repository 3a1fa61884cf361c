"""Squeeze-excitation written with vectors, and broadcasts spelled out, made into map layers.

The classic SE block ``y = fc(pool(x).view(N, C)).view(N, C, 1, 1); x * y.expand_as(x)`` goes
through vectors and back, which no layer of a design does. On a 1×1 map a Linear is a 1×1
convolution, so ``Flatten → (Gemm | activation)* → Reshape(N, F, 1, 1)`` becomes
``(Conv 1×1 | activation)*`` on the ``N×C×1×1`` map, and an ``Expand`` feeding only Add/Mul is
dropped (the Branch merge broadcasts).
"""

from __future__ import annotations

import numpy as np

from .model import Node, OnnxGraph
from .rewrite import consumers_of

FLATTENS = ("Flatten", "Reshape", "Squeeze")
UNFLATTENS = ("Reshape", "Unsqueeze")
VECTOR_ELEMENTWISE = (
    "Relu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Clip",
    "LeakyRelu",
    "Elu",
    "Gelu",
    "Tanh",
    "designer.SiLU",
)  # act on each feature alike: the same on a C×1×1 map


def _is_pixel(shape: tuple[int, ...] | None) -> bool:
    return shape is not None and len(shape) == 4 and shape[2:] == (1, 1)


def _vector_chain(graph: OnnxGraph, end: Node, producer: dict, users: dict) -> tuple[Node, list[Node]] | None:
    """``(flatten node, [Gemm/activation nodes])`` between a ``C×1×1`` map and the unflatten ``end``."""
    chain: list[Node] = []
    name = end.inputs[0]
    while True:
        node = producer.get(name)
        if node is None or len(users.get(name, [])) != 1:
            return None
        shape_in = graph.shape(node.inputs[0])
        if node.op in FLATTENS and _is_pixel(shape_in) and graph.shape(name) == shape_in[:2]:
            return node, chain[::-1]
        gemm_ok = (
            node.op in ("Gemm", "MatMul") and not node.attr("transA", 0) and graph.is_constant(node.inputs[1])
        )
        if not (gemm_ok or node.op in VECTOR_ELEMENTWISE):
            return None
        chain.append(node)
        name = node.inputs[0]


def _as_conv(graph: OnnxGraph, gemm: Node) -> Node:
    """A Gemm (or MatMul) on a vector as the 1×1 Conv on the pixel: ``W [out, in] → [out, in, 1, 1]``,
    ``b = beta·C``."""
    b = graph.constant(gemm.inputs[1])
    weight = (b if gemm.attr("transB", 0) else b.T) * float(gemm.attr("alpha", 1.0))
    inputs = [
        gemm.inputs[0],
        graph.add_constant("onnx::conv1x1", weight[:, :, None, None].astype(np.float32)),
    ]
    bias = graph.constant(gemm.inputs[2]) if len(gemm.inputs) > 2 and gemm.inputs[2] else None
    if bias is not None:
        value = np.broadcast_to(bias * float(gemm.attr("beta", 1.0)), (weight.shape[0],)).astype(np.float32)
        inputs.append(graph.add_constant("onnx::conv1x1_bias", value))
    return Node(
        "Conv", gemm.name, inputs, list(gemm.outputs), {"kernel_shape": [1, 1]}, gemm.scope, gemm.leaf
    )


def _rename_uses(nodes: list[Node], old: str, new: str) -> None:
    for node in nodes:
        node.inputs = [new if i == old else i for i in node.inputs]


def vector_heads_to_pixels(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``Flatten → (Gemm | activation)* → Reshape to N×F×1×1`` → ``(Conv 1×1 | activation)*`` on the pixel."""
    producer = {o: n for n in nodes for o in n.outputs}
    users = consumers_of(nodes)
    drop: set[int] = set()
    for end in [n for n in nodes if n.op in UNFLATTENS]:
        if not _is_pixel(graph.shape(end.outputs[0])) or end.outputs[0] == graph.output_name:
            continue
        found = _vector_chain(graph, end, producer, users)
        if found is None or not found[1]:
            continue
        flatten, chain = found
        chain[0].inputs[0] = flatten.inputs[0]
        converted = [_as_conv(graph, n) if n.op in ("Gemm", "MatMul") else n for n in chain]
        for node in converted:
            graph.shapes[node.outputs[0]] = (*graph.shape(node.outputs[0]), 1, 1)
        nodes = [dict(zip(map(id, chain), converted)).get(id(n), n) for n in nodes]
        _rename_uses(nodes, end.outputs[0], end.inputs[0])
        drop |= {id(flatten), id(end)}
    return [n for n in nodes if id(n) not in drop]


def drop_broadcast_expands(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """An ``Expand`` whose every consumer is an Add, Mul or Sum is dropped: the merge broadcasts anyway."""
    users = consumers_of(nodes)
    drop: set[int] = set()
    for node in [n for n in nodes if n.op == "Expand" and n.outputs[0] != graph.output_name]:
        after = users.get(node.outputs[0], [])
        if after and all(n.op in ("Add", "Mul", "Sum") for n in after):
            _rename_uses(after, node.outputs[0], node.inputs[0])
            drop.add(id(node))
    return [n for n in nodes if id(n) not in drop]
