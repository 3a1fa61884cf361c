"""The layer registry: one ``LayerSpec`` per layer type.

A spec knows everything the core knows about a type: its hyperparameters (names, defaults and
docs are PyTorch's), its output shape and the formula text, its weight tensors (``state_dict``
suffixes, shapes, buffer or not, how they start; the parameter count is derived from them), its
MACs, how it changes the receptive field, its own advice, its one-line label, the inspector's
formulas with the numbers filled in, its starting hyperparameters, and its *traits* (facts other
modules ask instead of keeping lists of type names). Adding a layer type means one ``register(...)``
call in a ``layers_*`` module, one record in the backend (``designer.backend.functions``) and their
tests; ``tests/test_registry.py`` fails when any piece is missing.

Shapes are tuples: ``(C, H, W)`` for feature maps, ``(F,)`` for vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import LayerError
from .params import ParamSpec

Shape = tuple[int, ...]
HP = dict[str, Any]
Advice = list[tuple[str, str]]  # (level, message)


@dataclass(frozen=True)
class RFStep:
    """How a layer changes the receptive field along one axis (Araujo et al. 2019).

    ``window``: ``r += (k_eff − 1)·j``, ``start += ((k_eff − 1)/2 − pad)·j``, ``j *= stride``.
    ``transpose``: up-sampling by ``stride``: ``j /= s``; each output sees ``ceil(k_eff/s)`` inputs.
    """

    kind: str  # "window" | "transpose" | "upsample"
    kernel: int  # effective kernel extent d(k-1)+1 (upsample: taps per output)
    stride: float
    pad: int  # padding before (top/left)
    dilation: int = 1  # spacing of the kernel taps inside the extent


IDENTITY = None  # rf() result for layers that do not change the receptive field
GLOBAL = "global"  # rf() result for layers after which every output sees the whole input


def _no_macs(in_shape: Shape, out_shape: Shape, hp: HP) -> int:
    return 0


def _no_rf(in_shape: Shape, hp: HP) -> Any:
    return IDENTITY


def _no_advice(in_shape: Shape, out_shape: Shape, hp: HP) -> Advice:
    return []


def _same_shape(in_shape: Shape, hp: HP) -> Shape:
    return in_shape


def _no_text(*args: Any) -> str:
    return ""


# --- traits: what other modules ask about a type ---------------------------------------------
ELEMENTWISE = "elementwise"
"""``y = f(x)`` element by element (an activation): the inspector plots f and f′ over [−6, 6]."""
UNIFORM_IDENTITY = "uniform_identity"
"""The identity in the "uniform" network of Luo et al. (nonlinearities and normalisations)."""
TRANSPARENT = "transparent"
"""Design advice looks through it: it keeps the channels and the spatial grid (activation, norm, dropout)."""
WEIGHTED = "weighted"
"""Multiplies by a weight tensor (MACs > 0): all ones in the uniform network."""
INPLACE = "inplace"
"""Has PyTorch's ``inplace`` switch (the output may overwrite the input)."""
TRAITS = frozenset({ELEMENTWISE, UNIFORM_IDENTITY, TRANSPARENT, WEIGHTED, INPLACE})


@dataclass(frozen=True)
class TensorSpec:
    """One tensor of a layer's ``state_dict``: its shape, whether it is a buffer (not trained), and how a
    fresh one starts: ``"he_normal"`` (``N(0, 2/fan_in)``), ``"zeros"``, ``"ones"``, or ``"hp:<name>"``
    (filled with that hyperparameter's value, e.g. PReLU's ``init``)."""

    shape: Shape
    init: str = "zeros"
    buffer: bool = False


Tensors = dict[str, TensorSpec]


def _no_tensors(in_shape: Shape, hp: HP) -> Tensors:
    return {}


@dataclass(frozen=True)
class LayerSpec:
    """Everything the core knows about one layer type."""

    type: str
    family: str
    doc: str
    params: tuple[ParamSpec, ...] = ()
    shape_formula: str = "output shape = input shape"
    shape: Callable[[Shape, HP], Shape] = _same_shape
    tensors: Callable[[Shape, HP], Tensors] = _no_tensors
    macs: Callable[[Shape, Shape, HP], int] = _no_macs
    rf: Callable[[Shape, HP], Any] = _no_rf
    advice: Callable[[Shape, Shape, HP], Advice] = _no_advice
    label: Callable[[HP], str] = field(default=lambda hp: "")
    params_formula: str = ""
    finalize: Callable[[HP], HP] = field(default=lambda hp: hp)
    traits: frozenset[str] = frozenset()
    params_text: Callable[[Shape, HP], str] = _no_text
    """The parameter count with the numbers filled in, e.g. ``(3·3·64/1 + 1)·128``."""
    macs_text: Callable[[Shape, Shape, HP], str] = _no_text
    """The MAC count with the numbers filled in, e.g. ``128·56·56·(64/1)·3·3``."""
    default_params: dict[str, Any] = field(default_factory=dict)
    """Hyperparameters a new layer starts with (the palette), beyond the spec defaults."""
    fit_defaults: Callable[[dict[str, Any], Shape | None], dict[str, Any]] = field(
        default=lambda params, in_shape: params)
    """``default_params`` adapted to the tensor arriving where the layer is inserted (``None``: unknown), e.g. a
    Conv2d's channels or GroupNorm's groups dividing C; see :meth:`starting_params`."""
    cancels_bias: Callable[[Shape, HP], bool] = field(default=lambda in_shape, hp: False)
    """Whether a per-channel bias added right before this layer is removed by it (BatchNorm)."""
    saves: tuple[str, ...] | Callable[[HP], tuple[str, ...]] = ()
    """What autograd keeps for this layer's backward in PyTorch (train mode), besides its weights, as
    :data:`SAVED_KINDS` (or a function of the hyperparameters giving them); see :func:`saved_kinds`."""

    def __post_init__(self) -> None:
        unknown = set(self.traits) - TRAITS
        if unknown:
            raise ValueError(f"{self.type}: unknown traits {sorted(unknown)}")

    def has(self, trait: str) -> bool:
        return trait in self.traits

    @property
    def has_tensors(self) -> bool:
        """Whether the type can own ``state_dict`` tensors (for some hyperparameters)."""
        return self.tensors is not _no_tensors

    def count_params(self, in_shape: Shape, hp: HP) -> tuple[int, int]:
        """``(trainable, buffers)`` element counts, summed over :attr:`tensors`."""
        trainable = buffers = 0
        for tensor in self.tensors(in_shape, hp).values():
            if tensor.buffer:
                buffers += numel(tensor.shape)
            else:
                trainable += numel(tensor.shape)
        return trainable, buffers

    def starting_params(self, in_shape: Shape | None = None) -> dict[str, Any]:
        """The hyperparameters a new layer inserted before a tensor of ``in_shape`` starts with."""
        return self.fit_defaults(dict(self.default_params), in_shape)

    def param(self, name: str) -> ParamSpec:
        return next(p for p in self.params if p.name == name)

    def hyperparameters(self, user_params: dict[str, Any]) -> HP:
        """All hyperparameters, user values over defaults, normalised."""
        return self.finalize({
            p.name: p.normalize(user_params.get(p.name, p.default))
            for p in self.params
        })


SAVED_KINDS = {
    "input": "the layer's input tensor (one tensor saved by two layers counts once)",
    "output": "the layer's output tensor",
    "input_copy": "a copy of the input taken by an in-place op whose backward needs the original",
    "indices": "int64 positions of the maxima, one per output element",
    "mask": "the dropout mask, one element per input element (float, already scaled)",
    "stats": "per-channel (BatchNorm) or per-image-and-group (GroupNorm) mean and 1/std",
    "work": "an input-sized intermediate of a composite op (LocalResponseNorm)",
    "operands": "every merged operand (a multiplication needs both factors)",
}
"""The vocabulary of :attr:`LayerSpec.saves`."""


def inplace_saves(normal: tuple[str, ...], inplace: tuple[str, ...]) -> Callable[[HP], tuple[str, ...]]:
    """``saves`` of a type with an ``inplace`` switch: ``inplace`` when it is on, else ``normal``."""
    return lambda hp: inplace if hp.get("inplace") else normal


def saved_kinds(spec: LayerSpec, hp: HP) -> tuple[str, ...]:
    """``spec.saves`` resolved for these hyperparameters."""
    return spec.saves(hp) if callable(spec.saves) else spec.saves


LAYER_SPECS: dict[str, LayerSpec] = {}
FAMILIES = ("Convolution", "Pooling", "Activation", "Normalization", "Linear", "Structure")


def register(spec: LayerSpec) -> LayerSpec:
    LAYER_SPECS[spec.type] = spec
    return spec


def get_spec(type_name: str) -> LayerSpec:
    return LAYER_SPECS[type_name]


def types_with(trait: str) -> frozenset[str]:
    """The registered types that have ``trait``."""
    return frozenset(t for t, spec in LAYER_SPECS.items() if trait in spec.traits)


def weight(shape: Shape) -> TensorSpec:
    """A trained weight that starts He-normal."""
    return TensorSpec(tuple(shape), "he_normal")


def bias(shape: Shape) -> TensorSpec:
    """A trained bias (or BN β) that starts at zero."""
    return TensorSpec(tuple(shape), "zeros")


def weight_and_bias(weight_shape: Shape, outputs: int, has_bias: bool) -> Tensors:
    """A He-normal ``weight`` and, when ``has_bias``, a zero ``bias [outputs]`` (convolutions, Linear)."""
    tensors = {"weight": weight(weight_shape)}
    if has_bias:
        tensors["bias"] = bias((outputs,))
    return tensors


def gamma(shape: Shape) -> TensorSpec:
    """A normalisation scale γ that starts at one."""
    return TensorSpec(tuple(shape), "ones")


def count_text(value: int) -> str:
    """``802816`` → ``802,816``."""
    return f"{value:,}"


# --- helpers shared by the layer modules ------------------------------------------------------

def need_map(in_shape: Shape, type_name: str) -> tuple[int, int, int]:
    """Unpack a ``(C, H, W)`` input or explain why a vector cannot go in."""
    if len(in_shape) != 3:
        raise LayerError(
            f"{type_name} needs a C×H×W feature map but gets a flat vector of {in_shape[0]:,} features; "
            "move it before the Flatten"
        )
    return in_shape  # type: ignore[return-value]


def fmt_shape(shape: Shape | None) -> str:
    """``(64, 112, 112)`` → ``64×112×112``; ``None`` → ``?``."""
    return "?" if shape is None else "×".join(str(d) for d in shape)


def fmt_pair(values: tuple[Any, Any], sep: str = "×") -> str:
    """``(3, 3)`` → ``3×3``."""
    return f"{values[0]}{sep}{values[1]}"


def fmt_once(values: tuple[Any, Any]) -> str:
    """``(2, 2)`` → ``2``; ``(2, 1)`` → ``2,1``."""
    return str(values[0]) if values[0] == values[1] else f"{values[0]},{values[1]}"


def numel(shape: Shape | None) -> int:
    total = 1
    for d in shape or (0,):
        total *= d
    return total
