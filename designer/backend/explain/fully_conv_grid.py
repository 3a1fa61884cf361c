"""A classifier made fully convolutional and slid over a larger image in one pass (seed article 000).

``fully_conv_grid(design, weights, image)`` converts the design (:func:`designer.backend.fully_conv.
to_fully_convolutional`), runs it once on ``image`` and returns the grid of class scores: cell ``(i, j)`` is
the original network's output on the crop of the design's input size starting at ``(S·i, S·j)``, where ``S``
is the network's total stride (VGG-16 on 384×384: a 6×6 grid of 224×224 windows 32 pixels apart).
``check_cells`` runs the original network on each crop and gives the largest difference per cell.

The cells equal the crop runs exactly (to float rounding, :attr:`FullyConvGrid.tolerance`) only when no layer
pads: a layer with zero padding (VGG-16's 3×3 convolutions, ``padding=1``) sees zeros at the border of a
crop where, inside the larger image, it sees the real neighbouring pixels. :func:`padding_layers` names them,
so the views can say why the cells near the image centre differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from designer.core import Design, analyze

from ..fully_conv import to_fully_convolutional
from ..runner import Runner


@dataclass(frozen=True)
class FullyConvGrid:
    """The converted network's scores over a larger image and the geometry of its cells."""

    design: Design  # the original classifier
    weights: Mapping[str, np.ndarray]
    converted: Design
    converted_weights: Mapping[str, np.ndarray]
    image: np.ndarray  # [C, H, W]
    scores: np.ndarray  # [K, grid_h, grid_w]: the converted network's last output
    stride: tuple[int, int]  # S: pixels between neighbouring cells' windows

    @property
    def window(self) -> tuple[int, int]:
        """The size of each cell's window: the original design's input size."""
        return self.design.input.height, self.design.input.width

    def cell_window(self, i: int, j: int) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of cell ``(i, j)``'s window in the image."""
        return i * self.stride[0], j * self.stride[1], *self.window

    def crop(self, i: int, j: int) -> np.ndarray:
        top, left, h, w = self.cell_window(i, j)
        return self.image[:, top:top + h, left:left + w]

    @property
    def tolerance(self) -> float:
        """Largest difference still counted as equal (float32 rounding): ``1e-4 · max(1, max |score|)``."""
        return 1e-4 * max(1.0, float(np.max(np.abs(self.scores), initial=0.0)))

    @property
    def padded(self) -> list[str]:
        """Layers of the original design that pad with zeros (why cells may differ from their crops)."""
        return padding_layers(self.design)


def padding_layers(design: Design) -> list[str]:
    """Names of the layers whose ``padding`` adds zeros (anything but 0, all-zero lists and ``"valid"``)."""
    def pads(value) -> bool:
        if isinstance(value, str):
            return value != "valid"
        values = value if isinstance(value, (list, tuple)) else [value]
        return any(v for v in values if isinstance(v, (int, float)))
    return [layer.name for _, layer in design.walk() if pads(layer.hp.get("padding", 0))]


def total_stride(design: Design) -> tuple[int, int]:
    """``S``: the product of the strides (the jump of the last layer's receptive field)."""
    rows = analyze(design).rows
    jump = rows[-1].jump if rows else None
    if not jump:
        return 1, 1
    return round(jump[0]), round(jump[1])


def fully_conv_grid(design: Design, weights: Mapping[str, np.ndarray], image: np.ndarray) -> FullyConvGrid:
    """Convert, run once on ``image [C, H, W]`` (at least the design's input size), return the grid."""
    image = np.asarray(image, np.float32)
    h, w = design.input.height, design.input.width
    if image.ndim != 3 or image.shape[1] < h or image.shape[2] < w:
        raise ValueError(f"the image ({list(image.shape)}) must be a [C, H, W] array at least {h}×{w}")
    converted, new_weights = to_fully_convolutional(design, weights)
    stride = total_stride(converted)
    big = converted.with_input(height=image.shape[1], width=image.shape[2])
    outputs = Runner(big, new_weights).run(image)
    last = list(outputs)[-1]
    scores = outputs[last]
    if scores.ndim != 3:
        raise ValueError(f"layer '{last}': the converted network ends in a {scores.ndim}-D output, not a score map")
    return FullyConvGrid(design, weights, big, new_weights, image, scores, stride)


def check_cells(grid: FullyConvGrid, cells: Iterable[tuple[int, int]] | None = None,
                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """``max |grid cell − original network on its crop|`` for each cell (``nan`` where not checked)."""
    runner = Runner(grid.design, grid.weights)
    gh, gw = grid.scores.shape[1:]
    todo = list(cells) if cells is not None else [(i, j) for i in range(gh) for j in range(gw)]
    diffs = np.full((gh, gw), np.nan)
    for n, (i, j) in enumerate(todo):
        outputs = runner.run(grid.crop(i, j))
        reference = outputs[list(outputs)[-1]].reshape(-1)
        diffs[i, j] = float(np.max(np.abs(grid.scores[:, i, j] - reference)))
        if progress is not None:
            progress(n + 1, len(todo))
    return diffs
