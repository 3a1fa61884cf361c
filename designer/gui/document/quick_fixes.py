"""One-click, undoable fixes for the errors that have an obvious one (the advice already names them).

``quick_fixes(document, name)`` lists the fixes for a layer; each ``QuickFix.apply()`` pushes one undo
command. A finder looks at the layer, the shapes the analysis computed and the design, never at the
wording of a message. Finders: Flatten before a Linear fed a map (with its ``in_features``), switch an
add/mul merge to concat or give the odd branch a 1×1 projection, ``padding = k//2`` for a conv that
shrinks the map, the largest ``groups`` that divides both channel counts, an ``in_features`` /
``in_channels`` that disagrees with the input, and a per-channel kernel preset list of the wrong length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING

from ...core import Design, Layer, LayerPath, LayerRow, edits

if TYPE_CHECKING:
    from .document import DesignDocument


@dataclass(frozen=True)
class QuickFix:
    title: str
    design: Design  # the design after the fix
    select: str | None
    document: DesignDocument

    def apply(self) -> None:
        self.document.push(f"Fix: {self.title}", self.design, self.select)


Finder = Callable[["DesignDocument", Layer, LayerPath, LayerRow], list[tuple[str, Design, str | None]]]


def _flatten_before_linear(doc: DesignDocument, layer: Layer, path: LayerPath, row: LayerRow):
    shape = doc.input_shape_at(path)
    if layer.type != "Linear" or shape is None or len(shape) == 1:
        return []
    design, paths = edits.insert_many(doc.design, path, [Layer("Flatten", "", {})])
    moved = path[:-1] + (path[-1] + 1,)
    if layer.hp.get("in_features") is not None:
        design = design.set_params(moved, in_features=prod(shape))
    return [(f"insert Flatten before {layer.name} (in_features = {prod(shape):,})", design, layer.name)]


def _branch_outputs(doc: DesignDocument, layer: Layer, path: LayerPath) -> list[tuple[int, ...] | None]:
    """The shape leaving each branch (its last layer's output, or the Branch's input when empty)."""
    shapes = []
    for b, branch in enumerate(layer.branches):
        if branch:
            row = doc.row(branch[-1].name)
            shapes.append(row.output_shape if row else None)
        else:
            shapes.append(doc.input_shape_at(path + (b, 0)))
    return shapes


def _merge_mismatch(doc: DesignDocument, layer: Layer, path: LayerPath, row: LayerRow):
    if layer.type != "Branch" or layer.hp.get("merge") == "concat" or row.output_shape is not None:
        return []
    fixes = [(f"switch {layer.name} to concat", doc.design.set_params(path, merge="concat"), layer.name)]
    shapes = _branch_outputs(doc, layer, path)
    target = shapes[0]
    if target is None or len(target) != 3:
        return fixes
    for b, shape in enumerate(shapes[1:], start=1):
        if shape is None or len(shape) != 3 or shape == target or shape[1] % target[1] or shape[2] % target[2]:
            continue
        stride = shape[1] // target[1]
        conv = Layer("Conv2d", "", {"out_channels": target[0], "kernel_size": 1, "stride": stride, "bias": False})
        slot = path + (b, len(layer.branches[b]))
        design, _ = edits.insert_many(doc.design, slot, [conv])
        title = f"add a 1×1 projection (stride {stride}) to branch {b + 1}" if stride > 1 else \
            f"add a 1×1 projection to {target[0]} channels in branch {b + 1}"
        fixes.append((title, design, layer.name))
    return fixes


def _conv_padding(doc: DesignDocument, layer: Layer, path: LayerPath, row: LayerRow):
    if layer.type != "Conv2d" or not row.issues:
        return []
    k, stride = layer.hp.get("kernel_size"), layer.hp.get("stride")
    if not (isinstance(k, tuple) and k[0] == k[1] and k[0] % 2 == 1 and stride in ((1, 1), 1)):
        return []
    want = (k[0] // 2, k[0] // 2)
    if layer.hp.get("padding") in (want, k[0] // 2, "same"):
        return []
    design = doc.design.set_params(path, padding=k[0] // 2)
    return [(f"set padding to k//2 = {k[0] // 2} (keeps H×W)", design, layer.name)]


def _conv_groups(doc: DesignDocument, layer: Layer, path: LayerPath, row: LayerRow):
    shape = doc.input_shape_at(path)
    if layer.type != "Conv2d" or shape is None or len(shape) != 3:
        return []
    g, c_in, c_out = layer.hp.get("groups", 1), shape[0], layer.hp.get("out_channels")
    if not isinstance(g, int) or not isinstance(c_out, int) or (c_in % g == 0 and c_out % g == 0):
        return []
    best = max(d for d in range(1, g + 1) if c_in % d == 0 and c_out % d == 0)
    return [(f"set groups to {best} (divides {c_in} and {c_out})", doc.design.set_params(path, groups=best),
             layer.name)]


def _declared_inputs(doc: DesignDocument, layer: Layer, path: LayerPath, row: LayerRow):
    shape = doc.input_shape_at(path)
    fixes = []
    for param, index, rank in (("in_features", 0, 1), ("in_channels", 0, 3)):
        declared = layer.hp.get(param)
        if declared is None or shape is None or len(shape) != rank or declared == shape[index]:
            continue
        fixes.append((f"set {param} to {shape[index]:,} (what arrives)",
                      doc.design.set_params(path, **{param: shape[index]}), layer.name))
    return fixes


def _preset_count(doc: DesignDocument, layer: Layer, path: LayerPath, row: LayerRow):
    init, count = layer.params.get("init"), layer.hp.get("out_channels")
    names = init.get("preset") if isinstance(init, dict) else None
    if layer.type != "Conv2d" or not isinstance(names, list) or len(names) < 2 or len(names) == count:
        return []
    fitted = {"preset": [names[i % len(names)] for i in range(count)]}
    return [(f"fit the {len(names)} kernel presets to the {count} output channels",
             doc.design.set_params(path, init=fitted), layer.name)]


FINDERS: tuple[Finder, ...] = (_flatten_before_linear, _merge_mismatch, _conv_padding, _conv_groups,
                               _declared_inputs, _preset_count)


def quick_fixes(document: DesignDocument, name: str) -> list[QuickFix]:
    """The fixes for layer ``name`` (none for a layer without issues)."""
    row, path = document.row(name), document.path_of(name)
    if row is None or path is None or not row.issues:
        return []
    layer = document.design.get(path)
    found: list[QuickFix] = []
    for finder in FINDERS:
        try:
            candidates = finder(document, layer, path, row)
        except (ValueError, KeyError, TypeError, IndexError):  # a fix that does not apply to this design
            continue
        found += [QuickFix(title, design, select, document) for title, design, select in candidates]
    return found
