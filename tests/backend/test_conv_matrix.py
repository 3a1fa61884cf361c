"""The equivalent matrix C of a layer: layer(x) − bias = C @ x.ravel() (seed article 002)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from designer.backend import Runner
from designer.backend.arithmetic_view import layer_input
from designer.backend.conv_matrix import (
    MATRIX_RULES,
    ConvMatrixError,
    design_layer_matrix,
    layer_matrix,
    refusal,
)
from designer.backend.layer_ops import LAYER_OPS
from designer.backend.weights import init_layer, init_weights
from designer.cli.main import main
from designer.core import Design, Layer
from designer.core.spec import LAYER_SPECS

from .designs import as_dict, mini_dict

REFERENCE = Path(__file__).with_name("conv_matrix_reference.npz")

LAYERS = {  # name → (layer dict, input C, H, W)
    "transposed": ({"type": "ConvTranspose2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                    "output_padding": 1, "groups": 2}, (4, 4, 5)),
    "strided": ({"type": "Conv2d", "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1}, (2, 7, 6)),
    "dilated": ({"type": "Conv2d", "out_channels": 2, "kernel_size": 3, "dilation": 2, "padding": 2}, (2, 7, 7)),
    "same": ({"type": "Conv2d", "out_channels": 2, "kernel_size": [3, 4], "stride": 2, "padding": "same"},
             (3, 7, 6)),
    "grouped": ({"type": "Conv2d", "out_channels": 6, "kernel_size": 3, "groups": 3, "padding": 1}, (3, 5, 5)),
    "transposed_dilated": ({"type": "ConvTranspose2d", "out_channels": 2, "kernel_size": 2, "stride": 3,
                            "dilation": 2, "padding": 2, "output_padding": 1}, (3, 3, 4)),
    "depthwise": ({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "groups": 4, "bias": False}, (4, 5, 5)),
    "avgpool": ({"type": "AvgPool2d", "kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
                (2, 5, 6)),
}


def _design(case: str) -> tuple[dict, Design, dict[str, np.ndarray]]:
    spec, (c, h, w) = LAYERS[case]
    raw = as_dict([{**spec, "name": "L"}], c=c, h=h, w=w)
    design = Design.from_dict(raw)
    weights = init_weights(design, seed=7)
    rng = np.random.default_rng(1)
    for key in [k for k in weights if k.endswith(".bias")]:
        weights[key] = rng.standard_normal(weights[key].shape).astype(np.float32)
    return raw, design, weights


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_matrix_reproduces_the_backend_output(case):
    _, design, weights = _design(case)
    lm = design_layer_matrix(design, "L", weights)
    x = np.random.default_rng(3).standard_normal(lm.in_shape).astype(np.float32)
    y = LAYER_OPS[design.layers[0].type](design.layers[0], [x], weights)
    assert lm.matrix.shape == (y.size, x.size)
    np.testing.assert_allclose(lm.matrix @ x.ravel() + lm.offset, y.ravel(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_matrix_is_torch_jacobian(case):
    torch = pytest.importorskip("torch")
    from tests.oracle.torch_model import build_torch_model

    raw, design, weights = _design(case)
    model = build_torch_model(raw).double()
    model.load_state_dict({k: torch.from_numpy(weights[k]).double() for k in model.state_dict()})
    lm = design_layer_matrix(design, "L", weights)
    x = torch.randn(1, *lm.in_shape, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(model, x).reshape(lm.matrix.shape).numpy()
    np.testing.assert_allclose(lm.matrix, jac, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_matrix_equals_the_stored_torch_jacobian(case):
    """Without torch too: the Jacobian stored by make_conv_matrix_reference.py, with the weights it used."""
    _, design, _ = _design(case)
    with np.load(REFERENCE) as data:
        weights = {k.split("/", 1)[1]: data[k] for k in data.files if k.startswith(f"{case}/L.")}
        jacobian = data[f"{case}/jacobian"]
    np.testing.assert_allclose(design_layer_matrix(design, "L", weights).matrix, jacobian, rtol=1e-6, atol=1e-7)


def test_layers_inside_branches():
    design = Design.from_dict(mini_dict())
    runner = Runner(design, seed=1)
    x = np.random.default_rng(0).standard_normal(design.input.shape).astype(np.float32)
    outputs = runner.run(x)
    for name in ("mix_dw", "mix_proj", "res_conv", "up"):
        lm = design_layer_matrix(design, name, runner.weights)
        y = lm.matrix @ layer_input(design, outputs, x, name).ravel() + lm.offset
        np.testing.assert_allclose(y, outputs[name].ravel(), rtol=1e-4, atol=1e-5)


def test_seed_002_example_is_4x16_with_the_sliding_pattern():
    design = Design.from_dict(as_dict([{"type": "Conv2d", "name": "c", "out_channels": 1, "kernel_size": 3}],
                                      c=1, h=4, w=4))
    w = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    lm = design_layer_matrix(design, "c", {"c.weight": w, "c.bias": np.zeros(1, np.float32)})
    assert lm.matrix.shape == (4, 16)
    row0 = [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0]  # w00 w01 w02 0 w10 … (seed 002's figure)
    expected = np.array([np.roll(row0, shift) for shift in (0, 1, 4, 5)], np.float32)
    np.testing.assert_array_equal(lm.matrix, expected)
    assert lm.nonzeros == 36 and lm.sparsity_text == "36 nonzeros of 64 entries (56.2%)"


def test_transposed_matrix_is_the_transpose_of_the_matching_conv():
    _, design, weights = _design("transposed")
    t = design_layer_matrix(design, "L", weights)
    hp = design.layers[0].hp
    conv = Layer("Conv2d", "L", {"out_channels": t.in_shape[0], "kernel_size": list(hp["kernel_size"]),
                                 "stride": list(hp["stride"]), "padding": list(hp["padding"]),
                                 "groups": hp["groups"], "bias": False})
    c, _ = layer_matrix(conv, t.out_shape, t.in_shape, {"L.weight": weights["L.weight"]})
    np.testing.assert_array_equal(t.matrix, c.T)


def test_refusals_name_the_layer():
    relu = Layer("ReLU", "act")
    assert refusal(relu).startswith("layer 'act': ReLU is not linear")
    assert refusal(Layer("MaxPool2d", "p", {"kernel_size": 2})).startswith("layer 'p': MaxPool2d picks the largest")
    assert refusal(Layer("Conv2d", "c", {"out_channels": 1, "kernel_size": 1})) is None
    with pytest.raises(ConvMatrixError, match="layer 'act'"):
        layer_matrix(relu, (1, 2, 2), (1, 2, 2), {})


def test_too_large_is_refused_before_allocating_with_a_smaller_input():
    design = Design.load("resources/examples/vgg16.json")
    with pytest.raises(ConvMatrixError, match=r"more than 100,000,000; use a smaller input size \(e\.g\. 79×79 "
                                              r"instead of 224×224\)$"):
        design_layer_matrix(design, "conv5_3", {})


def test_the_suggested_input_is_the_largest_that_fits_and_names_a_layer_it_would_break():
    """Regression: the suggestion shrank by 1/√2 steps (78×78 where 79×79 fits) and for conv1_1 proposed 26×26,
    at which VGG-16's pool5 fails — conv-matrix then exits 1 on the suggested design."""
    from designer.backend.conv_matrix import _entries_at, suggest_input

    design = Design.load("resources/examples/vgg16.json")
    h, w, broken = suggest_input(design, "conv5_3")
    assert (h, w, broken) == (79, 79, None) and _entries_at(design, "conv5_3", 80, 80)[0] > 10**8
    assert suggest_input(design, "conv1_1") == (26, 26, "pool5")
    with pytest.raises(ConvMatrixError, match="e.g. 26×26 instead of 224×224; at that size layer 'pool5' has an "
                                              "error, so try it on a copy of the design that ends at 'conv1_1'"):
        design_layer_matrix(design, "conv1_1", {})
    assert suggest_input(design, "fc6") is None  # a Linear's C does not shrink with the input
    with pytest.raises(ConvMatrixError, match="no input smaller than 224×224 makes it fit"):
        design_layer_matrix(design, "fc6", {})


def test_linear_matrix_is_its_weight_without_probing():
    """Regression: a Linear was probed column by column (VGG-16's fc7: 4,096 runs of a 4,096×4,096 product)."""
    weight = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    bias = np.arange(3, dtype=np.float32)
    layer = Layer("Linear", "fc", {"out_features": 3})
    matrix, offset = layer_matrix(layer, (5,), (3,), {"fc.weight": weight, "fc.bias": bias})
    np.testing.assert_array_equal(matrix, weight)
    np.testing.assert_array_equal(offset, bias)
    x = np.random.default_rng(1).standard_normal(5).astype(np.float32)
    np.testing.assert_allclose(matrix @ x + offset, LAYER_OPS["Linear"](layer, [x], {"fc.weight": weight,
                                                                                      "fc.bias": bias}), rtol=1e-6)


def test_every_layer_type_has_a_rule():
    assert sorted(set(LAYER_SPECS) - set(MATRIX_RULES)) == []


# --- the command line --------------------------------------------------------------------------------

def _write(tmp_path, case: str) -> str:
    raw, _, _ = _design(case)
    path = tmp_path / "d.json"
    Design.from_dict(raw).save(path)
    return str(path)


def test_cli_writes_the_matrix(tmp_path, capsys):
    path, out = _write(tmp_path, "strided"), tmp_path / "C.npy"
    assert main(["conv-matrix", path, "--layer", "L", "--seed", "4", "--out", str(out)]) == 0
    _, design, _ = _design("strided")
    expected = design_layer_matrix(design, "L", init_weights(design, seed=4)).matrix
    np.testing.assert_array_equal(np.load(out), expected)
    assert "C is 36×84 (out 3×4×3 · in 2×7×6)" in capsys.readouterr().out


def test_cli_with_weights_file(tmp_path):
    path, out, wpath = _write(tmp_path, "transposed"), tmp_path / "C.npy", tmp_path / "w.npz"
    _, design, weights = _design("transposed")
    np.savez(wpath, **weights)
    assert main(["conv-matrix", path, "--layer", "L", "--weights", str(wpath), "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out), design_layer_matrix(design, "L", weights).matrix)


@pytest.mark.parametrize("args, message", [
    (["--layer", "nope"], "no layer named 'nope'"),
    (["--layer", "conv1_1"], "use a smaller input size"),
    (["--layer", "relu1_1"], "ReLU is not linear"),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, args, message):
    code = main(["conv-matrix", "resources/examples/vgg16.json", *args, "--out", str(tmp_path / "C.npy")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp_path / "C.npy").exists()


def test_transposed_matrix_is_built_in_one_dense_allocation():
    """Regression: the ConvTranspose2d rule built the conv's C and then copied its transpose (twice the
    memory at the 10⁸-entry limit: ~800 MB); it now fills Cᵀ directly."""
    import tracemalloc

    layer = Layer("ConvTranspose2d", "t", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    weights = init_layer(layer, (8, 16, 16), seed=0)
    tracemalloc.start()
    try:
        matrix, _ = layer_matrix(layer, (8, 16, 16), (8, 16, 16), weights)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert matrix.flags.c_contiguous and peak < 1.5 * matrix.nbytes


def test_cli_seed_uses_the_weights_of_run_with_the_same_seed(tmp_path):
    """``conv-matrix --seed N`` and ``run --seed N --save-weights W`` then ``conv-matrix --weights W`` agree."""
    path = _write(tmp_path, "transposed_dilated")
    weights, by_seed, by_file = tmp_path / "w.npz", tmp_path / "seed.npy", tmp_path / "file.npy"
    assert main(["run", path, "--sample", "--seed", "11", "--save-weights", str(weights),
                 "--out", str(tmp_path / "maps.npz")]) == 0
    assert main(["conv-matrix", path, "--layer", "L", "--seed", "11", "--out", str(by_seed)]) == 0
    assert main(["conv-matrix", path, "--layer", "L", "--weights", str(weights), "--out", str(by_file)]) == 0
    np.testing.assert_array_equal(np.load(by_seed), np.load(by_file))


def test_cli_writes_exactly_the_given_path(tmp_path):
    path, out = _write(tmp_path, "grouped"), tmp_path / "C.matrix"
    assert main(["conv-matrix", path, "--layer", "L", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["C.matrix", "d.json"]
    assert np.load(out).shape == (6 * 5 * 5, 3 * 5 * 5)


def test_cli_design_errors_exit_1_and_unwritable_output_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    Design.from_dict(as_dict([{"type": "Conv2d", "name": "c", "out_channels": 2, "kernel_size": 3},
                              {"type": "Linear", "name": "fc", "out_features": 3}], c=1, h=6, w=6)).save(broken)
    assert main(["conv-matrix", str(broken), "--layer", "c", "--out", str(tmp_path / "C.npy")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "layer 'fc'" in err and not (tmp_path / "C.npy").exists()
    path = _write(tmp_path, "strided")
    assert main(["conv-matrix", path, "--layer", "L", "--out", str(tmp_path / "missing" / "C.npy")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the matrix" in err
