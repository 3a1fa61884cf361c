"""Issue 9, items 4, 5, 8, 13 and 15 through the command line: coverage on the support box, ``--input-npy``
checked against the design, outputs never overwrite inputs, outputs at exactly the given path, and Qt's own
warnings never add stderr lines."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from designer.cli import main
from designer.core import Design
from designer.core.coverage import coverage_map, coverage_support

from .designs import as_dict, conv, layer

ROOT = Path(__file__).resolve().parents[2]


def write_design(tmp_path: Path, layers: list[dict], name: str = "d.json", **size) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(as_dict(layers, **{"c": 1, "h": 16, "w": 16, **size})))
    return str(path)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


# --- item 4 -----------------------------------------------------------------------------------
def test_coverage_cost_follows_the_receptive_field_not_the_image(tmp_path, capsys):
    layers = [conv(f"c{i}", 1, 3, padding=1, bias=False) for i in range(12)]
    path = write_design(tmp_path, layers, h=8192, w=8192)
    t0 = time.perf_counter()
    box = coverage_support(Design.load(path), "c11")
    assert time.perf_counter() - t0 < 5  # two dense 8192×8192 products per layer took minutes each
    line = np.ones(1, np.int64)
    for _ in range(12):
        line = np.convolve(line, np.ones(3, np.int64))
    assert (box.top, box.left, box.counts.shape) == (4095 - 12, 4095 - 12, (25, 25))
    assert np.array_equal(box.counts, np.outer(line, line))
    out = tmp_path / "cov"
    assert main(["coverage", path, "--layer", "c11", "--out", str(out)]) == 0
    assert "625 of 625 pixels" in capsys.readouterr().out
    saved = np.load(out, mmap_mode="r")
    assert saved.shape == (8192, 8192) and saved.dtype == np.int64
    assert np.array_equal(saved[4083:4108, 4083:4108], box.counts) and int(saved[:4083].max()) == 0


def test_support_box_equals_the_full_map_with_branches_and_upsampling():
    design = Design.from_dict(as_dict([
        conv("a", 2, 3, stride=2), layer("Upsample", "up", scale_factor=1.5),
        layer("Branch", "b", merge="add", branches=[[conv("d", 2, 3, padding=2, dilation=2)], []]),
        {"type": "ConvTranspose2d", "name": "t", "out_channels": 1, "kernel_size": 3, "stride": 2}], c=1, h=21, w=17))
    for unit in [(0, 0), (5, 7), None]:
        box = coverage_support(design, "t", unit)
        full = coverage_map(design, "t", unit)
        assert np.array_equal(box.full(), full) and box.counts.sum() == full.sum()
        ys, xs = np.nonzero(full)
        assert (box.top, box.left) == (ys.min(), xs.min())


# --- item 5 -----------------------------------------------------------------------------------
def test_input_npy_is_analysed_at_the_arrays_size_and_guarded(tmp_path, capsys):
    design = write_design(tmp_path, [conv("wide", 4096, 3, padding=1)])
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((1, 1, 600, 600), np.uint8))  # 0.4 MB; 4096×600×600 float32 outputs are 5.5 GiB
    assert main(["run", design, "--input-npy", str(big), "--out", str(tmp_path / "m.npz")]) == 2
    err = one_error_line(capsys)
    assert "d.json (at the 600×600 size of" in err and "more than the 4.00 GiB allowed" in err


def test_input_npy_of_another_size_runs_at_that_size(tmp_path, capsys):
    design = write_design(tmp_path, [conv("c", 2, 3, padding=1), layer("ReLU", "r")])
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).standard_normal((1, 24, 20)).astype(np.float32))
    out = tmp_path / "m.npz"
    assert main(["run", design, "--input-npy", str(x), "--out", str(out)]) == 0
    with np.load(out) as maps:
        assert maps["r"].shape == (2, 24, 20)
    flat = write_design(tmp_path, [conv("c", 2, 3), layer("Flatten", "f"), layer("Linear", "fc", out_features=3)],
                        name="flat.json")
    weights = tmp_path / "w.npz"
    assert main(["run", flat, "--sample", "--out", str(out), "--save-weights", str(weights)]) == 0
    capsys.readouterr()
    assert main(["run", flat, "--input-npy", str(x), "--weights", str(weights), "--out", str(out)]) == 2
    assert "layer 'fc': weight has shape [3, 392] but the design needs [3, 792]" in one_error_line(capsys)
    np.save(x, np.zeros((3, 16, 16), np.float32))
    assert main(["run", flat, "--input-npy", str(x), "--out", str(out)]) == 2
    assert "expected a [1, H, W] array, got [3, 16, 16]" in one_error_line(capsys)


# --- item 8 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, clash", [
    (["run", "{d}", "--sample", "--out", "{d}"], "--out names the same file as the design"),
    (["run", "{d}", "--sample", "--weights", "{w}", "--out", "{w}"], "--out names the same file as --weights"),
    (["run", "{d}", "--sample", "--out", "{m}", "--save-weights", "{dir}/../{dirname}/m.npz"],
     "--save-weights names the same file as --out"),
    (["fully-conv", "{d}", "--weights", "{w}", "--out", "{link}", "--out-weights", "{n}"],
     "--out names the same file as the design"),
    (["fully-conv", "{d}", "--weights", "{w}", "--out", "{n}.json", "--out-weights", "{w}"],
     "--out-weights names the same file as --weights"),
    (["coverage", "{d}", "--layer", "c", "--out", "{d}"], "--out names the same file as the design"),
    (["erf", "{d}", "--layer", "c", "--uniform", "--out", "{d}"], "--out names the same file as the design"),
])
def test_an_output_never_overwrites_an_input(tmp_path, capsys, argv, clash):
    design = write_design(tmp_path, [conv("c", 2, 3, padding=1), layer("Flatten", "f"),
                                     layer("Linear", "fc", out_features=2)])
    weights = tmp_path / "w.npz"
    assert main(["run", design, "--sample", "--out", str(tmp_path / "first.npz"), "--save-weights", str(weights)]) == 0
    (tmp_path / "link.json").symlink_to(design)
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    names = {"d": design, "w": str(weights), "m": str(tmp_path / "m.npz"), "n": str(tmp_path / "new.npz"),
             "link": str(tmp_path / "link.json"), "dir": str(tmp_path), "dirname": tmp_path.name}
    assert main([a.format(**names) for a in argv]) == 2
    assert clash in one_error_line(capsys)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


# --- item 13 ----------------------------------------------------------------------------------
def test_outputs_are_written_at_exactly_the_given_paths(tmp_path, capsys):
    design = write_design(tmp_path, [conv("c", 2, 3), layer("Flatten", "f"), layer("Linear", "fc", out_features=2)])
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", design, "--sample", "--out", str(out / "maps"), "--save-weights", str(out / "w")]) == 0
    assert main(["coverage", design, "--layer", "c", "--out", str(out / "cov")]) == 0
    assert f"saved 16×16 map to {out / 'cov'}" in capsys.readouterr().out
    assert main(["fully-conv", design, "--weights", str(out / "w"), "--out", str(out / "fc"),
                 "--out-weights", str(out / "fcw")]) == 0
    assert main(["erf", design, "--layer", "c", "--uniform", "--out", str(out / "erf")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["cov", "erf", "fc", "fcw", "maps", "w"]
    assert np.load(out / "cov").shape == (16, 16) and "fc" in Design.load(out / "fc").names()
    with np.load(out / "fcw") as w:
        assert "fc.weight" in w.files


# --- item 15 ----------------------------------------------------------------------------------
def _png_claiming(path: Path, width: int, height: int) -> None:
    """A valid 1×1 grayscale PNG whose header then claims ``width × height``."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0"))
                     + chunk(b"IEND", b""))


def test_qt_warnings_never_add_lines_to_stderr(tmp_path):
    pytest.importorskip("PySide6")
    design = write_design(tmp_path, [layer("ReLU", "r\n\0")])
    png = tmp_path / "huge.png"
    _png_claiming(png, 100000, 100000)
    for argv, code, stderr in (
        (["run", design, "--image", str(png), "--out", str(tmp_path / "m.npz")], 2, "huge.png: cannot read the image"),
        (["run", design, "--sample", "--out", str(tmp_path / "m.npz"), "--png", str(tmp_path / "sheets")], 0, ""),
    ):
        proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *argv], capture_output=True, text=True,
                              cwd=ROOT, timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                              check=False)
        assert proc.returncode == code, proc.stderr
        assert proc.stderr.count("\n") == (1 if code else 0) and stderr in proc.stderr, proc.stderr
    assert [p.name for p in (tmp_path / "sheets").iterdir()] == ["000_r__.png"]
