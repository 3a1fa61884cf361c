"""ONNX import against stored files (no torch, no onnxruntime needed): outputs, structure, names, refusals.

The files are made by ``make_onnx_files.py``: ``ops_*`` graphs built with ``onnx.helper`` (every mapped
op and exporter spelling) and the ``torch_models`` nets exported by both PyTorch exporters.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from designer.backend.runner import Runner  # noqa: E402
from designer.core import LAYER_SPECS, Design  # noqa: E402
from designer.interop.onnx_import import DynamicInputError, OnnxImportError, import_onnx  # noqa: E402
from designer.interop.onnx_import.mapping import OP_MAPPINGS  # noqa: E402
from designer.interop.onnx_import.ops import NOT_IMPORTED  # noqa: E402

from .make_onnx_files import reference_input  # noqa: E402

FILES = Path(__file__).resolve().parent / "onnx_files"
MODELS = sorted(FILES.glob("*.onnx"))
REFERENCE = dict(np.load(FILES / "reference.npz"))


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-6))


def run_imported(path: Path, x: np.ndarray | None = None):
    design, weights = import_onnx(path)
    x = reference_input(path.stem, (1, *design.input.shape))[0] if x is None else x
    outputs = Runner(design, weights).run(x)
    return design, outputs[design.layers[-1].name]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_stored_model_matches_its_reference(path):
    design, y = run_imported(path)
    want = REFERENCE[path.stem]
    assert y.shape == want.shape
    assert relative_error(y, want) <= 1e-4
    assert Design.from_dict(json.loads(json.dumps(design.to_dict()))) == design  # saves as a valid design


def _types(layers) -> list:
    """Nested ``[type, …]`` with Branches as ``("Branch:<merge>", [[…], …])``."""
    return [
        (f"Branch:{layer.hp['merge']}", [_types(b) for b in layer.branches])
        if layer.type == "Branch"
        else layer.type
        for layer in layers
    ]


def test_branches_nest_residual_se_inception_and_dense_concats():
    design, _ = import_onnx(FILES / "ops_branches.onnx")
    types = _types(design.layers)
    residual, se, inception, dense1, dense2, total = (
        types[2],
        types[4],
        types[5],
        types[6],
        types[7],
        types[8],
    )
    assert residual == ("Branch:add", [["Conv2d", "ReLU", "Conv2d"], []])
    assert se == ("Branch:mul", [[], ["AdaptiveAvgPool2d", "Conv2d", "ReLU", "Conv2d", "Sigmoid"]])
    assert inception[0] == "Branch:concat" and len(inception[1]) == 3
    assert (
        dense1 == dense2 == ("Branch:concat", [[], ["ReLU", "Conv2d"]])
    )  # cat(x0, y1, y2) = cat(cat(x0, y1), y2)
    assert total[0] == "Branch:add" and len(total[1]) == 3
    names = design.names()
    assert {"res_conv1", "res_conv2", "res", "se", "se_fc1", "inc", "dense_l1"} <= names


def test_padding_variants_map_exactly():
    design, _ = import_onnx(FILES / "ops_padding.onnx")
    by_name = {layer.name: layer for _, layer in design.walk()}
    assert by_name["stem_conv"].params["padding"] == "same"  # SAME_UPPER
    assert by_name["block_asym_pad"].params["padding"] == [1, 2, 0, 1]  # ZeroPad2d before the conv
    assert by_name["block_lower_pad"].type == "ZeroPad2d"  # SAME_LOWER: the extra row/column first
    assert by_name["padded"].params["padding"] == [1, 1]  # a Pad folded into the conv
    assert by_name["zero_pad"].params["padding"] == [
        1,
        0,
        0,
        2,
    ]  # a standalone Pad (left, right, top, bottom)
    assert by_name["block_act"].type == "ReLU6"


def test_multi_node_activations_are_recognised():
    design, _ = import_onnx(FILES / "ops_activations.onnx")
    types = [layer.type for layer in design.layers]
    assert types[:6] == ["Hardswish", "Hardsigmoid", "SiLU", "GELU", "Hardswish", "ConvTranspose2d"]
    assert types[-2:] == ["Flatten", "Linear"]  # the Shape → Gather → Concat reshape, MatMul + Add
    assert "Dropout" not in types and "Identity" not in types


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
def test_layer_names_come_from_module_paths(exporter):
    design, _ = import_onnx(FILES / f"torch_resnet_{exporter}.onnx")
    names = design.names()
    assert {"stem_0", "layer1_0", "layer1_0_conv1", "layer1_0_conv2", "layer2_0_downsample_0", "fc"} <= names
    design, _ = import_onnx(FILES / f"torch_mobilenet_v2_{exporter}.onnx")
    assert {
        "features_2_conv_0_0",
        "features_2_conv_1_0",
        "features_2_conv_2",
        "classifier_1",
    } <= design.names()


def test_every_layer_type_is_imported_or_says_why_not():
    produced = {t for entry in OP_MAPPINGS.values() for t in entry.produces}
    for type_name in LAYER_SPECS:
        assert type_name in produced or type_name in NOT_IMPORTED, f"no ONNX mapping produces {type_name}"
    assert not set(NOT_IMPORTED) & produced


# --- refusals ----------------------------------------------------------------------------------------
def _model(tmp_path: Path, nodes, inits=(), shape=(1, 3, 8, 8), out="y", opset=17, name="m.onnx") -> Path:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        list(inits),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def test_unsupported_ops_are_listed_together(tmp_path):
    from onnx import helper, numpy_helper

    clip_lo, clip_hi = (
        numpy_helper.from_array(np.float32(-1), "lo"),
        numpy_helper.from_array(np.float32(1), "hi"),
    )
    nodes = [
        helper.make_node("Transpose", ["x"], ["a"], "/t1", perm=[0, 1, 3, 2]),
        helper.make_node("Transpose", ["a"], ["b"], "/t2", perm=[0, 1, 3, 2]),
        helper.make_node("Clip", ["b", "lo", "hi"], ["c"], "/act/Clip"),
        helper.make_node("Floor", ["c"], ["y"], "/floor"),
    ]
    path = _model(tmp_path, nodes, [clip_lo, clip_hi])
    with pytest.raises(OnnxImportError) as info:
        import_onnx(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path))
    assert (
        "3 op types" in text
        and "Transpose ×2 (first: '/t1')" in text
        and "Floor ×1 (first: '/floor')" in text
    )
    assert "Clip ×1 (first: '/act/Clip': bounds (-1, 1)" in text


def test_a_graph_that_is_not_series_parallel_names_the_node(tmp_path):
    from onnx import helper

    nodes = [
        helper.make_node("Relu", ["x"], ["a"], "/a"),
        helper.make_node("Sigmoid", ["x"], ["b"], "/b"),
        helper.make_node("Add", ["a", "b"], ["c"], "/c"),
        helper.make_node("Add", ["b", "c"], ["y"], "/d"),
    ]
    with pytest.raises(OnnxImportError, match=r"not series-parallel at node '/(c|d)' \(Add\)"):
        import_onnx(_model(tmp_path, nodes))


def test_external_data_is_read_beside_the_model_and_refused_when_missing(tmp_path):
    stem = "torch_resnet_dynamo"
    shutil.copy(FILES / f"{stem}.onnx", tmp_path / f"{stem}.onnx")
    with pytest.raises(
        OnnxImportError, match=rf"external file '{stem}.onnx.data', which is not beside the model"
    ):
        import_onnx(tmp_path / f"{stem}.onnx")
    shutil.copy(FILES / f"{stem}.onnx.data", tmp_path / f"{stem}.onnx.data")
    _, y = run_imported(tmp_path / f"{stem}.onnx", reference_input(stem, (1, 3, 32, 32))[0])
    assert relative_error(y, REFERENCE[stem]) <= 1e-4


def test_dynamic_input_needs_a_size(tmp_path):
    from onnx import helper

    path = _model(tmp_path, [helper.make_node("Relu", ["x"], ["y"], "/relu")], shape=("N", 3, "H", "W"))
    with pytest.raises(
        DynamicInputError, match=r"dynamic size \(\?×3×\?×\?\); give the size with --input"
    ) as info:
        import_onnx(path)
    assert info.value.channels == 3
    design, _ = import_onnx(path, (3, 20, 24))
    assert design.input.shape == (3, 20, 24) and [layer.type for layer in design.layers] == ["ReLU"]


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00\x01 definitely not protobuf" * 10)
    with pytest.raises(OnnxImportError, match="junk.onnx"):
        import_onnx(path)
    with pytest.raises(OnnxImportError, match="no such file"):
        import_onnx(tmp_path / "missing.onnx")


# --- the command line --------------------------------------------------------------------------------
def test_cli_import_writes_design_and_weights_that_run(tmp_path, capsys):
    from designer.cli.main import main

    design, weights = tmp_path / "net.json", tmp_path / "net.safetensors"
    assert (
        main(
            ["import", str(FILES / "torch_unet_ts.onnx"), "--out", str(design), "--out-weights", str(weights)]
        )
        == 0
    )
    assert "imported in" in capsys.readouterr().out
    maps = tmp_path / "maps.npz"
    assert main(["run", str(design), "--sample", "--weights", str(weights), "--out", str(maps)]) == 0
    assert maps.exists()


def test_cli_import_refusal_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    from onnx import helper

    from designer.cli.main import main

    path = _model(tmp_path, [helper.make_node("Transpose", ["x"], ["y"], "/t", perm=[0, 1, 3, 2])])
    design, weights = tmp_path / "out.json", tmp_path / "out.npz"
    assert main(["import", str(path), "--out", str(design), "--out-weights", str(weights)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Transpose ×1 (first: '/t')" in err and "Traceback" not in err
    assert not design.exists() and not weights.exists()


def test_a_large_model_imports_in_seconds(tmp_path):
    """~40 MB of weights (a 3200×3200 Gemm after a conv): parsed once, converted once, in seconds."""
    import time

    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3), np.float32), "conv.weight"),
        numpy_helper.from_array(rng.standard_normal((3200, 3200), np.float32) * 0.01, "fc.weight"),
    ]
    nodes = [
        helper.make_node(
            "Conv", ["x", "conv.weight"], ["c"], "/conv/Conv", kernel_shape=[3, 3], pads=[1] * 4
        ),
        helper.make_node("Flatten", ["c"], ["f"], "/flatten/Flatten"),
        helper.make_node("Gemm", ["f", "fc.weight"], ["y"], "/fc/Gemm", transB=1),
    ]
    path = _model(tmp_path, nodes, inits, shape=(1, 3, 20, 20))
    assert path.stat().st_size > 40e6
    start = time.perf_counter()
    design, weights = import_onnx(path)
    assert time.perf_counter() - start < 10
    assert weights["fc.weight"].shape == (3200, 3200) and [layer.name for layer in design.layers] == [
        "conv",
        "flatten",
        "fc",
    ]


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
def test_vector_squeeze_excitation_becomes_1x1_convs_in_a_mul_branch(exporter):
    """``fc(pool(x).view(N, C)).view(N, C, 1, 1)`` and ``x * y.expand_as(x)`` (SENet's spelling)."""
    design, _ = import_onnx(FILES / f"torch_se_block_{exporter}.onnx")
    se = design.get(design.find("se_classic"))
    assert _types([se]) == [
        ("Branch:mul", [[], ["AdaptiveAvgPool2d", "Conv2d", "ReLU", "Conv2d", "Sigmoid"]])
    ]
    assert {"se_classic_fc_0", "se_classic_fc_2"} <= design.names()


def _skip_level_nodes(merge: str, operands: list[str]):
    """``x → Relu → a → MaxPool → Conv → Resize ↑ → u``, then ``merge(operands)`` of ``u``, ``a``, ``x``
    (a U-Net skip joining maps of two levels in one node)."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal((3, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], "/enc/Relu"),
        helper.make_node("MaxPool", ["a"], ["p"], "/down/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "w"], ["c"], "/mid/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Resize", ["c", "", "scales"], ["u"], "/up/Resize", mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    ]
    if merge == "Concat":
        nodes.append(helper.make_node("Concat", operands, ["y"], "/skip/Concat", axis=1))
    else:
        nodes.append(helper.make_node(merge, operands, ["y"], f"/skip/{merge}"))
    return nodes, inits


@pytest.mark.parametrize(("merge", "operands"), [
    ("Concat", ["u", "a", "x"]), ("Concat", ["x", "a", "u"]), ("Sum", ["a", "x", "u"]),
])
def test_a_merge_of_maps_from_two_levels_nests_the_inner_ones_first(tmp_path, merge, operands):
    """cat(u, a, x) with u and a computed from a, and a from x, is cat(cat(u, a), x); a Sum groups operands
    of one level wherever they stand (regression: refused as not series-parallel)."""
    from onnx.reference import ReferenceEvaluator

    nodes, inits = _skip_level_nodes(merge, operands)
    path = _model(tmp_path, nodes, inits)
    x = reference_input("skip_levels", (1, 3, 8, 8))
    want = ReferenceEvaluator(str(path)).run(None, {"x": x})[0][0]
    design, y = run_imported(path, x[0])
    assert relative_error(y, want) <= 1e-4
    outer = design.layers[-1]
    assert outer.type == "Branch" and len(outer.branches) == 2
    inner = [layer for branch in outer.branches for layer in branch if layer.type == "Branch"]
    assert len(inner) == 1 and inner[0].hp["merge"] == outer.hp["merge"]


def test_a_concat_whose_inner_operands_are_not_neighbours_is_refused(tmp_path):
    nodes, inits = _skip_level_nodes("Concat", ["u", "x", "a"])  # no nesting keeps this channel order
    with pytest.raises(OnnxImportError, match=r"not series-parallel at node '/skip/Concat' \(Concat\)"):
        import_onnx(_model(tmp_path, nodes, inits))


def test_the_apps_own_onnx_export_imports_back_lrn_and_grouped_convs(tmp_path):
    """Regression: the export spells LocalResponseNorm as PyTorch's 5-D formula and a grouped ConvTranspose
    as Split → per-group ConvTranspose → Concat (for onnx.reference); both import back as one layer each."""
    from designer.interop.export_onnx import export_onnx

    design = Design.from_dict({"format": "cnn-designer/v1", "name": "round trip",
                               "input": {"channels": 8, "height": 5, "width": 4}, "layers": [
        {"type": "LocalResponseNorm", "name": "lrn_odd", "size": 3, "alpha": 5.0, "k": 1.0},
        {"type": "ConvTranspose2d", "name": "up", "out_channels": 4, "kernel_size": 3, "stride": 2,
         "padding": 1, "output_padding": 1, "groups": 4},
        {"type": "LocalResponseNorm", "name": "lrn_even", "size": 2, "alpha": 2.0, "beta": 0.5},
        {"type": "ConvTranspose2d", "name": "up2", "out_channels": 6, "kernel_size": 2, "groups": 2}]})
    runner = Runner(design)
    export_onnx(design, tmp_path / "rt.onnx", runner.weights)
    back, weights = import_onnx(tmp_path / "rt.onnx")
    assert [(la.type, la.name) for la in back.layers] == [(la.type, la.name) for la in design.layers]
    assert [layer.hp.get("groups") for layer in back.layers] == [None, 4, None, 2]
    x = reference_input("round_trip", (8, 5, 4))
    got = Runner(back, weights).run(x)["up2"]
    want = runner.run(x)["up2"]
    assert relative_error(got, want) <= 1e-5


def test_an_even_onnx_lrn_is_refused_its_window_is_not_pytorchs(tmp_path):
    from onnx import helper

    nodes = [helper.make_node("LRN", ["x"], ["y"], "/norm/LRN", size=4)]
    with pytest.raises(OnnxImportError, match=r"LRN ×1 \(first: '/norm/LRN': has the even size 4"):
        import_onnx(_model(tmp_path, nodes))
