"""Weight files: .npz, .safetensors and PyTorch checkpoints read without torch; malicious pickles refused."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from designer.backend.runner import Runner
from designer.backend.weights import WeightsError, load_weights
from designer.core import Design
from designer.interop.weight_files import (
    UnsafeCheckpointError,
    WeightFileError,
    read_weight_file,
    write_weight_file,
)

from .make_onnx_files import reference_input

HERE = Path(__file__).resolve().parent
FILES = HERE / "onnx_files"
SMALL_NET = Design.load(HERE / "small_net.json")
REFERENCE = np.load(FILES / "reference.npz")["small_net"]


def run_small_net(weights_path: Path) -> np.ndarray:
    outputs = Runner(SMALL_NET, load_weights(weights_path, SMALL_NET)).run(
        reference_input("small_net", (1, 3, 16, 16))[0]
    )
    return outputs["fc"]


@pytest.mark.parametrize("name", ["small_state_dict.pt", "small_checkpoint.pth"])
def test_pytorch_checkpoints_load_into_run_without_torch(name):
    """``torch.save(state_dict)`` and a DataParallel (``module.``) state dict inside a checkpoint dict."""
    weights = read_weight_file(FILES / name)
    assert set(weights) == {
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "fc.weight",
        "fc.bias",
    }
    assert weights["bn.num_batches_tracked"].dtype == np.int64
    np.testing.assert_allclose(run_small_net(FILES / name), REFERENCE, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_written_weights_read_back_and_run(tmp_path, suffix):
    path = tmp_path / f"w{suffix}"
    write_weight_file(path, read_weight_file(FILES / "small_state_dict.pt"))
    np.testing.assert_allclose(run_small_net(path), REFERENCE, rtol=1e-4, atol=1e-5)


def test_safetensors_bfloat16_is_widened(tmp_path):
    values = np.array([1.0, -2.5, 0.15625], np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"t": {"dtype": "BF16", "shape": [3], "data_offsets": [0, len(bits)]}}).encode()
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bits)
    np.testing.assert_array_equal(read_weight_file(path)["t"], values)


def test_torch_style_names_match_imported_layer_names(tmp_path):
    """``features.0.weight`` fits a design layer ``features_0`` (how imported designs name layers)."""
    design = Design.from_dict(
        {
            "format": "cnn-designer/v1",
            "input": {"channels": 3, "height": 8, "width": 8},
            "layers": [{"type": "Conv2d", "name": "features_0", "out_channels": 2, "kernel_size": 1}],
        }
    )
    path = tmp_path / "w.safetensors"
    write_weight_file(
        path,
        {"features.0.weight": np.ones((2, 3, 1, 1), np.float32), "features.0.bias": np.zeros(2, np.float32)},
    )
    assert set(load_weights(path, design)) == {"features_0.weight", "features_0.bias"}


def test_shape_mismatch_and_missing_tensor_name_the_tensor(tmp_path):
    weights = read_weight_file(FILES / "small_state_dict.pt")
    path = tmp_path / "bad.safetensors"
    write_weight_file(path, {**weights, "fc.weight": np.zeros((5, 7), np.float32)})
    with pytest.raises(
        WeightsError,
        match=r"bad.safetensors: layer 'fc': weight has shape \[5, 7\] but the design "
        r"needs \[5, 256\]",
    ):
        load_weights(path, SMALL_NET)
    write_weight_file(path, {k: v for k, v in weights.items() if k != "bn.running_var"})
    with pytest.raises(WeightsError, match=r"layer 'bn': the weights lack 'bn.running_var' \(shape \[4\]\)"):
        load_weights(path, SMALL_NET)
    write_weight_file(path, {**weights, "head.weight": np.zeros((3, 5), np.float32)})
    with pytest.raises(
        WeightsError,
        match=r"bad.safetensors: the weights hold 'head.weight' \(shape \[3, 5\]\), "
        r"which no layer of the design takes; 1 extra tensor",
    ):
        load_weights(path, SMALL_NET)


class _Payload:
    """Unpickling this calls ``os.system`` (which would create the marker file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _checkpoint_with(tmp_path: Path, obj) -> Path:
    """A zip laid out like ``torch.save`` output whose ``data.pkl`` pickles ``obj``."""
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps(obj, protocol=2))
        archive.writestr("evil/byteorder", "little")
        archive.writestr("evil/version", "3\n")
    return path


def test_malicious_pickle_is_refused_without_running(tmp_path, capsys):
    from designer.cli.main import main

    marker = tmp_path / "pwned"
    path = _checkpoint_with(tmp_path, {"conv.weight": _Payload(marker)})
    with pytest.raises(
        UnsafeCheckpointError,
        match=r"evil.pt: refused: the checkpoint's pickle calls "
        r"(posix|os|nt)\.system",
    ):
        read_weight_file(path)
    with pytest.raises(WeightsError, match="refused"):
        load_weights(path, SMALL_NET)
    design = HERE / "small_net.json"
    assert (
        main(["run", str(design), "--sample", "--weights", str(path), "--out", str(tmp_path / "m.npz")]) == 2
    )
    assert "refused" in capsys.readouterr().err
    assert not marker.exists()


class _Call:
    """Unpickling this calls ``function(*args)``."""

    def __init__(self, function, *args) -> None:
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


@pytest.mark.parametrize("what", ["builtins.exec", "subprocess.Popen", "builtins.eval"])
def test_refusals_name_the_python_3_callable(tmp_path, what):
    """Regression: a protocol-2 pickle (``torch.save``'s) spells builtins as ``__builtin__`` and subprocess as
    ``commands``; the refusal names what would have run, and nothing runs."""
    import builtins
    import subprocess

    marker = tmp_path / "pwned"
    call = {"builtins.exec": _Call(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
            "builtins.eval": _Call(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
            "subprocess.Popen": _Call(subprocess.Popen, ["touch", str(marker)])}[what]
    path = _checkpoint_with(tmp_path, {"state_dict": {"conv.weight": call}})
    with pytest.raises(UnsafeCheckpointError, match=rf"refused: the checkpoint's pickle calls {what}, "):
        read_weight_file(path)
    assert not marker.exists()


def test_unreadable_files_are_one_line_errors(tmp_path):
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(UnsafeCheckpointError, match="legacy.pt: refused: a bare pickle .* is never unpickled"):
        read_weight_file(legacy)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"hello world")
    with pytest.raises(WeightFileError, match="junk.pth: cannot read weights: not a weight file"):
        read_weight_file(junk)
    no_tensors = _checkpoint_with(tmp_path, {"epoch": 3})
    with pytest.raises(WeightFileError, match=r"no tensors found \(top-level keys: epoch\)"):
        read_weight_file(no_tensors)
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes((FILES / "small_state_dict.pt").read_bytes()[:300])
    with pytest.raises(WeightFileError, match="cut.pt: cannot read weights"):
        read_weight_file(truncated)
    with pytest.raises(WeightFileError, match="use a .npz or .safetensors suffix"):
        write_weight_file(tmp_path / "w.bin", {})


def test_out_of_bounds_tensor_layout_is_refused(tmp_path):
    """A crafted stride that would read past its storage is refused, not read."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "w.pt"
    torch.save({"w": torch.zeros(4)}, path)
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    pkl = next(n for n in entries if n.endswith("data.pkl"))
    entries[pkl] = entries[pkl].replace(b"K\x04\x85", b"K\x40\x85")  # size (4,) → (64,)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(WeightFileError, match="larger than its storage"):
        read_weight_file(path)


def test_live_torch_checkpoint_and_safetensors(tmp_path):
    torch = pytest.importorskip("torch")
    from . import torch_models

    model = torch_models.build("small_net")
    pt = tmp_path / "live.pt"
    torch.save(model.state_dict(), pt)
    from safetensors.torch import save_file

    st = tmp_path / "live.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(st))
    x = torch.from_numpy(reference_input("small_net", (1, 3, 16, 16)))
    with torch.no_grad():
        want = model(x).numpy()[0]
    for path in (pt, st):
        np.testing.assert_allclose(run_small_net(path), want, rtol=1e-4, atol=1e-5)
    buffer = io.BytesIO()
    torch.save(model.half().state_dict(), buffer)
    (tmp_path / "half.pt").write_bytes(buffer.getvalue())
    assert read_weight_file(tmp_path / "half.pt")["conv.weight"].dtype == np.float16
