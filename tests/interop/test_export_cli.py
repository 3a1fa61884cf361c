"""``python main.py export DESIGN.json --format pytorch|onnx [--weights W | --seed N] --out PATH``: files written,
weights honoured, exit 1 for a design with errors (all named), exit 2 with one line for unreadable inputs or an
unwritable output."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from designer.backend.runner import Runner
from designer.backend.weights import save_weights
from designer.cli.main import main
from tests.interop.export_cases import CASES


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def design_file(tmp_path):
    path = tmp_path / "net.json"
    CASES["depthwise"].save(path)
    return path


def test_pytorch_without_weights_writes_only_the_code(tmp_path, capsys, design_file):
    code, out, err = run(capsys, "export", design_file, "--format", "pytorch", "--out", tmp_path / "net.py")
    assert (code, err) == (0, "") and "net.py" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json", "net.py"]
    compile((tmp_path / "net.py").read_text(encoding="utf-8"), "net.py", "exec")


def test_pytorch_with_seed_writes_the_app_weights_beside_it(tmp_path, capsys, design_file):
    code, _, _ = run(capsys, "export", design_file, "--format", "pytorch", "--seed", "7", "--out", tmp_path / "m.py")
    assert code == 0
    from safetensors.numpy import load_file

    stored = load_file(str(tmp_path / "m.safetensors"))
    expected = Runner(CASES["depthwise"], seed=7).weights
    assert stored.keys() == expected.keys() and all(np.array_equal(stored[k], expected[k]) for k in expected)


def test_onnx_carries_the_given_weights(tmp_path, capsys, design_file):
    weights = {k: v + 1 for k, v in Runner(CASES["depthwise"], seed=3).weights.items()}
    save_weights(tmp_path / "w.npz", weights)
    code, _, _ = run(capsys, "export", design_file, "--format", "onnx", "--weights", tmp_path / "w.npz",
                     "--out", tmp_path / "net.onnx")
    assert code == 0
    model = onnx.load(str(tmp_path / "net.onnx"))
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert stored.keys() == weights.keys() and all(np.array_equal(stored[k], weights[k]) for k in weights)


def test_design_with_errors_exits_1_naming_each_error(tmp_path, capsys):
    data = CASES["nested_branches"].to_dict()
    inner = data["layers"][1]["branches"][0][1]["branches"]
    inner[0][0]["groups"] = 3
    inner[1][1]["groups"] = 3
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run(capsys, "export", path, "--format", "onnx", "--out", tmp_path / "x.onnx")
    assert code == 1 and "layer 'i1'" in err and "layer 'i2'" in err and err.count("\n") == 1
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("fmt", ["pytorch", "onnx"])
def test_unwritable_output_is_one_line_exit_2(tmp_path, capsys, design_file, fmt):
    code, _, err = run(capsys, "export", design_file, "--format", fmt, "--out", tmp_path / "missing" / "net.out")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "net.out" in err


def test_weights_that_do_not_fit_are_one_line_exit_2(tmp_path, capsys, design_file):
    save_weights(tmp_path / "w.npz", {"dw1.weight": np.zeros((1, 1, 1, 1), np.float32)})
    code, _, err = run(capsys, "export", design_file, "--format", "onnx", "--weights", tmp_path / "w.npz",
                       "--out", tmp_path / "net.onnx")
    assert code == 2 and "dw1" in err and err.count("\n") == 1
