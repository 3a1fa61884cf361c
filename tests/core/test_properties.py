"""Property tests: random designs agree with PyTorch's shapes; random broken files only ever raise
``DesignFormatError``; the analysis never raises for a design that loaded."""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.core import Design, DesignFormatError, analyze

try:
    import torch

    from tests.oracle.torch_model import torch_layer_shapes
except ImportError:  # the live comparison needs torch; the other properties do not
    torch = None

SETTINGS = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")), deadline=None, derandomize=not os.environ.get("HYPOTHESIS_EXAMPLES"),
                    suppress_health_check=[HealthCheck.too_slow])

small = st.integers(1, 4)
pad = st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"]))


def _conv() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "type": st.just("Conv2d"), "out_channels": st.sampled_from([2, 4, 6]),
        "kernel_size": st.one_of(st.integers(1, 5), st.lists(st.integers(1, 4), min_size=2, max_size=2)),
        "stride": st.integers(1, 3), "padding": pad, "dilation": st.integers(1, 2),
        "groups": st.sampled_from([1, 2]), "bias": st.booleans(),
    })


def _pool() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "type": st.sampled_from(["MaxPool2d", "AvgPool2d"]), "kernel_size": st.integers(1, 4),
        "stride": st.integers(1, 3), "padding": st.integers(0, 2), "ceil_mode": st.booleans(),
    })


def _convt() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "type": st.just("ConvTranspose2d"), "out_channels": st.sampled_from([2, 4]),
        "kernel_size": st.integers(1, 4), "stride": st.integers(1, 3), "padding": st.integers(0, 2),
        "output_padding": st.integers(0, 1), "dilation": st.integers(1, 2),
    })


SIMPLE = st.sampled_from([{"type": t} for t in ("ReLU", "Sigmoid", "BatchNorm2d", "Softmax", "Flatten")]
                         + [{"type": "AdaptiveAvgPool2d", "output_size": 2}, {"type": "Upsample", "scale_factor": 2},
                            {"type": "Linear", "out_features": 5}, {"type": "SpatialPyramidPool2d", "levels": [2, 1]},
                            {"type": "LocalResponseNorm", "size": 3}, {"type": "AdaptiveAvgPool2d", "output_size": 1},
                            {"type": "SiLU"}, {"type": "Hardswish"}, {"type": "Hardsigmoid"}, {"type": "Identity"},
                            {"type": "GELU", "approximate": "tanh"}, {"type": "GroupNorm", "num_groups": 2},
                            {"type": "ZeroPad2d", "padding": [1, 0, 2, 1]}]).map(copy.deepcopy)  # fresh per draw
LAYER = st.one_of(_conv(), _conv(), _pool(), _convt(), SIMPLE)


@st.composite
def designs(draw) -> dict:
    layers = draw(st.lists(LAYER, min_size=1, max_size=5))
    if draw(st.booleans()):
        branches = draw(st.lists(st.lists(LAYER, max_size=2), min_size=2, max_size=3))
        layers.insert(draw(st.integers(0, len(layers))),
                      {"type": "Branch", "merge": draw(st.sampled_from(["concat", "add", "mul"])), "branches": branches})
    return {"format": "cnn-designer/v1", "name": "random",
            "input": {"channels": draw(st.sampled_from([2, 4])), "height": draw(st.integers(1, 20)),
                      "width": draw(st.integers(1, 20))}, "layers": layers}


@pytest.mark.skipif(torch is None, reason="live comparison needs torch")
@SETTINGS
@given(designs())
def test_random_designs_agree_with_pytorch(data):
    design = Design.from_dict(copy.deepcopy(data))
    report = analyze(design)
    try:
        expected = torch_layer_shapes(design.to_dict())
        if any(0 in shape for shape in expected.values()):
            raise ValueError("empty output")  # torch allows empty tensors; for a design it is an error
    except Exception:  # noqa: BLE001  torch refuses: the design must be invalid for us too
        assert not report.valid, [r.name for r in report.rows]
        return
    assert report.valid, [i.message for i in report.issues if i.level == "error"]
    for row in report.rows:
        assert row.output_shape == tuple(expected[row.name]), row.name


@SETTINGS
@given(designs())
def test_analysis_never_raises_for_loaded_designs(data):
    report = analyze(Design.from_dict(data))
    assert len(report.rows) == sum(1 for _ in Design.from_dict(data).walk())
    json.dumps(report.to_dict())


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=True),
                                 st.text(max_size=8)),
                       lambda inner: st.one_of(st.lists(inner, max_size=4),
                                               st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                       max_leaves=12)


@st.composite
def broken_designs(draw) -> object:
    data = draw(designs())
    target = draw(st.sampled_from(["layer_field", "layer", "input", "top", "whole"]))
    value = draw(JSONISH)
    if target == "whole":
        return value
    if target == "top":
        data[draw(st.sampled_from(["format", "input", "layers", "name"]))] = value
    elif target == "input":
        data["input"][draw(st.sampled_from(["channels", "height", "width", "mean", "std", "x"]))] = value
    else:
        layer = data["layers"][draw(st.integers(0, len(data["layers"]) - 1))]
        if target == "layer":
            data["layers"][data["layers"].index(layer)] = value
        else:
            keys = sorted(layer) + ["name", "branches", "kernel_size", "levels", "init", "scale_factor"]
            layer[draw(st.sampled_from(keys))] = value
    return data


@SETTINGS
@given(broken_designs())
def test_broken_designs_only_raise_the_format_error(data):
    try:
        design = Design.from_dict(data)
    except DesignFormatError as exc:
        assert "\n" not in str(exc)
        return
    analyze(design)  # loaded: analysis must not raise either
