"""Runner.input_gradient / Runner.effective_rf delegate to designer.backend.gradients."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend import gradients
from designer.backend.runner import RunError, Runner
from designer.core import Design


def small_design() -> Design:
    return Design.from_dict({"format": "cnn-designer/v1", "input": {"channels": 2, "height": 9, "width": 9},
                             "layers": [{"type": "Conv2d", "name": "c", "out_channels": 3, "kernel_size": 3},
                                        {"type": "ReLU", "name": "r"}]})


def test_wrappers_match_the_functions_and_need_a_run():
    runner = Runner(small_design(), seed=1)
    with pytest.raises(RunError, match="run an image first"):
        runner.input_gradient("r", 0, 3, 3)
    x = np.random.default_rng(0).standard_normal((2, 9, 9)).astype(np.float32)
    runner.run(x)
    calls = runner.kernel_calls
    grad = runner.input_gradient("r", 1, 3, 3)
    assert runner.kernel_calls == calls  # the cached forward pass is reused
    np.testing.assert_array_equal(grad, gradients.input_gradient(runner, x, "r", 1, 3, 3))
    erf = runner.effective_rf("c", uniform=True)
    assert erf.map.shape == (9, 9) and abs(float(erf.map.sum()) - 1) < 1e-5
