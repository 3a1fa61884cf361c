"""Vector-Jacobian products for every layer type of the design format (NumPy, float32).

``VJP_OPS[type](layer, inputs, output, grad_output, weights, params=True)`` returns
``(grad_inputs, {"<layer>.<tensor>": grad})``: ``∂L/∂x`` for each input tensor of the step and, when
``params``, ``∂L/∂W``/``∂L/∂b`` keyed like ``runner.weights``. ``UNIFORM_OPS`` is the same registry for
the "uniform" network of Luo et al. (2016) used by the effective receptive field. Both are views of the
layer records in :mod:`designer.backend.functions`, which hold each type's forward and VJP side by side;
this package holds the VJP mathematics.
"""

from __future__ import annotations

from typing import Any

from .base import Grads, Vjp, identity_vjp
from .uniform import uniform_weights


def __getattr__(name: str) -> Any:
    """``VJP_OPS`` and ``UNIFORM_OPS`` come from the records (imported lazily: the records import this package)."""
    if name in ("VJP_OPS", "UNIFORM_OPS"):
        from .. import functions
        return getattr(functions, name)
    raise AttributeError(name)


__all__ = ["UNIFORM_OPS", "VJP_OPS", "Grads", "Vjp", "identity_vjp", "uniform_weights"]
