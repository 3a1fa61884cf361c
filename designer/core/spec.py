"""The layer registry: one ``LayerSpec`` per layer type.

A spec knows a type's hyperparameters (names, defaults and docs are PyTorch's), its output
shape formula, its parameter/buffer count, its MACs, how it changes the receptive field, its
own advice, and its one-line label. Adding a layer type means adding one ``register(...)``
call in a ``layers_*`` module (and one kernel in the backend).

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


def _no_params(in_shape: Shape, hp: HP) -> tuple[int, int]:
    return 0, 0


def _no_macs(in_shape: Shape, out_shape: Shape, hp: HP) -> int:
    return 0


def _no_rf(in_shape: Shape, hp: HP) -> Any:
    return IDENTITY


def _no_advice(in_shape: Shape, out_shape: Shape, hp: HP) -> Advice:
    return []


def _same_shape(in_shape: Shape, hp: HP) -> Shape:
    return in_shape


@dataclass(frozen=True)
class LayerSpec:
    """Everything the core knows about one layer type."""

    type: str
    family: str
    doc: str
    params: tuple[ParamSpec, ...] = ()
    shape_formula: str = "output shape = input shape"
    shape: Callable[[Shape, HP], Shape] = _same_shape
    count_params: Callable[[Shape, HP], tuple[int, int]] = _no_params
    macs: Callable[[Shape, Shape, HP], int] = _no_macs
    rf: Callable[[Shape, HP], Any] = _no_rf
    advice: Callable[[Shape, Shape, HP], Advice] = _no_advice
    label: Callable[[HP], str] = field(default=lambda hp: "")
    params_formula: str = ""
    finalize: Callable[[HP], HP] = field(default=lambda hp: hp)

    def param(self, name: str) -> ParamSpec:
        return next(p for p in self.params if p.name == name)

    def hyperparameters(self, user_params: dict[str, Any]) -> HP:
        """All hyperparameters, user values over defaults, normalised."""
        return self.finalize({
            p.name: p.normalize(user_params.get(p.name, p.default))
            for p in self.params
        })


LAYER_SPECS: dict[str, LayerSpec] = {}
FAMILIES = ("Convolution", "Pooling", "Activation", "Normalization", "Linear", "Structure")


def register(spec: LayerSpec) -> LayerSpec:
    LAYER_SPECS[spec.type] = spec
    return spec


def get_spec(type_name: str) -> LayerSpec:
    return LAYER_SPECS[type_name]


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
