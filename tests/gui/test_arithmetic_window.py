"""The arithmetic panels inside the main window: the selected layer's real input after a run, the toy
input, Tools › Make fully convolutional and Weights › Save in TensorFlow layout."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend.explain.layouts import tensorflow_weights
from designer.core import Design
from designer.gui.arithmetic.plugin import install
from tests.backend.designs import as_dict, conv, layer


def small_classifier() -> Design:
    return Design.from_dict(as_dict([
        conv("conv1", 4, 3, stride=2, padding=1), layer("ReLU", "relu1"),
        layer("MaxPool2d", "pool", kernel_size=2),
        {"type": "ConvTranspose2d", "name": "up", "out_channels": 3, "kernel_size": 2, "stride": 2},
        layer("AvgPool2d", "avg", kernel_size=2),
        layer("Flatten", "flat"), layer("Linear", "fc", out_features=5),
    ], h=16, w=16))


def window_with_panels(make_window, qtbot):
    window = make_window(small_classifier(), workspace="run")
    if "arithmetic" not in window.docks:
        install(window)
    for name in ("arithmetic", "conv_matrix", "pooling"):
        window.show_dock(name)
    with qtbot.waitSignal(window.run.result_changed, timeout=60000):
        window.action("run_sample").trigger()
    window.run.wait()
    return window


@pytest.mark.parametrize("name", ["conv1", "pool", "up", "avg"])
def test_selected_layer_shows_its_real_input_and_output(make_window, qtbot, name):
    window = window_with_panels(make_window, qtbot)
    window.document.select(name)
    model, result = window.arithmetic_model, window.run.result
    assert model.case is not None and model.case.source == "real input"
    np.testing.assert_allclose(model.case.output, result.outputs[name], rtol=1e-5, atol=1e-5)
    model.set_cell(*(n - 1 for n in model.case.geometry.out_hw))
    assert model.position().value == pytest.approx(model.layer_value(), rel=1e-4, abs=1e-5)
    assert window.map_source.name == f"{name} output"


def test_toy_input_and_non_window_layers(make_window, qtbot):
    window = window_with_panels(make_window, qtbot)
    window.document.select("conv1")
    window.arithmetic.source.setCurrentIndex(1)
    window.arithmetic.toy_size.setValue(6)
    case = window.arithmetic_model.case
    assert case.source == "toy input" and case.x.shape == (3, 6, 6)
    assert window.conv_matrix.matrix.shape == (4 * 3 * 3, 3 * 6 * 6)
    window.document.select("relu1")
    assert window.arithmetic_model.case is None and "does not slide a window" in window.arithmetic_model.message


def test_make_fully_convolutional_checks_every_cell(make_window, qtbot):
    window = make_window(Design.from_dict(as_dict([
        conv("c1", 4, 3), layer("MaxPool2d", "p1", kernel_size=2), layer("Flatten", "f"),
        layer("Linear", "fc", out_features=3)], h=12, w=12)))
    if "arithmetic" not in window.docks:
        install(window)
    window.action("make_fully_convolutional").trigger()
    qtbot.waitUntil(lambda: getattr(window, "fully_conv_dialog", None) is not None, timeout=30000)
    view = window.fully_conv_dialog.view
    assert view.grid.scores.shape == (3, 6, 6) and view.grid.stride == (2, 2)
    assert np.nanmax(view.diffs) < 1e-5 and np.isfinite(view.diffs).all()
    other = window.fully_conv_dialog.open_converted()
    qtbot.addWidget(other)
    assert [l.type for l in other.document.design.layers] == ["Conv2d", "MaxPool2d", "Conv2d"]


def test_make_fully_convolutional_refuses_a_conv_only_design(make_window, qtbot):
    window = make_window(Design.from_dict(as_dict([conv("c1", 4, 3)], h=8, w=8)))
    if "arithmetic" not in window.docks:
        install(window)
    window.action("make_fully_convolutional").trigger()
    assert window.prompts.errors and "already fully convolutional" in window.prompts.errors[0][1]


def test_save_weights_in_tensorflow_layout(make_window, qtbot, tmp_path):
    from designer.gui.arithmetic.tools import design_weights, save_weights_tensorflow

    window = window_with_panels(make_window, qtbot)
    save_weights_tensorflow(window, str(tmp_path / "tf.npz"))
    expected = tensorflow_weights(window.document.design, design_weights(window))
    with np.load(tmp_path / "tf.npz") as data:
        assert sorted(data.files) == sorted(expected)
        assert data["conv1/kernel"].shape == (3, 3, 3, 4)
        np.testing.assert_array_equal(data["conv1/kernel"], window.run._runner.weights["conv1.weight"]
                                      .transpose(2, 3, 1, 0))


def test_hidden_panels_refresh_only_when_shown(make_window, qtbot):
    window = make_window(small_classifier(), workspace="run")
    if "arithmetic" not in window.docks:
        install(window)
    for name in ("arithmetic", "conv_matrix", "pooling", "memory_layout"):
        window.docks[name].hide()
    window.document.select("conv1")
    assert window.arithmetic_feeder.stale and window.arithmetic_model.case is None
    window.show_dock("arithmetic")
    qtbot.waitUntil(lambda: window.arithmetic_model.case is not None, timeout=3000)
    assert window.arithmetic_model.case.layer.name == "conv1" and not window.arithmetic_feeder.stale
