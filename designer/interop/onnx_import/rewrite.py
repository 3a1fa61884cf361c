"""Graph clean-up before mapping: keep the data path, fuse what exporters split, drop dead nodes.

* ``data_tensors``: tensors that carry the image's values (reached from the input through
  anything but ``Shape``/``Size``). The rest (the ``Shape → Gather → Concat`` chain of
  ``view(N, -1)``, constant folding leftovers) only parametrises nodes whose effect the
  inferred shapes already tell, so those nodes are dropped.
* ``fuse_matmul_add``: ``MatMul(x, W) + b`` → ``Gemm`` (one Linear).
* ``fold_pad_into_conv``: a zero ``Pad`` feeding only a Conv joins the conv's pads.
* ``fold_batchnorm_into_linear``: a BatchNorm over the output vector of a Gemm (``BatchNorm1d``
  after ``Linear``, which TorchScript leaves unfolded) scales the Gemm's weight and bias.
* ``share_concat_prefixes``: ``cat(a, b, c)`` after ``cat(a, b)`` becomes ``cat(cat(a, b), c)``
  (DenseNet concatenates every earlier feature map; this makes the graph series-parallel).
* ``fuse_group_norm``: the exporters' GroupNorm/InstanceNorm spelling ``Reshape(N, G, −1) →
  InstanceNormalization → Reshape back → Mul γ → Add β`` → one ``GroupNormalization``.
* ``prune``: nodes the output does not depend on are removed.
"""

from __future__ import annotations

import numpy as np

from .errors import Unsupported
from .mapping import Ctx, pad_amounts
from .model import SHAPE_ONLY_OPS, Node, OnnxGraph


def all_inputs(node: Node) -> list[str]:
    """The node's inputs and the outer tensors its subgraphs read (an ``If`` lists only its condition)."""
    captured: list[str] = []
    bodies = [v for v in node.attrs.values() if hasattr(v, "node") and hasattr(v, "initializer")]
    while bodies:
        body = bodies.pop()
        inner = {o for n in body.node for o in n.output} | {i.name for i in body.initializer}
        captured += [i for n in body.node for i in n.input if i and i not in inner]
        bodies += [v for n in body.node for a in n.attribute for v in ([a.g] if a.g.node else [])]
    return node.inputs + captured


def data_tensors(graph: OnnxGraph, nodes: list[Node]) -> set[str]:
    """Names of the tensors computed from the input's values (nodes are in topological order)."""
    data = {graph.input_name}
    for node in nodes:
        if node.op not in SHAPE_ONLY_OPS and any(i in data for i in all_inputs(node)):
            data.update(o for o in node.outputs if o)
    return data


def consumers_of(nodes: list[Node]) -> dict[str, list[Node]]:
    result: dict[str, list[Node]] = {}
    for node in nodes:
        for name in node.inputs:
            if name:
                result.setdefault(name, []).append(node)
    return result


def fuse_matmul_add(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``Add(MatMul(x, W), b)`` with stored ``W`` and ``b`` → ``Gemm(x, W, b)`` (``transB = 0``)."""
    users = consumers_of(nodes)
    drop: set[int] = set()
    for node in nodes:
        if node.op != "MatMul" or not graph.is_constant(node.inputs[1]):
            continue
        after = users.get(node.outputs[0], [])
        if len(after) != 1 or after[0].op != "Add" or node.outputs[0] == graph.output_name:
            continue
        add = after[0]
        bias = [i for i in add.inputs if i != node.outputs[0]]
        if len(bias) != 1 or not graph.is_constant(bias[0]):
            continue
        node.op, node.inputs, node.outputs = (
            "Gemm",
            [node.inputs[0], node.inputs[1], bias[0]],
            list(add.outputs),
        )
        drop.add(id(add))
    return [n for n in nodes if id(n) not in drop]


def fold_pad_into_conv(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """A zero ``Pad`` whose only consumer is a Conv with explicit pads: the pads are added to the conv's."""
    users = consumers_of(nodes)
    ctx = Ctx(graph, data)
    drop: set[int] = set()
    for node in nodes:
        after = users.get(node.outputs[0], []) if node.op == "Pad" else []
        if len(after) != 1 or after[0].op != "Conv" or after[0].inputs[0] != node.outputs[0]:
            continue
        conv = after[0]
        if conv.attr("auto_pad", "NOTSET") != "NOTSET" or node.outputs[0] == graph.output_name:
            continue
        try:
            top, left, bottom, right = pad_amounts(node, ctx)
        except Unsupported:
            continue
        pads = list(conv.attr("pads", [0, 0, 0, 0]))
        conv.attrs["pads"] = [pads[0] + top, pads[1] + left, pads[2] + bottom, pads[3] + right]
        conv.inputs[0] = node.inputs[0]
        drop.add(id(node))
    return [n for n in nodes if id(n) not in drop]


def share_concat_prefixes(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """Rewrite ``Concat(a₁…a_k)`` as ``Concat(Concat(a₁…a_j), a_{j+1}…a_k)`` for the longest earlier
    Concat (same axis) over the prefix ``a₁…a_j``."""
    seen: dict[tuple, str] = {}
    for node in nodes:
        if node.op != "Concat":
            continue
        axis = node.attr("axis")
        inputs = tuple(node.inputs)
        for j in range(len(inputs) - 1, 0, -1):
            earlier = seen.get((axis, inputs[:j]))
            if earlier is not None:
                node.inputs = [earlier, *inputs[j:]]
                break
        seen[(axis, inputs)] = node.outputs[0]
    return nodes


def prune(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """Only the data nodes the graph output depends on, in their order."""
    producer = {o: n for n in nodes for o in n.outputs if o}
    needed, stack = set(), [graph.output_name]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in needed or not any(o in data for o in node.outputs):
            continue
        needed.add(id(node))
        stack.extend(i for i in all_inputs(node) if i in data)
    return [n for n in nodes if id(n) in needed]


def _single_user(users: dict[str, list[Node]], node: Node, op: str, graph: OnnxGraph) -> Node | None:
    after = users.get(node.outputs[0], [])
    if len(after) == 1 and after[0].op == op and node.outputs[0] != graph.output_name:
        return after[0]
    return None


def _affine_operand(graph: OnnxGraph, node: Node | None, produced: str, channels: int) -> np.ndarray | None:
    """The stored per-channel operand (``[C, 1, 1]``/``[1, C, 1, 1]``) of ``node`` besides ``produced``."""
    if node is None:
        return None
    other = [i for i in node.inputs if i != produced]
    value = graph.constant(other[0]) if len(other) == 1 else None
    if value is None or value.size != channels or (value.ndim >= 3 and value.shape[-2:] != (1, 1)):
        return None
    return np.ravel(value).astype(np.float32)


def _group_norm_core(graph: OnnxGraph, norm: Node, users, producer) -> tuple[Node, Node] | None:
    """``(first reshape, reshape back)`` around an InstanceNormalization(1, 0) over ``[N, G, −1]``."""
    first = producer.get(norm.inputs[0])
    if first is None or first.op != "Reshape" or len(users.get(first.outputs[0], [])) != 1:
        return None
    x_shape, mid = graph.shape(first.inputs[0]), graph.shape(norm.inputs[0])
    back = _single_user(users, norm, "Reshape", graph)
    if x_shape is None or mid is None or len(x_shape) != 4 or len(mid) != 3 or back is None:
        return None
    if graph.shape(back.outputs[0]) != x_shape:
        return None
    scale, bias = graph.constant(norm.inputs[1]), graph.constant(norm.inputs[2])
    if scale is None or bias is None or np.any(scale != 1) or np.any(bias != 0):
        return None
    return first, back


def fuse_group_norm(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``Reshape(x, [N, G, −1]) → InstanceNormalization(1, 0) → Reshape(x.shape) [→ Mul γ → Add β]`` →
    ``GroupNormalization(x, γ, β, num_groups=G)`` with per-channel γ, β (ones and zeros when absent)."""
    users = consumers_of(nodes)
    producer = {o: n for n in nodes for o in n.outputs}
    drop: set[int] = set()
    for norm in [n for n in nodes if n.op == "InstanceNormalization"]:
        core = _group_norm_core(graph, norm, users, producer)
        if core is None:
            continue
        first, back = core
        c, groups = graph.shape(first.inputs[0])[1], graph.shape(norm.inputs[0])[1]
        fused_nodes, affine = [first, back], []
        for op, neutral in (("Mul", np.ones(c, np.float32)), ("Add", np.zeros(c, np.float32))):
            after = _single_user(users, fused_nodes[-1], op, graph)
            value = _affine_operand(graph, after, fused_nodes[-1].outputs[0], c)
            fused_nodes += [after] if value is not None else []
            affine.append(graph.add_constant(f"{norm.name}.{op}", neutral if value is None else value))
        attrs = {"num_groups": groups, "epsilon": norm.attr("epsilon", 1e-5)}
        fused = Node(
            "GroupNormalization",
            norm.name,
            [first.inputs[0], *affine],
            list(fused_nodes[-1].outputs),
            attrs,
            norm.scope,
            "group_norm",
        )
        drop |= {id(n) for n in fused_nodes}
        nodes = [fused if n is norm else n for n in nodes]
    return [n for n in nodes if id(n) not in drop]


def fold_batchnorm_into_linear(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``BatchNormalization(Gemm(x))`` on an ``N×F`` vector → one Gemm with ``W' = s·W``,
    ``b' = s·(b − μ) + β``,
    ``s = γ/√(σ² + ε)`` (``W`` as ``[out, in]``)."""
    users = consumers_of(nodes)
    drop: set[int] = set()
    for gemm in [n for n in nodes if n.op == "Gemm" and not n.attr("transA", 0)]:
        bn = _single_user(users, gemm, "BatchNormalization", graph)
        shape = graph.shape(gemm.outputs[0])
        stats = [graph.constant(i) for i in bn.inputs[1:5]] if bn is not None else [None]
        w, b = (
            graph.constant(gemm.inputs[1]),
            graph.constant(gemm.inputs[2]) if len(gemm.inputs) > 2 else None,
        )
        if bn is None or shape is None or len(shape) != 2 or any(v is None for v in stats) or w is None:
            continue
        gamma, beta, mean, var = (np.asarray(v, np.float64) for v in stats)
        scale = gamma / np.sqrt(var + float(bn.attr("epsilon", 1e-5)))
        weight = (w if gemm.attr("transB", 0) else w.T) * float(gemm.attr("alpha", 1.0))
        bias = (
            np.zeros(shape[1])
            if b is None
            else np.broadcast_to(b * float(gemm.attr("beta", 1.0)), (shape[1],))
        )
        own = (
            len(users.get(gemm.inputs[1], [])) == 1
        )  # then the folded weight keeps its name (names the layer)
        folded = (weight * scale[:, None]).astype(np.float32)
        weight_name = (
            graph.set_constant(gemm.inputs[1], folded) if own else graph.add_constant("onnx::folded", folded)
        )
        bias_name = graph.add_constant("onnx::folded_bias", ((bias - mean) * scale + beta).astype(np.float32))
        gemm.inputs = [gemm.inputs[0], weight_name, bias_name]
        gemm.attrs = {"transB": 1}
        gemm.outputs = list(bn.outputs[:1])
        drop.add(id(bn))
    return [n for n in nodes if id(n) not in drop]
