"""A grouped convolution written out: ``Split`` → one ``Conv``/``ConvTranspose`` per group → ``Concat``.

CNN Designer's own ONNX export writes a grouped ``ConvTranspose`` this way (``onnx.reference`` computes
grouped ones wrongly), and hand-written models do it for either op. ``fuse_split_groups`` makes it one
node with ``group = g``: group ``k`` reads input channels ``[k·C/g, (k+1)·C/g)`` and writes output channels
``[k·M/g, (k+1)·M/g)``, so the weights (and biases) of the groups, stacked along axis 0, are the grouped
weight (``Conv`` ``[M, C/g, kh, kw]``, ``ConvTranspose`` ``[C, M/g, kh, kw]``).
"""

from __future__ import annotations

import numpy as np

from .model import Node, OnnxGraph
from .rewrite import consumers_of

CONVS = ("Conv", "ConvTranspose")


def _equal_split(graph: OnnxGraph, split: Node | None, axis: int, parts: int) -> bool:
    """``split`` cuts its input into ``parts`` equal pieces along ``axis``."""
    if split is None or split.op != "Split" or split.attr("axis", 0) != axis or len(split.outputs) != parts:
        return False
    sizes_name = split.inputs[1] if len(split.inputs) > 1 else ""
    if not sizes_name:
        return split.attr("split") is None or len(set(split.attr("split"))) == 1
    sizes = graph.constant(sizes_name) if graph.is_constant(sizes_name) else None
    return sizes is not None and len(set(np.asarray(sizes).tolist())) == 1


def _stacked(graph: OnnxGraph, names: list[str], producer: dict[str, Node], fresh: str) -> str | None:
    """One constant holding ``names`` stacked along axis 0: the tensor they were split from when they are
    the equal parts of one stored tensor, else a new constant ``fresh``; ``None`` when one is not stored."""
    split = producer.get(names[0])
    if _equal_split(graph, split, 0, len(names)) and split.outputs == names \
            and graph.is_constant(split.inputs[0]):
        return split.inputs[0]
    values = [graph.constant(n) if graph.is_constant(n) else None for n in names]
    if any(v is None for v in values):
        return None
    return graph.add_constant(fresh, np.concatenate(values, axis=0))


def _per_group(graph: OnnxGraph, cat: Node, users, producer) -> tuple[Node, list[Node], Node] | None:
    """``(the Split, the per-group convs, their first)`` when ``cat`` ends a written-out grouped conv."""
    convs = [producer.get(i) for i in cat.inputs]
    first = convs[0]
    if len(convs) < 2 or cat.attr("axis") != 1 or any(c is None or c.op not in CONVS for c in convs):
        return None
    split = producer.get(first.inputs[0])
    if not _equal_split(graph, split, 1, len(convs)) or [c.inputs[0] for c in convs] != split.outputs:
        return None
    if any(c.attrs != first.attrs or len(c.inputs) != len(first.inputs) for c in convs) or \
            first.attr("group", 1) != 1 or first.attr("output_shape") is not None:
        return None
    inner = split.outputs + [o for c in convs for o in c.outputs]
    if any(len(users.get(o, [])) != 1 for o in inner) or len(users.get(split.inputs[0], [])) < 1:
        return None
    return split, convs, first


def fuse_split_groups(graph: OnnxGraph, nodes: list[Node], data: set[str]) -> list[Node]:
    """``nodes`` with every written-out grouped convolution (see the module docstring) as one node named like
    its ``Concat``."""
    users = consumers_of(nodes)
    producer = {o: n for n in graph.nodes for o in n.outputs if o}
    producer.update({o: n for n in nodes for o in n.outputs if o})
    drop: set[int] = set()
    for cat in [n for n in nodes if n.op == "Concat"]:
        found = _per_group(graph, cat, users, producer)
        if found is None:
            continue
        split, convs, first = found
        stacked = [_stacked(graph, [c.inputs[k] for c in convs], producer, f"{cat.name}.{what}")
                   for k, what in ((1, "weight"), (2, "bias"))[: len(first.inputs) - 1]]
        if any(s is None for s in stacked):
            continue
        cat.op, cat.inputs = first.op, [split.inputs[0], *stacked]
        cat.attrs = {**first.attrs, "group": len(convs)}
        drop.update(id(n) for n in (split, *convs))
    return [n for n in nodes if id(n) not in drop]
