"""Bilinear Upsample whose scale keeps an axis's length (1 < s < (n+1)/n): forward and backward are the identity
on that axis, as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.gradients import input_gradient
from designer.backend.runner import Runner
from designer.core import Design


@pytest.mark.parametrize("scale", [1.1, [1.69, 1.056], [1.056, 1.69]])
def test_gradient_matches_autograd(scale):
    torch = pytest.importorskip("torch")
    design = Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 2, "height": 7, "width": 12},
                               "layers": [{"type": "Upsample", "name": "u", "scale_factor": scale, "mode": "bilinear"}]})
    runner = Runner(design)
    x = np.random.default_rng(0).standard_normal((2, 7, 12)).astype(np.float32)
    out = runner.run(x)["u"]
    y, xc = out.shape[1] // 2, out.shape[2] // 2
    xt = torch.tensor(x[None], requires_grad=True)
    factor = tuple(scale) if isinstance(scale, list) else scale
    torch.nn.functional.interpolate(xt, scale_factor=factor, mode="bilinear")[0, 0, y, xc].backward()
    np.testing.assert_allclose(input_gradient(runner, x, "u", 0, y, xc), xt.grad[0].numpy(), atol=1e-6)


def test_an_axis_that_keeps_its_length_is_copied():
    design = Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 1, "height": 5, "width": 8},
                               "layers": [{"type": "Upsample", "name": "u", "scale_factor": 1.1, "mode": "bilinear"}]})
    x = np.random.default_rng(1).standard_normal((1, 5, 8)).astype(np.float32)
    out = Runner(design).run(x)["u"]
    assert out.shape == (1, 5, 8)
    np.testing.assert_array_equal(out, x)
