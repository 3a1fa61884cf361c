"""Where every card, edge, branch frame and drop slot of the canvas goes (no Qt).

The network is a vertical stack from the input card down. A Branch is a frame holding its
branches side by side, joined into a merge card (the Branch layer itself). Edges carry the
tensor shape flowing along them; slots are the gaps where a dragged layer can be dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core import Design, Layer, LayerPath

CARD_W, CARD_H = 236.0, 64.0
IDENTITY_W, IDENTITY_H = 120.0, 28.0
GAP = 30.0  # vertical space between cards, holding the edge and its shape label
COL_GAP = 28.0
PAD = 12.0  # branch frame padding
INPUT_KEY, OUTPUT_KEY = "__input__", "__output__"


@dataclass
class Box:
    key: str  # layer name, INPUT_KEY, OUTPUT_KEY or "__identity__<path>"
    kind: str  # "input" | "layer" | "merge" | "identity" | "output"
    x: float
    y: float
    w: float
    h: float
    path: LayerPath = ()


@dataclass
class Edge:
    points: list[tuple[float, float]]
    label: str = ""
    label_segment: int = -1  # which segment carries the label: -1 the last, 0 the first


@dataclass
class Slot:
    path: LayerPath  # insertion path
    left: float
    right: float
    y: float


@dataclass
class Frame:
    name: str
    x: float
    y: float
    w: float
    h: float
    depth: int


@dataclass
class CanvasLayout:
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    width: float = CARD_W
    height: float = CARD_H

    def nearest_slot(self, x: float, y: float) -> Slot | None:
        """The drop slot closest to a point, preferring slots whose column contains ``x``."""
        def score(slot: Slot) -> float:
            outside = 0.0 if slot.left <= x <= slot.right else 1000.0 + min(abs(x - slot.left), abs(x - slot.right))
            return abs(y - slot.y) + outside + (slot.right - slot.left) * 0.001
        return min(self.slots, key=score, default=None)


def _route(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """Orthogonal route down from ``a`` to ``b``: straight, or down-across-down."""
    if abs(a[0] - b[0]) < 0.5:
        return [a, b]
    mid = b[1] - GAP / 2
    return [a, (a[0], mid), (b[0], mid), b]


class _Builder:
    def __init__(self, shapes: dict[str, str], collapsed: frozenset[str] = frozenset()) -> None:
        self.shapes = shapes
        self.collapsed = collapsed
        self.out = CanvasLayout()
        self._widths: dict[int, float] = {}

    # --- measuring -------------------------------------------------------------------------
    def seq_width(self, seq: tuple[Layer, ...]) -> float:
        if not seq:
            return IDENTITY_W
        return max(self.item_width(layer) for layer in seq)

    def item_width(self, layer: Layer) -> float:
        if layer.type != "Branch" or layer.name in self.collapsed:
            return CARD_W
        key = id(layer)
        if key not in self._widths:
            inner = sum(self.seq_width(b) for b in layer.branches) + COL_GAP * (len(layer.branches) - 1)
            self._widths[key] = max(CARD_W, inner + 2 * PAD)
        return self._widths[key]

    # --- placing -----------------------------------------------------------------------------
    def sequence(self, seq, prefix: LayerPath, cx: float, y: float, anchor, shape: str, depth: int):
        """Place ``seq`` centred on ``cx`` below ``y``; return (bottom y, anchor, shape)."""
        half = self.seq_width(seq) / 2
        for i, layer in enumerate(seq):
            self.out.slots.append(Slot(prefix + (i,), cx - half, cx + half, y + GAP / 2))
            y += GAP
            if layer.type == "Branch" and layer.name not in self.collapsed:
                y, anchor, shape = self.branch(layer, prefix + (i,), cx, y, anchor, shape, depth)
            else:  # a layer, or a collapsed Branch drawn as its merge card
                kind = "merge" if layer.type == "Branch" else "layer"
                self.out.boxes.append(Box(layer.name, kind, cx - CARD_W / 2, y, CARD_W, CARD_H, prefix + (i,)))
                self.out.edges.append(Edge(_route(anchor, (cx, y)), shape))
                anchor, shape, y = (cx, y + CARD_H), self.shapes.get(layer.name, "?"), y + CARD_H
        self.out.slots.append(Slot(prefix + (len(seq),), cx - half, cx + half, y + GAP / 2))
        return y, anchor, shape

    def branch(self, layer: Layer, path: LayerPath, cx: float, y: float, anchor, shape: str, depth: int):
        width = self.item_width(layer)
        top = y
        fork = (cx, y + PAD)
        self.out.edges.append(Edge([anchor, fork], shape))
        x = cx - width / 2 + PAD
        widths = [self.seq_width(b) for b in layer.branches]
        x += (width - 2 * PAD - sum(widths) - COL_GAP * (len(widths) - 1)) / 2
        ends = []
        for b, (seq, w) in enumerate(zip(layer.branches, widths)):
            col = x + w / 2
            ends.append(self.column(seq, path + (b,), col, fork[1], fork, depth + 1))
            x += w + COL_GAP
        merge_y = max(end[0] for end in ends) + GAP
        for _, end_anchor, end_shape in ends:
            self.out.edges.append(Edge(_route(end_anchor, (cx, merge_y)), end_shape, 0))
        self.out.boxes.append(Box(layer.name, "merge", cx - CARD_W / 2, merge_y, CARD_W, CARD_H, path))
        bottom = merge_y + CARD_H + PAD
        self.out.frames.append(Frame(layer.name, cx - width / 2, top, width, bottom - top, depth))
        return bottom, (cx, merge_y + CARD_H), self.shapes.get(layer.name, "?")

    def column(self, seq, prefix: LayerPath, cx: float, y: float, fork, depth: int):
        if seq:
            return self.sequence(seq, prefix, cx, y, fork, "", depth)
        top = y + GAP
        key = "__identity__" + ".".join(map(str, prefix))
        self.out.boxes.append(Box(key, "identity", cx - IDENTITY_W / 2, top, IDENTITY_W, IDENTITY_H, prefix))
        self.out.edges.append(Edge(_route(fork, (cx, top))))
        self.out.slots.append(Slot(prefix + (0,), cx - IDENTITY_W / 2, cx + IDENTITY_W / 2, top + IDENTITY_H / 2))
        return top + IDENTITY_H, (cx, top + IDENTITY_H), ""


def layout_design(design: Design, shapes: dict[str, str], input_text: str,
                  collapsed: frozenset[str] = frozenset()) -> CanvasLayout:
    """Lay out ``design``; ``shapes`` maps layer names to their output-shape text; Branches named in
    ``collapsed`` are one card (their inner layers are not placed)."""
    builder = _Builder(shapes, collapsed)
    out = builder.out
    width = builder.seq_width(design.layers)
    out.boxes.append(Box(INPUT_KEY, "input", -CARD_W / 2, 0.0, CARD_W, CARD_H))
    y, anchor, shape = builder.sequence(design.layers, (), 0.0, CARD_H, (0.0, CARD_H), input_text, 0)
    out_y = y + GAP
    out.boxes.append(Box(OUTPUT_KEY, "output", -IDENTITY_W / 2, out_y, IDENTITY_W, IDENTITY_H))
    out.edges.append(Edge(_route(anchor, (0.0, out_y)), shape))
    out.width, out.height = max(width, CARD_W), out_y + IDENTITY_H
    return out
