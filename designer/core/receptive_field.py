"""Receptive-field arithmetic (Araujo, Norris & Sim, 2019), per axis.

State per axis: size ``r`` (input pixels one unit sees), jump ``j`` (input pixels between
neighbouring units, the effective stride) and start (centre of the first unit's field, in input
pixel coordinates; negative when it reaches into the padding). For a window layer with effective
kernel ``k_eff = d(k − 1) + 1``, stride ``s`` and leading padding ``p``::

    r ← r + (k_eff − 1)·j      start ← start + ((k_eff − 1)/2 − p)·j      j ← j·s

Padding is ignored by ``r``; the first conv's field equals its kernel. After a ConvTranspose2d or an
Upsample the jump becomes fractional and the affine model is an estimate: neighbouring output units
of an up-sampling layer share input units unevenly, so after two or more of them the true field can
be a few pixels wider (FCN example: 66 reported, 68 exact); ``coverage.coverage_map`` gives the exact
support of one unit. After Flatten, Linear,
adaptive pools (other than identities) or SPP every unit sees the whole input: the state is
``None`` ("global").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .spec import GLOBAL, IDENTITY, RFStep


@dataclass(frozen=True)
class AxisRF:
    size: float
    jump: float
    start: float


RFState = tuple[AxisRF, AxisRF] | None
INPUT_RF: RFState = (AxisRF(1, 1, 0.0), AxisRF(1, 1, 0.0))


def _step_axis(a: AxisRF, step: RFStep) -> AxisRF:
    k, s = step.kernel, step.stride
    if step.kind == "window":
        return AxisRF(a.size + (k - 1) * a.jump, a.jump * s, a.start + ((k - 1) / 2 - step.pad) * a.jump)
    if step.kind == "transpose":
        taps = math.ceil(k / s)
        return AxisRF(a.size + (taps - 1) * a.jump, a.jump / s, a.start + (step.pad - (k - 1) / 2) / s * a.jump)
    if step.kind == "upsample":  # k = taps: 1 nearest, 2 bilinear
        shift = (0.5 / s - 0.5) * a.jump if k == 2 else 0.0
        return AxisRF(a.size + (k - 1) * a.jump, a.jump / s, a.start + shift)
    raise ValueError(f"unknown receptive-field step {step.kind!r}")


def apply(state: RFState, steps) -> RFState:
    """Advance ``state`` through one layer whose spec's ``rf()`` returned ``steps``."""
    if state is None or steps == GLOBAL:
        return None
    if steps is IDENTITY:
        return state
    return _step_axis(state[0], steps[0]), _step_axis(state[1], steps[1])


def merge(states: list[RFState]) -> tuple[RFState, bool]:
    """Branch merge: the largest field over branches; also whether the branches' jumps disagree."""
    if any(s is None for s in states):
        return None, False
    jumps = {(s[0].jump, s[1].jump) for s in states}
    widest = max(states, key=lambda s: (s[0].size * s[1].size))
    return widest, len(jumps) > 1


def clean(value: float) -> float | int:
    """``212.0`` → ``212`` for display and JSON."""
    return int(value) if float(value).is_integer() else round(value, 6)


def size(state: RFState) -> list[float | int] | None:
    return None if state is None else [clean(state[0].size), clean(state[1].size)]


def jump(state: RFState) -> list[float | int] | None:
    return None if state is None else [clean(state[0].jump), clean(state[1].jump)]


def start(state: RFState) -> list[float | int] | None:
    return None if state is None else [clean(state[0].start), clean(state[1].start)]
