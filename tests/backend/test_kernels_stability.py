"""Numerical stability and argument handling of the kernels (no torch needed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from designer.backend import kernels as K

EXTREMES = np.array([[[-1e4, -88.0, -1e-3, 0.0, 1e-3, 88.0, 1e4]]], np.float32)


@pytest.mark.parametrize("name", ["sigmoid", "elu", "tanh", "softmax", "relu", "relu6", "leaky_relu"])
def test_activations_stable_at_extremes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = getattr(K, name)(EXTREMES)
    assert np.isfinite(got).all()
    assert got.dtype == np.float32


def test_sigmoid_and_softmax_limits():
    s = K.sigmoid(EXTREMES)[0, 0]
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    p = K.softmax(np.array([1e4, -1e4, 1e4], np.float32))
    np.testing.assert_allclose(p, [0.5, 0.0, 0.5])


def test_batch_of_one_matches_single_image():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 3, 9, 9), dtype=np.float32)
    w = rng.standard_normal((4, 3, 3, 3), dtype=np.float32)
    batched = K.conv2d(x, w, None, 2, 1)
    assert batched.shape == (1, 4, 5, 5)
    np.testing.assert_array_equal(batched[0], K.conv2d(x[0], w, None, 2, 1))
    assert K.max_pool2d(x, 2).shape == (1, 3, 4, 4)


def test_padding_forms_agree():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 8), dtype=np.float32)
    w = rng.standard_normal((3, 2, 3, 3), dtype=np.float32)
    a = K.conv2d(x, w, padding=1)
    np.testing.assert_array_equal(a, K.conv2d(x, w, padding=(1, 1)))
    np.testing.assert_array_equal(a, K.conv2d(x, w, padding=(1, 1, 1, 1)))
    np.testing.assert_array_equal(a, K.conv2d(x, w, padding="same"))
    assert K.conv2d(x, w, padding="valid").shape == (3, 6, 6)
    assert K.conv2d(x, w, stride=2, padding="same").shape == (3, 4, 4)


def test_bad_arguments_raise_value_error():
    x = np.zeros((2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="channels"):
        K.conv2d(x, np.zeros((3, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        K.conv2d(x, np.zeros((3, 2, 7, 7), np.float32))
    with pytest.raises(ValueError, match="half the kernel"):
        K.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="padding"):
        K.conv2d(x, np.zeros((3, 2, 3, 3), np.float32), padding="full")


def test_dropout_is_identity():
    x = np.arange(6, dtype=np.float32)
    assert K.dropout(x, 0.9) is x
