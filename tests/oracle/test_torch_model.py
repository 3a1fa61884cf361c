"""Self-checks of the PyTorch oracle on the seed figures of ../shared/seeds/DIGEST.md."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tests.oracle.torch_model import (
    assign_names,
    build_torch_model,
    count_params,
    torch_layer_macs,
    torch_layer_shapes,
)


def design(c, h, w, layers):
    return {"format": "cnn-designer/v1", "name": "t", "input": {"channels": c, "height": h, "width": w},
            "layers": layers}


def test_tf_same_and_valid_width13_k6_s5():
    # DIGEST [004]: width 13, kernel 6, stride 5 -> SAME 3, VALID 2
    for padding, out in (("same", 3), ("valid", 2)):
        d = design(1, 13, 13, [{"type": "Conv2d", "name": "c", "out_channels": 1, "kernel_size": 6, "stride": 5,
                                "padding": padding}])
        assert torch_layer_shapes(d)["c"] == (1, out, out)


def test_tf_same_extra_padding_bottom_right():
    # n=4, k=2, s=1: total padding 1, all at the bottom/right. With a kernel that picks the top-left tap,
    # the output equals the input (no shift), which fails if the pad went top/left.
    d = design(1, 4, 4, [{"type": "Conv2d", "name": "c", "out_channels": 1, "kernel_size": 2, "padding": "same",
                          "bias": False}])
    m = build_torch_model(d)
    with torch.no_grad():
        m.c.weight.zero_()
        m.c.weight[0, 0, 0, 0] = 1.0
        x = torch.arange(16.0).reshape(1, 1, 4, 4)
        assert torch.equal(m(x), x)


def test_conv_params_and_macs_seed_004():
    # 5x5 conv, RGB in, 200 maps, SAME on 150x100: 15,200 params, 225,000,000 multiplies
    d = design(3, 150, 100, [{"type": "Conv2d", "name": "c", "out_channels": 200, "kernel_size": 5,
                              "padding": "same"}])
    assert count_params(build_torch_model(d)) == 15_200
    assert torch_layer_macs(d)["c"] == 225_000_000
    assert torch_layer_shapes(d)["c"] == (200, 150, 100)


def test_transposed_conv_3_to_5_and_macs():
    d = design(2, 3, 3, [{"type": "ConvTranspose2d", "name": "up", "out_channels": 4, "kernel_size": 3,
                          "stride": 2, "padding": 1}])
    assert torch_layer_shapes(d)["up"] == (4, 5, 5)
    assert torch_layer_macs(d)["up"] == 2 * 3 * 3 * 4 * 3 * 3


def test_depthwise_separable_weights():
    d = design(3, 8, 8, [
        {"type": "Conv2d", "name": "dw", "out_channels": 3, "kernel_size": 3, "groups": 3, "bias": False},
        {"type": "Conv2d", "name": "pw", "out_channels": 4, "kernel_size": 1, "bias": False}])
    assert count_params(build_torch_model(d)) == 27 + 12


def test_spp_length_and_order():
    d = design(256, 13, 17, [{"type": "SpatialPyramidPool2d", "name": "spp"}])
    assert torch_layer_shapes(d)["spp"] == ((16 + 4 + 1) * 256,)
    d = design(2, 4, 4, [{"type": "SpatialPyramidPool2d", "name": "spp", "levels": [2, 1], "mode": "avg"}])
    m = build_torch_model(d)
    x = torch.arange(32.0).reshape(1, 2, 4, 4)
    y = m(x)[0]
    expected = torch.cat([torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(),
                          torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten()])
    assert torch.allclose(y, expected)


def test_branch_concat_add_identity_and_flat_names():
    d = design(4, 8, 8, [
        {"type": "Branch", "name": "b", "merge": "add", "branches": [
            [{"type": "Conv2d", "name": "c1", "out_channels": 4, "kernel_size": 3, "padding": 1}], []]},
        {"type": "Branch", "name": "cat", "merge": "concat", "branches": [
            [{"type": "Conv2d", "name": "c2", "out_channels": 3, "kernel_size": 1}], [], []]}])
    m = build_torch_model(d)
    assert set(m.state_dict()) == {"c1.weight", "c1.bias", "c2.weight", "c2.bias"}
    shapes = torch_layer_shapes(d)
    assert list(shapes) == ["c1", "b", "c2", "cat"]
    assert shapes["cat"] == (3 + 4 + 4, 8, 8)
    with torch.no_grad():
        m.c1.weight.zero_()
        m.c1.bias.zero_()
        x = torch.randn(1, 4, 8, 8)
        assert torch.equal(m(x)[:, 3:7], x)


def test_branch_add_shape_mismatch_raises():
    d = design(4, 8, 8, [{"type": "Branch", "name": "b", "merge": "add", "branches": [
        [{"type": "Conv2d", "name": "c", "out_channels": 5, "kernel_size": 1}], []]}])
    with pytest.raises((ValueError, RuntimeError)):  # torch's broadcasting refuses 5 vs 4 channels
        build_torch_model(d)


def test_linear_on_feature_map_raises():
    d = design(4, 8, 8, [{"type": "Linear", "name": "fc", "out_features": 3}])
    with pytest.raises(ValueError):
        build_torch_model(d)


def test_flatten_linear_softmax_and_inferred_features():
    d = design(3, 5, 7, [{"type": "Flatten", "name": "f"}, {"type": "Linear", "name": "fc", "out_features": 4},
                         {"type": "Softmax", "name": "sm"}])
    m = build_torch_model(d)
    assert m.fc.in_features == 105
    y = m(torch.randn(2, 3, 5, 7))
    assert torch.allclose(y.sum(1), torch.ones(2))


def test_dilated_rf_seed_002_shapes():
    # three 3x3 convs with dilation 2 on 17x17 -> 17 - 3*4 = 5
    d = design(1, 17, 17, [{"type": "Conv2d", "name": f"c{i}", "out_channels": 1, "kernel_size": 3,
                            "dilation": 2} for i in range(3)])
    assert torch_layer_shapes(d)["c2"] == (1, 5, 5)


def test_maxpool_stride_defaults_to_kernel_and_ceil_mode():
    d = design(1, 7, 7, [{"type": "MaxPool2d", "name": "p", "kernel_size": 2},
                         {"type": "MaxPool2d", "name": "q", "kernel_size": 2, "ceil_mode": True}])
    s = torch_layer_shapes(d)
    assert s["p"] == (1, 3, 3) and s["q"] == (1, 2, 2)


def test_assign_names_per_type_in_file_order():
    d = design(1, 8, 8, [{"type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                         {"type": "ReLU"},
                         {"type": "Branch", "merge": "add", "branches": [[{"type": "ReLU"}], []]},
                         {"type": "Conv2d", "out_channels": 1, "kernel_size": 1}])
    named = assign_names(d)
    assert [layer["name"] for layer in named["layers"]] == ["conv2d1", "relu1", "branch1", "conv2d2"]
    assert named["layers"][2]["branches"][0][0]["name"] == "relu2"
    assert list(torch_layer_shapes(d)) == ["conv2d1", "relu1", "relu2", "branch1", "conv2d2"]
