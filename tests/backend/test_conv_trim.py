"""Convolutions whose padding dwarfs the data (issue 9's memory class): a 1×1 conv with stride 30000 and padding
15000 on 8×8, or dilation 5000 with padding 5000, took 10.6 GB and 42 s for a 2×2 output; a transposed conv
whose padding crops a 140001² zero-stuffed map to 1×1 died with MemoryError. Now only the taps and positions
that reach the data are computed (``designer.backend.kernels.trim``)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from designer.backend import kernels as K
from designer.backend.functions import LAYER_OPS, VJP_OPS
from designer.backend.kernels.trim import touching
from designer.core import Layer

RNG = np.random.default_rng(7)
# (C_in, H, W, kh, kw, stride, dilation, padding): each trims (its padded plane is much larger than its data)
CONV_CASES = [
    (2, 8, 8, 1, 1, (300, 300), (1, 1), (150, 150)),
    (2, 8, 7, 3, 3, (1, 1), (200, 200), (200, 200)),
    (3, 5, 6, 3, 2, (50, 3), (40, 2), (100, 2)),
    (1, 4, 4, 2, 2, (3, 300), (200, 1), (200, 400)),
]
# (C_in, H, W, kh, kw, stride, dilation, padding, output_padding)
TRANSPOSE_CASES = [
    (2, 8, 8, 1, 1, (300, 300), (1, 1), (1050, 1050), (0, 0)),
    (2, 6, 5, 3, 2, (50, 2), (40, 1), (140, 2), (10, 1)),
    (1, 4, 4, 2, 2, (300, 300), (1, 1), (400, 449), (0, 0)),
]


def naive_conv(x, w, s, d, p):
    """``y[o, i, j] = Σ w[o, c, u, v] · x_pad[c, s·i + d·u, s·j + d·v]`` with explicit zero padding."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (p[0], p[0]), (p[1], p[1])))
    kh, kw = w.shape[2:]
    ho = (xp.shape[1] - d[0] * (kh - 1) - 1) // s[0] + 1
    wo = (xp.shape[2] - d[1] * (kw - 1) - 1) // s[1] + 1
    y = np.zeros((w.shape[0], ho, wo))
    for u in range(kh):
        for v in range(kw):
            patch = xp[:, d[0] * u:d[0] * u + s[0] * (ho - 1) + 1:s[0], d[1] * v:d[1] * v + s[1] * (wo - 1) + 1:s[1]]
            y += np.einsum("oc,cij->oij", w[:, :, u, v], patch)
    return y


def naive_conv_transpose(x, w, s, d, p, op):
    """Scatter ``x[c, i, j]·w[c, o, u, v]`` to ``(s·i + d·u − p, s·j + d·v − p)`` of the cropped output."""
    c, h, wd = x.shape
    kh, kw = w.shape[2:]
    ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    wo = (wd - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    y = np.zeros((w.shape[1], ho, wo))
    for i in range(h):
        for j in range(wd):
            for u in range(kh):
                for v in range(kw):
                    r, q = s[0] * i + d[0] * u - p[0], s[1] * j + d[1] * v - p[1]
                    if 0 <= r < ho and 0 <= q < wo:
                        y[:, r, q] += x[:, i, j] @ w[:, :, u, v]
    return y


def peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_touching_finds_the_taps_and_outputs_that_reach_the_data():
    span = touching(8, 3, 1, 5000, 5000, 8)  # dilation 5000, padding 5000: only the centre tap reaches
    assert (span.t0, span.t1, span.i0, span.i1, span.start) == (1, 1, 0, 7, 0)
    assert touching(8, 1, 30000, 1, 15000, 2) is None  # both outputs read padding only


@pytest.mark.parametrize("case", CONV_CASES)
def test_trimmed_conv_matches_the_naive_sum_in_bounded_memory(case):
    c, h, w, kh, kw, s, d, p = case
    x = RNG.standard_normal((c, h, w)).astype(np.float32)
    weight = RNG.standard_normal((2, c, kh, kw)).astype(np.float32)
    ref = naive_conv(x, weight, s, d, p)
    y = K.conv2d(x, weight, None, s, p, d)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_trimmed_conv_transpose_matches_the_naive_scatter_in_bounded_memory(case):
    c, h, w, kh, kw, s, d, p, op = case
    x = RNG.standard_normal((c, h, w)).astype(np.float32)
    weight = RNG.standard_normal((c, 2, kh, kw)).astype(np.float32)
    y = K.conv_transpose2d(x, weight, None, s, p, op, 1, d)
    np.testing.assert_allclose(y, naive_conv_transpose(x, weight, s, d, p, op), rtol=1e-5, atol=1e-5)


def _conv_layer(case, groups: int = 1) -> tuple[Layer, dict, np.ndarray]:
    c, h, w, kh, kw, s, d, p = case
    layer = Layer("Conv2d", "l", {"out_channels": 2, "kernel_size": [kh, kw], "stride": list(s),
                                  "dilation": list(d), "padding": list(p), "groups": groups})
    weights = {"l.weight": RNG.standard_normal((2, c, kh, kw)).astype(np.float32),
               "l.bias": RNG.standard_normal(2).astype(np.float32)}
    return layer, weights, RNG.standard_normal((c, h, w)).astype(np.float32)


@pytest.mark.parametrize("case", CONV_CASES)
def test_trimmed_conv_vjp_is_the_adjoint(case):
    """``⟨conv(x), ḡ⟩ = ⟨x, ∂x⟩`` and ``⟨conv_W(x), ḡ⟩ = ⟨W, ∂W⟩`` (the map is linear in each), in bounded memory."""
    layer, weights, x = _conv_layer(case)
    no_bias = {**weights, "l.bias": np.zeros(2, np.float32)}
    y = LAYER_OPS["Conv2d"](layer, [x], no_bias)
    gy = RNG.standard_normal(y.shape).astype(np.float32)
    (dx,), grads = VJP_OPS["Conv2d"](layer, [x], y, gy, weights)
    lhs = float(np.vdot(y.astype(np.float64), gy))
    assert np.isclose(lhs, np.vdot(x.astype(np.float64), dx), rtol=1e-4, atol=1e-4)
    assert np.isclose(lhs, np.vdot(weights["l.weight"].astype(np.float64), grads["l.weight"]), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads["l.bias"], gy.sum(axis=(1, 2)), rtol=1e-5, atol=1e-5)


def test_forward_and_vjp_memory_follows_the_data_not_the_padding():
    """Padded planes of 72 MB (conv) and 35 MB (transposed conv): now well under 1 MB each."""
    x = RNG.standard_normal((2, 8, 8)).astype(np.float32)
    for case in [(2, 8, 8, 1, 1, (3000, 3000), (1, 1), (1500, 1500)),
                 (2, 8, 8, 3, 3, (1, 1), (1500, 1500), (1500, 1500))]:
        layer, weights, x = _conv_layer(case)
        y = LAYER_OPS["Conv2d"](layer, [x], weights)
        assert peak_bytes(lambda: LAYER_OPS["Conv2d"](layer, [x], weights)) < 2**20
        assert peak_bytes(lambda: VJP_OPS["Conv2d"](layer, [x], y, y, weights)) < 2**20
    weight = RNG.standard_normal((2, 2, 1, 1)).astype(np.float32)
    assert peak_bytes(lambda: K.conv_transpose2d(x, weight, None, 300, 1050, 0, 1, 1)) < 2**20


@pytest.mark.parametrize("case", CONV_CASES)
def test_trimmed_conv_and_vjp_match_live_torch(case):
    torch = pytest.importorskip("torch")
    layer, weights, x = _conv_layer(case)
    y = LAYER_OPS["Conv2d"](layer, [x], weights)
    gy = RNG.standard_normal(y.shape).astype(np.float32)
    (dx,), grads = VJP_OPS["Conv2d"](layer, [x], y, gy, weights)
    tx = torch.tensor(x[None], requires_grad=True)
    tw = torch.tensor(weights["l.weight"], requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, torch.tensor(weights["l.bias"]), case[5], case[7], case[6])
    ty.backward(torch.tensor(gy[None]))
    for ours, ref in ((y, ty[0].detach()), (dx, tx.grad[0]), (grads["l.weight"], tw.grad)):
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_trimmed_conv_transpose_matches_live_torch(case):
    torch = pytest.importorskip("torch")
    c, h, w, kh, kw, s, d, p, op = case
    x = RNG.standard_normal((c, h, w)).astype(np.float32)
    weight = RNG.standard_normal((c, 2, kh, kw)).astype(np.float32)
    ref = torch.nn.functional.conv_transpose2d(torch.tensor(x[None]), torch.tensor(weight), None, s, p, op, 1, d)
    np.testing.assert_allclose(K.conv_transpose2d(x, weight, None, s, p, op, 1, d), ref[0].numpy(),
                               rtol=1e-4, atol=1e-4)
