"""The arithmetic view's numbers equal the layer's output at every position it shows."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.arithmetic_view import (
    ARITHMETIC_RULES,
    filter_channels,
    geometry,
    grid_values,
    position,
    shape_formula,
)
from designer.backend.layer_ops import LAYER_OPS
from designer.backend.weights import init_layer
from designer.core import Layer
from designer.core.spec import LAYER_SPECS

CASES = {
    "conv": ("Conv2d", {"out_channels": 3, "kernel_size": 3}),
    "strided": ("Conv2d", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1}),
    "dilated": ("Conv2d", {"out_channels": 2, "kernel_size": 3, "dilation": 2, "padding": 1}),
    "grouped": ("Conv2d", {"out_channels": 4, "kernel_size": [3, 2], "groups": 2, "padding": [1, 0]}),
    "depthwise": ("Conv2d", {"out_channels": 4, "kernel_size": 3, "groups": 4, "padding": 1, "bias": False}),
    "same": ("Conv2d", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": "same"}),
    "transposed": ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1,
                                           "groups": 2}),
    "transposed_crop": ("ConvTranspose2d", {"out_channels": 2, "kernel_size": 3, "stride": 3, "padding": 3, "dilation": 1}),
    "transposed_dilated": ("ConvTranspose2d", {"out_channels": 2, "kernel_size": 2, "stride": 2, "dilation": 2,
                                                   "output_padding": 1}),
    "max": ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "dilation": 1}),
    "max_dilated": ("MaxPool2d", {"kernel_size": 2, "stride": 1, "dilation": 2}),
    "avg": ("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    "avg_pad": ("AvgPool2d", {"kernel_size": 2, "stride": 2, "padding": 1, "count_include_pad": True}),
}


def _layer_and_input(case: str, shape=(4, 6, 7)):
    type_, hp = CASES[case]
    layer = Layer(type_, "L", hp)
    rng = np.random.default_rng(len(case))
    x = rng.standard_normal(shape).astype(np.float32)
    weights = init_layer(layer, shape, seed=3) if type_ in ("Conv2d", "ConvTranspose2d") else {}
    if "L.bias" in weights:
        weights["L.bias"] = rng.standard_normal(weights["L.bias"].shape).astype(np.float32)
    return layer, x, weights


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_position_equals_the_layer_output(case):
    layer, x, weights = _layer_and_input(case)
    y = LAYER_OPS[layer.type](layer, [x], weights)
    geo = geometry(layer, x.shape)
    assert geo.out_hw == y.shape[1:]
    for o in range(y.shape[0]):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                pos = position(layer, x, weights, (o, i, j), geo)
                assert pos.value == pytest.approx(float(y[o, i, j]), rel=1e-5, abs=1e-5), (o, i, j)


def test_terms_read_the_input_at_their_cells():
    layer, x, weights = _layer_and_input("transposed")
    geo = geometry(layer, x.shape)
    pos = position(layer, x, weights, (3, 2, 5), geo)
    assert {t.channel for t in pos.terms} == {2, 3}  # the second group's input channels
    for t in pos.terms:
        src, yy, xx = geo.source(*t.cell)
        assert t.source == src
        assert t.value == (float(x[t.channel, yy, xx]) if src == "input" else 0.0)
    assert "Σ w·x + b =" in pos.text() and pos.text().endswith(f"{pos.value:.4g}")


def test_transposed_grid_is_zero_inserted_and_padded():
    layer = Layer("ConvTranspose2d", "t", {"out_channels": 1, "kernel_size": 3, "stride": 2})
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 2, 2)
    geo = geometry(layer, x.shape)
    assert geo.grid_hw == (7, 7) and geo.pad_before == (2, 2)  # 3 + 2·(3 − 1)
    grid = grid_values(geo, x)[0]
    assert grid[2:5, 2:5].tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert geo.source(3, 2) == ("inserted", -1, -1) and geo.source(0, 0) == ("padding", -1, -1)
    assert geo.source(4, 4) == ("input", 1, 1)


def test_readers_link_input_cells_to_outputs():
    layer = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1})
    geo = geometry(layer, (1, 5, 5))
    assert geo.readers(0, 0) == [(0, 0)]
    assert geo.readers(2, 1) == [(1, 0), (1, 1)]  # grid row 3 is in window 1 only; grid column 2 in 0 and 1
    for (i, j) in geo.readers(3, 4):
        assert any(geo.source(gy, gx)[1:] == (3, 4) for gy, gx, _, _ in geo.window(i, j))


def test_filter_channels_groups_and_depthwise():
    grouped, _, _ = _layer_and_input("grouped")
    assert list(filter_channels(grouped, 4, 0)) == [0, 1] and list(filter_channels(grouped, 4, 3)) == [2, 3]
    depthwise, _, _ = _layer_and_input("depthwise")
    assert [list(filter_channels(depthwise, 4, o)) for o in range(4)] == [[0], [1], [2], [3]]


def test_shape_formula_numbers_and_ignored_rows():
    valid = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 3, "stride": 2})  # seed 004: 6 wide, VALID
    lines = shape_formula(valid, (1, 6, 6))
    assert lines[0] == "H_out = floor((H + p_before + p_after − d(k − 1) − 1)/s) + 1 = " \
                       "floor((6 + 0 + 0 − 1·(3 − 1) − 1)/2) + 1 = floor(3/2) + 1 = 2"
    assert lines[1].endswith("(6 − 3) mod 2 ⇒ the last row of the input is never seen")
    same = shape_formula(Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": "same"}),
                         (1, 6, 6))
    assert same[0] == "H_out = ceil(H/s) = ceil(6/2) = 3 (SAME); padding max((3 − 1)·2 + 3 − 6, 0) = 1: " \
                      "0 before, 1 after"
    t = shape_formula(Layer("ConvTranspose2d", "t", {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1,
                                                         "output_padding": 1}), (1, 4, 4))
    assert t[0].startswith("H_out = (H − 1)s − 2p + d(k − 1) + output_padding + 1 = (4 − 1)·2 − 2·1 + 1·(3 − 1)"
                           " + 1 + 1 = 8")


def test_every_layer_type_has_an_entry():
    """A new layer type must say whether it is a sliding window (its kind) or not (None)."""
    assert sorted(set(LAYER_SPECS) - set(ARITHMETIC_RULES)) == []


def test_seed_004_valid_and_same_on_13_columns_with_kernel_6_stride_5():
    """Géron's example in seed 004: VALID ignores the last 2 columns; SAME pads 1 left, 2 right → 3 outputs."""
    valid = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": [1, 6], "stride": [1, 5], "padding": "valid"})
    lines = shape_formula(valid, (1, 1, 13))
    assert lines[1].endswith("floor(7/5) + 1 = 2")
    assert lines[2].endswith("(13 − 6) mod 5 ⇒ the last 2 columns of the input are never seen")
    same = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": [1, 6], "stride": [1, 5], "padding": "same"})
    assert shape_formula(same, (1, 1, 13))[1] == ("W_out = ceil(W/s) = ceil(13/5) = 3 (SAME); padding "
                                                   "max((3 − 1)·5 + 6 − 13, 0) = 3: 1 before, 2 after")


def test_max_pool_window_wholly_on_padding_is_minus_infinity():
    """Regression: a dilated max-pool window that only touches padding gave ValueError (max of nothing);
    PyTorch's output there is −∞ (``max_pool2d(ones(1, 1, 1, 1), (2, 1), (1, 3), (1, 0), (2, 1), True)``)."""
    layer = Layer("MaxPool2d", "p", {"kernel_size": [2, 1], "stride": [1, 3], "padding": [1, 0], "ceil_mode": True,
                                     "dilation": [2, 1]})
    x = np.ones((1, 1, 1), np.float32)
    y = LAYER_OPS["MaxPool2d"](layer, [x], {})
    pos = position(layer, x, {}, (0, 0, 0))
    assert y.shape == (1, 1, 1) and pos.value == float(y[0, 0, 0]) == -np.inf
    assert pos.text() == "max(only padding (−∞)) = -inf"


TORCH_CASES = {  # asymmetric, non-square combinations checked against torch.nn.functional itself
    "transposed_grouped_dilated": ("ConvTranspose2d", {"out_channels": 4, "kernel_size": [3, 2], "stride": [3, 2],
                                   "padding": [1, 2], "dilation": [2, 3], "output_padding": [1, 2], "groups": 2}),
    "same_even_stride2": ("Conv2d", {"out_channels": 2, "kernel_size": 4, "stride": 2, "padding": "same"}),
    "depthwise_asym": ("Conv2d", {"out_channels": 8, "kernel_size": [3, 1], "stride": [2, 1], "groups": 4,
                                  "padding": [1, 0], "dilation": [1, 2]}),
    "max_dilated_padding": ("MaxPool2d", {"kernel_size": [2, 3], "stride": [2, 1], "padding": [1, 1],
                                          "dilation": [3, 1], "ceil_mode": True}),
    "avg_ceil": ("AvgPool2d", {"kernel_size": [3, 2], "stride": [2, 3], "padding": [1, 0], "ceil_mode": True,
                               "count_include_pad": False}),
}


def _torch_layer(torch, layer: Layer, weights, shape):
    import torch.nn.functional as F

    hp = layer.hp
    w = {k.split(".")[-1]: torch.from_numpy(v).double() for k, v in weights.items()}
    if layer.type == "ConvTranspose2d":
        return lambda x: F.conv_transpose2d(x, w["weight"], w.get("bias"), hp["stride"], hp["padding"],
                                            hp["output_padding"], hp["groups"], hp["dilation"])
    if layer.type == "Conv2d":
        from designer.core.layers_conv import resolve_conv_padding

        (top, bottom), (left, right) = resolve_conv_padding(hp, shape[1], shape[2])
        return lambda x: F.conv2d(F.pad(x, (left, right, top, bottom)), w["weight"], w.get("bias"), hp["stride"], 0,
                                  hp["dilation"], hp["groups"])
    if layer.type == "MaxPool2d":
        return lambda x: F.max_pool2d(x, hp["kernel_size"], hp["stride"], hp["padding"], hp["dilation"],
                                      hp["ceil_mode"])
    return lambda x: F.avg_pool2d(x, hp["kernel_size"], hp["stride"], hp["padding"], hp["ceil_mode"],
                                  hp["count_include_pad"])


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_every_position_equals_torch(case):
    torch = pytest.importorskip("torch")
    type_, hp = TORCH_CASES[case]
    layer, shape = Layer(type_, "L", hp), (4, 7, 5)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    weights = init_layer(layer, shape, seed=4) if type_.startswith("Conv") else {}
    if "L.bias" in weights:
        weights["L.bias"] = rng.standard_normal(weights["L.bias"].shape).astype(np.float32)
    y = _torch_layer(torch, layer, weights, shape)(torch.from_numpy(x).double()[None])[0].numpy()
    geo = geometry(layer, shape)
    assert geo.out_hw == y.shape[1:]
    got = np.array([[[position(layer, x, weights, (o, i, j), geo).value for j in range(y.shape[2])]
                     for i in range(y.shape[1])] for o in range(y.shape[0])])
    np.testing.assert_allclose(got, y, rtol=1e-5, atol=1e-5)


def test_long_sums_keep_the_other_channels_and_bias_and_a_checkable_subtotal():
    """Regression: with more than 12 items the "[terms of other channels: …]" subtotal was cut into
    "… (16 more)" (15 were hidden), so the written sum could not be checked by hand."""
    layer = Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 5})
    x = np.random.default_rng(0).standard_normal((3, 5, 5)).astype(np.float32)
    weights = {"c.weight": np.full((1, 3, 5, 5), 0.5, np.float32), "c.bias": np.array([0.25], np.float32)}
    pos = position(layer, x, weights, (0, 0, 0))
    text = pos.text(channel=1)
    hidden = sum(0.5 * float(v) for v in x[1].ravel()[11:24])
    assert f"[… 13 more terms: {hidden:.4g}]" in text
    assert f"[50 terms of other channels: {0.5 * float(x[0].sum() + x[2].sum()):.4g}]" in text
    assert text.endswith(f" + 0.25 = {pos.value:.4g}")
