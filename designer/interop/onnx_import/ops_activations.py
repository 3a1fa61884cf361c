"""Op mappings of the activations (one per ONNX op type; see :mod:`.ops` for the rest).

``designer.SiLU`` is the op :mod:`.fusion` gives ``x·Sigmoid(x)``; multi-node spellings of GELU,
Hardswish, Hardsigmoid and ReLU6 arrive here as ``Gelu``, ``HardSwish``, ``HardSigmoid``, ``Clip``.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import Unsupported
from .mapping import Ctx, Draft, Mapped, as_f32, float_attr, maps
from .model import Node

# --- activations ---------------------------------------------------------------------------------
SIMPLE_ACTIVATIONS = {
    "Relu": "ReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "HardSwish": "Hardswish",
    "designer.SiLU": "SiLU",
}


@maps(*SIMPLE_ACTIVATIONS, produces={op: (layer,) for op, layer in SIMPLE_ACTIVATIONS.items()})
def simple_activation(node: Node, ctx: Ctx) -> Mapped:
    ctx.x(node)
    return [Draft(SIMPLE_ACTIVATIONS[node.op])]


@maps("LeakyRelu", produces=("LeakyReLU",))
def leaky_relu(node: Node, ctx: Ctx) -> Mapped:
    return [Draft("LeakyReLU", {"negative_slope": float_attr(node, "alpha", 0.01)})]


@maps("Elu", produces=("ELU",))
def elu(node: Node, ctx: Ctx) -> Mapped:
    return [Draft("ELU", {"alpha": float_attr(node, "alpha", 1.0)})]


@maps("Gelu", produces=("GELU",))
def gelu(node: Node, ctx: Ctx) -> Mapped:
    return [Draft("GELU", {"approximate": node.attr("approximate", "none")})]


@maps("HardSigmoid", produces=("Hardsigmoid",))
def hard_sigmoid(node: Node, ctx: Ctx) -> Mapped:
    """torch's Hardsigmoid is ``relu6(x + 3)/6``: ONNX ``alpha = 1/6``, ``beta = 0.5``."""
    alpha, beta = float_attr(node, "alpha", 0.2), float_attr(node, "beta", 0.5)
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-5) and math.isclose(beta, 0.5, rel_tol=1e-6)):
        raise Unsupported(f"alpha {alpha:g}, beta {beta:g} differ from Hardsigmoid's 1/6, 0.5")
    return [Draft("Hardsigmoid")]


@maps("Clip", produces=("ReLU6", "ReLU"))
def clip(node: Node, ctx: Ctx) -> Mapped:
    """``Clip(0, 6)`` is ReLU6 and ``Clip(0, ∞)`` is ReLU; other bounds have no layer."""
    if "min" in node.attrs or "max" in node.attrs or ctx.graph.opset < 11:
        lo, hi = node.attr("min"), node.attr("max")
    else:
        lo = ctx.const(node, 1, "min", required=False)
        hi = ctx.const(node, 2, "max", required=False)
    lo = -math.inf if lo is None else float(np.ravel(lo)[0])
    hi = math.inf if hi is None else float(np.ravel(hi)[0])
    if lo == 0 and hi == 6:
        return [Draft("ReLU6")]
    if lo == 0 and hi == math.inf:
        return [Draft("ReLU")]
    raise Unsupported(f"bounds ({lo:g}, {hi:g}) are neither (0, 6) nor (0, ∞)")


@maps("PRelu", produces=("PReLU",))
def prelu(node: Node, ctx: Ctx) -> Mapped:
    slope = np.ravel(ctx.const(node, 1, "slope"))
    return [Draft("PReLU", {"num_parameters": int(slope.size)}, {"weight": as_f32(slope)})]


@maps("Softmax", produces=("Softmax",))
def softmax(node: Node, ctx: Ctx) -> Mapped:
    """Over channels of a map (axis 1) or features of a vector (axis 1 = −1). Before opset 13 the axis
    starts a flattened block (axis 1 of a map = all of C·H·W), which matches only for 1×1 maps."""
    shape = ctx.in_shape(node)
    rank = len(shape)
    axis = int(node.attr("axis", -1 if ctx.graph.opset >= 13 else 1)) % rank
    joint = ctx.graph.opset < 13 and rank == 4 and shape[2:] != (1, 1)
    if axis != 1 or rank not in (2, 4) or joint:
        raise Unsupported(
            f"is over axis {axis} of a {rank}-D tensor{' jointly' if joint else ''}; "
            "only channels/features map"
        )
    return [Draft("Softmax")]
