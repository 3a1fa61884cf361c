"""``run``, ``fully-conv`` and ``bench`` subcommands (handlers called through argparse)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from designer.cli import main

from .designs import as_dict, conv, layer

ROOT = Path(__file__).resolve().parents[2]


def _call(argv: list[str]) -> int:
    """Through the real entry point, which turns user errors into one stderr line and an exit code."""
    return main(argv)


def _design_file(tmp_path: Path, layers: list[dict] | None = None) -> str:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(as_dict(layers or [
        conv("c1", 4, 3, padding=1), layer("ReLU", "r1"), layer("MaxPool2d", "p1", kernel_size=2),
        layer("Flatten", "f"), layer("Linear", "fc", out_features=3),
    ], c=1, h=16, w=16, mean=[0.5], std=[0.25])))
    return str(path)


def test_run_writes_every_map_and_sheets(tmp_path):
    design = _design_file(tmp_path)
    out, png, w = tmp_path / "maps.npz", tmp_path / "png", tmp_path / "w.npz"
    assert _call(["run", design, "--sample", "--seed", "3", "--out", str(out), "--png", str(png),
                  "--save-weights", str(w)]) == 0
    with np.load(out) as maps:
        assert set(maps.files) == {"input", "c1", "r1", "p1", "f", "fc"}
        assert maps["input"].shape == (1, 16, 16) and maps["fc"].shape == (3,)
        first = maps["fc"].copy()
    assert len(list(png.glob("*.png"))) == 5
    np.save(tmp_path / "x.npy", np.load(out)["input"])
    assert _call(["run", design, "--input-npy", str(tmp_path / "x.npy"), "--weights", str(w),
                  "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out)["fc"], first)


def test_fully_conv_then_run(tmp_path):
    design = _design_file(tmp_path)
    w = tmp_path / "w.npz"
    assert _call(["run", design, "--sample", "--out", str(tmp_path / "m.npz"), "--save-weights", str(w)]) == 0
    new_json, new_w = tmp_path / "fc.json", tmp_path / "fc.npz"
    assert _call(["fully-conv", design, "--weights", str(w), "--out", str(new_json),
                  "--out-weights", str(new_w)]) == 0
    assert _call(["run", str(new_json), "--sample", "--weights", str(new_w), "--out", str(tmp_path / "o.npz")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "o.npz")["fc"].ravel(), np.load(tmp_path / "m.npz")["fc"],
                               rtol=1e-5, atol=1e-6)


def test_bench_prints_json(tmp_path, capsys):
    assert _call(["bench", _design_file(tmp_path), "--repeat", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["forward_ms"] > 0 and set(result["layers"]) == {"c1", "r1", "p1", "f", "fc"}


def test_errors_are_one_line_and_nonzero(tmp_path, capsys):
    design = _design_file(tmp_path)
    bad_w = tmp_path / "bad.npz"
    np.savez(bad_w, **{"c1.weight": np.zeros((4, 1, 5, 5), np.float32)})
    assert _call(["run", design, "--sample", "--weights", str(bad_w), "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "layer 'c1'" in err and "[4, 1, 5, 5]" in err and "[4, 1, 3, 3]" in err
    assert _call(["run", design, "--image", str(tmp_path / "none.png"), "--out", str(tmp_path / "m.npz")]) == 2
    broken = _design_file(tmp_path, [conv("c1", 4, 30)])
    assert _call(["run", broken, "--sample", "--out", str(tmp_path / "m.npz")]) == 1
    assert "layer 'c1'" in capsys.readouterr().err


def test_main_entry_point(tmp_path):
    design = _design_file(tmp_path)
    done = subprocess.run([sys.executable, "main.py", "run", design, "--sample", "--out", str(tmp_path / "m.npz")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.npz").exists()


def test_maps_keep_any_layer_name_and_the_input(tmp_path, capsys):
    names = ["file", "allow_pickle", "input", "a-b c"]
    design = _design_file(tmp_path, [conv(names[0], 2, 3, padding=1), layer("ReLU", names[1]),
                                     layer("Tanh", names[2]), layer("Sigmoid", names[3])])
    out = tmp_path / "maps.npz"
    x = np.random.default_rng(0).standard_normal((1, 16, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert _call(["run", design, "--input-npy", str(tmp_path / "x.npy"), "--out", str(out)]) == 0
    assert "'__input__'" in capsys.readouterr().out
    with np.load(out, allow_pickle=False) as maps:
        assert set(maps.files) == {*names, "__input__"}
        np.testing.assert_array_equal(maps["__input__"], x)
        assert maps["input"].shape == (2, 16, 16) and np.abs(maps["input"]).max() < 1  # the Tanh layer
        np.testing.assert_array_equal(maps["allow_pickle"], np.maximum(maps["file"], 0))


def test_input_key_avoids_every_layer_name():
    from designer.cli.run import input_key

    assert input_key({"c": 0}) == "input"
    assert input_key({"input": 0, "__input__": 0}) == "____input____"


def test_unreadable_inputs_are_one_line_errors(tmp_path, capsys):
    design = _design_file(tmp_path)
    maps = str(tmp_path / "m.npz")
    assert _call(["run", design, "--sample", "--out", maps, "--save-weights", str(tmp_path / "w.npz")]) == 0
    capsys.readouterr()
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes((tmp_path / "w.npz").read_bytes()[:-40])
    np.savez(tmp_path / "x.npz", x=np.zeros((1, 16, 16), np.float32))
    np.save(tmp_path / "text.npy", np.array([["a"]]))
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY junk")
    for argv, where in (
        (["--sample", "--weights", str(truncated)], "cut.npz: cannot read weights"),
        (["--input-npy", str(tmp_path / "x.npz")], "x.npz: cannot read the input array: expected one array saved by np.save"),
        (["--input-npy", str(tmp_path / "text.npy")], "text.npy: expected a numeric array"),
        (["--input-npy", str(tmp_path / "junk.npy")], "junk.npy: cannot read the input array"),
    ):
        assert _call(["run", design, *argv, "--out", maps]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and where in err, err
