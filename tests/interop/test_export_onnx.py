"""The ONNX model's contract: opset, checker, names (input/output, nodes = layers, initializers = state_dict
keys), the symbolic batch, the mapping of the special cases, external data for huge weights, and refusals.
(Numbers: ``test_export_equivalence.py``.)"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from designer.core import Design, analyze
from designer.interop import export_onnx as export_onnx_module
from designer.interop.export_checks import ExportError
from designer.interop.export_onnx import OPSET, build_onnx, export_onnx
from tests.interop.export_cases import CASES, random_weights


@pytest.fixture(scope="module")
def mixed() -> tuple[Design, dict[str, np.ndarray], onnx.ModelProto]:
    design = CASES["mix"]
    weights = random_weights(design)
    return design, weights, build_onnx(design, weights)


def test_model_is_valid_with_opset_17_and_named_inputs(mixed):
    design, _, model = mixed
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET >= 17
    (inp,), (out,) = model.graph.input, model.graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert inp.name == "input" and dims == ["N", *design.input.shape]
    assert out.name == "output" and out.type.tensor_type.shape.dim[0].dim_param == "N"


def test_initializers_are_the_state_dict_tensors(mixed):
    _, weights, model = mixed
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert stored.keys() == weights.keys()
    assert all(np.array_equal(stored[k], weights[k]) for k in weights)


def test_every_layer_is_a_node_of_its_name_and_helpers_are_prefixed(mixed):
    design, _, model = mixed
    names = [n.name for n in model.graph.node]
    layers = {layer.name for _, layer in design.walk()}
    assert layers <= set(names) and len(set(names)) == len(names)
    assert all(n in layers or n.split("/")[0] in layers for n in names)


def test_layer_outputs_carry_the_analysed_shapes(mixed):
    design, _, model = mixed
    shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in model.graph.value_info}
    rows = analyze(design).rows[:-1]  # the last layer's tensor is "output"
    assert {r.name: ["N", *r.output_shape] for r in rows} == {r.name: shapes[r.name] for r in rows}


def _ops(design: Design) -> dict[str, list[str]]:
    """``{layer: [op types of its nodes]}``."""
    ops: dict[str, list[str]] = {}
    for node in build_onnx(design, random_weights(design)).graph.node:
        ops.setdefault(node.name.split("/")[0], []).append(node.op_type)
    return ops


def test_special_cases_map_to_the_documented_nodes():
    same = _ops(CASES["same_stride"])
    assert same["s2_k3"] == ["Constant", "Pad", "Conv"] and same["s1_d2"] == ["Conv"]
    spp = _ops(CASES["spp"])["spp_max"]
    assert spp.count("Flatten") == 3 and spp[-1] == "Concat" and "GlobalMaxPool" in spp
    mix = _ops(CASES["mix"])
    assert mix["up_nearest"][-1] == "Resize" and "LRN" not in mix["lrn_odd"] + mix["lrn_even"]
    assert "AveragePool" in mix["lrn_odd"] and "AveragePool" in mix["lrn_even"]
    transposed = _ops(CASES["transposed"])
    assert transposed["up1"] == ["ConvTranspose"]  # groups=1: one node
    assert transposed["up2"].count("ConvTranspose") == 2 and transposed["up2"].count("Split") == 2  # x, w
    assert mix["mp_ceil"][-2:] == ["Pad", "MaxPool"] and mix["ap_ceil"][-1] == "Mul"
    assert "ReduceMean" in mix["bn_batch_stats"] and mix["bn_plain"][-1] == "BatchNormalization"
    nested = _ops(CASES["nested_branches"])
    assert nested["outer"] == ["Sum"] and nested["blk_se"] == ["Mul"] and nested["inner"] == ["Concat"]


def test_resize_coordinates_follow_pytorch():
    attrs = {n.name: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
             for n in build_onnx(CASES["mix"], random_weights(CASES["mix"])).graph.node if n.op_type == "Resize"}
    assert attrs["up_nearest"]["coordinate_transformation_mode"] == b"asymmetric"
    assert attrs["up_nearest"]["nearest_mode"] == b"floor"
    assert attrs["up_bilinear"]["coordinate_transformation_mode"] == b"pytorch_half_pixel"
    assert attrs["up_corners"]["coordinate_transformation_mode"] == b"align_corners"


def test_export_writes_a_loadable_file(tmp_path, mixed):
    design, weights, _ = mixed
    assert export_onnx(design, tmp_path / "net.onnx", weights) == [tmp_path / "net.onnx"]
    onnx.checker.check_model(str(tmp_path / "net.onnx"), full_check=True)
    assert [p.name for p in tmp_path.iterdir()] == ["net.onnx"]  # no temporary file left


def test_huge_weights_go_to_external_data(tmp_path, monkeypatch, mixed):
    design, weights, _ = mixed
    monkeypatch.setattr(export_onnx_module, "EXTERNAL_DATA_BYTES", 64)
    written = export_onnx(design, tmp_path / "big.onnx", weights)
    assert [p.name for p in written] == ["big.onnx", "big.onnx.data"]
    loaded = onnx.load(str(tmp_path / "big.onnx"))
    assert {t.name for t in loaded.graph.initializer} == set(weights)


def test_a_type_without_mapping_is_a_clear_error_and_no_file(tmp_path, monkeypatch, mixed):
    design, weights, _ = mixed
    monkeypatch.delitem(export_onnx_module.ONNX_LAYERS, "LocalResponseNorm")
    with pytest.raises(ExportError, match="no ONNX mapping for layer type LocalResponseNorm"):
        export_onnx(design, tmp_path / "net.onnx", weights)
    assert not list(tmp_path.iterdir())


def test_weights_that_do_not_fit_are_refused(mixed):
    from designer.backend.weights import WeightsError

    design, weights, _ = mixed
    with pytest.raises(WeightsError, match="layer 'prelu'"):
        build_onnx(design, {**weights, "prelu.weight": np.ones(3, np.float32)})


def test_onnx_reference_as_installed_computes_lrn_and_grouped_transposed_convs():
    """Regression: ONNX ``LRN`` (onnx.reference 1.23 normalises only the first N channels) and a grouped
    ``ConvTranspose`` (it slices the weight by output channels: wrong or a crash) gave the reference evaluator
    other numbers than the app; both are now composed of operators every runtime computes alike."""
    from onnx.reference import ReferenceEvaluator

    from tests.interop.export_cases import app_output, assert_close, sample

    design = Design.from_dict({"format": "cnn-designer/v1", "name": "lrn and groups",
                               "input": {"channels": 8, "height": 5, "width": 4}, "layers": [
        {"type": "LocalResponseNorm", "name": "lrn", "size": 3, "alpha": 5.0, "k": 1.0},
        {"type": "ConvTranspose2d", "name": "up", "out_channels": 4, "kernel_size": 3, "stride": 2,
         "padding": 1, "output_padding": 1, "groups": 4},
        {"type": "ConvTranspose2d", "name": "up2", "out_channels": 6, "kernel_size": 2, "groups": 2,
         "bias": False}]})
    weights, x = random_weights(design), sample(design)
    got = ReferenceEvaluator(build_onnx(design, weights)).run(None, {"input": x[None]})[0][0]
    assert_close(got, app_output(design, weights, x), "onnx.reference")
