"""Dilation coverage: how many paths lead from each input pixel to one output unit.

Seed 002 draws, for a stack of dilated convolutions, how often the top pixel uses each input
pixel: with rates [2, 2, 2] the 13×13 field is full of holes (gridding), with [1, 2, 3] or
[1, 2, 5] every pixel is used. The map is computed without weights, by sending a count of 1 at the
chosen unit backwards through every window: output position ``o`` of a window layer reads input
positions ``o·s − p + t·d`` for ``t = 0 … k − 1``, so each of those receives ``count[o]``. Branches
add their paths; channels are not multiplied in (spatial paths only).

Only the unit's receptive field can hold paths, so the counts are carried on their *support box*:
per axis, the range of positions that receive any count. Each layer maps the box's output range
``[o₀, o₁)`` to the input range its taps reach, through two small per-axis connection matrices
(``box_in × box_out``): the cost follows the receptive field, not the image (60 convolutions on an
8192×8192 input trace a 121×121 box).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import Analysis, analyze
from .design import Design, Layer, LayerPath
from .errors import LayerError
from .spec import GLOBAL, IDENTITY

EXACT_LIMIT = 2.0**53  # float64 counts are exact below this
MAX_SIDE = 8192  # the full H×W map (coverage_map) is an int64 array: at most 512 MiB


@dataclass(frozen=True)
class Box:
    """Path counts on a box of a ``height × width`` plane: ``counts[i, j]`` belongs to position
    ``(top + i, left + j)``; every position outside the box has no path."""

    counts: np.ndarray
    top: int
    left: int
    height: int
    width: int

    def full(self) -> np.ndarray:
        """The counts over the whole plane (zeros outside the box)."""
        out = np.zeros((self.height, self.width), self.counts.dtype)
        h, w = self.counts.shape
        out[self.top:self.top + h, self.left:self.left + w] = self.counts
        return out


def coverage_support(design: Design, layer_name: str, unit: tuple[int, int] | None = None,
                     report: Analysis | None = None) -> Box:
    """Integer path counts from each input pixel to ``unit`` of ``layer_name``'s output, on their support box
    (the bounding box of the pixels with at least one path) of the input H×W plane.

    ``unit`` defaults to the centre ``((H_out − 1)//2, (W_out − 1)//2)``. Raises ``KeyError`` for an
    unknown layer and ``LayerError`` when the layer has no spatial output, its shape is unknown, a layer
    on the way is global, or a count reaches 2⁵³. ``report`` is the design's analysis when the caller
    already has it (default input size, batch 1).
    """
    report = report if report is not None else analyze(design)
    rows = {r.name: r for r in report.rows}
    target_path = design.find(layer_name)
    out_shape = rows[layer_name].output_shape
    if out_shape is None or len(out_shape) != 3:
        raise LayerError(f"{layer_name} has no spatial output to trace (shape {out_shape})")
    y, x = unit if unit is not None else ((out_shape[1] - 1) // 2, (out_shape[2] - 1) // 2)
    if not (0 <= y < out_shape[1] and 0 <= x < out_shape[2]):
        raise LayerError(f"unit ({y}, {x}) is outside {layer_name}'s {out_shape[1]}×{out_shape[2]} output")
    box = Box(np.ones((1, 1)), y, x, out_shape[1], out_shape[2])
    for sequence in _sequences_to(design, target_path):
        box = _back_sequence(sequence, box, rows)
    if not np.all(box.counts < EXACT_LIMIT):
        raise LayerError(f"{layer_name} is reached by more than 2⁵³ paths from one pixel; the counts are too large "
                         "to be exact — trace a shallower layer")
    return Box(np.rint(box.counts).astype(np.int64), box.top, box.left, box.height, box.width)


def coverage_map(design: Design, layer_name: str, unit: tuple[int, int] | None = None,
                 report: Analysis | None = None) -> np.ndarray:
    """:func:`coverage_support` spread over the whole input H×W (an int64 map; inputs of at most
    :data:`MAX_SIDE` pixels per side, else ``LayerError``)."""
    if max(design.input.height, design.input.width) > MAX_SIDE:
        raise LayerError(f"the {design.input.height}×{design.input.width} input is too large for a full coverage "
                         f"map (at most {MAX_SIDE} pixels per side)")
    return coverage_support(design, layer_name, unit, report).full()


def _sequences_to(design: Design, path: LayerPath) -> list[tuple[Layer, ...]]:
    """The prefixes of each enclosing sequence that run before (and including) ``path``, innermost first."""
    prefixes = []
    seq = design.layers
    for depth in range(0, len(path) - 1, 2):
        prefixes.append(seq[:path[depth]])  # layers before the Branch that holds the target
        seq = seq[path[depth]].branches[path[depth + 1]]
    prefixes.append(seq[:path[-1] + 1])
    return prefixes[::-1]


def _back_sequence(layers: tuple[Layer, ...], box: Box, rows) -> Box:
    for layer in reversed(layers):
        box = _back_layer(layer, box, rows)
    return box


def _back_layer(layer: Layer, box: Box, rows) -> Box:
    row = rows[layer.name]
    if layer.type == "Branch":
        return _add_boxes([_back_sequence(branch, box, rows) for branch in layer.branches])
    steps = layer.spec.rf(row.input_shape, layer.hp)
    if steps is IDENTITY:
        return box
    if steps == GLOBAL:
        raise LayerError(f"{layer.name} mixes every position (global); coverage is defined for spatial paths")
    return _back_steps(steps, box, row.input_shape[1:])


def _add_boxes(boxes: list[Box]) -> Box:
    """The sum of boxes on one plane, on the union of their boxes (empty boxes add nothing)."""
    full = [b for b in boxes if b.counts.size]
    if not full:
        return boxes[0]
    boxes = full
    top, left = min(b.top for b in boxes), min(b.left for b in boxes)
    bottom = max(b.top + b.counts.shape[0] for b in boxes)
    right = max(b.left + b.counts.shape[1] for b in boxes)
    total = np.zeros((bottom - top, right - left))
    for b in boxes:
        h, w = b.counts.shape
        total[b.top - top:b.top - top + h, b.left - left:b.left - left + w] += b.counts
    return Box(total, top, left, boxes[0].height, boxes[0].width)


def _nearest_source(o: np.ndarray, n_out: int, n_in: int, scale: float) -> np.ndarray:
    """PyTorch's nearest source index ``min(⌊o · float32(1/scale)⌋, n − 1)`` (exactly ``o // 2`` for 2×),
    as :func:`designer.core.arithmetic.nearest_source` computes it, for the outputs ``o`` only."""
    if n_out == 2 * n_in:
        return o // 2
    src = np.floor(o.astype(np.float32) * np.float32(1.0 / scale)).astype(np.int64)
    return np.minimum(src, n_in - 1)


def _axis_taps(step, o: np.ndarray, n_out: int, n_in: int) -> list[np.ndarray]:
    """For each tap of one axis, the input index read by each output in ``o`` (−1: none)."""
    offsets = range(0, step.kernel, step.dilation)  # t·d for t = 0 … k − 1
    if step.kind == "window":
        return [o * int(step.stride) - step.pad + t for t in offsets]
    if step.kind == "transpose":  # output o = i·s − p + t·d  ⇒  i = (o + p − t·d)/s when whole
        s = int(step.stride)
        return [np.where((o + step.pad - t) % s == 0, (o + step.pad - t) // s, -1) for t in offsets]
    if step.kernel == 1:  # nearest upsampling
        return [_nearest_source(o, n_out, n_in, step.stride)]
    base = np.floor((o + 0.5) / step.stride - 0.5).astype(int)  # bilinear: the two neighbours
    return [np.maximum(base, 0), np.minimum(base + 1, n_in - 1)]


def _axis_matrix(step, first: int, n_box: int, n_out: int, n_in: int) -> tuple[np.ndarray, int]:
    """``(A, start)``: ``A[i, o]`` = taps connecting box output ``first + o`` to input ``start + i`` along one
    axis; the input range is the smallest one holding every tap (empty when all fall in the padding)."""
    o = np.arange(first, first + n_box)
    pairs = [(np.nonzero(ok)[0], tap[ok]) for tap in _axis_taps(step, o, n_out, n_in)
             for ok in [(tap >= 0) & (tap < n_in)]]
    inputs = [i for _, i in pairs if i.size]
    if not inputs:
        return np.zeros((0, n_box)), 0
    start = int(min(i.min() for i in inputs))
    stop = int(max(i.max() for i in inputs)) + 1
    matrix = np.zeros((stop - start, n_box))
    for outputs, ins in pairs:
        np.add.at(matrix, (ins - start, outputs), 1.0)
    return matrix, start


def _back_steps(steps, box: Box, in_hw: tuple[int, int]) -> Box:
    """Spread each output count onto the input positions its window reads: ``A_rows · counts · A_colsᵀ``
    on the support box. Counts are carried as float64 (exact below 2⁵³) so the products run in BLAS."""
    h, w = box.counts.shape
    rows, top = _axis_matrix(steps[0], box.top, h, box.height, in_hw[0])
    cols, left = _axis_matrix(steps[1], box.left, w, box.width, in_hw[1])
    return _trimmed(Box(rows @ box.counts @ cols.T, top, left, in_hw[0], in_hw[1]))


def _trimmed(box: Box) -> Box:
    """``box`` cut to the bounding box of its non-zero counts (stays 0×0 when there are none)."""
    used_rows, used_cols = np.nonzero(box.counts.any(axis=1))[0], np.nonzero(box.counts.any(axis=0))[0]
    if not used_rows.size:
        return Box(np.zeros((0, 0)), 0, 0, box.height, box.width)
    r0, r1, c0, c1 = used_rows[0], used_rows[-1] + 1, used_cols[0], used_cols[-1] + 1
    if (r0, c0, r1, c1) == (0, 0, *box.counts.shape):
        return box
    return Box(box.counts[r0:r1, c0:c1], box.top + int(r0), box.left + int(c0), box.height, box.width)
