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


def test_copies_are_named_after_the_original():
    design = example("lenet5")
    first = design.layers[0]
    new, paths = edits.insert_many(design, (1,), [first])
    assert new.get(paths[0]).name == f"{first.name}_copy"
    newer, paths = edits.insert_many(new, (2,), [first, new.get((1,))])
    assert [newer.get(p).name for p in paths] == [f"{first.name}_copy2", f"{first.name}_copy3"]
    names = [layer.name for _, layer in newer.walk()]
    assert len(names) == len(set(names))
    assert edits.copy_name("conv3", {"conv3"}) == "conv3_copy"
    assert edits.copy_name("conv3_copy", {"conv3", "conv3_copy"}) == "conv3_copy2"
    unnamed, paths = edits.insert_many(design, (0,), [Layer("ReLU", "")])
    assert unnamed.get(paths[0]).name.startswith("relu")


def test_copied_branch_renames_its_inner_layers_too():
    design = example("resnet18")
    block = design.get((4,))
    new, paths = edits.insert_many(design, (5,), [block])
    copy = new.get(paths[0])
    assert copy.name == f"{block.name}_copy"
    assert copy.branches[0][0].name == f"{block.branches[0][0].name}_copy"


def test_add_and_remove_branch():
    design = example("resnet18")
    host = design.get((4,))
    n = len(host.branches)
    added = edits.add_branch(design, (4,))
    assert len(added.get((4,)).branches) == n + 1 and added.get((4,)).branches[-1] == ()
    assert added.get((4,)).branches[:n] == host.branches
    assert edits.remove_branch(added, (4,), n) == design
    removed = edits.remove_branch(design, (4,), 0)
    assert removed.get((4,)).branches == host.branches[1:]
    assert design.get((4,)) == host  # the original design is unchanged


def test_remove_branch_refuses_the_last_one_and_non_branches():
    design = example("resnet18")
    host = design.get((4,))
    only = design.replace_layer((4,), host.with_branches(host.branches[:1]))
    with pytest.raises(ValueError, match="at least one branch"):
        edits.remove_branch(only, (4,), 0)
    with pytest.raises(ValueError, match="no branch"):
        edits.remove_branch(design, (4,), len(host.branches))
    with pytest.raises(ValueError, match="not a Branch"):
        edits.add_branch(design, (0,))
    nested = edits.add_branch(design, (4,))
    assert nested.get((4,)).branches[-1] == ()
