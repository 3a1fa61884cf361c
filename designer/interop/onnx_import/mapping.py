"""What an op mapping returns, the context it reads, and the registry (one mapping per ONNX op type).

A mapping ``fn(node, ctx)`` returns a list of ``Draft`` layers (empty: the node is the identity,
e.g. Dropout at inference) or a ``Merge`` (the node joins branches: Add, Mul, Concat), or raises
``Unsupported(reason)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import Unsupported
from .model import Node, OnnxGraph


@dataclass
class Draft:
    """A layer before naming: its type, hyperparameters and tensors (``{"weight": array, …}``)."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    role: str = ""  # name suffix when one node makes several layers (``pad`` for a ZeroPad2d before a conv)


@dataclass
class Merge:
    """The node joins its data inputs into a ``Branch`` with this merge (``concat``, ``add``, ``mul``)."""

    merge: str


Mapped = list[Draft] | Merge
OpMapping = Callable[[Node, "Ctx"], Mapped]


@dataclass(frozen=True)
class OpEntry:
    """A registered mapping and the design layer types it can produce (for the coverage table)."""

    fn: OpMapping
    produces: tuple[str, ...]


OP_MAPPINGS: dict[str, OpEntry] = {}


def maps(
    *ops: str, produces: tuple[str, ...] | dict[str, tuple[str, ...]] = ()
) -> Callable[[OpMapping], OpMapping]:
    """Register ``fn`` as the mapping of the ONNX op types ``ops``; ``produces`` lists the layer types it
    makes (one tuple for all, or per op)."""

    def register(fn: OpMapping) -> OpMapping:
        for op in ops:
            OP_MAPPINGS[op] = OpEntry(fn, produces[op] if isinstance(produces, dict) else produces)
        return fn

    return register


class Ctx:
    """What a mapping may ask: constants, shapes, which inputs carry data."""

    def __init__(self, graph: OnnxGraph, data: set[str]) -> None:
        self.graph = graph
        self.data = data

    def data_inputs(self, node: Node) -> list[str]:
        return [i for i in node.inputs if i in self.data]

    def x(self, node: Node) -> str:
        """The node's single data input."""
        inputs = self.data_inputs(node)
        if len(inputs) != 1:
            raise Unsupported(f"expects one data input, has {len(inputs)}")
        return inputs[0]

    def in_shape(self, node: Node) -> tuple[int, ...]:
        shape = self.graph.shape(self.x(node))
        if shape is None:
            raise Unsupported("the shape of its input is unknown")
        return shape

    def out_shape(self, node: Node) -> tuple[int, ...]:
        shape = self.graph.shape(node.outputs[0])
        if shape is None:
            raise Unsupported("the shape of its output is unknown")
        return shape

    def const(self, node: Node, index: int, what: str, required: bool = True) -> np.ndarray | None:
        """Input ``index`` as a constant array (``None`` when absent and not required)."""
        name = node.inputs[index] if index < len(node.inputs) else ""
        if not name:
            if required:
                raise Unsupported(f"has no {what}")
            return None
        value = self.graph.constant(name)
        if value is None:
            raise Unsupported(f"its {what} is computed in the graph, not stored")
        return value

    def map_input(self, node: Node, rank: int = 4) -> tuple[int, ...]:
        """The input shape, checked to be ``N×C×H×W`` (rank 4) or ``N×F`` (rank 2)."""
        shape = self.in_shape(node)
        if len(shape) != rank:
            want = "an N×C×H×W map" if rank == 4 else "an N×F vector"
            raise Unsupported(f"needs {want}, gets a {len(shape)}-D tensor {list(shape)}")
        return shape


# --- padding -----------------------------------------------------------------------------------
Pads = tuple[int, int, int, int]  # top, left, bottom, right (ONNX order for 2-D pads)


def same_pads(
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    upper: bool,
) -> Pads:
    """ONNX ``SAME_UPPER``/``SAME_LOWER``: ``total = max((ceil(n/s) − 1)·s + d(k−1) + 1 − n, 0)`` per axis,
    the odd extra at the end (upper) or the beginning (lower)."""
    begin, end = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        small, big = total // 2, total - total // 2
        begin.append(small if upper else big)
        end.append(big if upper else small)
    return begin[0], begin[1], end[0], end[1]


def window_pads(
    node: Node,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> Pads:
    """A conv or pool node's pads ``(top, left, bottom, right)`` from ``pads`` or ``auto_pad``."""
    auto = node.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return same_pads(size, kernel, stride, dilation, auto == "SAME_UPPER")
    if auto == "VALID":
        return 0, 0, 0, 0
    pads = list(node.attr("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise Unsupported(f"has {len(pads)} pads; only 2-D windows map")
    return pads[0], pads[1], pads[2], pads[3]


def pair_attr(node: Node, key: str, default: int) -> tuple[int, int]:
    values = list(node.attr(key, [default, default]))
    if len(values) != 2:
        raise Unsupported(f"{key} {values} is not 2-D")
    return int(values[0]), int(values[1])


def symmetric(pads: Pads) -> bool:
    return pads[0] == pads[2] and pads[1] == pads[3]


def zero_pad(pads: Pads, role: str = "pad") -> Draft:
    """``ZeroPad2d([left, right, top, bottom])`` (torch order) for ONNX ``(top, left, bottom, right)``;
    ``role`` names it after the layer it pads (``conv1_pad``), empty for a Pad node of its own."""
    top, left, bottom, right = pads
    return Draft("ZeroPad2d", {"padding": [left, right, top, bottom]}, role=role)


def as_f32(a: np.ndarray) -> np.ndarray:
    """A tensor for the design's weights: C-contiguous float32."""
    return np.ascontiguousarray(a, dtype=np.float32)


def float_attr(node: Node, key: str, default: float) -> float:
    """A float attribute as the shortest decimal of its float32 (``0.2``, not ``0.20000000298023224``)."""
    return float(str(np.float32(node.attr(key, default))))


def pad_amounts(node: Node, ctx: Ctx) -> Pads:
    """A ``Pad`` node's zero padding of H and W as ``(top, left, bottom, right)``; anything else refused."""
    mode = node.attr("mode", "constant")
    if mode != "constant":
        raise Unsupported(f"mode '{mode}' (only zero padding maps)")
    value = (
        ctx.const(node, 2, "constant value", required=False) if len(node.inputs) > 2 else node.attr("value")
    )
    if value is not None and np.any(np.asarray(value) != 0):
        raise Unsupported(f"pads with {float(np.ravel(value)[0]):g}, not zero")
    if ctx.graph.opset >= 11:
        pads = [int(v) for v in ctx.const(node, 1, "pads")]
    else:
        pads = list(node.attr("pads", []))
    rank = len(ctx.in_shape(node))
    axes = ctx.const(node, 3, "axes", required=False) if len(node.inputs) > 3 else None
    axes = [int(a) % rank for a in axes] if axes is not None else list(range(rank))
    full = [0] * (2 * rank)
    for i, a in enumerate(axes):
        full[a], full[rank + a] = pads[i], pads[len(axes) + i]
    if rank != 4 or any(full[a] or full[rank + a] for a in (0, 1)):
        raise Unsupported(f"pads {pads} reach beyond the H and W axes")
    if min(full) < 0:
        raise Unsupported(f"negative pads {pads} crop the map")
    return full[2], full[3], full[6], full[7]
