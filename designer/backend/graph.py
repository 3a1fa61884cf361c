"""A design compiled to a flat program of steps in execution order.

Tensor ``0`` is the input; step ``i`` produces tensor ``i + 1`` from the tensors it names. A
Branch step comes after its inner layers and consumes each branch's last tensor (an empty
branch passes its input through). A step's *signature* (type, name, hyperparameters, input
tensors, weight arrays) decides whether a cached output can be reused after an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from designer.core import Design, Layer


@dataclass(frozen=True)
class Step:
    """One layer to execute."""

    layer: Layer
    inputs: tuple[int, ...]
    output: int

    @property
    def name(self) -> str:
        return self.layer.name


def compile_design(design: Design) -> list[Step]:
    """The steps of ``design`` in execution order (the order of ``design.walk()``)."""
    steps: list[Step] = []

    def sequence(layers: tuple[Layer, ...], tensor: int) -> int:
        for layer in layers:
            if layer.type == "Branch":
                inputs = tuple(sequence(branch, tensor) for branch in layer.branches)
            else:
                inputs = (tensor,)
            steps.append(Step(layer, inputs, len(steps) + 1))
            tensor = len(steps)
        return tensor

    sequence(design.layers, 0)
    return steps


def signatures(steps: list[Step], weights: dict[str, np.ndarray]) -> list[tuple[Any, ...]]:
    """What each step's output depends on besides its inputs' values: type, name, hyperparameters,
    input tensors and the identities of its weight arrays (``"<layer>.<param>"`` keys)."""
    tensors_of: dict[str, list[tuple[str, int]]] = {}
    for key, value in weights.items():
        tensors_of.setdefault(key.rpartition(".")[0], []).append((key, id(value)))
    return [
        (step.layer.type, step.name, tuple(sorted((k, repr(v)) for k, v in step.layer.hp.items())), step.inputs,
         tuple(sorted(tensors_of.get(step.name, ()))))
        for step in steps
    ]


def first_change(old: list[tuple[Any, ...]], new: list[tuple[Any, ...]]) -> int:
    """Index of the first differing signature (``len(new)`` when ``new`` extends ``old`` unchanged)."""
    for i, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return i
    return min(len(old), len(new))
