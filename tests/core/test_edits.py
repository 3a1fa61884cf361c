"""designer/core/edits.py: compound edits used by the editor (move, insert several, rename)."""

from __future__ import annotations

import pytest

from designer.core import Layer, edits

from .helpers import example


def test_move_within_a_sequence_forward_and_back():
    design = example("lenet5")
    names = [layer.name for layer in design.layers]
    moved, path = edits.move(design, (0,), (3,))
    assert [layer.name for layer in moved.layers][:3] == names[1:3] + names[:1] and path == (2,)
    back, path = edits.move(moved, (2,), (0,))
    assert back == design and path == (0,)


def test_move_into_a_branch_adjusts_the_target_path():
    design = example("resnet18")
    moved, path = edits.move(design, (2,), (4, 1, 0))
    assert path == (3, 1, 0) and moved.get(path).name == "relu"


def test_move_into_itself_is_refused():
    with pytest.raises(ValueError, match="own branches"):
        edits.move(example("resnet18"), (4,), (4, 0, 0))


def test_insert_many_renames_clashes_recursively():
    design = example("resnet18")
    block = design.get((4,))
    new, paths = edits.insert_many(design, (5,), [block, Layer("ReLU", "relu")])
    names = [name for _, layer in new.walk() for name in [layer.name]]
    assert len(names) == len(set(names))
    assert [p for p in paths] == [(5,), (6,)]
    assert new.get((5,)).name != "layer1_0" and new.get((6,)).name != "relu"


def test_rename_rejects_taken_and_empty_names():
    design = example("lenet5")
    with pytest.raises(ValueError, match="already used"):
        edits.rename(design, (0,), design.layers[1].name)
    with pytest.raises(ValueError, match="empty"):
        edits.rename(design, (0,), "  ")
    assert edits.rename(design, (0,), "stem").layers[0].name == "stem"


def test_slot_after():
    design = example("lenet5")
    assert edits.slot_after(design, None) == (len(design.layers),)
    assert edits.slot_after(design, (4, 1, 2)) == (4, 1, 3)
