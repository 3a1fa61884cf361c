"""The document: one design, its analysis, the selection and the undo stack (Orange-canvas style).

Every edit goes through ``push`` as a ``QUndoCommand``; commands call ``apply_design`` which
re-analyses and emits ``changed``. Views never edit the design directly, they call the edit
methods here. "Modified" is the undo stack's clean state.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ...core import Analysis, Design, Layer, LayerPath, LayerRow, analyze, edits
from ...core.templates import BLOCKS, default_layer
from .commands import DesignEditCommand, SetParamsCommand


def follow_out_channels(layer: Layer, changes: dict) -> dict:
    """A per-channel kernel preset list follows a new ``out_channels`` in the same edit: cut to the new
    count, or extended by repeating the list (one preset for every channel stays as it is)."""
    init = layer.params.get("init")
    names = init.get("preset") if isinstance(init, dict) else None
    count = changes.get("out_channels")
    if "init" in changes or not isinstance(names, list) or len(names) < 2 or not isinstance(count, int) or count < 1:
        return changes
    return {**changes, "init": {"preset": [names[i % len(names)] for i in range(count)]}}


class DesignDocument(QObject):
    """The design being edited. Signals: ``changed`` (design or analysis), ``selection_changed``,
    ``path_changed``, ``modified_changed(bool)``, ``notice(text)`` (panels report refused edits here)."""

    changed = Signal()
    selection_changed = Signal()
    notice = Signal(str)  # a one-line message for the status bar (an edit that could not be made)
    path_changed = Signal()
    modified_changed = Signal(bool)

    def __init__(self, design: Design, path: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_change)
        self.batch_size, self.dtype, self.optimizer = 1, "float32", "sgd"
        self.design = design
        self.path = path
        self.selected: str | None = None
        self.analysis: Analysis = self._analyze()
        self._rows: dict[str, LayerRow] = {}
        self._index_rows()

    def _on_clean_change(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    # --- state -------------------------------------------------------------------------------------
    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return Path(self.path).name if self.path else f"{self.design.name} (unsaved)"

    def row(self, name: str) -> LayerRow | None:
        return self._rows.get(name)

    @property
    def first_error(self) -> str | None:
        """The name of the first layer (or "input") with an error, ``None`` for a valid design."""
        return next((i.layer for i in self.analysis.issues if i.level == "error"), None)

    def path_of(self, name: str) -> LayerPath | None:
        row = self._rows.get(name)
        return row.path if row else None

    @property
    def selected_path(self) -> LayerPath | None:
        return None if self.selected is None else self.path_of(self.selected)

    @property
    def selected_layer(self) -> Layer | None:
        path = self.selected_path
        return None if path is None else self.design.get(path)

    def input_shape_at(self, slot: LayerPath) -> tuple[int, ...] | None:
        """The tensor shape arriving at an insertion slot (``None`` after an error)."""
        seq = edits.parent_sequence(self.design, slot)
        if slot[-1] > 0:
            row = self._rows.get(seq[slot[-1] - 1].name)
            return row.output_shape if row else None
        if len(slot) == 1:
            return self.design.input.shape
        host = self._rows.get(self.design.get(slot[:-2]).name)
        return host.input_shape if host else None

    # --- applying ----------------------------------------------------------------------------------
    def _analyze(self) -> Analysis:
        return analyze(self.design, batch_size=self.batch_size, dtype=self.dtype, optimizer=self.optimizer)

    def _index_rows(self) -> None:
        self._rows = {row.name: row for row in self.analysis.rows}

    def apply_design(self, design: Design, selected: str | None) -> None:
        """Called by commands only: replace the design, re-analyse, notify."""
        self.design = design
        self.analysis = self._analyze()
        self._index_rows()
        if selected is not None and selected not in self._rows:
            selected = None
        self.changed.emit()
        self.select(selected)

    def select(self, name: str | None) -> None:
        if name is not None and name not in self._rows:
            name = None
        if name != self.selected:
            self.selected = name
            self.selection_changed.emit()

    def set_options(self, batch_size: int | None = None, dtype: str | None = None,
                    optimizer: str | None = None) -> None:
        """Memory settings (not part of the design, not undoable)."""
        self.batch_size = batch_size or self.batch_size
        self.dtype = dtype or self.dtype
        self.optimizer = optimizer or self.optimizer
        self.analysis = self._analyze()
        self._index_rows()
        self.changed.emit()

    def reset(self, design: Design, path: str | None) -> None:
        """A new or opened design: clear undo history, mark clean."""
        self.undo_stack.clear()
        self.path = path
        self.apply_design(design, None)
        self.undo_stack.setClean()
        self.path_changed.emit()

    def rename_design(self, name: str) -> None:
        """Give the design a new name (Save As names an untitled design after its file); undoable."""
        if name != self.design.name:
            self.push(f"Name the design {name}", replace(self.design, name=name), self.selected)

    def mark_saved(self, path: str) -> None:
        self.path = path
        self.undo_stack.setClean()
        self.path_changed.emit()

    # --- edits (each one undo command) ----------------------------------------------------------------
    def push(self, text: str, design: Design, select: str | None) -> None:
        self.undo_stack.push(DesignEditCommand(self, text, design, select))

    def insert_layers(self, slot: LayerPath, layers: list[Layer] | tuple[Layer, ...], text: str) -> None:
        design, paths = edits.insert_many(self.design, slot, layers)
        self.push(text, design, design.get(paths[-1]).name if paths else self.selected)

    def insert_item(self, payload: str, slot: LayerPath | None = None) -> None:
        """Insert a palette item, ``layer:<type>`` or ``block:<key>``, at ``slot`` or after the selection."""
        kind, _, key = payload.partition(":")
        slot = slot if slot is not None else edits.slot_after(self.design, self.selected_path)
        shape = self.input_shape_at(slot)
        if kind == "block":
            self.insert_layers(slot, BLOCKS[key].build(shape), f"Insert {BLOCKS[key].title}")
        else:
            self.insert_layers(slot, [default_layer(key, shape)], f"Insert {key}")

    def remove(self, name: str) -> None:
        path = self.path_of(name)
        if path is None:
            return
        design = self.design.remove(path)
        seq = edits.parent_sequence(design, path)
        neighbour = seq[min(path[-1], len(seq) - 1)].name if seq else None
        self.push(f"Delete {name}", design, neighbour)

    def move(self, name: str, slot: LayerPath) -> None:
        source = self.path_of(name)
        if source is None:
            return
        design, _ = edits.move(self.design, source, slot)
        if design != self.design:
            self.push(f"Move {name}", design, name)

    def duplicate(self, name: str) -> None:
        path = self.path_of(name)
        if path is not None:
            self.insert_layers(edits.slot_after(self.design, path), [self.design.get(path)], f"Duplicate {name}")

    def add_branch(self, name: str) -> None:
        """Append an empty (identity) branch to the Branch ``name``."""
        path = self.path_of(name)
        if path is not None:
            self.push(f"Add branch to {name}", edits.add_branch(self.design, path), name)

    def remove_branch(self, name: str, index: int) -> None:
        """Remove branch ``index`` of the Branch ``name``; raises ValueError for its last branch."""
        path = self.path_of(name)
        if path is not None:
            self.push(f"Remove branch {index + 1} of {name}", edits.remove_branch(self.design, path, index), name)

    def set_params(self, name: str, session: int = 0, **changes) -> None:
        path = self.path_of(name)
        if path is None:
            return
        changes = follow_out_channels(self.design.get(path), changes)
        design = self.design.set_params(path, **changes)
        if design != self.design:
            text = f"Set {', '.join(changes)} of {name}"
            self.undo_stack.push(SetParamsCommand(self, text, design, name, tuple(sorted(changes)), session))

    def rename(self, name: str, new_name: str) -> None:
        path = self.path_of(name)
        if path is not None and new_name != name:
            self.push(f"Rename {name} to {new_name}", edits.rename(self.design, path, new_name), new_name.strip())

    def set_input(self, session: int = 0, **changes) -> None:
        design = self.design.with_input(**changes)
        if design != self.design:
            self.undo_stack.push(SetParamsCommand(self, f"Set input {', '.join(changes)}", design, "",
                                                  tuple(sorted(changes)), session))
