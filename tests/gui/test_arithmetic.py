"""The arithmetic panels as self-contained widgets, offscreen: what they show equals the layer's output."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from designer.backend.explain.fully_conv_grid import check_cells, fully_conv_grid
from designer.backend.weights import init_layer, init_weights
from designer.core import Design, Layer
from designer.gui.arithmetic.canvas import ArithmeticCanvas
from designer.gui.arithmetic.fully_conv_view import FullyConvView
from designer.gui.arithmetic.layout_view import MemoryLayoutView
from designer.gui.arithmetic.matrix_view import ConvMatrixView
from designer.gui.arithmetic.model import ArithmeticModel, toy_input
from designer.gui.arithmetic.pooling_view import FeatureMapSource, PoolingView
from designer.gui.arithmetic.view import ArithmeticView
from tests.backend.designs import as_dict, conv, layer

LAYERS = {
    "conv": Layer("Conv2d", "c", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1}),
    "dilated": Layer("Conv2d", "c", {"out_channels": 2, "kernel_size": 3, "dilation": 2, "padding": "same"}),
    "grouped": Layer("Conv2d", "c", {"out_channels": 4, "kernel_size": 3, "groups": 2}),
    "transposed": Layer("ConvTranspose2d", "t", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1,
                                                 "output_padding": 1}),
    "max": Layer("MaxPool2d", "p", {"kernel_size": 3, "stride": 2, "padding": 1}),
    "avg": Layer("AvgPool2d", "p", {"kernel_size": 2, "stride": 2, "ceil_mode": True}),
}


def _model(kind: str, size: int = 5) -> ArithmeticModel:
    lay = LAYERS[kind]
    x = toy_input(2, size, seed=1)
    model = ArithmeticModel()
    weights = init_layer(lay, x.shape, seed=0) if lay.type.startswith("Conv") else {}
    model.set_case(lay, x, weights, "toy input")
    return model


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_view_steps_through_every_cell_and_its_sum_equals_the_layer(qtbot, kind):
    model = _model(kind)
    view = ArithmeticView(model)
    qtbot.addWidget(view)
    out = model.case.output
    for k in range(model.cell_count):
        view.forward.click() if k else None
        pos = model.position()
        assert model.index == k
        assert pos.value == pytest.approx(model.layer_value(), rel=1e-5, abs=1e-5)
        assert f"= {pos.value:.4g}" in view.text.toPlainText().splitlines()[0]
    assert model.layer_value() == pytest.approx(float(out[0, -1, -1]))
    view.forward.click()  # wraps around
    assert model.cell == (0, 0) and view.scrub.value() == 0


def test_play_scrub_and_channel_pickers(qtbot):
    model = _model("grouped")
    view = ArithmeticView(model)
    qtbot.addWidget(view)
    view.scrub.setValue(4)
    assert model.cell == (1, 1)
    view.out_channel.setValue(3)
    assert model.in_channel == 1
    assert view.groups.text() == "depthwise: filter 3 is in group 1 of 2: sees input channel 1 only"
    view.play.setChecked(True)
    qtbot.waitUntil(lambda: model.index != 4, timeout=3000)
    view.play.setChecked(False)
    assert not view.timer.isActive()


def test_click_jumps_and_hover_links(qtbot):
    model = _model("conv")
    canvas = ArithmeticCanvas(model)
    canvas.resize(600, 300)
    qtbot.addWidget(canvas)
    size, grid_origin, out_origin = canvas.layout_grids()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton,
                     pos=QPointF(out_origin[0] + 2.5 * size, out_origin[1] + 1.5 * size).toPoint())
    assert model.cell == (1, 2)
    canvas.mouseMoveEvent(_Move(QPointF(grid_origin[0] + 1.5 * size, grid_origin[1] + 1.5 * size)))
    assert model.hover == ("input", 0, 0) and model.linked_outputs() == [(0, 0)]
    canvas.mouseMoveEvent(_Move(QPointF(out_origin[0] + 0.5 * size, out_origin[1] + 0.5 * size)))
    assert model.hover == ("output", 0, 0) and (1, 1) in model.linked_grid_cells()


class _Move:
    def __init__(self, point: QPointF) -> None:
        self._point = point

    def position(self) -> QPointF:
        return self._point


def test_transposed_text_shows_both_ways(qtbot):
    model = _model("transposed", size=3)
    view = ArithmeticView(model)
    qtbot.addWidget(view)
    text = view.text.toPlainText()
    assert "Transposed convolution, both ways:" in text and "Cᵀ·x (72×18)" in text
    assert model.case.both_ways.max_diff_conv < 1e-5 and model.case.both_ways.max_diff_matrix < 1e-5


def test_not_a_window_layer_says_why(qtbot):
    model = ArithmeticModel()
    view = ArithmeticView(model)
    qtbot.addWidget(view)
    model.set_case(Layer("ReLU", "act"), np.zeros((1, 3, 3), np.float32))
    assert model.case is None and "does not slide a window" in view.text.toPlainText()


def test_matrix_view_row_follows_the_cell_and_states_sparsity(qtbot):
    lay = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 3})
    model = ArithmeticModel()
    model.set_case(lay, toy_input(1, 4), init_layer(lay, (1, 4, 4), seed=0), "toy input")
    view = ConvMatrixView(model)
    qtbot.addWidget(view)
    assert view.matrix.shape == (4, 16) and "36 nonzeros of 64 (56.2%)" in view.info.text()
    model.set_cell(1, 1)
    assert view.current_row() == 3 and len(view.window_columns()) == 9
    view.select_row(1)
    assert model.cell == (0, 1)
    model.set_case(Layer("MaxPool2d", "p", {"kernel_size": 2}), toy_input(1, 4))
    assert view.matrix is None and "picks the largest" in view.info.text()


def test_pooling_and_layout_views(qtbot):
    source = FeatureMapSource()
    pooling, layout = PoolingView(source), MemoryLayoutView(source)
    qtbot.addWidget(pooling)
    qtbot.addWidget(layout)
    source.set_map(np.arange(32, dtype=np.float32).reshape(2, 4, 4), "conv1 output", (2, 3, 3, 3))
    assert pooling.comparison.discarded_fraction == 0.75 and "75%" in pooling.info.text()
    pooling.channel.setValue(1)
    assert pooling.comparison.max_map[0, 0, 0] == 16 + 5
    assert layout.table.item(1, 1).text() == "c=0, h=0, w=1" and layout.table.item(1, 2).text() == "c=1, h=0, w=0"
    assert layout.table.item(1, 4).text() == "o=1, i=0, kh=0, kw=0"


def test_fully_conv_view_hover_outlines_the_cell_window(qtbot):
    design = Design.from_dict(as_dict([
        conv("c1", 3, 3), layer("MaxPool2d", "p", kernel_size=2), layer("Flatten", "f"),
        layer("Linear", "fc", out_features=4)], h=10, w=10))
    weights = init_weights(design, seed=1)
    image = np.random.default_rng(0).standard_normal((3, 16, 14)).astype(np.float32)
    grid = fully_conv_grid(design, weights, image)
    view = FullyConvView(grid, check_cells(grid))
    view.resize(800, 400)
    qtbot.addWidget(view)
    assert grid.scores.shape[1:] == (4, 3) and "max difference" in view.details.toPlainText()
    centre = view.canvas.block(2, 1).center()
    view.canvas.mouseMoveEvent(_Move(centre))
    assert view.canvas.cell == (2, 1) and "cell (2, 1): window rows 4–13, columns 2–11" in view.cell_info.text()
    assert "equals the original net on this crop" in view.cell_info.text()
    assert "Every checked cell equals the original network on its crop." in view.details.toPlainText()


def test_fully_conv_view_explains_why_a_padded_network_differs_from_its_crops(qtbot):
    """Regression: with padded convolutions (VGG-16's) the view said "equals the original net on this crop
    (max difference 1.5)"; now it says the cells differ and that the padding is why."""
    design = Design.from_dict(as_dict([
        conv("c1", 3, 3, padding=1), layer("ReLU", "r"), layer("MaxPool2d", "p", kernel_size=2),
        layer("Flatten", "f"), layer("Linear", "fc", out_features=4)], h=8, w=8))
    weights = init_weights(design, seed=1)
    image = np.random.default_rng(0).standard_normal((3, 12, 12)).astype(np.float32)
    grid = fully_conv_grid(design, weights, image)
    view = FullyConvView(grid, check_cells(grid))
    qtbot.addWidget(view)
    assert grid.padded == ["c1"] and np.nanmax(view.diffs) > grid.tolerance
    assert "c1 pad with zeros" in view.details.toPlainText()
    view.canvas.mouseMoveEvent(_Move(view.canvas.block(1, 1).center()))
    assert "differs from the original net on this crop by up to" in view.cell_info.text()


def test_matrix_zeros_are_grey_so_tiny_weights_still_show():
    """Regression: zeros and near-zero weights were both white, hiding seed 002's sparsity pattern."""
    from designer.gui.arithmetic.matrix_view import ZERO, matrix_rgba

    rgba = matrix_rgba(np.array([[0.0, 1e-3, -1.0]], np.float32))
    assert tuple(rgba[0, 0]) == ZERO and tuple(rgba[0, 1]) != ZERO and tuple(rgba[0, 2]) != ZERO


def test_a_large_grid_is_shown_through_a_readable_viewport_that_follows_the_window(qtbot):
    """Regression: a real 40×40 input was drawn with 2–6 px cells (no numbers, window barely visible); now a
    viewport of cells ≥ MIN_CELL px around the current window, its rows and columns named."""
    from designer.gui.arithmetic.canvas import MIN_CELL

    lay = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1})
    model = ArithmeticModel()
    model.set_case(lay, toy_input(1, 40), init_layer(lay, (1, 40, 40), seed=0), "real input")
    canvas = ArithmeticCanvas(model)
    canvas.resize(600, 300)
    qtbot.addWidget(canvas)
    model.set_cell(12, 15)
    grid, out = canvas.viewports()
    assert grid.zoomed and out.zoomed and grid.size >= MIN_CELL
    for gy, gx, _, _ in model.case.geometry.window(12, 15):
        assert grid.rows[0] <= gy < grid.rows[1] and grid.cols[0] <= gx < grid.cols[1]
    assert out.rows[0] <= 12 < out.rows[1] and out.cols[0] <= 15 < out.cols[1]
    assert grid.caption().startswith("; rows ") and canvas.grab().width() == 600
    i, j = out.rows[0], out.cols[1] - 1
    point = QPointF(out.origin[0] + (j + 0.5) * out.size, out.origin[1] + (i + 0.5) * out.size)
    assert canvas.hit(point) == ("output", i, j)
    assert canvas.hit(QPointF(out.origin[0] + (out.cols[0] - 0.5) * out.size, point.y())) is None  # left of it
