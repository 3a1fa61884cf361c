"""Transposed conv both ways, max vs average pooling, memory layouts, TensorFlow weights, fully conv grid."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.explain.fully_conv_grid import check_cells, fully_conv_grid
from designer.backend.explain.layouts import (
    TF_RULES,
    address,
    first_addresses,
    save_tensorflow_weights,
    tensorflow_weights,
)
from designer.backend.explain.pooling import compare_pools
from designer.backend.explain.transposed import transposed_both_ways
from designer.backend.kernels import conv2d
from designer.backend.runner import Runner
from designer.backend.weights import init_layer, init_weights
from designer.core import Design, Layer
from designer.core.spec import LAYER_SPECS

from .designs import as_dict, conv, layer


@pytest.mark.parametrize("hp", [
    {"out_channels": 2, "kernel_size": 3, "stride": 2},  # seed 002: 2×2 → 5×5
    {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
    {"out_channels": 2, "kernel_size": 2, "stride": 3, "padding": 3, "dilation": 2, "output_padding": 1},  # negative padding
    {"out_channels": 3, "kernel_size": [3, 1], "stride": [1, 2], "padding": [0, 1], "bias": False},
])
def test_transposed_both_ways_equal_the_layer(hp):
    layer = Layer("ConvTranspose2d", "t", hp)
    x = np.random.default_rng(0).standard_normal((4, 3, 4)).astype(np.float32)
    weights = init_layer(layer, x.shape, seed=2)
    both = transposed_both_ways(layer, x, weights)
    assert both.by_conv.shape == both.layer_output.shape == both.by_matrix.shape
    assert both.max_diff_conv < 1e-5 and both.max_diff_matrix < 1e-5
    assert "flipped-kernel conv" in both.summary()


def test_seed_002_transposed_grid_is_2x2_with_zeros_and_padding_2():
    layer = Layer("ConvTranspose2d", "t", {"out_channels": 1, "kernel_size": 3})
    both = transposed_both_ways(layer, np.ones((1, 2, 2), np.float32), init_layer(layer, (1, 2, 2), seed=0))
    assert both.grid.shape == (1, 6, 6) and both.layer_output.shape == (1, 4, 4)
    assert both.grid[0].sum() == 4 and both.grid[0, 2:4, 2:4].tolist() == [[1, 1], [1, 1]]
    assert both.matching.shape == (4, 16)  # C of the 3×3 conv on 4×4; the layer is Cᵀ


def test_max_vs_average_pooling_discards_75_percent():
    fmap = np.arange(16, dtype=np.float32).reshape(4, 4)
    cmp = compare_pools(fmap, 2)
    assert cmp.max_map[0].tolist() == [[5, 7], [13, 15]] and cmp.avg_map[0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert cmp.discarded_fraction == 0.75 and "75% of the activations discarded" in cmp.text()
    assert compare_pools(np.zeros((2, 9, 9)), 3, 3).discarded_fraction == pytest.approx(1 - 9 / 81)
    with pytest.raises(ValueError, match="larger than the 1×1 map"):
        compare_pools(np.zeros((1, 1)), 2)


def test_nchw_and_nhwc_addresses():
    shape = (1, 3, 2, 2)
    assert address((0, 1, 0, 1), shape, "NCHW") == 5 and address((0, 1, 0, 1), shape, "NHWC") == 4
    nhwc = first_addresses((3, 2, 2), "NHWC", 4)
    assert nhwc == [(0, (0, 0, 0)), (1, (1, 0, 0)), (2, (2, 0, 0)), (3, (0, 0, 1))]
    assert [a for a, _ in first_addresses((3, 4, 4), "NCHW")] == list(range(16))
    for a, (c, h, w) in first_addresses((3, 4, 4), "NHWC", 16):
        assert address((0, c, h, w), (1, 3, 4, 4), "NHWC") == a
    hwio = first_addresses((8, 3, 3, 3), "HWIO", 9)
    assert [idx for _, idx in hwio[:3]] == [(0, 0, 0, 0), (1, 0, 0, 0), (2, 0, 0, 0)]  # O fastest
    assert hwio[8][1] == (0, 1, 0, 0)


def _classifier() -> Design:
    return Design.from_dict(as_dict([
        conv("c1", 4, 3), layer("ReLU", "r1"), layer("MaxPool2d", "p1", kernel_size=2),
        conv("c2", 5, 3, groups=1), layer("BatchNorm2d", "bn"), layer("PReLU", "pr", num_parameters=5),
        layer("Flatten", "flat"), layer("Dropout", "d"), layer("Linear", "fc1", out_features=7),
        layer("ReLU", "r3"), layer("Linear", "fc2", out_features=3),
    ], h=12, w=12))


def test_tensorflow_layout_computes_the_same_numbers():
    """HWIO conv and an NHWC Flatten → [in, out] Dense reproduce the PyTorch-layout network's numbers."""
    design = _classifier()
    weights = init_weights(design, seed=1)
    tf = tensorflow_weights(design, weights)
    assert tf["c1/kernel"].shape == (3, 3, 3, 4) and tf["fc1/kernel"].shape == (45, 7)
    assert tf["fc2/kernel"].shape == (7, 3) and tf["pr/alpha"].shape == (1, 1, 5)
    assert {k for k in tf if k.startswith("bn/")} == {"bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"}
    x = np.random.default_rng(0).standard_normal((3, 12, 12)).astype(np.float32)
    hwc = x.transpose(1, 2, 0)
    windows = np.lib.stride_tricks.sliding_window_view(hwc, (3, 3), axis=(0, 1))  # [10, 10, C, 3, 3]
    keras_conv = np.einsum("ijcuv,uvco->ijo", windows, tf["c1/kernel"]) + tf["c1/bias"]
    torch_conv = conv2d(x, weights["c1.weight"], weights["c1.bias"])
    np.testing.assert_allclose(keras_conv, torch_conv.transpose(1, 2, 0), rtol=1e-5, atol=1e-5)
    fmap = np.random.default_rng(1).standard_normal((5, 3, 3)).astype(np.float32)  # the map fc1 flattens
    keras_dense = fmap.transpose(1, 2, 0).reshape(-1) @ tf["fc1/kernel"]
    np.testing.assert_allclose(keras_dense, weights["fc1.weight"] @ fmap.reshape(-1), rtol=1e-5, atol=1e-5)


def test_save_tensorflow_weights(tmp_path):
    design = _classifier()
    weights = init_weights(design, seed=1)
    save_tensorflow_weights(tmp_path / "tf.npz", design, weights)
    with np.load(tmp_path / "tf.npz") as data:
        np.testing.assert_array_equal(data["fc2/kernel"], weights["fc2.weight"].T)


def test_every_layer_type_has_a_tensorflow_rule():
    assert sorted(set(LAYER_SPECS) - set(TF_RULES)) == []


def test_fully_convolutional_grid_equals_crop_runs():
    design = Design.from_dict(as_dict([
        conv("c1", 4, 3), layer("ReLU", "r1"), layer("MaxPool2d", "p1", kernel_size=2),
        conv("c2", 5, 3), layer("MaxPool2d", "p2", kernel_size=2),
        layer("Flatten", "flat"), layer("Linear", "fc1", out_features=6), layer("ReLU", "r3"),
        layer("Linear", "fc2", out_features=3), layer("Softmax", "probs"),
    ], h=18, w=18))
    weights = Runner(design, seed=3).weights
    image = np.random.default_rng(2).standard_normal((3, 18 + 4 * 2, 18 + 4 * 3)).astype(np.float32)
    grid = fully_conv_grid(design, weights, image)
    assert grid.scores.shape == (3, 3, 4) and grid.stride == (4, 4) and grid.window == (18, 18)
    assert grid.cell_window(2, 3) == (8, 12, 18, 18)
    diffs = check_cells(grid)
    assert diffs.shape == (3, 4) and np.nanmax(diffs) < 1e-5
    only = check_cells(grid, [(0, 1)])
    assert np.isnan(only[0, 0]) and only[0, 1] < 1e-5


def test_transposed_matrix_is_skipped_when_too_large():
    layer = Layer("ConvTranspose2d", "t", {"out_channels": 1, "kernel_size": 3, "stride": 2})
    x = np.ones((1, 4, 4), np.float32)
    both = transposed_both_ways(layer, x, init_layer(layer, x.shape, seed=0), max_entries=10)
    assert both.matching is None and np.isnan(both.max_diff_matrix) and "skipped" in both.summary()
    assert both.max_diff_conv < 1e-6


def test_padding_layers_name_what_makes_cells_differ_from_crops():
    from designer.backend.explain.fully_conv_grid import padding_layers

    design = Design.from_dict(as_dict([
        conv("a", 2, 3, padding=1), conv("b", 2, 3, padding="valid"), conv("c", 2, 3, padding="same"),
        conv("d", 2, 1), layer("ZeroPad2d", "z", padding=[0, 1, 0, 0]), layer("MaxPool2d", "m", kernel_size=2),
        layer("AvgPool2d", "v", kernel_size=2, padding=1)], h=12, w=12))
    assert padding_layers(design) == ["a", "c", "z", "v"]


def test_tensorflow_weights_go_to_exactly_the_path_and_grouped_transposed_is_refused(tmp_path):
    """Regression: ``np.savez(path)`` appended ``.npz`` to a path without it and did not write atomically;
    a grouped ConvTranspose2d was saved in a shape Keras' Conv2DTranspose (no groups) cannot take."""
    design = _classifier()
    save_tensorflow_weights(tmp_path / "keras_weights", design, init_weights(design, seed=1))
    assert [p.name for p in tmp_path.iterdir()] == ["keras_weights"]
    grouped = Design.from_dict(as_dict([layer("ConvTranspose2d", "up", out_channels=6, kernel_size=2, groups=3)],
                                       h=4, w=4))
    with pytest.raises(ValueError, match="layer 'up': Keras' Conv2DTranspose has no groups"):
        tensorflow_weights(grouped, init_weights(grouped, seed=0))
