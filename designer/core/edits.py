"""Compound edits on a ``Design`` used by the editor: move, insert several, fresh names, slots.

Like the edits on ``Design`` itself, every function returns a new design and never mutates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from .design import Design, Layer, LayerPath


def parent_sequence(design: Design, path: LayerPath) -> tuple[Layer, ...]:
    """The sequence that holds (or would hold) ``path``."""
    seq = design.layers
    for depth in range(0, len(path) - 1, 2):
        seq = seq[path[depth]].branches[path[depth + 1]]
    return seq


def slot_after(design: Design, path: LayerPath | None) -> LayerPath:
    """Where to insert "after the selection": after ``path``, or at the end of the network."""
    if path is None:
        return (len(design.layers),)
    return path[:-1] + (path[-1] + 1,)


_COPY_SUFFIX = re.compile(r"_copy\d*$")


def copy_name(name: str, taken: set[str]) -> str:
    """A free name for a copy of ``name``: ``conv3`` → ``conv3_copy``, then ``conv3_copy2``, ….

    A copy of a copy counts on from the original (``conv3_copy`` → ``conv3_copy2``).
    """
    base = _COPY_SUFFIX.sub("", name) or name
    candidate, n = f"{base}_copy", 2
    while candidate in taken:
        candidate, n = f"{base}_copy{n}", n + 1
    return candidate


def rename_all(layers: Iterable[Layer], taken: set[str]) -> tuple[Layer, ...]:
    """Copies of ``layers`` (and their branches) with names not in ``taken``; ``taken`` is updated.

    A name already free is kept; a clash gets the first free ``<name>_copy[n]`` (see ``copy_name``);
    a layer without a name gets the first free ``<type><n>``.
    """
    out = []
    for layer in layers:
        name = layer.name
        if not name:
            n = 1
            while f"{layer.type.lower()}{n}" in taken:
                n += 1
            name = f"{layer.type.lower()}{n}"
        elif name in taken:
            name = copy_name(name, taken)
        taken.add(name)
        branches = tuple(rename_all(branch, taken) for branch in layer.branches)
        out.append(replace(layer, name=name, branches=branches))
    return tuple(out)


def insert_many(design: Design, path: LayerPath, layers: Iterable[Layer]) -> tuple[Design, list[LayerPath]]:
    """Insert ``layers`` one after another starting at ``path``, renamed to be unique.

    Returns the new design and the paths of the inserted layers.
    """
    fresh = rename_all(layers, set(design.names()))
    paths = []
    for k, layer in enumerate(fresh):
        target = path[:-1] + (path[-1] + k,)
        design = design.insert(target, layer)
        paths.append(target)
    return design, paths


def adjust_after_removal(removed: LayerPath, path: LayerPath) -> LayerPath:
    """``path`` as it reads after the layer at ``removed`` is taken out of its sequence."""
    depth = len(removed) - 1
    if len(path) > depth and path[:depth] == removed[:depth] and path[depth] > removed[depth]:
        return path[:depth] + (path[depth] - 1,) + path[depth + 1:]
    return path


def move(design: Design, source: LayerPath, slot: LayerPath) -> tuple[Design, LayerPath]:
    """Move the layer at ``source`` to the insertion ``slot`` (given in the current design's paths).

    Returns the new design and the layer's new path. Raises ``ValueError`` when the slot is inside
    the moved layer (a Branch cannot go into itself).
    """
    if slot[:len(source)] == source and len(slot) > len(source):
        raise ValueError("a Branch cannot be moved into one of its own branches")
    layer = design.get(source)
    target = adjust_after_removal(source, slot)
    return design.remove(source).insert(target, layer), target


def rename(design: Design, path: LayerPath, name: str) -> Design:
    """Rename one layer; raises ``ValueError`` for an empty or taken name."""
    name = name.strip()
    current = design.get(path)
    if not name:
        raise ValueError("name must not be empty")
    if name != current.name and name in design.names():
        raise ValueError(f"name {name!r} is already used by another layer")
    return design.replace_layer(path, replace(current, name=name))


def _branch_host(design: Design, path: LayerPath) -> Layer:
    layer = design.get(path)
    if layer.type != "Branch":
        raise ValueError(f"{layer.name!r} is a {layer.type}, not a Branch")
    return layer


def add_branch(design: Design, path: LayerPath) -> Design:
    """Append an empty branch (an identity: it passes the input through) to the Branch at ``path``."""
    host = _branch_host(design, path)
    return design.replace_layer(path, host.with_branches(host.branches + ((),)))


def remove_branch(design: Design, path: LayerPath, index: int) -> Design:
    """Remove branch ``index`` (and its layers) of the Branch at ``path``.

    Raises ``ValueError`` for an index out of range or when it is the Branch's last branch.
    """
    host = _branch_host(design, path)
    if not 0 <= index < len(host.branches):
        raise ValueError(f"{host.name!r} has no branch {index + 1}")
    if len(host.branches) <= 1:
        raise ValueError("a Branch needs at least one branch; delete the Branch instead")
    return design.replace_layer(path, host.with_branches(host.branches[:index] + host.branches[index + 1:]))
