"""Conv2d and ConvTranspose2d: forward kernels and their VJPs (each one's input gradient is the other's forward)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from designer.core import Layer

from .. import kernels as K
from ..grad.conv import conv2d_vjp, conv_transpose2d_vjp
from . import LayerFunction, register


def conv2d(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    hp = layer.hp
    return K.conv2d(xs[0], w[f"{layer.name}.weight"], w.get(f"{layer.name}.bias"), hp["stride"], hp["padding"],
                    hp["dilation"], hp["groups"])


def conv_transpose2d(layer: Layer, xs: list[np.ndarray], w: Mapping[str, np.ndarray]) -> np.ndarray:
    hp = layer.hp
    return K.conv_transpose2d(xs[0], w[f"{layer.name}.weight"], w.get(f"{layer.name}.bias"), hp["stride"],
                              hp["padding"], hp["output_padding"], hp["groups"], hp["dilation"])


register(
    LayerFunction("Conv2d", conv2d, conv2d_vjp),
    LayerFunction("ConvTranspose2d", conv_transpose2d, conv_transpose2d_vjp),
)
