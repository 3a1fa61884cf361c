"""The generated PyTorch code: golden files (what users get, checked without torch), its structure, the
weights beside it (``load_pretrained``), and the designs it refuses.

Regenerate the golden files after an intended change with ``UPDATE_GOLDEN=1 pytest tests/interop`` and
review the diff.
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from designer.core import Design
from designer.interop.export_checks import ExportError, class_name
from designer.interop.export_torch import export_pytorch, pytorch_source
from tests.interop.export_cases import (
    CASES,
    EXAMPLES,
    HAS_TORCH,
    app_output,
    assert_close,
    load_generated,
    random_weights,
    sample,
    torch_output,
)

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_DESIGNS = {
    "vgg16": Design.load(next(p for p in EXAMPLES if p.stem == "vgg16")),
    "inception3a": Design.load(next(p for p in EXAMPLES if p.stem == "inception3a")),
    **CASES,
}


@pytest.mark.parametrize("name", GOLDEN_DESIGNS)
def test_generated_code_matches_the_golden_file(name):
    source = pytorch_source(GOLDEN_DESIGNS[name])
    path = GOLDEN / f"{name}.py"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(source, encoding="utf-8")
    assert source == path.read_text(encoding="utf-8"), f"{path.name} differs; UPDATE_GOLDEN=1 after review"


@pytest.fixture(scope="module")
def torch_outputs() -> dict[str, np.ndarray]:
    """What torch computed with each case's golden code (weights ``random_weights``, input ``sample``), stored
    in ``golden/torch_outputs.npz`` so that runs without torch still tie the golden code to the app's numbers."""
    path = GOLDEN / "torch_outputs.npz"
    if os.environ.get("UPDATE_GOLDEN") and HAS_TORCH:
        outputs = {}
        for name, design in CASES.items():
            source = (GOLDEN / f"{name}.py").read_text(encoding="utf-8")
            x = sample(design)
            outputs[name] = torch_output(source, design, random_weights(design), x[None])[0]
        np.savez(path, **outputs)
    with np.load(path) as stored:
        return {k: stored[k] for k in stored.files}


@pytest.mark.parametrize("name", CASES)
def test_golden_code_outputs_recorded_by_torch_are_the_app_outputs(name, torch_outputs):
    design = CASES[name]
    weights, x = random_weights(design), sample(design)
    assert_close(torch_outputs[name], app_output(design, weights, x), f"{name}: stored torch output")
    if HAS_TORCH:  # and the stored numbers are what the golden code computes today
        source = (GOLDEN / f"{name}.py").read_text(encoding="utf-8")
        assert_close(torch_output(source, design, weights, x[None])[0], torch_outputs[name], f"{name}: live")


def _registered(tree: ast.Module, name: str) -> list[str]:
    """Layer names registered in class ``name``'s ``__init__``: ``self.<name> =``, ``self.add_module("<name>", …)``,
    ``self._modules["<name>"] =``."""
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    names = []
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            names.append(node.targets[0].attr)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            names.append(node.targets[0].slice.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_module":
            names.append(node.args[0].value)
    return names


@pytest.mark.parametrize("name", GOLDEN_DESIGNS)
def test_one_attribute_per_layer_named_after_it_and_nothing_imported_from_us(name):
    design = GOLDEN_DESIGNS[name]
    tree = ast.parse(pytorch_source(design))
    layers = [layer.name for _, layer in design.walk() if layer.type != "Branch"]
    assert sorted(_registered(tree, class_name(design.name))) == sorted(layers)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"torch", "torch.nn.functional", "__future__", "pathlib", "safetensors.torch"}
    all_ = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__")
    assert ast.literal_eval(all_.value) == [class_name(design.name)]
    assert "for " not in pytorch_source(design).split("def forward")[-1], "forward must be written out"


def test_class_names_come_from_the_design_name():
    assert [class_name(n) for n in ("VGG-16", "GoogLeNet inception 3a", "3d net", "", "class", "nn", "ÿ")] == \
        ["VGG16", "GoogLeNetInception3a", "Net3dNet", "Net", "Class", "Nn", "Net"]


def test_branch_code_is_written_out_with_cat_add_and_mul():
    source = pytorch_source(CASES["nested_branches"])
    assert "b1 = torch.cat([b1_1, b1_2], dim=1)" in source
    assert "x = b1 + x + b3" in source and "x = x * b2" in source
    assert "self.first_in_branch = nn.ReLU()  # not in place" in source  # its input feeds two other branches
    assert "self.blk_se_relu = nn.ReLU(inplace=True)" in source  # after a conv: safe in place


def test_in_place_activations_never_overwrite_the_callers_input():
    """Regression: ``nn.ReLU(inplace=True)`` as the first layer (here after an Identity, which returns its
    input) overwrote the tensor passed to ``net(x)``; after a layer that makes a new tensor it stays in place."""
    design = Design.from_dict({"format": "cnn-designer/v1", "name": "in place", "input":
                               {"channels": 2, "height": 4, "width": 4}, "layers": [
        {"type": "Identity", "name": "ident"}, {"type": "ReLU", "name": "first", "inplace": True},
        {"type": "ReLU6", "name": "second", "inplace": True},  # reads first's own output: in place is safe
        {"type": "Conv2d", "name": "conv", "out_channels": 2, "kernel_size": 1},
        {"type": "ReLU", "name": "after_conv", "inplace": True}]})
    source = pytorch_source(design)
    assert "self.first = nn.ReLU()  # not in place: it would overwrite the caller's input tensor" in source
    assert "self.second = nn.ReLU6(inplace=True)" in source
    assert "self.after_conv = nn.ReLU(inplace=True)" in source
    if HAS_TORCH:
        import torch

        x = torch.from_numpy(sample(design) - 0.5)[None]
        before = x.clone()
        load_generated(source, design)().eval()(x)
        assert torch.equal(x, before)


def test_design_with_errors_is_refused_naming_every_error():
    bad = CASES["nested_branches"].set_params((1, 0, 1, 0, 0), groups=3).set_params((1, 0, 1, 1, 1), groups=3)
    with pytest.raises(ExportError) as info:
        pytorch_source(bad)
    message = str(info.value)
    assert "2 errors" in message and "layer 'i1'" in message and "layer 'i2'" in message and "\n" not in message


def test_layer_name_a_module_cannot_have_is_refused():
    design = CASES["odd_names"].set_params((0,), padding=1)
    renamed = Design.from_dict({**design.to_dict(), "layers": [{"type": "ReLU", "name": "training"}]})
    with pytest.raises(ExportError, match="layer 'training'.*rename"):
        pytorch_source(renamed)


def test_weights_are_written_beside_the_code(tmp_path):
    design = CASES["depthwise"]
    weights = random_weights(design)
    written = export_pytorch(design, tmp_path / "mynet.py", weights)
    assert [p.name for p in written] == ["mynet.py", "mynet.safetensors"]
    from safetensors.numpy import load_file

    stored = load_file(str(tmp_path / "mynet.safetensors"))
    assert stored.keys() == weights.keys() and all(np.array_equal(stored[k], weights[k]) for k in weights)
    assert "def load_pretrained(" in (tmp_path / "mynet.py").read_text(encoding="utf-8")


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_load_pretrained_gives_the_app_output(tmp_path, monkeypatch):
    import torch

    design = CASES["nested_branches"]
    weights = random_weights(design)
    export_pytorch(design, tmp_path / "net.py", weights)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("net", None)
    module = importlib.import_module("net")
    net = module.load_pretrained()
    x = sample(design)
    with torch.no_grad():
        got = net(torch.from_numpy(x[None]))[0].numpy()
    assert_close(got, app_output(design, weights, x), "load_pretrained")
    assert set(net.state_dict()) == set(weights)  # no BatchNorm here: exactly the app's keys


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
def test_reserved_attribute_lists_match_torch():
    from torch import nn

    from designer.interop.export_torch.writer import NN_MODULE_ATTRIBUTES, NN_MODULE_STATE

    assert {n for n in dir(nn.Module()) if not n.startswith("__")} <= NN_MODULE_ATTRIBUTES
    assert set(nn.Module().__dict__) == NN_MODULE_STATE


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
@pytest.mark.parametrize("name", ["depthwise", "mix", "odd_names"])
def test_state_dict_keys_are_the_app_weight_keys(name):
    design = CASES[name]
    keys = set(load_generated(pytorch_source(design), design)().state_dict())
    weights = random_weights(design)
    assert weights.keys() <= keys
    assert {k for k in keys - weights.keys() if not k.endswith(".num_batches_tracked")} == set()
