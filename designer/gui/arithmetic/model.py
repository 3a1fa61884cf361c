"""The arithmetic view's model: one sliding-window layer on one input, and where the kernel is.

``ArithmeticModel`` holds a *case* (the layer, its input ``x [C, H, W]`` — the real one from a run or a
small toy input —, its weights and output, and the grid geometry from
:mod:`designer.backend.arithmetic_view`) plus the current output cell, the chosen channels and the hovered
cell. Signals: ``case_changed`` (a new layer/input), ``position_changed`` (output cell or channel) and
``hover_changed``. Views only read the model and write user input back through its setters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PySide6.QtCore import QObject, Signal

from ...backend.arithmetic_view import (
    Geometry,
    Position,
    arithmetic_kind,
    filter_channels,
    geometry,
    grid_values,
    position,
    shape_formula,
)
from ...backend.layer_ops import LAYER_OPS
from ...core import Layer

TOY_SIZES = (3, 4, 5, 6, 7, 8, 10, 12)


def toy_input(channels: int, size: int, seed: int = 0) -> np.ndarray:
    """A readable toy input: values in {−2, −1, 0, 1, 2, 3} (one digit each), ``[channels, size, size]``."""
    rng = np.random.default_rng(seed)
    return rng.integers(-2, 4, size=(channels, size, size)).astype(np.float32)


@dataclass(frozen=True)
class Case:
    """One layer on one input, everything the views draw."""

    layer: Layer
    x: np.ndarray
    weights: Mapping[str, np.ndarray]
    source: str  # "real input" or "toy input"
    known_output: np.ndarray | None = None  # the run's output of the layer on ``x``, when there is one

    @cached_property
    def geometry(self) -> Geometry:
        return geometry(self.layer, self.x.shape)

    @cached_property
    def output(self) -> np.ndarray:
        if self.known_output is not None:
            return np.asarray(self.known_output)
        return np.asarray(LAYER_OPS[self.layer.type](self.layer, [self.x], self.weights))

    @property
    def macs(self) -> int:
        """Multiply-adds of the layer on ``x`` (decides whether the both-ways check runs on the GUI thread)."""
        kh, kw = self.geometry.kernel
        return int(self.output.size * kh * kw * len(self.channels_seen(0)))

    @cached_property
    def grid(self) -> np.ndarray:
        """``[C, grid_h, grid_w]`` (padding and inserted cells are 0)."""
        return grid_values(self.geometry, self.x)

    @cached_property
    def formula(self) -> list[str]:
        return shape_formula(self.layer, self.x.shape)

    @cached_property
    def both_ways(self):
        """A transposed convolution computed both ways (:mod:`designer.backend.explain.transposed`)."""
        from ...backend.explain.transposed import transposed_both_ways

        return transposed_both_ways(self.layer, self.x, self.weights)

    @property
    def kind(self) -> str:
        return self.geometry.kind

    @property
    def out_channels(self) -> int:
        return int(self.output.shape[0])

    def channels_seen(self, out_channel: int) -> range:
        return filter_channels(self.layer, self.x.shape[0], out_channel)


class ArithmeticModel(QObject):
    """See the module docstring."""

    case_changed = Signal()
    position_changed = Signal()
    hover_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case: Case | None = None
        self.out_channel = 0
        self.in_channel = 0
        self.cell = (0, 0)  # current output (i, j)
        self.hover: tuple[str, int, int] | None = None  # ("input", y, x) / ("output", i, j)
        self.message = ""

    # --- the case -----------------------------------------------------------------------------------
    def set_case(self, layer: Layer | None, x: np.ndarray | None = None,
                 weights: Mapping[str, np.ndarray] | None = None, source: str = "real input",
                 output: np.ndarray | None = None) -> None:
        """Show ``layer`` on ``x`` (``output``: the layer's output on ``x`` when already computed); ``None`` (or
        a layer that is not a sliding window) clears the view with a message saying why."""
        self.case, self.message = None, ""
        if layer is None:
            self.message = "Select a Conv2d, ConvTranspose2d, MaxPool2d or AvgPool2d layer."
        elif arithmetic_kind(layer.type) is None:
            self.message = f"{layer.name} ({layer.type}) does not slide a window over its input."
        elif x is None:
            self.message = f"{layer.name}: its input size is unknown (fix the errors before it)."
        else:
            try:
                case = Case(layer, np.asarray(x, np.float32), dict(weights or {}), source, output)
                case.output
                self.case = case
            except (ValueError, KeyError, IndexError) as exc:
                self.message = f"{layer.name}: {exc}"
        self.out_channel = self.in_channel = 0
        self.cell, self.hover = (0, 0), None
        if self.case is not None:
            self.in_channel = self.case.channels_seen(0)[0]
        self.case_changed.emit()
        self.position_changed.emit()

    # --- the current output cell --------------------------------------------------------------------
    @property
    def cell_count(self) -> int:
        return 0 if self.case is None else int(np.prod(self.case.geometry.out_hw))

    @property
    def index(self) -> int:
        return self.cell[0] * self.case.geometry.out_hw[1] + self.cell[1] if self.case else 0

    def set_index(self, index: int) -> None:
        if self.case is not None and self.cell_count:
            w = self.case.geometry.out_hw[1]
            self.set_cell(*divmod(index % self.cell_count, w))

    def step(self, delta: int = 1) -> None:
        self.set_index(self.index + delta)

    def set_cell(self, i: int, j: int) -> None:
        if self.case is None:
            return
        h, w = self.case.geometry.out_hw
        cell = (min(max(i, 0), h - 1), min(max(j, 0), w - 1))
        if cell != self.cell:
            self.cell = cell
            self.position_changed.emit()

    def set_out_channel(self, channel: int) -> None:
        if self.case is None or not 0 <= channel < self.case.out_channels or channel == self.out_channel:
            return
        self.out_channel = channel
        seen = self.case.channels_seen(channel)
        if self.in_channel not in seen:
            self.in_channel = seen[0]
        self.position_changed.emit()

    def set_in_channel(self, channel: int) -> None:
        if self.case is None or not 0 <= channel < self.case.x.shape[0] or channel == self.in_channel:
            return
        self.in_channel = channel
        self.position_changed.emit()

    def position(self) -> Position | None:
        if self.case is None:
            return None
        return position(self.case.layer, self.case.x, self.case.weights, (self.out_channel, *self.cell),
                        self.case.geometry)

    def layer_value(self) -> float:
        """The layer's own output at the current cell (what the written-out sum must equal)."""
        return float(self.case.output[self.out_channel, self.cell[0], self.cell[1]]) if self.case else 0.0

    # --- hover linking -------------------------------------------------------------------------------
    def set_hover(self, hover: tuple[str, int, int] | None) -> None:
        if hover != self.hover:
            self.hover = hover
            self.hover_changed.emit()

    def linked_outputs(self) -> list[tuple[int, int]]:
        """Output cells linked to the hovered input pixel (those whose window reads it)."""
        if self.case is None or self.hover is None or self.hover[0] != "input":
            return []
        return self.case.geometry.readers(self.hover[1], self.hover[2])

    def linked_grid_cells(self) -> list[tuple[int, int]]:
        """Grid cells under the hovered output cell's window."""
        if self.case is None or self.hover is None or self.hover[0] != "output":
            return []
        return [(gy, gx) for gy, gx, _, _ in self.case.geometry.window(self.hover[1], self.hover[2])]
