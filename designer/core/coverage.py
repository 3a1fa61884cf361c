"""Dilation coverage: how many paths lead from each input pixel to one output unit.

Seed 002 draws, for a stack of dilated convolutions, how often the top pixel uses each input
pixel: with rates [2, 2, 2] the 13×13 field is full of holes (gridding), with [1, 2, 3] or
[1, 2, 5] every pixel is used. The map is computed without weights, by sending a count of 1 at the
chosen unit backwards through every window: output position ``o`` of a window layer reads input
positions ``o·s − p + t·d`` for ``t = 0 … k − 1``, so each of those receives ``count[o]``. Branches
add their paths; channels are not multiplied in (spatial paths only).
"""

from __future__ import annotations

import numpy as np

from .analysis import Analysis, analyze
from .arithmetic import nearest_source
from .design import Design, Layer, LayerPath
from .errors import LayerError
from .spec import GLOBAL, IDENTITY

EXACT_LIMIT = 2.0**53  # float64 counts are exact below this
MAX_SIDE = 8192  # per-axis connection matrices are side × side


def coverage_map(design: Design, layer_name: str, unit: tuple[int, int] | None = None,
                 report: Analysis | None = None) -> np.ndarray:
    """Integer map over the input H×W: paths from each pixel to ``unit`` of ``layer_name``'s output.

    ``unit`` defaults to the centre ``((H_out − 1)//2, (W_out − 1)//2)``. Raises ``LayerError`` when
    the layer has no spatial output or its shape is unknown. ``report`` is the design's analysis when
    the caller already has it (default input size, batch 1).
    """
    if max(design.input.height, design.input.width) > MAX_SIDE:
        raise LayerError(f"the {design.input.height}×{design.input.width} input is too large to trace "
                         f"(at most {MAX_SIDE} pixels per side)")
    report = report if report is not None else analyze(design)
    rows = {r.name: r for r in report.rows}
    target_path = design.find(layer_name)
    out_shape = rows[layer_name].output_shape
    if out_shape is None or len(out_shape) != 3:
        raise LayerError(f"{layer_name} has no spatial output to trace (shape {out_shape})")
    y, x = unit if unit is not None else ((out_shape[1] - 1) // 2, (out_shape[2] - 1) // 2)
    if not (0 <= y < out_shape[1] and 0 <= x < out_shape[2]):
        raise LayerError(f"unit ({y}, {x}) is outside {layer_name}'s {out_shape[1]}×{out_shape[2]} output")
    counts = np.zeros(out_shape[1:])
    counts[y, x] = 1.0
    for sequence in _sequences_to(design, target_path):
        counts = _back_sequence(sequence, counts, rows)
    if not np.all(counts < EXACT_LIMIT):
        raise LayerError(f"{layer_name} is reached by more than 2⁵³ paths from one pixel; the counts are too large "
                         "to be exact — trace a shallower layer")
    return np.rint(counts).astype(np.int64)


def _sequences_to(design: Design, path: LayerPath) -> list[tuple[Layer, ...]]:
    """The prefixes of each enclosing sequence that run before (and including) ``path``, innermost first."""
    prefixes = []
    seq = design.layers
    for depth in range(0, len(path) - 1, 2):
        prefixes.append(seq[:path[depth]])  # layers before the Branch that holds the target
        seq = seq[path[depth]].branches[path[depth + 1]]
    prefixes.append(seq[:path[-1] + 1])
    return prefixes[::-1]


def _back_sequence(layers: tuple[Layer, ...], counts: np.ndarray, rows) -> np.ndarray:
    for layer in reversed(layers):
        counts = _back_layer(layer, counts, rows)
    return counts


def _back_layer(layer: Layer, counts: np.ndarray, rows) -> np.ndarray:
    row = rows[layer.name]
    if layer.type == "Branch":
        return sum(_back_sequence(branch, counts, rows) for branch in layer.branches)
    steps = layer.spec.rf(row.input_shape, layer.hp)
    if steps is IDENTITY:
        return counts
    if steps == GLOBAL:
        raise LayerError(f"{layer.name} mixes every position (global); coverage is defined for spatial paths")
    return _back_steps(steps, counts, row.input_shape[1:])


def _axis_taps(step, n_out: int, n_in: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (output indices, input indices) connected by each tap of one axis."""
    o = np.arange(n_out)
    offsets = range(0, step.kernel, step.dilation)  # t·d for t = 0 … k − 1
    if step.kind == "window":
        taps = [o * int(step.stride) - step.pad + t for t in offsets]
    elif step.kind == "transpose":  # output o = i·s − p + t·d  ⇒  i = (o + p − t·d)/s when whole
        s = int(step.stride)
        taps = [np.where((o + step.pad - t) % s == 0, (o + step.pad - t) // s, -1) for t in offsets]
    elif step.kernel == 1:  # nearest upsampling: PyTorch's source index
        taps = [np.array(nearest_source(n_out, n_in, step.stride))]
    else:  # bilinear: the two neighbours of (o + ½)/s − ½
        base = np.floor((o + 0.5) / step.stride - 0.5).astype(int)
        taps = [np.maximum(base, 0), np.minimum(base + 1, n_in - 1)]
    return [(o[(tap >= 0) & (tap < n_in)], tap[(tap >= 0) & (tap < n_in)]) for tap in taps]


def _axis_matrix(step, n_out: int, n_in: int) -> np.ndarray:
    """``A[i, o]`` = how many taps connect output ``o`` to input ``i`` along one axis."""
    matrix = np.zeros((n_in, n_out))
    for outputs, inputs in _axis_taps(step, n_out, n_in):
        np.add.at(matrix, (inputs, outputs), 1.0)
    return matrix


def _back_steps(steps, counts: np.ndarray, in_hw: tuple[int, int]) -> np.ndarray:
    """Spread each output count onto the input positions its window reads: ``A_rows · counts · A_colsᵀ``.

    Counts are carried as float64 (exact below 2⁵³) so the products run in BLAS.
    """
    rows = _axis_matrix(steps[0], counts.shape[0], in_hw[0])
    cols = _axis_matrix(steps[1], counts.shape[1], in_hw[1])
    return rows @ counts @ cols.T
