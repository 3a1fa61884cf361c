"""What one op allocates in PyTorch's eager CPU kernels, per layer type (float32, NCHW).

The training-step simulator (:mod:`designer.core.training_memory`) asks each op three things:

- ``view``: does its output share the input's storage (``Flatten``, ``Identity``, an in-place
  activation, ``Dropout`` at inference or with ``p = 0``)?
- ``grad``: how its backward hands gradients to its inputs: ``"new"`` (a fresh tensor per input) or
  ``"pass"`` (the output gradient itself or views of it: ``add``, ``concat``, ``Flatten``, ``Identity``).
- ``forward_peak`` / ``backward_peak``: bytes alive at the op's busiest moment beyond what was alive
  before it. Defaults: forward ``out`` (its output) and backward ``Σ gin + gw`` (the input and weight
  gradients it leaves). Measured exceptions (oneDNN convolution, BatchNorm's backward):

  Conv forward   ``max(in' + w + out', out' + out)``: the input reordered to oneDNN's blocked layout
                 (``x'``: channels padded to a multiple of 16; an input of < 16 channels is read in
                 place by an ungrouped conv with a kernel larger than 1×1) next
                 to the weights and the blocked result, then the result copied into the output.
  Conv backward  ``max(gout' + w + gin', gin' + gin + clone, gin + gout' + in' + gw, gin + 2·gw)``:
                 reorders of the output gradient and input, each result computed blocked then copied; a
                 strided conv clones its data gradient once more (``clone`` = gin when stride > 1).
  BN backward    ``gin + in``: a scratch tensor the size of the input next to the input gradient.

What the op *keeps* for the backward comes from the registry (``LayerSpec.saves``); the sizes of
the kinds that are new tensors (``indices``, ``mask``, ``stats``, ``work``, ``input_copy``) are
:func:`extra_saved_bytes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OpSizes:
    """Bytes of one op for the whole batch; ``gin`` is 0 when no input needs a gradient."""

    inputs: tuple[int, ...]
    out: int
    weights: int  # the largest parameter tensor (the weight)
    params: int  # all trainable parameter bytes (their gradients)
    gin: int
    in_channels: int
    out_channels: int
    hp: dict[str, Any]
    training: bool
    recorded: bool = False  # autograd records the op (it saves tensors for the backward)
    elem: int = 4  # bytes per element

    @property
    def inp(self) -> int:
        return self.inputs[0] if self.inputs else 0


def _default_forward(s: OpSizes) -> int:
    return s.out


def _default_backward(s: OpSizes) -> int:
    return s.gin + s.params


def _blocked(channels: int, nbytes: int) -> int:
    """oneDNN's blocked layout: channels padded to a multiple of 16, ``nbytes·⌈C/16⌉·16/C``."""
    if channels <= 0 or channels >= 1 << 20:
        return nbytes
    return nbytes * (-(-channels // 16) * 16) // channels


def _pair(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _plain_input(s: OpSizes) -> bool:
    """oneDNN reads (and writes the gradient of) an input of fewer than 16 channels in the plain layout
    when the conv is ungrouped with a kernel larger than 1×1."""
    return s.in_channels < 16 and s.hp.get("groups", 1) == 1 and max(_pair(s.hp.get("kernel_size", 1))) > 1


def _input_copy(s: OpSizes) -> int:
    """The input reordered to the blocked layout (none for a plain input)."""
    return 0 if _plain_input(s) else _blocked(s.in_channels, s.inp)


def conv_forward(s: OpSizes) -> int:
    """``max(in' + w + out', out' + out)`` with ``x'`` a tensor in the blocked layout."""
    out_b = _blocked(s.out_channels, s.out)
    return max(_input_copy(s) + s.weights + out_b, out_b + s.out)


def conv_transpose_forward(s: OpSizes) -> int:
    """The reference path: a scratch about the input's size, the input and weight copies, then the result
    and a contiguous copy of it: ``max(2·in + w + out, 3·out)``."""
    return max(2 * s.inp + s.weights + s.out, 3 * s.out)


def conv_backward(s: OpSizes) -> int:
    """``max(gout' + w + gin', gin' + gin + clone, gin + gout' + in' + gw, gin + 2·gw)``; gin = 0: no data
    gradient."""
    gout, gw = _blocked(s.out_channels, s.out), s.params
    gin_b = s.gin if _plain_input(s) else _blocked(s.in_channels, s.gin)
    clone = s.gin if max(_pair(s.hp.get("stride", 1))) > 1 else 0  # a strided conv clones its data gradient
    data = max(gout + s.weights + gin_b, gin_b + s.gin + clone) if s.gin else 0
    weight = s.gin + max(gout + _input_copy(s) + gw, 2 * gw)
    return max(data, weight)


def bn_backward(s: OpSizes) -> int:
    """``gin + in`` (plus γ, β gradients)."""
    return s.gin + s.inp + s.params


def mul_backward(s: OpSizes) -> int:
    """Each factor's gradient is computed at the full output size, then summed down if it broadcast."""
    return s.gin + s.out * len(s.inputs)


def max_pool_forward(s: OpSizes) -> int:
    """The int64 indices are always computed; unrecorded (no grad) they live only during the op."""
    return s.out + (0 if s.recorded else s.out // s.elem * 8)


def lrn_forward(s: OpSizes) -> int:
    """``x²``, its padded copy and the pooled sum exist next to the output."""
    return s.out + 2 * s.inp


def lrn_backward(s: OpSizes) -> int:
    """The division's backward holds three more input-sized tensors next to the input gradient."""
    return s.gin + 3 * s.inp


@dataclass(frozen=True)
class OpCost:
    """How one layer type allocates; see the module docstring."""

    view: Callable[[dict[str, Any], bool], bool] = field(default=lambda hp, training: False)
    grad: Callable[[dict[str, Any]], str] = field(default=lambda hp: "new")
    forward_peak: Callable[[OpSizes], int] = _default_forward
    backward_peak: Callable[[OpSizes], int] = _default_backward


def _inplace(hp: dict[str, Any], training: bool) -> bool:
    return bool(hp.get("inplace"))


def _dropout_view(hp: dict[str, Any], training: bool) -> bool:
    """Identity at inference and with p = 0 (PyTorch returns the input itself)."""
    return not training or hp.get("p", 0.5) == 0


DEFAULT = OpCost()
ACTIVATION = OpCost(view=_inplace)
VIEW = OpCost(view=lambda hp, training: True, grad=lambda hp: "pass")
CONV = OpCost(forward_peak=conv_forward, backward_peak=conv_backward)
MAX_POOL = OpCost(forward_peak=max_pool_forward)

OP_COSTS: dict[str, OpCost] = {
    "Conv2d": CONV,
    "ConvTranspose2d": OpCost(forward_peak=conv_transpose_forward, backward_peak=conv_backward),
    "MaxPool2d": MAX_POOL, "AvgPool2d": DEFAULT, "AdaptiveAvgPool2d": DEFAULT, "AdaptiveMaxPool2d": MAX_POOL,
    "SpatialPyramidPool2d": OpCost(forward_peak=lambda s: max_pool_forward(s) if s.hp.get("mode") == "max"
                                   else s.out),
    "BatchNorm2d": OpCost(backward_peak=bn_backward),
    "GroupNorm": DEFAULT,
    "LocalResponseNorm": OpCost(forward_peak=lrn_forward, backward_peak=lrn_backward),
    "Dropout": OpCost(view=_dropout_view),
    "ReLU": ACTIVATION, "ReLU6": ACTIVATION, "LeakyReLU": ACTIVATION, "ELU": ACTIVATION,
    "SiLU": ACTIVATION, "Hardswish": ACTIVATION,
    "Sigmoid": DEFAULT, "Tanh": DEFAULT, "Softmax": DEFAULT, "Hardsigmoid": DEFAULT, "GELU": DEFAULT,
    "PReLU": DEFAULT,
    "Identity": VIEW,
    "Flatten": VIEW,
    "Linear": DEFAULT,
    "Upsample": DEFAULT,
    "ZeroPad2d": DEFAULT,
    "Branch": OpCost(grad=lambda hp: "new" if hp.get("merge") == "mul" else "pass",
                     backward_peak=lambda s: mul_backward(s) if s.hp.get("merge") == "mul" else s.gin),
}
"""One entry per registered layer type (``tests/core/test_memory_model.py`` checks it)."""


def op_cost(type_name: str) -> OpCost:
    return OP_COSTS.get(type_name, DEFAULT)


def extra_saved_bytes(kind: str, s: OpSizes, batch: int) -> int:
    """Bytes of a saved tensor that is new (not the op's input or output).

    ``indices``: int64 per output element; ``mask``, ``work``, ``input_copy``: one input-sized tensor;
    ``stats``: mean and 1/std, per channel (BatchNorm) or per image and group (GroupNorm).
    """
    if kind == "indices":
        return s.out // s.elem * 8
    if kind in ("mask", "work", "input_copy"):
        return s.inp
    if kind == "stats":
        groups = s.hp.get("num_groups")
        return 2 * (batch * groups if groups else s.in_channels) * 4
    return 0
