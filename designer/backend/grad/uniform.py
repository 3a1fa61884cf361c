"""The "uniform" network of Luo et al. (2016), whose input gradient is the effective receptive field
of the architecture alone: all-equal convolution and linear weights, zero biases, and no nonlinearity
or normalisation.

In that network every type with the spec's ``uniform_identity`` trait (activations, Softmax,
normalisations) passes the gradient through unchanged, and a
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

from designer.core import get_spec
from designer.core.spec import WEIGHTED


def uniform_weights(shapes: Mapping[str, tuple[int, ...]], types: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Tensors for ``shapes`` (``{key: shape}``, e.g. ``weights.expected_shapes(design)``) given each layer's
    type (``{layer name: type}``): the ``weight`` of every type with the spec's ``weighted`` trait (Conv, Linear)
    all ones, everything else zero (the other layers are the identity in the uniform network)."""
    out = {}
    for k, shape in shapes.items():
        name, tensor = k.rsplit(".", 1)
        weighted = name in types and get_spec(types[name]).has(WEIGHTED)
        out[k] = np.ones(shape, np.float32) if tensor == "weight" and weighted else np.zeros(shape, np.float32)
    return out
