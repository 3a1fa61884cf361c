"""Backward pass through a whole design: input gradients and the effective receptive field.

The forward outputs come from the :class:`~designer.backend.Runner` (which caches them: asking for
another unit's gradient on the same image runs nothing forward). The backward pass walks the compiled
steps (:mod:`.graph`) in reverse from the chosen layer, applying each layer's VJP (:mod:`.grad`) and
summing the gradients of tensors read by several steps (the input of a Branch).

Effective receptive field (Luo et al. 2016): ``ERF(p) = Σ_c |∂y_u/∂x[c, p]| / Σ_{c,p'} |∂y_u/∂x[c, p']|``
for the unit ``u`` (all channels of the output at one position unless a channel is given), with the
radius of the disc around its centre of mass that holds 95% of it. ``uniform=True`` computes it for the
architecture alone (all-ones weights, no nonlinearity; see :mod:`.grad.uniform`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from designer.core import Design, analyze

from .functions import UNIFORM_OPS, VJP_OPS
from .grad import Vjp, uniform_weights
from .graph import Step, compile_design
from .runner import Runner
from .weights import expected_shapes

MASS = 0.95


@dataclass(frozen=True)
class EffectiveRF:
    """``map`` ``[H, W]`` (sums to 1), ``radius`` in input pixels holding ``MASS`` of it around ``centre``
    ``(y, x)`` (its centre of mass), for output position ``unit`` ``(y, x)`` of the layer."""

    map: np.ndarray
    radius: float
    centre: tuple[float, float]
    unit: tuple[int, int] | None


def forward_tensors(runner: Runner, x: np.ndarray) -> tuple[list[Step], list[np.ndarray]]:
    """The compiled steps and every tensor of the forward pass (tensor 0 is ``x``, the runner's cache)."""
    x = np.asarray(x, dtype=np.float32)
    outputs = runner.run(x)
    steps = compile_design(runner.design)
    return steps, [x, *(outputs[s.name] for s in steps)]


def backpropagate(steps: list[Step], tensors: list[np.ndarray], seeds: Mapping[int, np.ndarray],
                  weights: Mapping[str, np.ndarray], params: bool = False,
                  ops: Mapping[str, Vjp] = VJP_OPS, rescale: bool = False,
                  ) -> tuple[dict[int, np.ndarray], dict[str, np.ndarray]]:
    """Reverse-mode pass: ``seeds`` maps tensor index → ``∂L/∂tensor``.

    Returns ``{0: ∂L/∂input}`` (empty when the loss does not depend on the input) and, with
    ``params``, ``∂L/∂θ`` for every layer tensor on the way (keys as in ``runner.weights``).
    With ``rescale`` every gradient is kept as ``g·2^e`` with ``max|g| < 1`` (exact power-of-two
    scaling, exponents aligned where branches add up), so a linear network with all-ones weights
    never overflows float32; the returned input gradient is then correct up to one positive factor.
    """
    grads = dict(seeds)
    exponents = dict.fromkeys(seeds, 0)
    param_grads: dict[str, np.ndarray] = {}
    for step in reversed(steps):
        if step.output not in grads:  # after the seeds, or not on a path to them
            continue
        gy, e = grads.pop(step.output), exponents.pop(step.output)
        inputs = [tensors[i] for i in step.inputs]
        g_in, g_params = ops[step.layer.type](step.layer, inputs, tensors[step.output], gy, weights,
                                              params=params)
        for i, g in zip(step.inputs, g_in):
            g, e_i = _normalised(g, e) if rescale else (g, e)
            if i in grads:
                g, e_i = _add_scaled(grads[i], exponents[i], g, e_i)
            grads[i], exponents[i] = g, e_i
        param_grads.update(g_params)
    return grads, param_grads


def _normalised(g: np.ndarray, e: int) -> tuple[np.ndarray, int]:
    """``(g·2^−k, e + k)`` with the largest magnitude in [0.5, 1)."""
    peak = float(np.max(np.abs(g))) if g.size else 0.0
    if peak == 0.0 or not math.isfinite(peak):
        return g, e
    k = math.frexp(peak)[1]
    return np.ldexp(g, -k).astype(np.float32, copy=False), e + k


def _add_scaled(a: np.ndarray, ea: int, b: np.ndarray, eb: int) -> tuple[np.ndarray, int]:
    """``a·2^ea + b·2^eb`` as ``c·2^e`` (the smaller term is scaled down, never the larger up)."""
    e = max(ea, eb)
    return (np.ldexp(a, ea - e) + np.ldexp(b, eb - e)).astype(np.float32, copy=False), e


def _unit_seed(out: np.ndarray, layer: str, channel: int | None, y: int | None, x_pos: int | None) -> np.ndarray:
    """``∂L/∂out`` for ``L = out[channel, y, x]`` (all channels when ``channel`` is None; ``[F]``: ``out[channel]``)."""
    seed = np.zeros_like(out, dtype=np.float32)
    index: tuple = (slice(None) if channel is None else channel,)
    if out.ndim == 3:
        if y is None or x_pos is None:
            raise ValueError(f"layer '{layer}' has a {out.shape[0]}×{out.shape[1]}×{out.shape[2]} output: give y and x")
        index += (y, x_pos)
    bounds = [(v, n) for v, n in zip(index, out.shape) if not isinstance(v, slice)]
    if any(not 0 <= v < n for v, n in bounds):
        raise ValueError(f"unit {index} is outside layer '{layer}''s output of shape {list(out.shape)}")
    seed[index] = 1.0
    return seed


def _step_index(steps: list[Step], layer: str) -> int:
    for step in steps:
        if step.name == layer:
            return step.output
    raise KeyError(layer)


def input_gradient(runner: Runner, x: np.ndarray, layer: str, channel: int | None, y: int | None = None,
                   x_pos: int | None = None, ops: Mapping[str, Vjp] = VJP_OPS) -> np.ndarray:
    """``∂ out[channel, y, x_pos] / ∂ input`` as ``[C, H, W]`` float32 for ``layer``'s output on image ``x``.

    ``channel=None`` differentiates the sum over channels at ``(y, x_pos)``; for a vector output ``[F]``
    ``y``/``x_pos`` are ignored. Raises ``KeyError`` for an unknown layer, ``ValueError`` for a unit
    outside the output.
    """
    steps, tensors = forward_tensors(runner, x)
    target = _step_index(steps, layer)
    seed = _unit_seed(tensors[target], layer, channel, y, x_pos)
    grads, _ = backpropagate(steps, tensors, {target: seed}, runner.weights, ops=ops)
    return grads.get(0, np.zeros_like(tensors[0]))


def mass_radius(erf: np.ndarray, mass: float = MASS) -> tuple[float, tuple[float, float]]:
    """Radius of the smallest disc around the centre of mass of ``erf`` (non-negative) holding ``mass`` of it."""
    total = float(erf.sum())
    if total <= 0:
        return 0.0, (float("nan"), float("nan"))
    yy, xx = np.indices(erf.shape)
    cy, cx = float((erf * yy).sum() / total), float((erf * xx).sum() / total)
    dist = np.hypot(yy - cy, xx - cx).ravel()
    order = np.argsort(dist, kind="stable")
    cum = np.cumsum(erf.ravel()[order])
    i = min(int(np.searchsorted(cum, mass * cum[-1])), dist.size - 1)
    return float(dist[order][i]), (cy, cx)


def uniform_tensors(design: Design) -> tuple[list[Step], list[np.ndarray], dict[str, np.ndarray]]:
    """Steps, zero tensors of every layer's output shape and the uniform weights (no forward pass)."""
    rows = {row.name: row for row in analyze(design).rows}
    steps = compile_design(design)
    bad = [s.name for s in steps if rows[s.name].output_shape is None]
    if bad:
        raise ValueError(f"layer '{bad[0]}': output shape unknown (the design has errors)")
    tensors = [np.zeros(design.input.shape, np.float32)]
    tensors += [np.zeros(rows[s.name].output_shape, np.float32) for s in steps]
    types = {layer.name: layer.type for _, layer in design.walk()}
    return steps, tensors, uniform_weights(expected_shapes(design), types)


def _centre(out: np.ndarray, unit: tuple[int, int] | None) -> tuple[int, int] | tuple[None, None]:
    if out.ndim != 3:
        return None, None
    return unit if unit is not None else ((out.shape[1] - 1) // 2, (out.shape[2] - 1) // 2)


def effective_rf(runner_or_design: Runner | Design, x: np.ndarray | None, layer: str,
                 unit: tuple[int, int] | None = None, uniform: bool = False,
                 channel: int | None = None) -> EffectiveRF:
    """The effective receptive field of ``layer`` at ``unit`` (default the centre
    ``((H_out − 1)//2, (W_out − 1)//2)``) on image ``x`` (see the module docstring).

    With ``uniform`` the result depends on neither the image nor the weights; ``x`` may be ``None``.
    ``channel=None`` differentiates the sum of the output's channels at ``unit``.
    """
    is_runner = isinstance(runner_or_design, Runner)
    if uniform:
        design = runner_or_design.design if is_runner else runner_or_design
        steps, tensors, weights = uniform_tensors(design)
        ops: Mapping[str, Vjp] = UNIFORM_OPS
    else:
        if x is None:
            raise ValueError("effective_rf needs an image unless uniform=True")
        runner = runner_or_design if is_runner else Runner(runner_or_design)
        (steps, tensors), weights, ops = forward_tensors(runner, x), runner.weights, VJP_OPS
    target = _step_index(steps, layer)
    y, x_pos = _centre(tensors[target], unit)
    seed = _unit_seed(tensors[target], layer, channel, y, x_pos)
    grads, _ = backpropagate(steps, tensors, {target: seed}, weights, ops=ops, rescale=uniform)
    erf = np.abs(grads.get(0, tensors[0]).astype(np.float64)).sum(axis=0)
    total = erf.sum()
    erf = erf / total if total > 0 else erf
    radius, centre = mass_radius(erf)
    return EffectiveRF(erf, radius, centre, None if y is None else (y, x_pos))
