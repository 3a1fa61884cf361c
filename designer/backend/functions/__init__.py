"""One record per layer type: its forward kernel, its VJP and its rule in the uniform network, side by side
(tinygrad's ``Function``).

``FUNCTIONS[type]`` is a :class:`LayerFunction`; ``LAYER_OPS``, ``VJP_OPS`` and ``UNIFORM_OPS`` are views of it
keyed by type name. The records live beside each other by family (``conv``, ``pool``, ``pointwise``,
``structure``, ``modern``); ``tests/test_registry.py`` fails when a type of the core registry has none.

* ``forward(layer, inputs, weights) -> output`` on ``[C, H, W]`` maps or ``[F]`` vectors, weights keyed like a
  PyTorch ``state_dict`` (``"<layer>.weight"``);
* ``backward(layer, inputs, output, grad_output, weights, params=True) -> (grad_inputs, {key: grad})``;
* ``uniform``: the VJP in the uniform network of Luo et al. (2016) — by default the identity for types with the
  spec's ``uniform_identity`` trait and the real VJP for the others (linear layers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from designer.core import Layer, get_spec
from designer.core.spec import UNIFORM_IDENTITY

from ..grad.base import Vjp, identity_vjp

Op = Callable[[Layer, list[np.ndarray], Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class LayerFunction:
    """Forward and backward of one layer type, and its uniform-network stand-in (``None``: see the module doc)."""

    type: str
    forward: Op
    backward: Vjp
    uniform: Vjp | None = None

    @property
    def uniform_vjp(self) -> Vjp:
        if self.uniform is not None:
            return self.uniform
        return identity_vjp if get_spec(self.type).has(UNIFORM_IDENTITY) else self.backward


FUNCTIONS: dict[str, LayerFunction] = {}


def register(*functions: LayerFunction) -> None:
    for function in functions:
        FUNCTIONS[function.type] = function


def hp_op(fn: Callable[..., np.ndarray], *names: str) -> Op:
    """A forward that passes the named hyperparameters positionally to ``fn``."""
    return lambda layer, xs, w: fn(xs[0], *(layer.hp[n] for n in names))


from . import conv, modern, pointwise, pool, structure

LAYER_OPS: dict[str, Op] = {t: f.forward for t, f in FUNCTIONS.items()}
VJP_OPS: dict[str, Vjp] = {t: f.backward for t, f in FUNCTIONS.items()}
UNIFORM_OPS: dict[str, Vjp] = {t: f.uniform_vjp for t, f in FUNCTIONS.items()}

__all__ = ["FUNCTIONS", "LAYER_OPS", "UNIFORM_OPS", "VJP_OPS", "LayerFunction", "Op", "hp_op", "register"]
