"""Whole-network gradients: input gradients against autograd, ERF trend, coverage, runner cache."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend import Runner
from designer.backend.gradients import (
    backpropagate,
    effective_rf,
    forward_tensors,
    input_gradient,
    mass_radius,
)
from designer.core import Design, analyze
from designer.core.coverage import coverage_map


def conv(name: str, out: int, k, **hp) -> dict:
    return {"type": "Conv2d", "name": name, "out_channels": out, "kernel_size": k, **hp}


def layer(type_: str, name: str, **hp) -> dict:
    return {"type": type_, "name": name, **hp}


def every_type_dict() -> dict:
    """Every layer type, concat and add branches (one nested, one empty), SAME, groups, ceil mode."""
    return {"format": "cnn-designer/v1", "name": "all", "input": {"channels": 3, "height": 19, "width": 17},
            "layers": [
                conv("stem", 8, [3, 5], stride=2, padding="same"),
                layer("BatchNorm2d", "stem_bn"), layer("LeakyReLU", "stem_act", negative_slope=0.1),
                layer("Branch", "mix", merge="concat", branches=[
                    [conv("mix_1x1", 4, 1)],
                    [conv("mix_dw", 8, 3, padding=1, groups=8, bias=False), layer("ReLU6", "mix_relu6")],
                    [],
                    [layer("MaxPool2d", "mix_pool", kernel_size=3, stride=1, padding=1),
                     conv("mix_proj", 3, 1, dilation=1, bias=False)]]),
                layer("Branch", "res", merge="add", branches=[
                    [conv("res_conv", 23, 3, padding=2, dilation=2, groups=1), layer("BatchNorm2d", "res_bn"),
                     layer("Branch", "res_inner", merge="add", branches=[
                         [layer("PReLU", "res_prelu", num_parameters=23)], []])],
                    []]),
                layer("LocalResponseNorm", "lrn", size=5, alpha=0.01, beta=0.75, k=2.0),
                layer("ConvTranspose2d", "up", out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1),
                layer("ELU", "up_act"),
                layer("Upsample", "resize", scale_factor=1.5, mode="bilinear"),
                layer("AvgPool2d", "avg", kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                layer("Tanh", "squash"), layer("Dropout", "drop", p=0.3),
                layer("Upsample", "near", scale_factor=2), layer("MaxPool2d", "pool2", kernel_size=2, ceil_mode=True),
                layer("Branch", "heads", merge="concat", branches=[
                    [layer("SpatialPyramidPool2d", "spp", levels=[3, 1], mode="max")],
                    [layer("AdaptiveAvgPool2d", "gap", output_size=2), layer("Flatten", "gap_flat")],
                    [layer("AdaptiveMaxPool2d", "gmp", output_size=[3, 2]), layer("Flatten", "gmp_flat")]]),
                layer("Linear", "fc", out_features=10), layer("Sigmoid", "gate"),
                layer("Linear", "fc2", out_features=5, bias=False), layer("Softmax", "probs"),
            ]}


@pytest.fixture(scope="module")
def network():
    raw = every_type_dict()
    design = Design.from_dict(raw)
    assert analyze(design).valid
    runner = Runner(design, seed=3)
    rng = np.random.default_rng(0)
    weights = {k: (v + rng.standard_normal(v.shape).astype(np.float32) * 0.1 if k.endswith(("bias", "mean")) else v)
               for k, v in runner.weights.items()}
    runner.set_weights(weights)
    x = rng.standard_normal(design.input.shape).astype(np.float32)
    return raw, design, runner, x


UNITS = [("stem", 2, 4, 3), ("mix", 13, 5, 2), ("res", 20, 0, 8), ("up", 5, 9, 9), ("avg", 1, 3, 3),
         ("pool2", 4, 1, 2), ("heads", 40, None, None), ("fc", 7, None, None), ("probs", 2, None, None)]


@pytest.mark.parametrize("name, channel, y, x_pos", UNITS)
def test_input_gradient_matches_autograd(network, name, channel, y, x_pos):
    torch_ref = pytest.importorskip("tests.backend_grad.torch_ref")
    raw, design, runner, x = network
    out = runner.run(x)[name]
    seed = np.zeros(out.shape, np.float32)
    seed[(channel,) if out.ndim == 1 else (channel, y, x_pos)] = 1
    ref, _, ref_out = torch_ref.torch_grads(raw, runner.weights, x, seed, output=name)
    assert torch_ref.rel_error(out, ref_out) <= 1e-4
    got = input_gradient(runner, x, name, channel, y, x_pos)
    assert got.shape == design.input.shape and got.dtype == np.float32
    assert torch_ref.rel_error(got, ref) <= 1e-4


def test_parameter_gradients_of_the_whole_network_match_autograd(network):
    torch_ref = pytest.importorskip("tests.backend_grad.torch_ref")
    raw, _, runner, x = network
    steps, tensors = forward_tensors(runner, x)
    gy = np.random.default_rng(1).standard_normal(tensors[-1].shape).astype(np.float32)
    grads, params = backpropagate(steps, tensors, {len(tensors) - 1: gy}, runner.weights, params=True)
    ref_dx, ref_params, _ = torch_ref.torch_grads(raw, runner.weights, x, gy)
    assert torch_ref.rel_error(grads[0], ref_dx) <= 1e-4
    assert set(params) == set(ref_params)
    for k, g in params.items():
        assert torch_ref.rel_error(g, ref_params[k]) <= 1e-4, k


def test_gradient_reuses_the_cached_forward_pass(network):
    _, _, runner, x = network
    runner.run(x)
    calls = runner.kernel_calls
    input_gradient(runner, x, "fc", 0)
    input_gradient(runner, x, "stem", 0, 1, 1)
    assert runner.kernel_calls == calls


def test_bad_units_and_layers_are_reported(network):
    _, _, runner, x = network
    with pytest.raises(ValueError, match="outside"):
        input_gradient(runner, x, "stem", 0, 99, 0)
    with pytest.raises(ValueError, match="give y and x"):
        input_gradient(runner, x, "stem", 0)
    with pytest.raises(KeyError):
        input_gradient(runner, x, "nope", 0, 0, 0)
    with pytest.raises(ValueError, match="image"):
        effective_rf(runner, None, "stem")


def stack(n: int, size: int, rates=None, channels: int = 1) -> Design:
    rates = rates or [1] * n
    layers = [conv(f"c{i}", channels, 3, dilation=r, padding=r) for i, r in enumerate(rates)]
    return Design.from_dict({"format": "cnn-designer/v1", "name": "stack",
                             "input": {"channels": channels, "height": size, "width": size}, "layers": layers})


@pytest.mark.parametrize("rates", [[2, 2, 2], [1, 2, 3], [1, 2, 5]])
def test_uniform_gradient_counts_the_paths_of_the_coverage_map(rates):
    design = stack(3, 17, rates)
    design = Design.from_dict({**design.to_dict(), "layers": [
        {**lay, "padding": 0} for lay in design.to_dict()["layers"]]})
    counts = coverage_map(design, "c2")
    erf = effective_rf(design, None, "c2", uniform=True)
    assert np.allclose(erf.map * counts.sum(), counts, atol=1e-9)


def test_uniform_erf_grows_like_sqrt_depth_while_the_rf_grows_like_depth():
    depths = [2, 4, 8, 16, 32]
    radii, sizes = [], []
    for n in depths:
        design = stack(n, 96)
        result = effective_rf(design, None, f"c{n - 1}", uniform=True)
        assert result.unit == (47, 47)
        assert result.centre == pytest.approx((47, 47), abs=1e-6)
        radii.append(result.radius)
        sizes.append(analyze(design).rows[-1].receptive_field[0])
    assert sizes == [2 * n + 1 for n in depths]
    erf_slope = np.polyfit(np.log(depths), np.log(radii), 1)[0]
    rf_slope = np.polyfit(np.log(depths), np.log(sizes), 1)[0]
    assert 0.4 <= erf_slope <= 0.6, radii  # √n
    assert rf_slope >= 0.9  # ~n
    assert radii[-1] / radii[1] == pytest.approx(np.sqrt(8), rel=0.15)
    assert radii[-1] < sizes[-1] / 2 / 2  # the ERF is a small part of the theoretical field


def test_uniform_erf_ignores_image_weights_and_channels():
    design = stack(3, 21, channels=2)
    a = effective_rf(design, None, "c2", uniform=True)
    b = effective_rf(Runner(design, seed=5), np.ones((2, 21, 21), np.float32), "c2", uniform=True, unit=(3, 4))
    assert a.map.sum() == pytest.approx(1.0)
    assert b.unit == (3, 4) and b.map[3 + 4, 4] == 0 and b.map[3 + 3, 4 + 3] > 0  # 7×7 field: rows 0–6
    assert a.radius > 0


def test_mass_radius_of_a_point_and_a_disc():
    point = np.zeros((9, 9))
    point[4, 4] = 1
    assert mass_radius(point) == (0.0, (4.0, 4.0))
    yy, xx = np.indices((41, 41))
    disc = (np.hypot(yy - 20, xx - 20) <= 10).astype(float)
    assert mass_radius(disc)[0] == pytest.approx(10 * np.sqrt(0.95), abs=0.6)


def test_erf_cli_writes_the_map_and_a_png(tmp_path, capsys):
    import argparse

    from designer.cli import erf as grad_cli
    from designer.cli import UserError

    design = stack(4, 33)
    path = tmp_path / "stack.json"
    design.save(path)
    parser = argparse.ArgumentParser()
    grad_cli.add_parsers(parser.add_subparsers())
    args = parser.parse_args(["erf", str(path), "--layer", "c3", "--uniform", "--out", str(tmp_path / "e.npy")])
    assert args.handler(args) == 0
    erf = np.load(tmp_path / "e.npy")
    assert erf.shape == (33, 33) and erf.sum() == pytest.approx(1.0) and erf.argmax() == 16 * 33 + 16
    assert "radius" in capsys.readouterr().out
    args = parser.parse_args(["erf", str(path), "--layer", "nope", "--out", str(tmp_path / "f.npy")])
    with pytest.raises(UserError, match="no layer named 'nope'"):
        args.handler(args)
    pytest.importorskip("PySide6")
    args = parser.parse_args(["erf", str(path), "--layer", "c3", "--sample", "--out", str(tmp_path / "g.npy"),
                              "--png", str(tmp_path / "g.png")])
    assert args.handler(args) == 0
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
