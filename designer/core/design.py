"""The design model: an immutable network of layers and edits that return new designs.

A layer is addressed by a *path*: ``(i,)`` is top-level layer ``i``; ``(i, b, j)`` is layer
``j`` of branch ``b`` of the Branch at ``(i,)``; deeper nesting continues the pattern.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from .spec import HP, get_spec

LayerPath = tuple[int, ...]


@dataclass(frozen=True)
class Layer:
    """One layer: its type, unique name, the hyperparameters the user set, and (Branch) its branches."""

    type: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    branches: tuple[tuple[Layer, ...], ...] = ()

    @cached_property
    def hp(self) -> HP:
        """Every hyperparameter with defaults filled in, normalised (pairs as ``(h, w)``)."""
        return get_spec(self.type).hyperparameters(dict(self.params))

    @property
    def spec(self):
        return get_spec(self.type)

    @property
    def label(self) -> str:
        """Key hyperparameters in one line, e.g. ``64 3×3 s2 p1``."""
        return self.spec.label(self.hp)

    def with_params(self, **changes: Any) -> Layer:
        """A copy with hyperparameters set; a value of ``None`` removes the user's setting."""
        params = {**self.params, **changes}
        return replace(self, params={k: v for k, v in params.items() if v is not None})

    def with_branches(self, branches: tuple[tuple[Layer, ...], ...]) -> Layer:
        return replace(self, branches=tuple(tuple(b) for b in branches))


@dataclass(frozen=True)
class InputSpec:
    """The input image: channels × height × width, with optional normalisation."""

    channels: int
    height: int
    width: int
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.channels, self.height, self.width


@dataclass(frozen=True)
class Design:
    """A whole network. Immutable: every edit returns a new ``Design``."""

    name: str
    input: InputSpec
    layers: tuple[Layer, ...] = ()
    description: str = ""

    # --- file I/O (see serialization.py) ------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Design:
        from .serialization import load_design
        return load_design(path)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> Design:
        from .serialization import design_from_dict
        return design_from_dict(data, source)

    def to_dict(self) -> dict[str, Any]:
        from .serialization import design_to_dict
        return design_to_dict(self)

    def save(self, path: str | Path) -> None:
        from .serialization import save_design
        save_design(self, path)

    # --- navigation ----------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[LayerPath, Layer]]:
        """``(path, layer)`` in execution order: a Branch comes after its inner layers."""
        return _walk(self.layers, ())

    def walk_file_order(self) -> Iterator[tuple[LayerPath, Layer]]:
        """``(path, layer)`` in file order: a Branch comes before its inner layers."""
        return _walk(self.layers, (), branch_first=True)

    def get(self, path: LayerPath) -> Layer:
        seq, index = _sequence_at(self.layers, path)
        return seq[index]

    def find(self, name: str) -> LayerPath:
        for path, layer in self.walk():
            if layer.name == name:
                return path
        raise KeyError(name)

    def names(self) -> set[str]:
        return {layer.name for _, layer in self.walk()}

    def unique_name(self, type_name: str) -> str:
        """The first free ``<type><n>`` name, e.g. ``conv2d4``."""
        taken = self.names()
        n = 1
        while f"{type_name.lower()}{n}" in taken:
            n += 1
        return f"{type_name.lower()}{n}"

    # --- edits -----------------------------------------------------------------------------------
    def with_input(self, **changes: Any) -> Design:
        return replace(self, input=replace(self.input, **changes))

    def with_name(self, name: str) -> Design:
        return replace(self, name=name)

    def replace_layer(self, path: LayerPath, layer: Layer) -> Design:
        return self._edit(path, lambda seq, i: seq[:i] + (layer,) + seq[i + 1:])

    def insert(self, path: LayerPath, layer: Layer) -> Design:
        """Insert ``layer`` so that it ends up at ``path`` (index may equal the sequence length)."""
        return self._edit(path, lambda seq, i: seq[:i] + (layer,) + seq[i:])

    def remove(self, path: LayerPath) -> Design:
        return self._edit(path, lambda seq, i: seq[:i] + seq[i + 1:])

    def set_params(self, path: LayerPath, **changes: Any) -> Design:
        return self.replace_layer(path, self.get(path).with_params(**changes))

    def _edit(self, path: LayerPath, change) -> Design:
        return replace(self, layers=_edit_sequence(self.layers, path, change))


def _walk(layers: tuple[Layer, ...], prefix: LayerPath, branch_first: bool = False):
    for i, layer in enumerate(layers):
        path = prefix + (i,)
        if branch_first:
            yield path, layer
        for b, branch in enumerate(layer.branches):
            yield from _walk(branch, path + (b,), branch_first)
        if not branch_first:
            yield path, layer


def _sequence_at(layers: tuple[Layer, ...], path: LayerPath) -> tuple[tuple[Layer, ...], int]:
    """The sequence holding ``path`` and the index in it."""
    if len(path) % 2 != 1:
        raise KeyError(f"not a layer path: {path}")
    seq = layers
    for depth in range(0, len(path) - 1, 2):
        seq = seq[path[depth]].branches[path[depth + 1]]
    return seq, path[-1]


def _edit_sequence(layers: tuple[Layer, ...], path: LayerPath, change) -> tuple[Layer, ...]:
    if len(path) == 1:
        return change(layers, path[0])
    i, b, rest = path[0], path[1], path[2:]
    branch_host = layers[i]
    branches = list(branch_host.branches)
    branches[b] = _edit_sequence(branches[b], rest, change)
    return layers[:i] + (branch_host.with_branches(tuple(branches)),) + layers[i + 1:]
