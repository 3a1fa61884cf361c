"""Vector-Jacobian products for every layer type of the design format (NumPy, float32).

``VJP_OPS[type](layer, inputs, output, grad_output, weights, params=True)`` returns
``(grad_inputs, {"<layer>.<tensor>": grad})``: ``∂L/∂x`` for each input tensor of the step and, when
``params``, ``∂L/∂W``/``∂L/∂b`` keyed like ``runner.weights``. ``UNIFORM_OPS`` is the same registry for
the "uniform" network of Luo et al. (2016) used by the effective receptive field: every nonlinearity
(activations, Softmax, LocalResponseNorm) is the identity and max pooling averages its window.
"""

from __future__ import annotations

from .base import Grads, Vjp, identity_vjp
from .conv import CONV_VJPS
from .pointwise import POINTWISE_VJPS
from .pool import POOL_VJPS
from .structure import STRUCTURE_VJPS
from .uniform import uniform_ops, uniform_weights

VJP_OPS: dict[str, Vjp] = {**CONV_VJPS, **POOL_VJPS, **POINTWISE_VJPS, **STRUCTURE_VJPS}
UNIFORM_OPS: dict[str, Vjp] = uniform_ops(VJP_OPS)

__all__ = ["UNIFORM_OPS", "VJP_OPS", "Grads", "Vjp", "identity_vjp", "uniform_weights"]
