"""Live: PyTorch models exported by both exporters, imported, and run by the app vs torch (≤ 1e-4 relative).

Skipped without torch; the same models' stored exports are checked torch-free in ``test_import_stored``.
The dynamo exporter takes seconds per model, so it runs live on the models that exercise its own spellings
(BN folded by the optimiser, ``name_scopes`` names, SiLU/GELU decompositions, external data); set
``CNN_DESIGNER_ALL_EXPORTS=1`` to run it on every model.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

from designer.backend.runner import Runner  # noqa: E402
from designer.interop.onnx_import import import_onnx  # noqa: E402

from . import torch_models  # noqa: E402

DYNAMO_LIVE = (
    set(torch_models.MODELS) if os.environ.get("CNN_DESIGNER_ALL_EXPORTS") else {"resnet", "se_block"}
)
CASES = [(name, False) for name in torch_models.MODELS] + [
    (name, True) for name in torch_models.MODELS if name in DYNAMO_LIVE
]


def export(model, x, path, dynamo: bool) -> None:
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=dynamo)


@pytest.mark.parametrize(("name", "dynamo"), CASES, ids=[f"{n}-{'dynamo' if d else 'ts'}" for n, d in CASES])
def test_imported_model_matches_torch(tmp_path, name, dynamo):
    model = torch_models.build(name)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want = model(x).numpy()[0]
    path = tmp_path / f"{name}.onnx"
    export(model, x, path, dynamo)
    design, weights = import_onnx(path)
    got = Runner(design, weights).run(x.numpy()[0])[design.layers[-1].name]
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-4 * max(np.abs(want).max(), 1e-6)


def test_view_with_a_dynamic_batch_goes_through_the_shape_chain(tmp_path):
    """``x.view(x.size(0), -1)`` with a dynamic batch: ``Shape → Gather → Unsqueeze → Concat → Reshape``."""
    model = torch_models.build("vgg")
    x = torch.randn(2, 3, 32, 32)
    path = tmp_path / "vgg.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (x,), str(path), dynamo=False, input_names=["x"], dynamic_axes={"x": {0: "N"}}
        )
    design, weights = import_onnx(path)
    assert "Flatten" in [layer.type for layer in design.layers]
    with torch.no_grad():
        want = model(x[:1]).numpy()[0]
    got = Runner(design, weights).run(x.numpy()[0])[design.layers[-1].name]
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


@pytest.mark.parametrize("dynamo", [False, True], ids=["ts", "dynamo"])
def test_torch_local_response_norm_spellings_import(tmp_path, dynamo):
    """Regression: ``nn.LocalResponseNorm`` exports as PyTorch's 5-D formula (TorchScript: a computed Pad and
    an ``If`` around the Squeeze; dynamo: Reshape, Pad, Squeeze), refused before; odd and even sizes."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.LocalResponseNorm(5, 0.01, 0.75, 2.0),
                                torch.nn.ReLU(), torch.nn.LocalResponseNorm(4, 0.5, 0.6, 1.0)).eval()
    x = torch.randn(1, 3, 10, 9, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = model(x).numpy()[0]
    export(model, x, tmp_path / "lrn.onnx", dynamo)
    design, weights = import_onnx(tmp_path / "lrn.onnx")
    assert [layer.type for layer in design.layers].count("LocalResponseNorm") == 2
    got = Runner(design, weights).run(x.numpy()[0])[design.layers[-1].name]
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
