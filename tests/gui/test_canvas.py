"""The canvas: dragging layers (also into and out of branches), palette drops, zoom, big designs."""

from __future__ import annotations

import time

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QWheelEvent

from designer.core import Design, InputSpec, Layer
from designer.gui.mime import LAYER_MIME, PALETTE_MIME

from .conftest import example


def _drop(window, mime: QMimeData, scene_point: QPointF) -> None:
    view_pos = window.canvas.mapFromScene(scene_point)
    event = QDropEvent(QPointF(view_pos), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.canvas.dropEvent(event)


def _slot_point(window, path: tuple[int, ...]) -> QPointF:
    slot = next(s for s in window.canvas.layout_.slots if s.path == path)
    return QPointF((slot.left + slot.right) / 2, slot.y)


def _mime(fmt: str, payload: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(fmt, payload.encode())
    return mime


def test_drag_a_card_to_reorder(make_window):
    window = make_window("lenet5")
    doc = window.document
    names = [layer.name for layer in doc.design.layers]
    window.canvas.ensureVisible(0, 0, 10, 10)
    _drop(window, _mime(LAYER_MIME, names[1]), _slot_point(window, (0,)))
    assert [layer.name for layer in doc.design.layers][:2] == [names[1], names[0]]
    window.action("undo").trigger()
    assert [layer.name for layer in doc.design.layers] == names


def test_drag_into_and_out_of_a_branch(make_window):
    window = make_window("resnet18")
    doc = window.document
    window.canvas.resetTransform()
    assert doc.path_of("relu") == (2,) and doc.path_of("layer1_0") == (4,)
    window.canvas.drop_at((4, 1, 0), layer="relu")  # into the identity branch of layer1_0
    assert doc.path_of("relu") == (3, 1, 0)
    assert doc.design.layers[2].name == "maxpool"
    window.canvas.drop_at((2,), layer="layer1_0_conv1")  # out of the branch, before maxpool
    assert doc.path_of("layer1_0_conv1") == (2,)
    assert doc.design.get((4,)).branches[0][0].name == "layer1_0_bn1"
    assert doc.undo_stack.count() == 2


def test_drop_slot_inside_a_branch_column_is_found_by_position(make_window):
    window = make_window("inception3a")
    slot = next(s for s in window.canvas.layout_.slots if s.path == (0, 2, 1))
    found = window.canvas.layout_.nearest_slot((slot.left + slot.right) / 2, slot.y + 2)
    assert found.path == (0, 2, 1)


def test_a_branch_cannot_be_dropped_into_itself(make_window):
    window = make_window("resnet18")
    before = window.document.design
    window.canvas.drop_at((4, 0, 1), layer="layer1_0")
    assert window.document.design == before
    assert "own branches" in window.statusBar().currentMessage()


def test_drop_from_palette_inserts_a_block(make_window):
    window = make_window("lenet5")
    doc = window.document
    n = len(doc.design.layers)
    window.canvas.ensureVisible(0, 0, 10, 10)
    _drop(window, _mime(PALETTE_MIME, "block:conv_bn_relu"), _slot_point(window, (1,)))
    assert [layer.type for layer in doc.design.layers[1:4]] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert len(doc.design.layers) == n + 3 and doc.undo_stack.count() == 1


def test_ctrl_wheel_zooms_and_fit(make_window):
    window = make_window("vgg16")
    canvas = window.canvas
    before = canvas.transform().m11()
    center = QPointF(canvas.viewport().rect().center())
    event = QWheelEvent(center, canvas.mapToGlobal(QPoint(10, 10)).toPointF(), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    canvas.wheelEvent(event)
    assert canvas.transform().m11() > before
    window.action("fit").trigger()
    assert 0.3 <= canvas.transform().m11() <= 1.0


def test_clicking_a_card_selects_it_and_the_summary_row(make_window, qtbot):
    window = make_window("lenet5")
    canvas = window.canvas
    card = canvas.cards["c1"]
    canvas.ensureVisible(card)
    pos = canvas.mapFromScene(card.sceneBoundingRect().center())
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.document.selected == "c1" and card.selected
    index = window.summary.table.currentIndex()
    assert index.isValid() and window.summary.proxy.data(index.siblingAtColumn(1)).strip() == "c1"


def test_three_hundred_layers_stay_responsive(make_window):
    layers = []
    for k in range(100):
        layers += [Layer("Conv2d", f"conv{k}", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
                   Layer("BatchNorm2d", f"bn{k}"), Layer("ReLU", f"relu{k}")]
    design = Design("deep", InputSpec(16, 32, 32), tuple(layers))
    window = make_window(design)
    assert len(window.canvas.cards) == 302  # + input and output
    start = time.perf_counter()
    for k in range(5):
        window.document.set_params("conv50", out_channels=16 + k + 1)
        window.canvas.viewport().repaint()
    per_edit = (time.perf_counter() - start) / 5
    assert per_edit < 0.25, f"{per_edit * 1000:.0f} ms per edit"


def test_all_examples_lay_out_without_overlaps(make_window):
    for name in ("resnet18", "inception3a", "hdc_segment", "mobilenet_v1", "fcn", "alexnet"):
        window = make_window(example(name))
        boxes = window.canvas.layout_.boxes
        rects = [(b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes]
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], name
