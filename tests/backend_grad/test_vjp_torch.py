"""Every layer type's VJP (input and parameter gradients) against ``torch.autograd`` in float64.

Random shapes and hyperparameters per type (see ``cases.py``); skipped without torch, in which case the
finite-difference tests of ``test_vjp_numeric.py`` still check every type.
"""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.grad import VJP_OPS
from designer.core import LAYER_SPECS

from .cases import GENERATORS, random_case, tie_case

torch = pytest.importorskip("torch")

from .torch_ref import rel_error, torch_grads

TOLERANCE = 1e-4
SEEDS = range(12)


def check(case) -> None:
    (dx,), grads = case.vjp()
    x_in = case.x.reshape(case.design["input"]["channels"], case.design["input"]["height"],
                          case.design["input"]["width"])
    ref_dx, ref_params, ref_y = torch_grads(case.design, case.weights, x_in, case.gy)
    assert rel_error(case.forward(), ref_y) <= 1e-5, "the forward pass itself disagrees"
    assert dx.shape == case.x.shape and dx.dtype == np.float32
    assert rel_error(dx, ref_dx.reshape(case.x.shape)) <= TOLERANCE, case.design["layers"][-1]
    assert set(grads) == set(ref_params), (sorted(grads), sorted(ref_params))
    for k, g in grads.items():
        assert g.shape == ref_params[k].shape, k
        assert rel_error(g, ref_params[k]) <= TOLERANCE, (k, case.design["layers"][-1])


def test_every_layer_type_has_a_vjp_and_a_case():
    assert set(VJP_OPS) == set(LAYER_SPECS)
    assert set(GENERATORS) | {"Branch"} == set(LAYER_SPECS)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_vjp_matches_autograd(kind, seed):
    check(random_case(kind, np.random.default_rng([seed, len(kind)])))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["MaxPool2d", "AdaptiveMaxPool2d", "SpatialPyramidPool2d"])
def test_max_pools_break_ties_like_torch(kind, seed):
    case = tie_case(kind, np.random.default_rng([seed, 7]))
    if kind == "SpatialPyramidPool2d":
        case.layer = case.layer.with_params(mode="max")
        case.design["layers"][-1]["mode"] = "max"
        case.gy = np.random.default_rng(seed).standard_normal(case.forward().shape).astype(np.float32)
    check(case)


def test_params_false_skips_parameter_gradients():
    case = random_case("Conv2d", np.random.default_rng(0))
    (dx,), grads = case.vjp(params=False)
    assert grads == {}
    assert np.array_equal(dx, case.vjp()[0][0])


@pytest.mark.parametrize("merge", ["concat", "add"])
def test_branch_vjp(merge):
    from designer.core import Layer

    rng = np.random.default_rng(1)
    shapes = [(2, 4, 5), (3, 4, 5)] if merge == "concat" else [(2, 4, 5)] * 3
    xs = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    y = torch.cat(xs, 0) if merge == "concat" else sum(xs)
    gy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    (y * torch.from_numpy(gy.astype(np.float64))).sum().backward()
    layer = Layer("Branch", "b", {"merge": merge})
    grads, params = VJP_OPS["Branch"](layer, [x.detach().numpy().astype(np.float32) for x in xs], None, gy, {})
    assert params == {}
    for g, x in zip(grads, xs):
        assert rel_error(g, x.grad.numpy()) <= TOLERANCE
