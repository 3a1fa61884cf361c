"""Run and see: running on the sample image in the background, cancelling, incremental auto-run,
feature maps for every layer, and the receptive-field overlay against the core's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from designer.core import Design
from designer.gui.run.channel_detail import ChannelDetail, VectorView
from designer.gui.run.feature_grid import MapGrid

STRIDED = {
    "format": "cnn-designer/v1", "name": "strided", "input": {"channels": 3, "height": 40, "width": 40},
    "layers": [
        {"type": "Conv2d", "name": "conv1", "out_channels": 8, "kernel_size": 5, "stride": 2, "padding": 2},
        {"type": "ReLU", "name": "relu1"},
        {"type": "Conv2d", "name": "conv2", "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1},
        {"type": "ReLU", "name": "relu2"},
        {"type": "MaxPool2d", "name": "pool", "kernel_size": 2},
        {"type": "Flatten", "name": "flat"},
        {"type": "Linear", "name": "fc", "out_features": 10},
        {"type": "Softmax", "name": "prob"},
    ],
}


def strided() -> Design:
    return Design.from_dict(STRIDED)


def run_and_wait(window, qtbot) -> None:
    controller = window.run
    with qtbot.waitSignal(controller.result_changed, timeout=60000):
        window.action("run_sample").trigger()
    controller.wait()


def test_run_on_the_sample_shows_maps_for_every_layer(make_window, qtbot):
    window = make_window("inception3a")
    run_and_wait(window, qtbot)
    maps, result = window.maps, window.run.result
    names = [row.name for row in window.document.analysis.rows]
    assert sorted(result.outputs) == sorted(names)
    for name in names:
        window.document.select(name)
        out = result.outputs[name]
        shown = maps.stack.currentWidget()
        if out.ndim == 3:
            assert isinstance(shown, MapGrid), name
            cells = shown.visible
            assert [c.channel for c in cells] == list(range(min(out.shape[0], maps.page_size(out))))
            assert cells[0].image.image.shape == out.shape[1:]
        else:
            assert isinstance(shown, VectorView), name
    assert window.summary.model.timings.keys() == set(names)
    assert window.summary.model.index(0, 9).data().endswith("ms")


def test_vector_output_shows_top_k(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select("prob")
    vector = window.maps.vector
    out = window.run.result.outputs["prob"]
    assert window.maps.stack.currentWidget() is vector
    assert f"#{int(np.argmax(out))}" in vector.top.text()
    maps = window.maps
    assert maps.scale.isHidden() and maps.cmap.isHidden()  # no colours to choose for bars
    assert not vector.plot.getAxis("left").autoSIPrefix
    window.document.select("conv2")
    assert not maps.scale.isHidden() and not maps.cmap.isHidden()


def test_cancel_a_run(make_window, qtbot):
    window = make_window("vgg16")
    controller = window.run
    with qtbot.waitSignal(controller.progress, timeout=30000, check_params_cb=lambda i, n, name: i >= 1):
        window.action("run_sample").trigger()
    assert window.progress.isVisible()
    assert "layer" in window.progress.bar.format()
    window.progress.cancel.click()
    assert controller.wait()
    result = controller.result  # none, or the first layers shown before the rest (the first run's head)
    assert result is None or len(result.ran.layers) < len(window.document.design.layers)
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.progress.isVisible()


def test_auto_run_recomputes_only_downstream_layers(make_window, qtbot):
    window = make_window("lenet5")
    controller = window.run
    window.action("auto_run").trigger()  # turning it on runs at once
    controller.wait()
    assert len(controller.last_computed) == len(window.document.analysis.rows)
    window.document.select("c3")
    field = window.inspector.layer_page.fields["out_channels"]
    with qtbot.waitSignal(controller.result_changed, timeout=30000):
        field.edit.setFocus()
        field.edit.selectAll()
        qtbot.keyClicks(field.edit, "20")
    controller.wait()
    names = [row.name for row in window.document.analysis.rows]
    assert controller.last_computed == names[names.index("c3"):]
    assert controller.result.outputs["c3"].shape[0] == 20
    assert not controller.stale


def test_edit_without_auto_run_marks_the_maps_stale(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select("conv2")
    window.document.set_params("conv2", out_channels=4)
    maps = window.maps
    assert not maps.banner.isHidden() and "F5" in maps.banner.text()
    run_and_wait(window, qtbot)
    assert maps.banner.isHidden()
    assert window.run.last_computed[0] == "conv2"


def test_stale_banner_wraps_and_gives_advice_that_fits_the_state(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select("conv2")
    maps = window.maps
    assert maps.banner.wordWrap()
    window.document.set_params("conv2", kernel_size=50)  # larger than its input: an error
    assert "fix the error in conv2" in maps.banner.text() and "F5" not in maps.banner.text()
    window.action("undo").trigger()
    window.action("auto_run").setChecked(True)
    window.document.set_params("conv2", out_channels=5)
    assert "Auto-run" not in maps.banner.text() or "will run" in maps.banner.text()
    assert "F5" not in maps.banner.text()
    window.action("auto_run").setChecked(False)
    window.run.wait()


def expected_box(row, y, x, size):
    (rh, rw), (jh, jw), (sh, sw) = row.receptive_field, row.jump, row.start
    cy, cx = sh + y * jh, sw + x * jw
    full = (cy - (rh - 1) / 2, cx - (rw - 1) / 2, cy + (rh - 1) / 2 + 1, cx + (rw - 1) / 2 + 1)
    clipped = (max(full[0], 0), max(full[1], 0), min(full[2], size), min(full[3], size))
    return full, clipped


def click_map_pixel(qtbot, grid: MapGrid, channel: int, y: int, x: int) -> None:
    point = grid.mapFromScene(grid.cell_center(channel, y, x))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=point)


@pytest.mark.parametrize("layer, channel, y, x", [("conv2", 3, 0, 0), ("conv2", 1, 5, 7), ("relu1", 0, 10, 4)])
def test_clicking_a_map_pixel_draws_the_core_receptive_field(make_window, qtbot, layer, channel, y, x):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select(layer)
    panels = window
    qtbot.wait(50)
    with qtbot.waitSignal(panels.run.erf_changed, timeout=30000):
        click_map_pixel(qtbot, panels.maps.grid, channel, y, x)
    pinned = panels.probe.pinned
    assert (pinned.layer, pinned.channel, pinned.y, pinned.x) == (layer, channel, y, x)
    assert isinstance(panels.maps.stack.currentWidget(), ChannelDetail)  # the clicked channel is enlarged
    full, clipped = expected_box(window.document.row(layer), y, x, 40)
    overlay = panels.input_panel.overlay
    inside = overlay.inside.rect()
    assert (inside.top(), inside.left(), inside.bottom(), inside.right()) == pytest.approx(clipped)
    padded = full != clipped
    assert overlay.full.isVisible() == padded and overlay.padding.isVisible() == padded
    if padded:
        rect = overlay.full.rect()
        assert (rect.top(), rect.left(), rect.bottom(), rect.right()) == pytest.approx(full)
    erf = panels.run.erf
    assert erf.layer == layer and erf.erf.unit == (y, x) and not erf.uniform
    if layer.startswith("conv") or panels.run.result.outputs[layer][channel, y, x] > 0:
        assert erf.erf.radius > 0
    else:  # an inactive ReLU passes no gradient: the panel says so
        assert erf.erf.radius == 0 and "no gradient" in panels.input_panel.erf_text.text()


def test_uniform_erf_and_hover_over_the_enlarged_channel(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select("conv2")
    panels = window
    qtbot.wait(50)
    with qtbot.waitSignal(panels.run.erf_changed, timeout=30000):
        click_map_pixel(qtbot, panels.maps.grid, 0, 4, 4)
    with qtbot.waitSignal(panels.run.erf_changed, timeout=30000):
        panels.input_panel.erf_group.button(1).click()
    assert panels.run.erf.uniform
    assert "radius" in panels.input_panel.erf_text.text()
    detail = panels.maps.channel_view
    detail.hovered.emit(2, 3)
    assert panels.probe.current.y == 2 and panels.probe.current.x == 3
    assert "conv2" in panels.input_panel.unit_text.text()
    detail.back.emit()
    assert isinstance(panels.maps.stack.currentWidget(), MapGrid)


def test_dead_channels_and_statistics(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select("relu1")
    maps = window.maps
    maps._on_grid_click(0, 0, 0)
    text = maps.channel_view.stats.text()
    for word in ("min", "max", "mean", "zeros"):
        assert word in text
    maps._on_back()
    assert maps.scale.count() == 2
    maps.scale.setCurrentIndex(1)
    assert "per channel" in maps.grid.bar.axis.labelText


def test_export_feature_maps_png(make_window, qtbot, tmp_path):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.document.select("conv1")
    out = tmp_path / "maps.png"
    assert window.maps.export_png(str(out))
    assert out.stat().st_size > 1000


def test_image_open_drop_errors_and_sample(make_window, qtbot, tmp_path):
    from PySide6.QtGui import QImage

    window = make_window(strided())
    path = tmp_path / "photo.png"
    image = QImage(64, 48, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.darkCyan)
    assert image.save(str(path))
    panels = window
    panels.open_image(str(path))
    window.run.wait()  # read on the worker thread
    assert panels.image.name == "photo.png"
    assert "64×48" in panels.input_panel.preprocess.text()
    panels.open_image(str(tmp_path / "missing.png"))
    window.run.wait()
    assert panels.image.name == "photo.png"
    assert "missing.png" in window.statusBar().currentMessage()
    window.action("sample_image").trigger()
    assert panels.image.path is None


def test_weights_reseed_save_and_load(make_window, qtbot, tmp_path):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    controller = window.run
    before = controller.result.outputs["conv1"].copy()
    path = tmp_path / "w.npz"
    window.save_weights(str(path))
    controller.wait()
    assert path.exists()
    with qtbot.waitSignal(controller.result_changed, timeout=30000):
        window.reseed(7)
    controller.wait()
    assert not np.allclose(controller.result.outputs["conv1"], before)
    with qtbot.waitSignal(controller.result_changed, timeout=30000):
        window.load_weights(str(path))
    controller.wait()
    np.testing.assert_allclose(controller.result.outputs["conv1"], before)


def test_probe_is_dropped_when_its_unit_leaves_the_output(make_window, qtbot):
    from designer.gui.run.image_panel import UNIT_HINT
    from designer.gui.run.rf_overlay import Unit

    window = make_window(strided())
    run_and_wait(window, qtbot)
    probe = window.probe
    probe.pin(Unit("conv2", 1, 8, 8))  # conv2 is 10×10 on the 40×40 input
    window.document.set_input(height=20, width=20)  # now 5×5
    assert probe.pinned is None and probe.current is None
    assert window.input_panel.unit_text.text() == UNIT_HINT
    probe.pin(Unit("conv2", 1, 2, 2))
    window.document.rename("conv2", "conv2b")
    assert probe.pinned is None
    probe.pin(Unit("fc", 3))
    window.document.set_params("fc", out_features=2)
    assert probe.pinned is None
    probe.pin(Unit("relu1", 0, 1, 1))
    window.document.remove("relu1")
    assert probe.pinned is None
    window.run.wait()
