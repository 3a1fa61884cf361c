"""The cnn-designer/v1 format: reading, naming, errors, lossless round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designer.core import Design, DesignFormatError, Layer
from designer.core.serialization import design_to_json

EXAMPLES = sorted(Path(__file__).resolve().parents[2].joinpath("resources", "examples").glob("*.json"))


def base(layers, **extra) -> dict:
    return {"format": "cnn-designer/v1", "input": {"channels": 3, "height": 32, "width": 32}, "layers": layers,
            **extra}


def error_of(data) -> str:
    with pytest.raises(DesignFormatError) as info:
        Design.from_dict(data, source="net.json")
    text = str(info.value)
    assert "\n" not in text and text.startswith("net.json")
    return text


def test_names_assigned_per_type_in_file_order():
    d = Design.from_dict(base([{"type": "Conv2d", "out_channels": 8, "kernel_size": 3}, {"type": "ReLU"},
                               {"type": "Branch", "branches": [[{"type": "ReLU"}], []]},
                               {"type": "Conv2d", "name": "conv2d2", "out_channels": 8, "kernel_size": 1},
                               {"type": "Conv2d", "out_channels": 8, "kernel_size": 1}]))
    assert [layer.name for _, layer in d.walk_file_order()] == ["conv2d1", "relu1", "branch1", "relu2", "conv2d2",
                                                                "conv2d3"]


def test_save_writes_only_user_set_hyperparameters_and_names(tmp_path):
    d = Design.from_dict(base([{"type": "Conv2d", "out_channels": 8, "kernel_size": [3, 5], "stride": 1}]))
    path = tmp_path / "d.json"
    d.save(path)
    saved = json.loads(path.read_text())
    assert saved["layers"] == [{"type": "Conv2d", "name": "conv2d1", "out_channels": 8, "kernel_size": [3, 5],
                                "stride": 1}]
    assert Design.load(path) == d


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_round_trip_is_lossless(path, tmp_path):
    d = Design.load(path)
    out = tmp_path / path.name
    d.save(out)
    again = Design.load(out)
    assert again == d
    assert design_to_json(again) == out.read_text()


def test_atomic_save_leaves_no_temp_files(tmp_path):
    d = Design.from_dict(base([]))
    d.save(tmp_path / "a.json")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize("data, expected", [
    ([1, 2], "a design is a JSON object"),
    ({"input": {}}, "field 'format'"),
    (base([], format="keras/v1"), "not a CNN Designer design"),
    (base([], format="cnn-designer/v2"), "newer than this CNN Designer understands"),
    ({"format": "cnn-designer/v1", "layers": []}, "field 'input'"),
    (base([]) | {"input": {"channels": 3, "height": 0, "width": 32}}, "field 'input.height': must be a positive"),
    (base([{"type": "Conv3d"}]), "layer layers[0]: field 'type': unknown layer type 'Conv3d' (did you mean Conv2d?)"),
    (base([{"type": "Conv2d", "name": "c", "out_channels": 8}]), "layer 'c' (layers[0]): field 'kernel_size'"),
    (base([{"type": "Conv2d", "name": "c", "out_channels": 8, "kernel_size": "3"}]), "field 'kernel_size'"),
    (base([{"type": "Conv2d", "name": "c", "out_channels": 0, "kernel_size": 3}]), "must be a positive integer"),
    (base([{"type": "Conv2d", "name": "c", "out_channels": 8, "kernel": 3}]), "did you mean 'kernel_size'"),
    (base([{"type": "ReLU", "name": "a"}, {"type": "ReLU", "name": "a"}]), "duplicate layer name 'a'"),
    (base([{"type": "Dropout", "p": 1.5}]), "field 'p': must be ≥ 0 and ≤ 1"),
    (base([{"type": "Branch", "name": "b", "branches": [[{"type": "Linear", "name": "fc"}]]}]),
     "layer 'fc' (layers[0].branches[0][0]): field 'out_features'"),
    (base([{"type": "Branch", "name": "b"}]), "field 'branches'"),
    (base([{"type": "ReLU", "branches": []}]), "only a Branch has branches"),
    (base([{"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": "full"}]), "'same' or 'valid'"),
    (base([], name=3), "field 'name'"),
    (base("x"), "field 'layers'"),
])
def test_format_errors_name_file_layer_and_field(data, expected):
    assert expected in error_of(data)


def test_unreadable_and_non_json_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DesignFormatError, match=r"bad.json: not valid JSON \(line 1"):
        Design.load(bad)
    with pytest.raises(DesignFormatError, match="cannot read the file"):
        Design.load(tmp_path / "missing.json")


def test_older_minor_and_same_major_accepted():
    assert Design.from_dict(base([], format="cnn-designer/v1.3")).layers == ()


def test_edits_return_new_designs_and_paths_address_branches():
    d = Design.from_dict(base([{"type": "Branch", "name": "b", "branches": [[{"type": "ReLU", "name": "r"}], []]}]))
    assert d.find("r") == (0, 0, 0)
    e = d.insert((0, 1, 0), Layer("Tanh", "t"))
    assert [layer.name for _, layer in e.walk()] == ["r", "t", "b"]
    assert [layer.name for _, layer in d.walk()] == ["r", "b"]
    f = e.remove((0, 0, 0)).set_params((0, 1, 0))
    assert [layer.name for _, layer in f.walk()] == ["t", "b"]
    assert d.unique_name("ReLU") == "relu1"


@pytest.mark.parametrize("data, expected", [
    (base([], extra=1), "field 'extra': unknown field"),
    (base([], format="cnn-designer/v0"), "unrecognised format version"),
    (base([]) | {"input": {"channels": 1, "height": 8, "width": 8, "mean": [float("nan")]}}, "finite numbers"),
    (base([{"type": "LeakyReLU", "negative_slope": float("inf")}]), "must be a finite number"),
    (base([{"type": "Upsample", "scale_factor": float("inf")}]), "positive finite number"),
])
def test_non_finite_numbers_unknown_keys_and_old_versions_are_refused(data, expected):
    assert expected in error_of(data)


def test_absurd_nesting_is_a_format_error_not_a_crash():
    data = base([])
    current = data["layers"]
    for _ in range(3000):
        branch = {"type": "Branch", "branches": [[]]}
        current.append(branch)
        current = branch["branches"][0]
    assert "nested too deeply" in error_of(data)
