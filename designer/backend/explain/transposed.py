"""A transposed convolution computed the two ways seed article 002 explains, checked against the layer.

1. **Zero insertion + padding + flipped kernel**: put ``s − 1`` zeros between input pixels, pad by
   ``d(k − 1) − p`` on every side (plus ``output_padding`` at the bottom/right; negative padding crops),
   and run a plain stride-1 convolution (dilation ``d``, same groups) with the kernel flipped up-down and
   left-right (``weight [C_in, C_out/g, kh, kw]`` regrouped to ``[C_out, C_in/g, kh, kw]``).
2. **The transpose of the conv matrix**: ``y = Cᵀ x + b`` where ``C`` is the matrix of the matching
   convolution ``Conv2d(C_out → C_in, k, s, p, d, g)`` on the transposed layer's output shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from designer.core import Layer

from ..arithmetic_view import Geometry, conv_weight, geometry, grid_values
from ..conv_matrix import matching_conv_matrix
from ..kernels import conv2d, conv_transpose2d


@dataclass(frozen=True)
class TransposedBothWays:
    """Both computations of one ConvTranspose2d on one input, and the layer's own output."""

    geometry: Geometry
    grid: np.ndarray  # [C_in, grid_h, grid_w]: zero-inserted and padded input
    kernel: np.ndarray  # [C_out, C_in/g, kh, kw]: the flipped kernel slid over the grid
    by_conv: np.ndarray  # [C_out, H_out, W_out]
    matching: np.ndarray | None  # C of the matching conv: [in elements, out elements] (None: too large)
    by_matrix: np.ndarray | None  # [C_out, H_out, W_out] = (Cᵀ x + b)
    layer_output: np.ndarray  # [C_out, H_out, W_out]

    @property
    def max_diff_conv(self) -> float:
        return float(np.max(np.abs(self.by_conv - self.layer_output)))

    @property
    def max_diff_matrix(self) -> float:
        """``nan`` when the matrix was too large to build."""
        if self.by_matrix is None:
            return float("nan")
        return float(np.max(np.abs(self.by_matrix - self.layer_output)))

    def summary(self) -> str:
        g = self.geometry
        return (f"zero insertion ({g.insert[0] - 1} zero(s) between rows, {g.insert[1] - 1} between columns) + "
                f"padding {g.pad_before[0]}/{g.pad_after[0]} rows, {g.pad_before[1]}/{g.pad_after[1]} columns + "
                f"flipped-kernel conv: max |difference| {self.max_diff_conv:.2g}; " + self._matrix_text())

    def _matrix_text(self) -> str:
        if self.matching is None:
            return "Cᵀ·x skipped (the matrix would be too large: use a toy input)"
        rows, cols = self.matching.shape
        return f"Cᵀ·x ({cols}×{rows}): max |difference| {self.max_diff_matrix:.2g}"


def transposed_both_ways(layer: Layer, x: np.ndarray, weights: Mapping[str, np.ndarray],
                         max_entries: int = 10**7) -> TransposedBothWays:
    """Both ways for ``layer`` (a ConvTranspose2d) on ``x [C_in, H, W]`` with its ``state_dict`` ``weights``;
    the matrix is skipped (``None``) beyond ``max_entries`` entries."""
    if layer.type != "ConvTranspose2d":
        raise ValueError(f"layer '{layer.name}': {layer.type} is not a ConvTranspose2d")
    hp, name = layer.hp, layer.name
    x = np.asarray(x, np.float32)
    geo = geometry(layer, x.shape)
    bias = weights.get(f"{name}.bias")
    layer_out = conv_transpose2d(x, weights[f"{name}.weight"], bias, hp["stride"], hp["padding"],
                                 hp["output_padding"], hp["groups"], hp["dilation"])
    grid = grid_values(geo, x).astype(np.float32)
    kernel = np.ascontiguousarray(conv_weight(layer, weights, x.shape[0]), dtype=np.float32)
    by_conv = conv2d(grid, kernel, bias, 1, 0, hp["dilation"], hp["groups"])
    if x.size * layer_out.size > max_entries:
        return TransposedBothWays(geo, grid, kernel, by_conv, None, None, layer_out)
    matching = matching_conv_matrix(layer, x.shape, layer_out.shape, weights)
    flat = matching.T.astype(np.float64) @ x.astype(np.float64).ravel()
    by_matrix = flat.reshape(layer_out.shape) + (0.0 if bias is None else np.asarray(bias)[:, None, None])
    return TransposedBothWays(geo, grid, kernel, by_conv, matching, by_matrix.astype(np.float32), layer_out)
