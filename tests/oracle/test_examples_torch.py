"""Every example design builds and runs in PyTorch, and matches its published figures.

Uses the oracle in ``tests/oracle/torch_model.py`` (independent of ``designer.core``); skipped when torch
is not installed.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.oracle.torch_model import (
    build_torch_model,
    count_params,
    torch_layer_macs,
    torch_layer_shapes,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))

# file: (trainable params, MACs, output shape without batch). None = not asserted.
PUBLISHED = {
    "vgg16.json": (138_357_544, 15_470_264_320, (1000,)),
    "resnet18.json": (11_689_512, None, (1000,)),
    "alexnet.json": (61_100_840, None, (1000,)),
}
# Not published figures but computed with torch and by hand when the examples were written; they pin the
# examples so an accidental edit shows up.
COMPUTED = {
    "lenet5.json": (61_706, 416_520, (10,)),
    "alexnet.json": (61_100_840, 714_188_480, (1000,)),
    "resnet18.json": (11_689_512, 1_814_073_344, (1000,)),
    "inception3a.json": (163_696, 128_049_152, (256, 28, 28)),
    "mobilenet_v1.json": (4_231_976, 568_740_352, (1000,)),  # paper: 4.2M params, 569M mult-adds
    "hdc_segment.json": (221_952, 905_969_664, (64, 64, 64)),
    "fcn.json": (5_079_893, 13_410_238_464, (21, 224, 224)),
    "vgg16.json": (138_357_544, 15_470_264_320, (1000,)),
}


def _load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@functools.cache
def _model(name: str):
    """Built once per example (VGG-16's 138M-parameter init is the slow part)."""
    torch.manual_seed(0)
    return build_torch_model(_load(name))


@functools.cache
def _stats(name: str) -> tuple[int, int, dict]:
    design, model = _load(name), _model(name)
    return (count_params(model), sum(torch_layer_macs(design, model).values()),
            torch_layer_shapes(design, model))


def _names(layers: list) -> list[str]:
    out = []
    for layer in layers:
        out.append(layer["name"])
        for branch in layer.get("branches", []):
            out.extend(_names(branch))
    return out


@pytest.fixture(autouse=True, scope="module")
def _free_cached_models():
    """The cached models hold ~1 GB of weights (VGG-16, AlexNet); release them after this module."""
    yield
    _stats.cache_clear()
    _model.cache_clear()


def test_all_examples_present():
    assert {p.name for p in EXAMPLE_FILES} >= set(COMPUTED)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_builds_and_runs(path: Path):
    design = json.loads(path.read_text(encoding="utf-8"))
    assert design["format"] == "cnn-designer/v1"
    names = _names(design["layers"])
    assert len(names) == len(set(names)), "layer names must be unique"
    model = _model(path.name)
    inp = design["input"]
    x = torch.randn(2, inp["channels"], inp["height"], inp["width"])
    with torch.no_grad():
        y = model(x)
    assert y.shape[0] == 2
    assert torch.isfinite(y).all()
    # every layer is a named module, and its parameters are keyed by the layer name
    shapes = _stats(path.name)[2]
    assert set(shapes) == set(names)
    for key in model.state_dict():
        assert key.split(".")[0] in names
    assert shapes[design["layers"][-1]["name"]] == tuple(y.shape[1:])


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_totals(name: str):
    params, macs, out_shape = PUBLISHED[name]
    design = _load(name)
    got_params, got_macs, shapes = _stats(name)
    assert got_params == params
    if macs is not None:
        assert got_macs == macs
    assert shapes[design["layers"][-1]["name"]] == out_shape


@pytest.mark.parametrize("name", sorted(COMPUTED))
def test_computed_totals(name: str):
    params, macs, out_shape = COMPUTED[name]
    design = _load(name)
    assert _stats(name)[:2] == (params, macs)
    assert _stats(name)[2][design["layers"][-1]["name"]] == out_shape


def test_resnet18_state_dict_matches_torchvision_layout():
    """Same tensors as torchvision's resnet18 state_dict, with '.' in block names written '_'."""
    sd = _model("resnet18.json").state_dict()
    assert tuple(sd["conv1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(sd["layer2_0_downsample_conv.weight"].shape) == (128, 64, 1, 1)
    assert tuple(sd["layer4_1_conv2.weight"].shape) == (512, 512, 3, 3)
    assert tuple(sd["fc.weight"].shape) == (1000, 512)
    assert sum(v.numel() for k, v in sd.items() if k.endswith(("running_mean", "running_var"))) == 9_600


def test_mobilenet_depthwise_is_grouped():
    sd = _model("mobilenet_v1.json").state_dict()
    assert tuple(sd["block1_dw.weight"].shape) == (32, 1, 3, 3)
    assert tuple(sd["block13_pw.weight"].shape) == (1024, 1024, 1, 1)


def test_fcn_restores_input_size():
    design = _load("fcn.json")
    shapes = _stats("fcn.json")[2]
    inp = design["input"]
    assert shapes["classifier"] == (21, inp["height"], inp["width"])


def test_hdc_segment_covers_its_receptive_field_without_gridding():
    """The top centre output depends on every pixel of its 33x33 receptive field (no holes)."""
    design = _load("hdc_segment.json")
    rates = [layer.get("dilation", 1) for layer in design["layers"] if layer["type"] == "Conv2d"]
    assert rates == [1, 2, 5, 1, 2, 5]
    n = 81
    x = torch.zeros(1, 1, n, n, requires_grad=True)
    y = x
    for r in rates:
        y = torch.nn.functional.conv2d(y, torch.ones(1, 1, 3, 3), padding=r, dilation=r)
    y[0, 0, n // 2, n // 2].backward()
    used = x.grad[0, 0] != 0
    rf = 1 + sum(2 * r for r in rates)
    assert rf == 33
    lo = n // 2 - rf // 2
    assert used[lo:lo + rf, lo:lo + rf].all()
    assert int(used.sum()) == rf * rf


def test_inception3a_concat_channels():
    shapes = _stats("inception3a.json")[2]
    assert shapes["inception3a"] == (256, 28, 28)
    assert math.prod(shapes["inception3a"]) == 256 * 28 * 28
