"""Branch ``add``/``mul`` with PyTorch broadcasting (forward and VJP) and activation derivatives at their kinks,
against stored PyTorch results (always) and live PyTorch (when installed)."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.functions import LAYER_OPS, VJP_OPS
from designer.core import Layer

from .merge_broadcast_reference import KINK_TYPES, KINKS, MERGE_CASES, REFERENCE, merge_inputs, torch_kink_grads, \
    torch_merge
from .torch_ref_free import rel_error

with np.load(REFERENCE) as _data:
    STORED = {k: _data[k] for k in _data.files}


def _ours(name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    merge, _ = MERGE_CASES[name]
    xs, gy = merge_inputs(name)
    layer = Layer("Branch", "b", {"merge": merge})
    y = LAYER_OPS["Branch"](layer, xs, {})
    grads, params = VJP_OPS["Branch"](layer, xs, y, gy, {})
    assert params == {}
    assert [g.shape for g in grads] == [x.shape for x in xs]  # reduced over the broadcast axes
    return y, grads


def _compare(y, grads, ref_y, ref_grads) -> None:
    assert y.shape == ref_y.shape and rel_error(y, ref_y) <= 1e-5
    for g, ref in zip(grads, ref_grads, strict=True):
        assert rel_error(g, ref) <= 1e-4


@pytest.mark.parametrize("name", sorted(MERGE_CASES))
def test_broadcast_merge_matches_stored_torch(name):
    n = len(MERGE_CASES[name][1])
    _compare(*_ours(name), STORED[f"{name}/y"], [STORED[f"{name}/dx{k}"] for k in range(n)])


@pytest.mark.parametrize("name", sorted(MERGE_CASES))
def test_broadcast_merge_matches_live_torch(name):
    pytest.importorskip("torch")
    _compare(*_ours(name), *torch_merge(name))


def _kink_grads(type_name: str) -> np.ndarray:
    layer = Layer(type_name, "a")
    x = KINKS.reshape(1, 1, -1)
    y = LAYER_OPS[type_name](layer, [x], {})
    return VJP_OPS[type_name](layer, [x], y, np.ones_like(x), {})[0][0].ravel()


@pytest.mark.parametrize("type_name", KINK_TYPES)
def test_derivative_at_the_kinks_matches_stored_torch(type_name):
    """Hardswish's derivative is 0 at x = −3 and 1 at x = 3 in PyTorch (it was −½ and 1½)."""
    np.testing.assert_allclose(_kink_grads(type_name), STORED[f"kink/{type_name}"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("type_name", KINK_TYPES)
def test_derivative_at_the_kinks_matches_live_torch(type_name):
    pytest.importorskip("torch")
    np.testing.assert_allclose(_kink_grads(type_name), torch_kink_grads(type_name), rtol=1e-6, atol=1e-7)
