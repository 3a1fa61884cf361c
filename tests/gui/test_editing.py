"""Driving the window as a user: palette inserts, inspector edits, errors on cards, undo to the start."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.gui.canvas.items import CardItem
from designer.gui.inspector.fields import TextField

from .conftest import example


def _card(window, name: str) -> CardItem:
    return window.canvas.cards[name]


def _type_into(qtbot, field: TextField, text: str) -> None:
    field.edit.setFocus()
    field.edit.selectAll()
    qtbot.keyClick(field.edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field.edit, text)


def test_window_parts_have_their_object_names(make_window):
    window = make_window()
    for name in ("layerPalette", "designCanvas", "layerInspector", "summaryTable"):
        assert window.findChild(object, name) is not None, name


def test_double_click_in_palette_inserts_after_selection(make_window, qtbot):
    window = make_window("lenet5")
    doc = window.document
    first = doc.design.layers[0].name
    doc.select(first)
    item = window.palette.items()["BatchNorm2d"]
    tree = window.palette.tree
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a real double-click
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # starts with a press
    assert doc.design.layers[1].type == "BatchNorm2d"
    assert doc.selected == doc.design.layers[1].name
    assert doc.selected in window.canvas.cards
    assert window.summary.model.rowCount() == len(doc.analysis.rows) + 1
    window.action("undo").trigger()
    assert doc.design == example("lenet5") and not doc.modified


def test_palette_search_hides_other_entries(make_window):
    window = make_window("lenet5")
    window.palette.search.setText("pool")
    visible = [text for text, item in window.palette.items().items() if not item.isHidden()]
    assert "MaxPool2d" in visible and "Conv2d" not in visible


def test_editing_kernel_size_changes_shapes_downstream(make_window, qtbot):
    window = make_window("vgg16")
    doc = window.document
    doc.select("conv1_1")
    field = window.inspector.layer_page.fields["kernel_size"]
    _type_into(qtbot, field, "5")
    assert doc.design.get(doc.path_of("conv1_1")).params["kernel_size"] == 5
    assert doc.row("conv1_1").output_shape == (64, 222, 222)
    assert doc.row("pool1").output_shape == (64, 111, 111)
    assert "64×222×222" in _card(window, "conv1_2").content.shape
    assert "3×222×222" not in window.inspector.layer_page.computed.values["shape"].text()
    assert window.inspector.layer_page.computed.values["shape"].text() == "3×224×224 → 64×222×222"
    assert window.windowTitle().endswith("[*] — CNN Designer") and window.isWindowModified()


def test_typing_is_one_undo_step_and_invalid_text_is_not_applied(make_window, qtbot):
    window = make_window("vgg16")
    doc = window.document
    doc.select("conv1_1")
    field = window.inspector.layer_page.fields["out_channels"]
    _type_into(qtbot, field, "128")
    assert doc.design.get((0,)).params["out_channels"] == 128
    assert doc.undo_stack.count() == 1
    qtbot.keyClicks(field.edit, "x")
    assert field.edit.property("invalid") is True and field.error.isVisible()
    assert doc.design.get((0,)).params["out_channels"] == 128
    window.action("undo").trigger()
    assert doc.design == example("vgg16") and not doc.modified


def test_typing_back_to_the_start_leaves_no_undo_step(make_window, qtbot):
    window = make_window("vgg16")
    doc = window.document
    doc.select("conv1_1")
    field = window.inspector.layer_page.fields["out_channels"]
    field.edit.setFocus()
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, "1")
    assert doc.design.get((0,)).params["out_channels"] == 1 and doc.modified
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, "64")  # same typing session, back to the saved value
    assert doc.undo_stack.count() == 0 and not doc.modified
    assert not window.isWindowModified()


def test_an_error_shows_on_the_card_and_undo_returns_to_the_start(make_window, qtbot):
    window = make_window("lenet5")
    doc = window.document
    start = doc.design
    conv = next(r.name for r in doc.analysis.rows if r.type == "Conv2d")
    doc.select(conv)
    _type_into(qtbot, window.inspector.layer_page.fields["groups"], "4")
    card = _card(window, conv)
    assert card.content.level == "error"
    assert "divisible by groups" in card.toolTip()
    assert not doc.analysis.valid
    assert "error" in window.status.labels["valid"].text()
    assert "divisible" in window.inspector.layer_page.issues.text()
    _type_into(qtbot, window.inspector.layer_page.fields["stride"], "2")
    while doc.undo_stack.canUndo():
        window.action("undo").trigger()
    assert doc.design == start and not doc.modified and card.content.level != "error"


def test_layers_below_an_error_say_they_are_not_computed(make_window):
    window = make_window("lenet5")
    doc = window.document
    convs = [r.name for r in doc.analysis.rows if r.type == "Conv2d"]
    doc.set_params(convs[0], groups=4)
    page = window.inspector.layer_page
    doc.select(convs[1])
    assert f"fix the error in <b>{convs[0]}</b> above" in page.issues.text()
    assert "No issues" not in page.issues.text()
    assert page.computed.values["shape"].text() == "--"
    doc.select(convs[0])
    assert "divisible" in page.issues.text()


def test_warning_card_is_amber(make_window):
    window = make_window("lenet5")
    doc = window.document
    pool = next(r.name for r in doc.analysis.rows if r.type in ("MaxPool2d", "AvgPool2d"))
    doc.set_params(pool, kernel_size=3, stride=2)
    row = doc.row(pool)
    if any(i.level == "warning" for i in row.issues):
        assert _card(window, pool).content.level == "warning"


def test_input_settings_without_selection(make_window, qtbot):
    window = make_window("vgg16")
    doc = window.document
    doc.select(None)
    assert window.inspector.stack.currentWidget() is window.inspector.input_page
    _type_into(qtbot, window.inspector.input_page.fields["height"], "256")
    assert doc.design.input.height == 256
    assert "3×256×224" in window.canvas.cards["__input__"].content.shape
    assert "138" in window.inspector.input_page.totals.values["params"].text() or doc.analysis.totals["params"]


def test_rename_from_inspector(make_window, qtbot):
    window = make_window("lenet5")
    doc = window.document
    name = doc.design.layers[0].name
    doc.select(name)
    edit = window.inspector.layer_page.name_edit
    edit.setFocus()
    edit.setText("stem")
    edit.editingFinished.emit()
    assert doc.design.layers[0].name == "stem" and doc.selected == "stem"


def test_delete_duplicate_copy_paste_with_keys(make_window, qtbot, qapp):
    window = make_window("lenet5")
    doc = window.document
    window.activateWindow()
    qtbot.waitUntil(lambda: qapp.activeWindow() is window)
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus)
    n = len(doc.design.layers)
    first = doc.design.layers[0]
    doc.select(first.name)
    qtbot.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.design.layers) == n + 1 and doc.design.layers[1].type == first.type
    assert doc.design.layers[1].name != first.name
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert len(doc.design.layers) == n
    doc.select(first.name)
    qtbot.keyClick(window.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert '"cnn-designer/v1"' in qapp.clipboard().text()
    qtbot.keyClick(window.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.design.layers) == n + 1 and doc.design.layers[1].params == first.params


def test_paste_of_plain_text_reports_and_changes_nothing(make_window, qapp):
    window = make_window("lenet5")
    qapp.clipboard().setText("hello")
    before = window.document.design
    window.action("paste").trigger()
    assert window.document.design == before
    assert "Cannot paste" in window.statusBar().currentMessage()
