"""From a DAG of mapped nodes to nested layer lists, by series-parallel reduction.

Vertices are tensors; a node mapped to layers is an edge ``input → output`` carrying them; a
merge node (Add, Mul, Concat) has one empty edge per operand into its output, in operand order.
Two reductions repeat until one edge ``input → output`` is left, whose items are the design:

* **series**: a tensor with one edge in and one out disappears, the two item lists concatenate;
* **parallel**: when every operand edge of a merge starts at the same tensor, they become one
  edge carrying a ``Branch`` whose branches are the edges' item lists (an empty list is the
  identity shortcut), nested as deep as the model.

* **regroup** (only when neither applies): a merge whose operands come from several tensors, some
  from one tensor ``v``, first merges those (a contiguous run of them for ``Concat``; any of them for
  ``Add``/``Mul``, which commute) into one operand from ``v`` carrying their ``Branch``: concatenation,
  sums and products are associative, so ``cat(up(d), a, x)`` with ``a`` computed from ``x`` is
  ``cat(cat(up(d), a), x)`` (a U-Net skip concatenating maps of two levels).

A graph where none applies is not series-parallel; the error names the merge node that is stuck.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import OnnxImportError
from .mapping import Draft
from .model import Node


@dataclass
class Placed:
    """A draft layer and the node it came from (for its name)."""

    node: Node
    draft: Draft


@dataclass
class BranchItem:
    node: Node
    merge: str
    branches: list[list]


Item = Placed | BranchItem


@dataclass
class Unit:
    """A mapped node: ``drafts`` from ``inputs[0]`` to ``output``, or a ``merge`` of ``inputs``."""

    node: Node
    inputs: list[str]
    output: str
    drafts: list[Draft] = field(default_factory=list)
    merge: str | None = None


@dataclass
class _Edge:
    src: str
    dst: str
    items: list
    pos: int = 0


class _Reducer:
    def __init__(self, units: list[Unit], source: str, sink: str) -> None:
        self.source, self.sink = source, sink
        self.edges: list[_Edge] = []
        self.pending: dict[str, Unit] = {}
        for unit in units:
            if unit.merge is None:
                self.edges.append(
                    _Edge(unit.inputs[0], unit.output, [Placed(unit.node, d) for d in unit.drafts])
                )
            else:
                self.pending[unit.output] = unit
                self.edges += [_Edge(t, unit.output, [], i) for i, t in enumerate(unit.inputs)]

    def _parallel(self) -> bool:
        """Every merge whose operand edges all start at one tensor becomes one Branch edge."""
        into: dict[str, list[_Edge]] = {}
        for e in self.edges:
            if e.dst in self.pending:
                into.setdefault(e.dst, []).append(e)
        done = {v for v, ins in into.items() if len({e.src for e in ins}) == 1}
        joined = []
        for vertex in done:
            ins = sorted(into[vertex], key=lambda e: e.pos)
            unit = self.pending.pop(vertex)
            joined.append(
                _Edge(ins[0].src, vertex, [BranchItem(unit.node, unit.merge, [e.items for e in ins])])
            )
        self.edges = [e for e in self.edges if e.dst not in done] + joined
        return bool(done)

    def _series(self) -> bool:
        """Join ``a → v → b`` into ``a → b`` for every plain tensor ``v`` with one edge in and one out
        (edges are updated in place, so chains collapse in one pass when met in order)."""
        into: dict[str, list[_Edge]] = {}
        out_of: dict[str, list[_Edge]] = {}
        for e in self.edges:
            into.setdefault(e.dst, []).append(e)
            out_of.setdefault(e.src, []).append(e)
        removed: set[int] = set()
        for vertex, ins in into.items():
            outs = out_of.get(vertex, [])
            if (
                vertex in (self.source, self.sink)
                or vertex in self.pending
                or len(ins) != 1
                or len(outs) != 1
            ):
                continue
            first, second = ins[0], outs[0]
            if id(first) in removed or id(second) in removed:
                continue  # a neighbour changed in this pass; the next pass sees it
            removed.add(id(first))
            second.src, second.items = first.src, first.items + second.items
        self.edges = [e for e in self.edges if id(e) not in removed]
        return bool(removed)

    def _regroup(self) -> bool:
        """Operands of a stuck merge that come from one tensor become one operand carrying their Branch
        (a contiguous run for concat, any for add/mul); the merge keeps its other operands."""
        into: dict[str, list[_Edge]] = {}
        for e in self.edges:
            if e.dst in self.pending:
                into.setdefault(e.dst, []).append(e)
        grouped: list[list[_Edge]] = []
        for vertex, ins in into.items():
            runs = _operand_groups(self.pending[vertex].merge, sorted(ins, key=lambda e: e.pos))
            grouped += [run for run in runs if len(run) > 1 and len(runs) > 1]
        for run in grouped:
            unit = self.pending[run[0].dst]
            item = BranchItem(unit.node, unit.merge, [e.items for e in run])
            self.edges = [e for e in self.edges if all(e is not r for r in run)]
            self.edges.append(_Edge(run[0].src, run[0].dst, [item], run[0].pos))
        return bool(grouped)

    def reduce(self) -> list:
        while self._series() or self._parallel() or self._regroup():
            pass
        if len(self.edges) == 1 and (self.edges[0].src, self.edges[0].dst) == (self.source, self.sink):
            return self.edges[0].items
        if not self.edges and self.source == self.sink:
            return []
        raise OnnxImportError(self._stuck_message())

    def _stuck_message(self) -> str:
        for unit in self.pending.values():
            sources = sorted({e.src for e in self.edges if e.dst == unit.output})
            return (
                f"the graph is not series-parallel at node '{unit.node.name}' ({unit.node.op}): its operands "
                f"come from different forks ({', '.join(sources[:3])}), which nested branches cannot express"
            )
        forks = sorted({e.src for e in self.edges if sum(f.src == e.src for f in self.edges) > 1})
        fork = (forks or ["?"])[0]
        return f"the graph is not series-parallel: tensor '{fork}' forks into paths that never join"


def _operand_groups(merge: str, operands: list[_Edge]) -> list[list[_Edge]]:
    """Operand edges (in operand order) grouped by source tensor: for concat only neighbours group (channel
    order is kept), for add/mul all edges of one source."""
    groups: list[list[_Edge]] = []
    for edge in operands:
        candidates = groups[-1:] if merge == "concat" else groups
        group = next((g for g in candidates if g[0].src == edge.src), None)
        if group is None:
            groups.append([edge])
        else:
            group.append(edge)
    return groups


def series_parallel(units: list[Unit], source: str, sink: str) -> list:
    """The nested items computing ``sink`` from ``source`` (see the module docstring)."""
    return _Reducer(units, source, sink).reduce()
