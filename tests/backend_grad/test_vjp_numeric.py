"""Every VJP against central finite differences of the forward kernels — no torch needed.

``f(x) = Σ ḡ·layer(x)``; for a random direction ``v`` the central difference ``(f(x + εv) − f(x − εv))/2ε``
(accumulated in float64) must equal ``⟨∂L/∂x, v⟩``, and likewise for the layer's parameters. Layers
that are linear in ``x`` use a large ε (the difference is then exact up to float32 rounding); smooth ones
ε = 1e-2; kinked ones (ReLU family, ELU, max pools) get inputs spaced 0.1 apart so no kink or tie is
crossed. The forward kernels are float32, hence the tolerance of 2e-3 of ``Σ|∂L/∂x|·|v|``.
"""

from __future__ import annotations

import numpy as np
import pytest

from .cases import GENERATORS, Case, make_case

LINEAR = {"Conv2d", "ConvTranspose2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample", "Flatten", "Dropout", "Linear"}
KINKED = {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "MaxPool2d", "AdaptiveMaxPool2d", "SpatialPyramidPool2d"}
TOLERANCE = 2e-3


def _spaced(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Distinct values 0.1 apart, none on a kink (0 or 6): ``±0.05, ±0.15, …`` shuffled."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n // 2 + 0.5) * 0.1).reshape(shape).astype(np.float32)


def numeric_case(kind: str, rng: np.random.Generator) -> Case:
    for _ in range(200):
        layer, shape = GENERATORS[kind](rng)
        x = _spaced(shape, rng) if kind in KINKED else rng.standard_normal(shape).astype(np.float32)
        case = make_case(layer, shape, rng, x)
        if case is not None:
            return case
    raise AssertionError(kind)


def _objective(case: Case, x: np.ndarray, weights: dict) -> float:
    return float(np.dot(case.gy.ravel().astype(np.float64), case.forward(x, weights).ravel().astype(np.float64)))


def _check_direction(f, analytic: float, bound: float, eps: float) -> None:
    numeric = (f(eps) - f(-eps)) / (2 * eps)
    assert abs(numeric - analytic) <= TOLERANCE * max(bound, 1e-6), (numeric, analytic, bound)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_input_gradient_matches_finite_differences(kind, seed):
    rng = np.random.default_rng([seed, 99, len(kind)])
    case = numeric_case(kind, rng)
    (dx,), _ = case.vjp()
    v = np.clip(rng.standard_normal(case.x.shape), -2, 2).astype(np.float32)
    eps = 0.5 if kind in LINEAR else 1e-2
    f = lambda t: _objective(case, (case.x + np.float32(t) * v).astype(np.float32), case.weights)
    _check_direction(f, float(np.dot(dx.ravel(), v.ravel())), float(np.abs(dx).ravel() @ np.abs(v).ravel()), eps)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["Conv2d", "ConvTranspose2d", "Linear", "BatchNorm2d", "PReLU"])
def test_parameter_gradients_match_finite_differences(kind, seed):
    rng = np.random.default_rng([seed, 5, len(kind)])
    case = numeric_case(kind, rng)
    _, grads = case.vjp()
    directions = {k: rng.standard_normal(case.weights[k].shape).astype(np.float32) for k in grads}

    def f(t: float) -> float:
        moved = {k: (w + np.float32(t) * directions[k] if k in directions else w) for k, w in case.weights.items()}
        return _objective(case, case.x, moved)

    analytic = sum(float(np.dot(grads[k].ravel(), d.ravel())) for k, d in directions.items())
    bound = sum(float(np.abs(grads[k]).ravel() @ np.abs(d).ravel()) for k, d in directions.items())
    _check_direction(f, analytic, bound, 1e-2 if kind == "BatchNorm2d" else 0.5)
