"""The "uniform" network of Luo et al. (2016), whose input gradient is the effective receptive field
of the architecture alone: all-equal convolution and linear weights, zero biases, and no nonlinearity
or normalisation.

In that network an activation, Softmax or LocalResponseNorm passes the gradient through unchanged, and a
max pool spreads it evenly over its window like an average pool (every window position is a path of
equal weight). For a stack of convolutions the input gradient of one unit is then the number of paths
from each input pixel to it — the dilation coverage map — and its spread grows like √n with depth n
(the central limit theorem), while the theoretical receptive field grows like n.

The weights are all ones, exactly as in the paper; the backward pass keeps each gradient as an array times
a power of two (``backpropagate(..., rescale=True)``) so that ResNet-18's path counts, far beyond float32's
range, do not overflow, and residual additions still weigh both branches correctly. Nothing in the uniform network
depends on the input values, so no forward pass is needed: zero tensors of the right shapes do.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer

from .base import NO_PARAMS, Grads, Vjp, identity_vjp
from .pool import adaptive_avg_grad, avg_pool2d_vjp, spp_grad

LINEARISED = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "LocalResponseNorm", "PReLU",
              "BatchNorm2d")
WEIGHTED = ("Conv2d", "ConvTranspose2d", "Linear")


def _adaptive_max_as_avg(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                         weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """AdaptiveMaxPool2d in the uniform network: the adaptive average's VJP."""
    return [adaptive_avg_grad(xs[0].shape, gy)], NO_PARAMS


def _spp_as_avg(layer: Layer, xs: list[np.ndarray], y: np.ndarray, gy: np.ndarray,
                weights: Mapping[str, np.ndarray], params: bool = True) -> Grads:
    """SpatialPyramidPool2d in the uniform network: every level averages its bins."""
    return [spp_grad(xs[0], gy, layer.hp["levels"], "avg")], NO_PARAMS


def uniform_ops(base: Mapping[str, Vjp]) -> dict[str, Vjp]:
    """``base`` with the nonlinear layers replaced by their uniform stand-ins (see the module docstring)."""
    ops = dict(base)
    ops.update({t: identity_vjp for t in LINEARISED})
    ops.update({"MaxPool2d": avg_pool2d_vjp, "AdaptiveMaxPool2d": _adaptive_max_as_avg,
                "SpatialPyramidPool2d": _spp_as_avg})
    return ops


def uniform_weights(shapes: Mapping[str, tuple[int, ...]], types: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Tensors for ``shapes`` (``{key: shape}``, e.g. ``weights.expected_shapes(design)``) given each layer's
    type (``{layer name: type}``): Conv/Linear weights all ones, everything else zero (the other layers
    are the identity in the uniform network)."""
    out = {}
    for k, shape in shapes.items():
        name, tensor = k.rsplit(".", 1)
        if tensor == "weight" and types.get(name) in WEIGHTED:
            out[k] = np.ones(shape, np.float32)
        else:
            out[k] = np.zeros(shape, np.float32)
    return out
