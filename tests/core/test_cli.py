"""The ``summary`` command: formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from designer.cli import main

ROOT = Path(__file__).resolve().parents[2]
VGG = str(ROOT / "resources" / "examples" / "vgg16.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_layout(capsys):
    code, out, _ = run(capsys, "summary", VGG, "--format", "json", "--batch", "4")
    data = json.loads(out)
    assert code == 0 and data["valid"] and data["batch_size"] == 4
    assert {"name", "input_shape", "batch_size", "dtype", "valid", "layers", "totals", "memory", "issues"} <= set(data)
    layer = data["layers"][0]
    assert {"name", "type", "depth", "input_shape", "output_shape", "params", "buffers", "macs", "receptive_field",
            "jump", "output_bytes", "issues"} <= set(layer)
    assert set(data["totals"]) >= {"params", "trainable_params", "buffers", "macs", "flops"}
    assert set(data["memory"]) >= {"input_bytes", "params_bytes", "activations_bytes", "inference_peak_bytes",
                                   "training_bytes"}
    assert data["memory"]["input_bytes"] == 4 * 3 * 224 * 224 * 4


@pytest.mark.parametrize("fmt, marker", [("table", "Total params: 138,357,544"), ("markdown", "| Layer |"),
                                         ("csv", "name,type,depth"), ("json", '"flops"')])
def test_formats(capsys, fmt, marker):
    code, out, _ = run(capsys, "summary", VGG, "--format", fmt)
    assert code == 0 and marker in out
    if fmt != "json":
        assert "FLOPs" in out


def test_input_override_and_dtype(capsys):
    code, out, _ = run(capsys, "summary", VGG, "--format", "json", "--input", "3x32x32", "--dtype", "float16")
    data = json.loads(out)
    assert data["input_shape"] == [3, 32, 32] and data["dtype"] == "float16"
    assert code == 0  # the adaptive pool still hands the classifier 512·7·7 features
    assert data["layers"][-1]["output_shape"] == [1000]
    code, out, _ = run(capsys, "summary", VGG, "--input", "3x16x16")
    assert code == 1 and "pool5" in out  # 16 px are halved to 1×1 before pool5's 2×2 window


def test_design_with_errors_exits_1_and_still_prints(tmp_path, capsys):
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"format": "cnn-designer/v1", "input": {"channels": 3, "height": 4, "width": 4},
                                "layers": [{"type": "Conv2d", "name": "c", "out_channels": 2, "kernel_size": 7}]}))
    code, out, _ = run(capsys, "summary", str(path))
    assert code == 1 and "larger than the padded input" in out and "Design has errors." in out


def test_broken_file_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "b.json"
    path.write_text('{"format": "cnn-designer/v1", "input": {"channels": 3, "height": 4, "width": 4},'
                    ' "layers": [{"type": "MaxPool2d", "name": "p"}]}')
    code, out, err = run(capsys, "summary", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "b.json: layer 'p' (layers[0]): field 'kernel_size'" in err


def test_main_py_runs_as_a_script():
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "summary", VGG, "--format", "csv"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("name,type")


def test_runs_refuse_designs_too_large_to_execute(tmp_path, capsys):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"format": "cnn-designer/v1", "input": {"channels": 1, "height": 10**9, "width": 10**9},
                                "layers": [{"type": "Conv2d", "name": "c", "out_channels": 1, "kernel_size": 3}]}))
    for argv in (["coverage", str(path), "--layer", "c", "--out", str(tmp_path / "c.npy")],
                 ["erf", str(path), "--layer", "c", "--uniform", "--out", str(tmp_path / "e.npy")],
                 ["run", str(path), "--sample", "--out", str(tmp_path / "m.npz")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "huge.json" in err
    assert main(["summary", str(path), "--format", "json"]) == 0
