"""Every kernel against stored PyTorch outputs (runs with or without torch installed)."""

from __future__ import annotations

import numpy as np
import pytest

from .kernel_cases import conv_methods, ours, rel_error
from .reference_io import load_reference

TOLERANCE = 1e-5
CASES = load_reference()


def _params() -> list:
    params = []
    for cid, case, out in CASES:
        methods = conv_methods(case[1], case[2]) if case[0] == "conv2d" else [None]
        params += [pytest.param(case, out, m, id=f"{cid}-{m or 'auto'}") for m in methods]
    return params


@pytest.mark.parametrize(("case", "expected", "method"), _params())
def test_kernel_matches_stored_torch_output(case, expected, method):
    kernel, arrays, hp = case
    got = ours(kernel, arrays, hp, method) if kernel == "conv2d" else ours(kernel, arrays, hp)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    assert np.isfinite(got).all()
    assert rel_error(got, expected) <= TOLERANCE


def test_reference_covers_every_kernel():
    kernels = {case[0] for _, case, _ in CASES}
    assert kernels >= {
        "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
        "spatial_pyramid_pool", "batch_norm", "local_response_norm", "relu", "relu6", "leaky_relu", "prelu",
        "elu", "sigmoid", "tanh", "softmax", "flatten", "linear", "upsample", "dropout",
    }
    conv = [case for _, case, _ in CASES if case[0] == "conv2d"]
    assert any(c[2]["padding"] == "same" and c[2]["stride"] not in (1, [1, 1]) for c in conv)
    assert any(c[2]["groups"] == c[1]["x"].shape[0] > 1 for c in conv)
