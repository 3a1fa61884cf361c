"""Dilated conv2d on every strategy: exact against live torch, finite without it, and routed like d = 1.

A reviewer measured dilated 3×3 layers at ~100× the time of the same non-dilated layer. The
strategy choice does not depend on the dilation (stride-1 layers on large maps take the shifted-GEMM
path, whose kernel offsets are simply ``d_h·u·Wp + d_w·v`` on the padded flat input), so these tests
pin that routing down and check every strategy — including the large-map ones the generic random
cases in ``test_kernels_torch`` never reach — for dilations up to 6 with random paddings (int, pair,
4-tuple, ``"same"``, ``"valid"``), groups and strides.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from designer.backend import kernels as K
from designer.backend.kernels import conv as conv_module

TOLERANCE = 1e-5


def _rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    scale = max(float(np.abs(ref).max(initial=0.0)), 1e-12)
    return float(np.abs(got.astype(np.float64) - ref.astype(np.float64)).max(initial=0.0)) / scale


def _explicit_pads(padding, hw, k, s, d) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` computed independently of the backend's normaliser."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":  # TensorFlow SAME: out = ceil(n / s), the odd extra at the bottom/right
        pads = []
        for n, kk, ss, dd in zip(hw, k, s, d, strict=True):
            total = max((math.ceil(n / ss) - 1) * ss + dd * (kk - 1) + 1 - n, 0)
            pads += [total // 2, total - total // 2]
        return tuple(pads)  # type: ignore[return-value]
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    return tuple(padding)  # type: ignore[return-value]


def _random_case(rng: np.random.Generator, large: bool):
    """A random conv2d layer with dilation 1–6; ``large`` maps reach the shifted/wide thresholds."""
    groups = int(rng.choice([1, 1, 2, 4]))
    c_in = groups * int(rng.integers(1, 5))
    c_out = groups * int(rng.integers(1, 5))
    k = (int(rng.integers(1, 4)) * 2 - 1, int(rng.integers(1, 4)) * 2 - 1) if rng.random() < 0.3 else (3, 3)
    d = (int(rng.integers(1, 7)), int(rng.integers(1, 7))) if rng.random() < 0.3 else (int(rng.integers(1, 7)),) * 2
    s = (1, 1) if rng.random() < 0.6 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    h, w = (int(v) for v in (rng.integers(48, 72, 2) if large else rng.integers(5, 24, 2)))
    kind = rng.choice(["dil", "int", "pair", "four", "same", "valid"])
    padding = {
        "dil": d[0], "int": int(rng.integers(0, 7)),
        "pair": (int(rng.integers(0, 7)), int(rng.integers(0, 7))),
        "four": tuple(int(v) for v in rng.integers(0, 7, 4)),
        "same": "same", "valid": "valid",
    }[str(kind)]
    pads = _explicit_pads(padding, (h, w), k, s, d)
    hp_total, wp_total = h + pads[0] + pads[1], w + pads[2] + pads[3]
    if hp_total < d[0] * (k[0] - 1) + 1 or wp_total < d[1] * (k[1] - 1) + 1:
        return _random_case(rng, large)
    x = rng.standard_normal((c_in, h, w)).astype(np.float32)
    weight = (rng.standard_normal((c_out, c_in // groups, *k)) * 0.3).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32) if rng.random() < 0.5 else None
    return x, weight, bias, s, padding, d, groups, pads


def _methods(weight: np.ndarray, s: tuple[int, int]) -> list[str | None]:
    methods: list[str | None] = [None, "im2col"]
    if s == (1, 1):
        methods += ["shifted", "wide"]
    if weight.shape[2:] == (1, 1):
        methods.append("matmul")
    return methods


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_dilated_conv2d_matches_torch(seed, large):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(1000 * seed + large)
    for _ in range(3):
        x, weight, bias, s, padding, d, groups, pads = _random_case(rng, large)
        xt = functional.pad(torch.from_numpy(x.astype(np.float64))[None], (pads[2], pads[3], pads[0], pads[1]))
        expected = functional.conv2d(xt, torch.from_numpy(weight.astype(np.float64)),
                                     None if bias is None else torch.from_numpy(bias.astype(np.float64)),
                                     stride=s, dilation=d, groups=groups)[0].numpy()
        for method in _methods(weight, s):
            got = K.conv2d(x, weight, bias, s, padding, d, groups, method=method)
            case = {"shape": x.shape, "w": weight.shape, "s": s, "padding": padding, "d": d, "groups": groups, "method": method}
            assert got.shape == expected.shape, case
            assert got.dtype == np.float32, case
            assert _rel_error(np.asarray(got), expected) <= TOLERANCE, case


@pytest.mark.parametrize("seed", range(6))
def test_dilated_conv2d_finite_and_methods_agree_without_torch(seed):
    """No torch: every strategy gives finite output of the documented size, and they agree."""
    rng = np.random.default_rng(seed)
    for large in (False, True):
        x, weight, bias, s, padding, d, groups, pads = _random_case(rng, large)
        ho = (x.shape[1] + pads[0] + pads[1] - d[0] * (weight.shape[2] - 1) - 1) // s[0] + 1
        wo = (x.shape[2] + pads[2] + pads[3] - d[1] * (weight.shape[3] - 1) - 1) // s[1] + 1
        outs = [np.asarray(K.conv2d(x, weight, bias, s, padding, d, groups, method=m)) for m in _methods(weight, s)]
        for out in outs:
            assert out.shape == (weight.shape[0], ho, wo)
            assert np.isfinite(out).all()
            assert _rel_error(out, outs[0]) <= TOLERANCE


def test_dilated_conv2d_point_check_without_torch():
    """A hand-checkable case: a single 1 in the input lands on the dilated kernel taps."""
    x = np.zeros((1, 9, 9), np.float32)
    x[0, 4, 4] = 1.0
    weight = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    for method in (None, "im2col", "shifted", "wide"):
        out = np.asarray(K.conv2d(x, weight, None, 1, 3, 3, 1, method=method))
        assert out.shape == (1, 9, 9)
        # y[i, j] = Σ w[u, v] x_pad[i + 3u, j + 3v] = w[u, v] where i + 3u − 3 = 4 and j + 3v − 3 = 4
        expected = np.zeros((9, 9), np.float32)
        for u in range(3):
            for v in range(3):
                expected[7 - 3 * u, 7 - 3 * v] = weight[0, 0, u, v]
        np.testing.assert_array_equal(out[0], expected)


@pytest.mark.parametrize("dilation", [1, 2, 3, 5])
def test_dilated_stride1_large_map_takes_shifted_path(dilation, monkeypatch):
    """The strategy choice ignores the dilation: a 64×64 dilated 3×3 layer runs shifted-GEMM, like d = 1."""
    calls = []
    original = conv_module._conv_shifted

    def spy(*args, **kwargs):
        calls.append(args[3])  # the dilation pair
        return original(*args, **kwargs)

    monkeypatch.setattr(conv_module, "_conv_shifted", spy)
    rng = np.random.default_rng(dilation)
    x = rng.standard_normal((16, 64, 64)).astype(np.float32)
    weight = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    out = K.conv2d(x, weight, None, 1, dilation, dilation)
    assert out.shape == (16, 64, 64)
    assert calls == [(dilation, dilation)]
    assert K.choose_method(x.shape, weight.shape, (1, 1), 1, 64 * 64) == "shifted"
