"""Review of issue 9 through the command line: a symbolic-link loop given as any path is one line, exit 2."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from designer.cli import main

from .designs import as_dict, conv


@pytest.fixture
def files(tmp_path):
    design = tmp_path / "d.json"
    design.write_text(json.dumps(as_dict([conv("c", 2, 3, padding=1)], c=1, h=8, w=8)))
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8), np.float32))
    os.symlink(tmp_path / "loop_b", tmp_path / "loop_a")
    os.symlink(tmp_path / "loop_a", tmp_path / "loop_b")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["run", "{loop}", "--sample", "--out", "{out}"],
    ["run", "{design}", "--input-npy", "{loop}", "--out", "{out}"],
    ["run", "{design}", "--sample", "--weights", "{loop}", "--out", "{out}"],
    ["run", "{design}", "--sample", "--out", "{loop}"],
    ["run", "{design}", "--sample", "--save-weights", "{loop}", "--out", "{out}"],
    ["coverage", "{design}", "--layer", "c", "--out", "{loop}"],
], ids=["design", "input", "weights", "out", "save-weights", "coverage-out"])
def test_a_symlink_loop_is_one_line_and_exit_2(files, capsys, args):
    """``Path.resolve`` raised ``RuntimeError: Symlink loop`` (a traceback) while comparing inputs and outputs."""
    paths = {"loop": files / "loop_a", "design": files / "d.json", "out": files / "m.npz"}
    argv = [a.format(**paths) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "loop_a" in err, err


def _bad_groups(tmp_path) -> str:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(as_dict([conv("c", 6, 1), {"type": "GroupNorm", "name": "gn", "num_groups": 4}],
                                       c=1, h=8, w=8)))
    return str(path)


@pytest.mark.parametrize("args", [
    ["erf", "{d}", "--layer", "gn", "--uniform", "--out", "{o}"],
    ["erf", "{d}", "--layer", "gn", "--sample", "--out", "{o}"],
    ["coverage", "{d}", "--layer", "gn", "--out", "{o}"],
    ["run", "{d}", "--sample", "--out", "{o}"],
], ids=["erf-uniform", "erf", "coverage", "run"])
def test_a_design_with_errors_exits_1_naming_the_layer_in_every_command(tmp_path, capsys, args):
    """erf and coverage exited 2 with 'output shape unknown' or 'cannot size its weights'."""
    design = _bad_groups(tmp_path)
    assert main([a.format(d=design, o=tmp_path / "out.npy") for a in args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "layer 'gn': num_groups (4) does not divide the 6 channels" in err, err


def test_a_layer_failing_at_run_time_names_the_design_file(files, capsys, monkeypatch):
    """A kernel error (``RunError``) used to print without the file."""
    from designer.backend import functions

    def broken(layer, xs, w):
        raise ValueError("kernel refused")

    monkeypatch.setitem(functions.LAYER_OPS, "Conv2d", broken)
    design = str(files / "d.json")
    for argv in (["run", design, "--sample", "--out", str(files / "m.npz")], ["bench", design],
                 ["erf", design, "--layer", "c", "--sample", "--out", str(files / "e.npy")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {design}: layer 'c' (Conv2d)") and "kernel refused" in err, err


def test_an_erf_that_sees_only_padding_says_so(tmp_path, capsys):
    """The unit of a 1×1 conv with stride 30000 and padding 15000 reads padding only: no '(nan, nan)' centre."""
    path = tmp_path / "pad.json"
    path.write_text(json.dumps(as_dict([conv("s", 1, 1, stride=30000, padding=15000)], c=1, h=8, w=8)))
    assert main(["erf", str(path), "--layer", "s", "--sample", "--out", str(tmp_path / "e.npy")]) == 0
    out = capsys.readouterr().out
    assert "is empty: no input pixel changes this unit" in out and "nan" not in out
    assert not np.load(tmp_path / "e.npy").any()


def test_npz_members_without_the_npy_suffix_load_as_np_load_reads_them(files, capsys):
    """``np.load`` keys a member ``c.weight`` (no ``.npy``) as ``c.weight``; the header-first reader ignored it."""
    import io
    import zipfile

    design = str(files / "d.json")
    assert main(["run", design, "--sample", "--save-weights", str(files / "w.npz"), "--out", str(files / "m.npz")]) == 0
    with np.load(files / "w.npz") as saved, zipfile.ZipFile(files / "plain.npz", "w") as archive:
        for key in saved.files:
            buffer = io.BytesIO()
            np.save(buffer, saved[key])
            archive.writestr(key, buffer.getvalue())
    capsys.readouterr()
    assert main(["run", design, "--sample", "--weights", str(files / "plain.npz"), "--out", str(files / "n.npz")]) == 0
    with np.load(files / "m.npz") as a, np.load(files / "n.npz") as b:
        np.testing.assert_array_equal(a["c"], b["c"])


def test_weights_that_do_not_fit_in_memory_name_the_design(files, capsys, monkeypatch):
    """A 77-billion-parameter Linear failed with 'not enough memory for this design' and no file."""
    from designer.backend import runner

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(runner, "init_layer", no_memory)
    design = str(files / "d.json")
    assert main(["run", design, "--sample", "--out", str(files / "m.npz")]) == 2
    assert capsys.readouterr().err == f"error: {design}: not enough memory for this design's weights\n"


def test_a_contact_sheet_never_overwrites_the_input_image(files, capsys):
    """``--png DIR`` writes ``DIR/NNN_<layer>.png``: an ``--image`` of that name would have been destroyed."""
    design = str(files / "d.json")
    assert main(["run", design, "--sample", "--out", str(files / "m.npz"), "--png", str(files / "sheets")]) == 0
    image = files / "sheets" / "000_c.png"
    before = image.read_bytes()
    capsys.readouterr()
    assert main(["run", design, "--image", str(image), "--out", str(files / "n.npz"), "--png", str(files / "sheets")]) == 2
    assert "--png names the same file as --image" in capsys.readouterr().err
    assert image.read_bytes() == before
