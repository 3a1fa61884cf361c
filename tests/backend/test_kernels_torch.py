"""Kernels against live ``torch.nn.functional`` over random hyperparameters (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.backend import kernels as K

from .case_grid import (
    conv2d_case,
    conv_transpose2d_case,
    identity_axis_upsample_cases,
    misc_cases,
    pool_case,
    sweep_case,
    upsample_cases,
)
from .kernel_cases import conv_methods, ours, rel_error, torch_ref

torch = pytest.importorskip("torch")
TOLERANCE = 1e-5
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(case, method=None):
    kernel, arrays, hp = case
    expected = torch_ref(kernel, arrays, hp)
    got = ours(kernel, arrays, hp, method) if kernel == "conv2d" else ours(kernel, arrays, hp)
    assert got.shape == expected.shape, (case[0], hp)
    assert rel_error(got, expected) <= TOLERANCE, (case[0], hp, method)


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_conv2d_random(seed):
    case = conv2d_case(np.random.default_rng(seed))
    for method in conv_methods(case[1], case[2]):
        _check(case, method)


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_conv_transpose2d_random(seed):
    _check(conv_transpose2d_case(np.random.default_rng(seed)))


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from(["max_pool2d", "avg_pool2d"]))
def test_pool_random(seed, kind):
    _check(pool_case(np.random.default_rng(seed), kind))


@pytest.mark.parametrize("seed", range(3))
def test_misc_and_upsample(seed):
    rng = np.random.default_rng(seed)
    for case in [*misc_cases(rng), *upsample_cases(rng)]:
        if case[0] == "prelu" and "weight" not in case[1]:
            case[1]["weight"] = np.array([0.25], np.float32)
        _check(case)


@pytest.mark.parametrize("shape", [(64, 56, 56), (32, 112, 112), (512, 7, 7), (3, 224, 224)])
def test_large_conv_layers(shape):
    """Network-sized layers exercise the strategies' thresholds and the threaded depthwise split."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    for groups, c_out, k, s in ((1, 64, 3, 1), (shape[0], shape[0], 3, 1), (shape[0], shape[0], 3, 2),
                                (1, 32, 1, 1), (1, 16, 7, 2)):
        w = rng.standard_normal((c_out, shape[0] // groups, k, k), dtype=np.float32) * 0.1
        case = ("conv2d", {"x": x, "weight": w}, {"stride": s, "padding": k // 2, "dilation": 1, "groups": groups})
        _check(case)


def test_batched_input_matches_single_images():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 9, 9), dtype=np.float32)
    w = rng.standard_normal((4, 3, 3, 3), dtype=np.float32)
    got = K.conv2d(x, w, None, 2, 1)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), None, 2, 1).numpy()
    assert rel_error(got, expected) <= TOLERANCE


@pytest.mark.parametrize("seed", range(300))
def test_resampling_and_pooling_sweep(seed):
    """Seeded random upsample (scales just above 1, per-axis pairs, sizes), LRN, adaptive pools and SPP."""
    _check(sweep_case(np.random.default_rng([7, seed])))


@pytest.mark.parametrize("seed", range(3))
def test_identity_axis_upsample(seed):
    for case in identity_axis_upsample_cases(np.random.default_rng(seed)):
        _check(case)
