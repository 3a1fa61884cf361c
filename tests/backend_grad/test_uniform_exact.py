"""The uniform ERF is the input gradient of the all-ones linear network, residual additions included."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.gradients import effective_rf
from designer.core import Design
from designer.core.coverage import coverage_map


def residual(channels: int) -> Design:
    conv = {"type": "Conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1}
    return Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": channels, "height": 15, "width": 15},
                             "layers": [{"type": "Branch", "name": "block", "merge": "add", "branches": [
                                 [{**conv, "name": "a"}, {"type": "ReLU", "name": "r"}, {**conv, "name": "b"}], []]}]})


def test_single_channel_residual_equals_the_path_counts():
    erf = effective_rf(residual(1), None, "block", uniform=True)
    counts = coverage_map(residual(1), "block").astype(np.float64)
    np.testing.assert_allclose(erf.map, counts / counts.sum(), rtol=1e-6, atol=1e-9)


def test_residual_with_channels_matches_autograd_of_all_ones():
    torch = pytest.importorskip("torch")
    from tests.oracle.torch_model import build_torch_model

    design = residual(16)
    model = build_torch_model(design.to_dict()).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.fill_(1.0 if name.endswith("weight") else 0.0)
    for module in model.modules():  # the uniform network has no nonlinearity
        if isinstance(module, torch.nn.ReLU):
            module.forward = lambda t: t
    x = torch.zeros(1, 16, 15, 15, dtype=torch.float64, requires_grad=True)
    model(x)[0, :, 7, 7].sum().backward()
    expected = x.grad[0].abs().sum(0).numpy()
    erf = effective_rf(design, None, "block", uniform=True)
    np.testing.assert_allclose(erf.map, expected / expected.sum(), rtol=1e-5, atol=1e-9)


def test_resnet18_uniform_erf_is_finite():
    from pathlib import Path
    design = Design.load(Path(__file__).resolve().parents[2] / "resources" / "examples" / "resnet18.json")
    erf = effective_rf(design, None, "layer4_1", uniform=True)
    assert np.isfinite(erf.map).all() and abs(erf.map.sum() - 1) < 1e-6 and erf.radius > 0
