"""Every registered layer type has PyTorch code and ONNX nodes (a new type fails here until it gets both), and
the one-design-per-type set used by the equivalence tests covers every type with a valid design."""

from __future__ import annotations

from designer.core import LAYER_SPECS, analyze
from designer.interop.export_onnx import ONNX_LAYERS
from designer.interop.export_torch import TORCH_LAYERS
from tests.interop.export_cases import every_type_designs


def test_every_layer_type_has_pytorch_code():
    assert set(LAYER_SPECS) - set(TORCH_LAYERS) == set(), "add an entry to export_torch/layers.py TORCH_LAYERS"
    assert set(TORCH_LAYERS) - set(LAYER_SPECS) == set(), "stale entries in TORCH_LAYERS"


def test_every_layer_type_has_onnx_nodes():
    assert set(LAYER_SPECS) - set(ONNX_LAYERS) == set(), "add an emitter to export_onnx/layers.py ONNX_LAYERS"
    assert set(ONNX_LAYERS) - set(LAYER_SPECS) == set(), "stale entries in ONNX_LAYERS"


def test_every_type_has_a_valid_test_design():
    invalid = [t for t, d in every_type_designs().items() if not analyze(d).valid]
    assert not invalid, f"no valid one-layer design for {invalid}; give the type palette defaults or a case"
