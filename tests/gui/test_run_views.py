"""Profile plots, dilation coverage, activation plots, kernel presets and the screenshot mode."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from designer.core import Design
from designer.gui import app as gui_app
from designer.gui.inspector.extras import ActivationPlot, activation_curves
from designer.gui.inspector.kernel_presets import KernelPresetPicker

from .conftest import EXAMPLES
from .test_run import run_and_wait, strided


def dilated(rates: list[int]) -> Design:
    layers = [{"type": "Conv2d", "name": f"conv{i + 1}", "out_channels": 4, "kernel_size": 3, "dilation": r,
               "padding": r} for i, r in enumerate(rates)]
    return Design.from_dict({"format": "cnn-designer/v1", "name": "dilated",
                             "input": {"channels": 1, "height": 17, "width": 17}, "layers": layers})


def test_profile_bars_log_scale_and_click_selects(make_window, qtbot):
    window = make_window("vgg16")
    profile = window.profile
    rows = window.document.analysis.rows
    assert list(profile.values()) == [r.params for r in rows]
    profile.log.setChecked(True)
    ticks = profile.plot.getAxis("left")._tickLevels[0]
    assert ticks[-1][0] == int(np.ceil(np.log10(max(r.params for r in rows))))
    profile.set_metric("macs")
    assert list(profile.values()) == [r.macs for r in rows]
    profile.select_at(3.1)
    assert window.document.selected == rows[3].name
    profile.set_metric("rf")
    curve_y = profile.curve.getData()[1]
    assert np.isfinite(curve_y[0])
    profile.set_metric("sparsity")
    assert np.isnan(profile.values()).all() and "F5" in profile.note.text()


def test_profile_skips_branches_and_spaces_its_labels(make_window, qtbot):
    window = make_window("resnet18")
    profile = window.profile
    profile.resize(500, 300)
    profile.refresh()
    rows = window.document.analysis.rows
    assert any(r.type == "Branch" for r in rows)
    assert [r.name for r in profile.rows] == [r.name for r in rows if r.type != "Branch"]
    names = profile.plot.getAxis("bottom")._tickLevels[0]
    assert 1 < len(names) < len(profile.rows) // 3
    profile.set_metric("memory")
    profile.log.setChecked(True)
    ticks = profile.plot.getAxis("left")._tickLevels[0]
    assert all(label.endswith("B") for _, label in ticks) and any("MiB" in label for _, label in ticks)
    assert ticks[1][0] == pytest.approx(np.log10(2) * round(ticks[1][0] / np.log10(2)))


def test_profile_sparsity_after_a_run(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    profile = window.profile
    profile.set_metric("sparsity")
    values = dict(zip([r.name for r in window.document.analysis.rows], profile.values()))
    out = window.run.result.outputs["relu1"]
    assert values["relu1"] == 100 * np.mean(out == 0)
    assert values["relu1"] > 0


def test_coverage_shows_holes_for_2_2_2_and_none_for_1_2_5(make_window, qtbot):
    window = make_window(dilated([2, 2, 2]))
    coverage = window.coverage
    assert coverage.counts is None  # behind the Summary tab: not traced yet
    window.show_dock("coverage")
    assert coverage.layer == "conv3"  # the layer with the gridding warning
    window.run.wait()  # traced on the worker thread
    assert "holes" in coverage.summary.text()
    assert coverage.counts.shape == (17, 17) and coverage.labels  # small field: every cell labelled
    window.document.reset(dilated([1, 2, 5]), None)
    coverage.show_layer("conv3")
    window.run.wait()
    assert "every pixel covered" in coverage.summary.text()


def test_coverage_colours_holes_only_for_zero_counts():
    from designer.gui.run.coverage import HOLE_COLOR, coverage_rgba
    rgba = coverage_rgba(np.array([[0, 1, 2, 10**12]]))
    assert tuple(rgba[0, 0, :3]) == HOLE_COLOR
    assert all(tuple(rgba[0, i, :3]) != HOLE_COLOR for i in (1, 2, 3))
    assert rgba[0, 1, 2] > rgba[0, 3, 2]  # more paths, darker


def test_gridding_warning_links_to_the_coverage_map(make_window, qtbot):
    window = make_window(dilated([2, 2, 2]))
    window.document.select("conv3")
    page = window.inspector.layer_page
    assert "coverage:conv3" in page.issues.text()
    page.issues.linkActivated.emit("coverage:conv3")
    dock = window.docks["coverage"]
    assert dock.isVisible() and window.coverage.layer == "conv3"


def test_activation_plot_shows_function_and_derivative(make_window, qtbot):
    window = make_window(strided())
    window.document.select("relu1")
    extras = window.inspector.layer_page.extras
    plot = extras.sections[ActivationPlot]
    assert plot.isVisible() and plot.plot.height() == 200
    page = window.inspector.layer_page
    order = [page.layout().indexOf(w) for w in (page.issue_box, page.computed, page.param_box, extras)]
    assert order == sorted(order)  # issues and computed values right after the name (no scrolling)
    x, y = plot.f.getData()
    _, dy = plot.df.getData()
    assert x[0] == -6 and x[-1] == 6
    np.testing.assert_allclose(y, np.maximum(x, 0))
    assert set(np.unique(dy)) <= {0.0, 1.0}
    window.document.select("conv1")
    assert not plot.isVisible()


def test_activation_curves_of_every_activation():
    from designer.core import Layer
    for kind, hp in (("Sigmoid", {}), ("Tanh", {}), ("ELU", {"alpha": 1.0}), ("LeakyReLU", {"negative_slope": 0.1}),
                     ("ReLU6", {}), ("PReLU", {"num_parameters": 1, "init": 0.25})):
        layer = Layer(kind, "a", hp)
        x, y, dy = activation_curves(layer)
        numeric = np.gradient(y, x)
        smooth = (np.abs(x) > 0.1) & (np.abs(x - 6) > 0.1)
        np.testing.assert_allclose(dy[smooth], numeric[smooth], atol=0.02, err_msg=kind)


def test_kernel_preset_picker_writes_init_with_preview_and_undo(make_window, qtbot):
    window = make_window(strided())
    window.document.select("conv1")
    picker = window.inspector.layer_page.extras.sections[KernelPresetPicker]
    assert picker.isVisible() and picker.mode.currentData() == "random"
    picker.mode.setCurrentIndex(1)
    picker.mode.activated.emit(1)
    assert window.document.selected_layer.hp["init"] == {"preset": ["vertical_line"]}
    row = picker.rows[0]
    assert not row.preview.pixmap().isNull()
    row.combo.setCurrentText("sobel_x")
    row.combo.activated.emit(row.combo.currentIndex())
    assert window.document.selected_layer.hp["init"] == {"preset": ["sobel_x"]}
    picker.mode.setCurrentIndex(2)
    picker.mode.activated.emit(2)
    assert len(window.document.selected_layer.hp["init"]["preset"]) == 8 and len(picker.rows) == 8
    window.action("undo").trigger()
    window.action("undo").trigger()
    window.action("undo").trigger()
    assert window.document.selected_layer.hp.get("init") is None


def test_kernel_preset_picker_survives_unknown_presets_and_even_kernels(make_window, qtbot):
    window = make_window(strided())
    window.document.select("conv1")
    picker = window.inspector.layer_page.extras.sections[KernelPresetPicker]
    assert "init" not in window.inspector.layer_page.fields  # the picker is the editor for it
    window.document.set_params("conv1", init={"preset": ["nonexistent"]})
    assert picker.rows[0].preview.pixmap().isNull() and "nonexistent" in picker.note.text()
    window.document.set_params("conv1", init={"preset": ["sobel_x"]}, kernel_size=4)
    assert picker.rows[0].preview.pixmap().isNull() and "odd" in picker.note.text()
    window.document.set_params("conv1", kernel_size=3)
    assert not picker.rows[0].preview.pixmap().isNull()


def test_presets_change_the_maps(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    before = window.run.result.outputs["conv1"].copy()
    window.document.set_params("conv1", init={"preset": ["identity"]})
    run_and_wait(window, qtbot)
    after = window.run.result.outputs["conv1"]
    assert not np.allclose(before, after)
    assert window.run.last_computed[0] == "conv1"


def test_screenshot_renders_the_asked_size_and_workspace_after_a_run(tmp_path, qapp, monkeypatch):
    """One screenshot test (the window at 1024×700 in the Run workspace): the sample ran, the maps and a
    unit's effective receptive field are shown, the PNG has the asked size."""
    windows = []
    original = gui_app.save_screenshot
    monkeypatch.setattr(gui_app, "save_screenshot", lambda w, out, size: (windows.append(w), original(w, out, size)))
    out = tmp_path / "shot.png"
    design = str(EXAMPLES / "inception3a.json")  # small (VGG-16, the default, costs 5 s of CPU)
    assert gui_app.run_app(design, screenshot=str(out), size="1024x700", workspace="run") == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1024, 700)
    window = windows[0]
    assert window.workspaces.current == "run"
    assert window.run.result is not None and window.maps.grid.isVisible()
    assert window.run.erf is not None
