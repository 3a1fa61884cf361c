"""The Branch inspector (add/remove branches), the card context menu and the names of copies."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from designer.gui.canvas.view import INPUT_KEY

from .conftest import example


def _branch_editor(window):
    editor = window.inspector.findChild(object, "branchEditor")
    assert editor is not None and editor.isVisible()
    return editor


def test_branch_inspector_adds_and_removes_branches_undoably(make_window, qtbot):
    window = make_window("resnet18")
    doc = window.document
    doc.select("layer1_0")
    editor = _branch_editor(window)
    n = len(doc.design.get((4,)).branches)
    assert editor.list.count() == n
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert len(doc.design.get((4,)).branches) == n + 1 and doc.design.get((4,)).branches[-1] == ()
    assert editor.list.count() == n + 1 and editor.list.item(n).text().endswith("identity")
    assert doc.selected == "layer1_0" and doc.undo_stack.count() == 1
    editor.list.setCurrentRow(0)
    first_inner = doc.design.get((4,)).branches[0][0].name
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert len(doc.design.get((4,)).branches) == n and doc.path_of(first_inner) is None
    assert doc.undo_stack.count() == 2
    window.action("undo").trigger()
    window.action("undo").trigger()
    assert doc.design == example("resnet18") and not doc.modified


def test_the_last_branch_cannot_be_removed(make_window, qtbot):
    window = make_window("resnet18")
    doc = window.document
    doc.select("layer1_0")
    editor = _branch_editor(window)
    while editor.list.count() > 1:
        editor.list.setCurrentRow(0)
        qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert len(doc.design.get((4,)).branches) == 1
    assert not editor.remove_button.isEnabled()
    before = doc.undo_stack.count()
    with pytest.raises(ValueError, match="at least one branch"):
        doc.remove_branch("layer1_0", 0)
    assert doc.undo_stack.count() == before


def test_card_context_menu_reuses_the_edit_actions(make_window):
    window = make_window("lenet5")
    doc = window.document
    first = doc.design.layers[0].name
    menu = window.canvas.context_menu(window.canvas.cards[first])
    assert doc.selected == first
    texts = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Cut", "Copy", "Paste", "Duplicate", "Delete"]
    assert menu.actions()[3] is window.action("duplicate")
    menu.actions()[3].trigger()
    assert doc.design.layers[1].name == f"{first}_copy"
    assert window.canvas.context_menu(window.canvas.cards[INPUT_KEY]) is None


def test_branch_card_menu_has_add_branch(make_window):
    window = make_window("resnet18")
    doc = window.document
    menu = window.canvas.context_menu(window.canvas.cards["layer1_0"])
    add = next(a for a in menu.actions() if a.text() == "Add branch")
    n = len(doc.design.get((4,)).branches)
    add.trigger()
    assert len(doc.design.get((4,)).branches) == n + 1
    plain = window.canvas.context_menu(window.canvas.cards["relu"])
    assert "Add branch" not in [a.text() for a in plain.actions()]


def test_duplicate_and_paste_name_copies_after_the_original(make_window, qapp):
    window = make_window("lenet5")
    doc = window.document
    first = doc.design.layers[0].name
    doc.select(first)
    window.action("duplicate").trigger()
    assert doc.selected == f"{first}_copy"
    doc.select(first)
    window.action("copy").trigger()
    window.action("paste").trigger()
    assert doc.selected == f"{first}_copy2"
    window.action("duplicate").trigger()  # a copy of the copy counts on from the original
    assert doc.selected == f"{first}_copy3"
    names = [layer.name for _, layer in doc.design.walk()]
    assert len(names) == len(set(names))
