"""Dilation coverage maps (seed 002's gridding figures)."""

from __future__ import annotations

import numpy as np
import pytest

from designer.cli import main
from designer.core import Design, LayerError, analyze
from designer.core.coverage import coverage_map


def stack(rates, size=17, **extra) -> Design:
    layers = [{"type": "Conv2d", "name": f"c{i}", "out_channels": 1, "kernel_size": 3, "dilation": r, **extra}
              for i, r in enumerate(rates)]
    return Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 1, "height": size, "width": size},
                             "layers": layers})


def expected_1d(rates, k=3) -> np.ndarray:
    """Path counts along one axis: the convolution of the dilated all-ones kernels."""
    line = np.ones(1, dtype=np.int64)
    for r in rates:
        kernel = np.zeros(r * (k - 1) + 1, dtype=np.int64)
        kernel[::r] = 1
        line = np.convolve(line, kernel)
    return line


def test_rates_2_2_2_leave_holes_in_the_13x13_field():
    m = coverage_map(stack([2, 2, 2]), "c2")
    assert m.shape == (17, 17)
    field = m[2:15, 2:15]  # centre unit (2, 2) of the 5×5 output sees input rows/cols 2…14
    line = np.array([1, 0, 3, 0, 6, 0, 7, 0, 6, 0, 3, 0, 1])
    assert np.array_equal(field, np.outer(line, line))
    assert (field > 0).sum() == 49 and field.sum() == 27 ** 2
    assert m.sum() == field.sum()  # nothing outside the receptive field


def test_rates_1_2_3_cover_every_pixel():
    m = coverage_map(stack([1, 2, 3]), "c2")
    field = m[2:15, 2:15]
    assert (field > 0).all()
    assert np.array_equal(field, np.outer(expected_1d([1, 2, 3]), expected_1d([1, 2, 3])))


@pytest.mark.parametrize("rates, full", [([1, 2, 5], True), ([1, 2, 9], False), ([2, 4, 8], False)])
def test_hdc_examples(rates, full):
    m = coverage_map(stack(rates, size=64, padding=0), f"c{len(rates) - 1}")
    ys, xs = np.nonzero(m)
    field = m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert field.shape == (1 + 2 * sum(rates),) * 2
    assert bool((field > 0).all()) == full


def test_branch_paths_add_and_strides_are_followed():
    design = Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 1, "height": 9, "width": 9},
                               "layers": [{"type": "Branch", "name": "b", "merge": "add", "branches": [
                                   [{"type": "Conv2d", "name": "c", "out_channels": 1, "kernel_size": 3,
                                     "padding": 1}], []]},
                                   {"type": "MaxPool2d", "name": "p", "kernel_size": 2}]})
    m = coverage_map(design, "p")  # centre unit (1, 1) of the 4×4 pool output reads input rows 2…3
    # each of the 4 pooled pixels: 1 identity path + 4 conv paths (from the 4 conv outputs that read it)
    assert m[2:4, 2:4].tolist() == [[5, 5], [5, 5]]
    assert m.sum() == 4 * 9 + 4 and m[1:5, 1:5].sum() == m.sum()


def test_global_layers_and_unknown_names_are_refused(tmp_path, capsys):
    design = Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 1, "height": 8, "width": 8},
                               "layers": [{"type": "Flatten", "name": "f"}]})
    with pytest.raises(LayerError):
        coverage_map(design, "f")
    path = tmp_path / "d.json"
    stack([2, 2, 2]).save(path)
    assert main(["coverage", str(path), "--layer", "nope", "--out", str(tmp_path / "c.npy")]) == 2
    assert main(["coverage", str(path), "--layer", "c2", "--out", str(tmp_path / "c.npy")]) == 0
    assert "49 of 169 pixels" in capsys.readouterr().out
    assert np.load(tmp_path / "c.npy").sum() == 27 ** 2


def test_matches_autograd_of_an_all_ones_network():
    """With one channel, all-ones kernels and no bias, d(unit)/d(input) is exactly the path count."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for _ in range(25):
        layers = []
        for i in range(int(rng.integers(1, 4))):
            kind = rng.choice(["conv", "convt", "up"])
            k, s, d = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
            if kind == "conv":
                layers.append({"type": "Conv2d", "name": f"l{i}", "out_channels": 1, "kernel_size": k, "stride": s,
                               "dilation": d, "padding": int(rng.integers(0, 2)), "bias": False})
            elif kind == "convt":
                layers.append({"type": "ConvTranspose2d", "name": f"l{i}", "out_channels": 1, "kernel_size": k,
                               "stride": s, "dilation": d, "padding": 0, "bias": False})
            else:
                layers.append({"type": "Upsample", "name": f"l{i}", "scale_factor": float(rng.choice([2, 1.5, 2.5]))})
        design = Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 1, "height": 12, "width": 12},
                                   "layers": layers})
        if not analyze(design).valid:
            continue
        from tests.oracle.torch_model import build_torch_model
        model = build_torch_model(design.to_dict())
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(1.0)
        x = torch.zeros(1, 1, 12, 12, requires_grad=True)
        y = model(x)
        if y.shape[-1] < 1:
            continue
        cy, cx = (y.shape[-2] - 1) // 2, (y.shape[-1] - 1) // 2
        y[0, 0, cy, cx].backward()
        expected = x.grad[0, 0].numpy().round().astype(np.int64)
        assert np.array_equal(coverage_map(design, layers[-1]["name"]), expected), layers


def test_counts_too_large_to_be_exact_are_refused():
    deep = stack([1] * 60, size=128, padding=1)
    with pytest.raises(LayerError, match="more than 2⁵³ paths"):
        coverage_map(deep, "c59")
