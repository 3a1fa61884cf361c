"""File › Export › PyTorch Code / ONNX, File › Open of .onnx models and the Weights menu's formats, driven
through the window's slots offscreen (questions answered by monkeypatching ``designer.gui.interop.dialogs``
and ``QFileDialog``; errors land in the scripted prompts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QUrl

from designer.core import Design
from designer.gui.interop import dialogs

onnx = pytest.importorskip("onnx")
from onnx.reference import ReferenceEvaluator  # noqa: E402

INTEROP = Path(__file__).resolve().parents[1] / "interop"
SMALL = {
    "format": "cnn-designer/v1", "name": "tiny-net", "input": {"channels": 3, "height": 24, "width": 24},
    "layers": [
        {"type": "Conv2d", "name": "conv1", "out_channels": 6, "kernel_size": 3, "stride": 2,
         "padding": "same"},
        {"type": "ReLU", "name": "relu1"},
        {"type": "Branch", "name": "block", "merge": "add", "branches": [
            [{"type": "Conv2d", "name": "c3", "out_channels": 6, "kernel_size": 3, "padding": 1}],
            [],
        ]},
        {"type": "MaxPool2d", "name": "pool", "kernel_size": 2},
        {"type": "Flatten", "name": "flat"},
        {"type": "Linear", "name": "fc", "out_features": 5},
    ],
}
BROKEN = {**SMALL, "layers": [*SMALL["layers"][:5], {"type": "Linear", "name": "fc", "in_features": 7,
                                                        "out_features": 5}]}


def small() -> Design:
    return Design.from_dict(SMALL)


def run_and_wait(window, qtbot) -> None:
    with qtbot.waitSignal(window.run.result_changed, timeout=30000):
        window.action("run_sample").trigger()
    window.run.wait()


def wait_tasks(window, qtbot) -> None:
    window.run.wait()  # the weights are read on the runner's lane first when it does not hold the design
    qtbot.waitUntil(lambda: not window.interop.running, timeout=30000)
    window.run.wait()


def test_export_menu_and_onnx_in_open_filter(qtbot, settings):
    from designer.gui.window.main_window import MainWindow

    window = MainWindow(small(), settings=settings, autosave=False, restore=False, size=(1024, 700))
    qtbot.addWidget(window)
    export = window.registry.submenus["export_to"]
    assert [a.objectName() for a in export.actions()] == ["action_export_pytorch", "action_export_onnx"]
    assert window.prompts.open_filter().startswith("Designs and models (*.json *.onnx);;")
    window.run.shutdown()


def test_pytorch_and_onnx_exports_compute_the_apps_output(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window(small())
    run_and_wait(window, qtbot)
    result = window.run.result
    code, model = tmp_path / "net.py", tmp_path / "net.onnx"
    monkeypatch.setattr(dialogs, "ask_include_weights", lambda *a: True)
    assert window.interop.export_pytorch(str(code))
    assert window.interop.export_onnx(str(model))
    wait_tasks(window, qtbot)
    assert window.prompts.errors == []
    assert code.exists() and code.with_suffix(".safetensors").exists() and model.exists()
    expected = result.outputs["fc"]
    got = ReferenceEvaluator(str(model)).run(None, {"input": result.x[None]})[0][0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("exported_net", code)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.load_pretrained()
    assert isinstance(net, module.TinyNet)
    with torch.no_grad():
        out = net(torch.from_numpy(result.x[None])).numpy()[0]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_pytorch_export_without_weights_and_cancelled_question(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window(small())
    monkeypatch.setattr(dialogs, "ask_include_weights", lambda *a: None)
    assert not window.interop.export_pytorch(str(tmp_path / "a.py"))
    monkeypatch.setattr(dialogs, "ask_include_weights", lambda *a: False)
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(tmp_path / "b.py"))
    window.action("export_pytorch").trigger()
    wait_tasks(window, qtbot)
    assert (tmp_path / "b.py").exists() and not (tmp_path / "b.safetensors").exists()
    assert not (tmp_path / "a.py").exists()
    assert "class TinyNet(nn.Module)" in (tmp_path / "b.py").read_text()


def test_design_with_errors_is_refused_with_its_errors_listed(make_window, tmp_path, monkeypatch):
    window = make_window(Design.from_dict(BROKEN))
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: asked.append(a))
    assert not window.interop.export_onnx()
    assert not window.interop.export_pytorch(str(tmp_path / "net.py"), include_weights=False)
    assert asked == [] and list(tmp_path.iterdir()) == []
    (title, text), _ = window.prompts.errors
    assert title == "Cannot export" and "1 error" in text and "layer 'fc'" in text
    assert "Nothing was written" in text


def test_unwritable_path_is_one_message_and_the_window_keeps_working(make_window, qtbot, tmp_path):
    window = make_window(small())
    target = tmp_path / "missing" / "net.onnx"
    window.interop.export_onnx(str(target))
    wait_tasks(window, qtbot)
    ((title, text),) = window.prompts.errors
    assert title == "Cannot export" and str(target) in text and "\n" not in text and not target.exists()
    run_and_wait(window, qtbot)
    assert "fc" in window.run.result.outputs


def exported_model(tmp_path: Path, dynamic: bool = False) -> tuple[Path, dict[str, np.ndarray]]:
    """``tiny-net`` as an ONNX file with seed-3 weights (batch symbolic; with ``dynamic`` H and W too)."""
    from designer.backend.weights import init_weights
    from designer.interop.export_onnx import build_onnx

    weights = init_weights(small(), seed=3)
    model = build_onnx(small(), weights)
    if dynamic:
        dims = model.graph.input[0].type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "H", "W"
        del model.graph.value_info[:]
    path = tmp_path / "resnetish.onnx"
    onnx.save(model, path)
    return path, weights


def test_open_onnx_gives_an_untitled_design_with_its_weights_run_on_the_image(make_window, qtbot, tmp_path):
    window = make_window("vgg16")
    path, _ = exported_model(tmp_path)
    with qtbot.waitSignal(window.run.result_changed, timeout=30000):
        assert window.files.open(str(path))
    wait_tasks(window, qtbot)
    document, result = window.document, window.run.result
    assert document.design.name == "resnetish" and document.path is None and not window.run.stale
    first = document.design.layers[0].name
    model = onnx.load(path)
    conv_out = next(n for n in model.graph.node if n.op_type == "Conv").output[0]
    maps = ReferenceEvaluator(model).run([conv_out], {"input": result.x[None]})[0][0]
    np.testing.assert_allclose(result.outputs[first], maps, rtol=1e-4, atol=1e-5)
    final = ReferenceEvaluator(model).run(None, {"input": result.x[None]})[0][0]
    np.testing.assert_allclose(result.outputs[document.design.layers[-1].name], final, rtol=1e-4, atol=1e-5)


def test_dynamic_input_asks_for_the_size(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window(small())
    path, _ = exported_model(tmp_path, dynamic=True)
    monkeypatch.setattr(dialogs, "ask_input_shape", lambda parent, model, channels: None)
    window.files.open(str(path))
    wait_tasks(window, qtbot)
    assert window.document.design.name == "tiny-net"
    asked = []
    monkeypatch.setattr(dialogs, "ask_input_shape", lambda parent, model, channels: asked.append(channels) or
                        (3, 24, 24))  # the Linear's in_features fix the size
    window.files.open(str(path))
    wait_tasks(window, qtbot)
    design = window.document.design
    assert asked == [3] and design.name == "resnetish" and design.input.shape == (3, 24, 24)
    assert window.prompts.errors == []


def test_input_size_dialog_offers_channels_only_when_open(qapp):
    dialog = dialogs.InputSizeDialog(None, "m.onnx", None)
    dialog.height_.setValue(40)
    assert dialog.shape() == (3, 40, 224)
    assert dialogs.InputSizeDialog(None, "m.onnx", 1).channels.isHidden()


def test_bad_onnx_file_is_one_message_and_nothing_changes(make_window, qtbot, tmp_path):
    window = make_window(small())
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    window.files.open(str(bad))
    wait_tasks(window, qtbot)
    ((title, text),) = window.prompts.errors
    assert title == "Cannot open model" and "bad.onnx" in text
    assert window.document.design.name == "tiny-net"


def test_onnx_files_can_be_dropped(make_window, tmp_path):
    window = make_window(small())

    class Drop:
        def __init__(self, path: str) -> None:
            self.mime = QMimeData()
            self.mime.setUrls([QUrl.fromLocalFile(path)])

        def mimeData(self) -> QMimeData:
            return self.mime

    assert window._dropped_file(Drop(str(tmp_path / "m.onnx"))) == str(tmp_path / "m.onnx")
    assert window._dropped_file(Drop(str(tmp_path / "m.txt"))) is None


def test_weights_menu_saves_safetensors_and_loads_pytorch_checkpoints(make_window, qtbot, tmp_path,
                                                                      monkeypatch):
    from designer.gui.window import main_window

    window = make_window(Design.load(INTEROP / "small_net.json"))
    run_and_wait(window, qtbot)
    before = window.run.result.outputs["fc"].copy()
    chosen = (str(tmp_path / "w"), "safetensors (*.safetensors)")
    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName", lambda *a: chosen)
    window.save_weights()
    window.run.wait()
    assert (tmp_path / "w.safetensors").exists()
    for name in ("small_state_dict.pt", "w.safetensors"):
        folder = INTEROP / "onnx_files" if name.endswith(".pt") else tmp_path
        monkeypatch.setattr(main_window.QFileDialog, "getOpenFileName", lambda *a: (str(folder / name), ""))
        with qtbot.waitSignal(window.run.result_changed, timeout=30000):
            window.load_weights()
        window.run.wait()
        changed = not np.allclose(window.run.result.outputs["fc"], before)
        assert changed == name.endswith(".pt"), name
