"""Regenerate the stored ONNX test files and their reference outputs (``tests/interop/onnx_files``).

    .venv/bin/python tests/interop/make_onnx_files.py

* ``ops_*.onnx``: small graphs built with ``onnx.helper`` that cover every op the import maps
  (padding and ``auto_pad`` variants, pools, norms, activations and their multi-node spellings,
  resize, the ``Shape → Gather → Concat`` flatten, Gemm/MatMul, and merges: residual add,
  squeeze-excitation mul, Inception and DenseNet concats, Sum). References from onnxruntime.
* ``torch_<model>_<exporter>.onnx``: the models of ``torch_models.py`` exported by both PyTorch
  exporters (``ts``: ``dynamo=False``, ``dynamo``: the default); references from PyTorch.
* ``small_state_dict.pt`` and ``small_checkpoint.pth``: PyTorch checkpoints of ``small_net`` (whose
  design is ``small_net.json``), for reading ``.pt`` files with no torch installed.

``reference.npz`` holds ``<file stem>`` (the output, batch dropped) for the input ``reference_input(stem,
shape)`` of each file, so the tests compare with no torch and no onnxruntime installed.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent / "onnx_files"
RNG = np.random.default_rng(0)


def reference_input(stem: str, shape: tuple[int, ...]) -> np.ndarray:
    """The stored reference's input: standard normal float32 from a generator seeded by the file's stem."""
    return np.random.default_rng(zlib.crc32(stem.encode())).standard_normal(shape).astype(np.float32)


class Builder:
    """A graph under construction: ``op`` appends a node and returns its output name."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape, self.nodes, self.inits, self.count = shape, [], [], 0

    def const(self, value, dtype=np.float32) -> str:
        self.count += 1
        name = f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def weight(self, *shape: int) -> str:
        return self.const(RNG.standard_normal(shape) * (2.0 / max(1, int(np.prod(shape[1:])))) ** 0.5)

    def op(self, op_type: str, inputs: list[str], name: str = "", outputs: int = 1, **attrs) -> str:
        self.count += 1
        outs = [f"t{self.count}_{i}" for i in range(outputs)]
        self.nodes.append(
            helper.make_node(op_type, inputs, outs, name=name or f"/{op_type}_{self.count}", **attrs)
        )
        return outs[0]

    def conv(self, x: str, cin: int, cout: int, k: int, name: str = "", group: int = 1, **attrs) -> str:
        return self.op(
            "Conv",
            [x, self.weight(cout, cin // group, k, k), self.const(RNG.normal(size=cout) * 0.1)],
            name,
            kernel_shape=[k, k],
            group=group,
            **attrs,
        )

    def bn(self, x: str, c: int, name: str = "") -> str:
        parts = [
            RNG.uniform(0.5, 1.5, c),
            RNG.uniform(-0.3, 0.3, c),
            RNG.uniform(-0.5, 0.5, c),
            RNG.uniform(0.5, 2, c),
        ]
        return self.op("BatchNormalization", [x, *map(self.const, parts)], name, epsilon=1e-3)

    def model(self, y: str, opset: int = 17, out_shape: list[int] | None = None) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, self.shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        return onnx.shape_inference.infer_shapes(model)


def ops_padding() -> onnx.ModelProto:
    """auto_pad SAME_UPPER/SAME_LOWER/VALID, asymmetric pads, Pad folded into a conv and standalone."""
    b = Builder((1, 3, 17, 16))
    y = b.conv("x", 3, 6, 3, "/stem/conv/Conv", strides=[2, 2], auto_pad="SAME_UPPER")
    y = b.op("Relu", [y], "/stem/relu/Relu")
    y = b.conv(y, 6, 6, 3, "/block/asym/Conv", pads=[0, 1, 1, 2])
    y = b.op("Clip", [y, b.const(0.0), b.const(6.0)], "/block/act/Clip")
    y = b.conv(y, 6, 6, 2, "/block/lower/Conv", auto_pad="SAME_LOWER")
    y = b.op("LeakyRelu", [y], alpha=0.2)
    y = b.conv(y, 6, 6, 1, "/block/valid/Conv", auto_pad="VALID", group=3)
    y = b.op("Pad", [y, b.const([0, 0, 1, 1, 0, 0, 1, 1], np.int64)], "/pad/Pad")
    y = b.conv(y, 6, 4, 3, "/padded/Conv", dilations=[2, 1])
    y = b.op("Pad", [y, b.const([0, 0, 0, 1, 0, 0, 2, 0], np.int64), b.const(0.0)], "/zero_pad/Pad")
    return b.model(b.op("Elu", [y], alpha=0.5))


def ops_pools_norms() -> onnx.ModelProto:
    b = Builder((1, 4, 16, 16))
    y = b.bn("x", 4, "/bn/BatchNormalization")
    y = b.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    y = b.op("AveragePool", [y], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1)
    y = b.op("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1], count_include_pad=1)
    y = b.op("InstanceNormalization", [y, b.const(RNG.uniform(0.5, 1.5, 4)), b.const(RNG.normal(size=4))])
    y = b.op("LRN", [y], size=3, alpha=1e-2, beta=0.75, bias=2.0)
    y = b.op("PRelu", [y, b.const(RNG.uniform(0, 0.5, (4, 1, 1)))])
    y = b.op("Tanh", [b.op("Sigmoid", [y])])
    y = b.op("Flatten", [b.op("GlobalMaxPool", [y])], axis=1)
    y = b.op("Gemm", [y, b.weight(4, 5), b.const(RNG.normal(size=5))], alpha=0.5, beta=2.0)
    y = b.bn(y, 5, "/bn1d/BatchNormalization")  # folded into the Gemm
    return b.model(b.op("Softmax", [y], axis=1))


def ops_activations() -> onnx.ModelProto:
    """Activations as single ops and as exporters spell them, resize, the Shape-chain flatten,
    MatMul + Add."""
    b = Builder((1, 3, 8, 8))
    y = b.op("HardSigmoid", [b.op("HardSwish", ["x"])], alpha=1 / 6, beta=0.5)
    y = b.op("Mul", [y, b.op("Sigmoid", [y], "/act/Sigmoid")], "/act/Mul")  # SiLU
    half = b.op("Mul", [y, b.const(0.5)])  # GELU, erf form, 0.5·x first
    erf = b.op("Erf", [b.op("Div", [y, b.const(1.4142135)])])
    y = b.op("Mul", [half, b.op("Add", [erf, b.const(1.0)])], "/gelu/Mul_1")
    relu6 = b.op("Clip", [b.op("Add", [y, b.const(3.0)]), b.const(0.0), b.const(6.0)])  # hardswish by hand
    y = b.op("Div", [b.op("Mul", [y, relu6]), b.const(6.0)], "/hswish/Div")
    y = b.op(
        "ConvTranspose",
        [y, b.weight(3, 4, 3, 3), b.const(RNG.normal(size=4))],
        "/up/ConvTranspose",
        kernel_shape=[3, 3],
        strides=[2, 2],
        pads=[1, 1, 1, 1],
        output_padding=[1, 1],
    )
    y = b.op(
        "Resize",
        [y, "", b.const([1, 1, 2, 2])],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    y = b.op(
        "Resize",
        [y, "", "", b.const([1, 4, 24, 24], np.int64)],
        mode="linear",
        coordinate_transformation_mode="half_pixel",
    )
    y = b.op("Identity", [b.op("Dropout", [y])])
    y = b.op("GlobalAveragePool", [y])
    n = b.op(
        "Unsqueeze",
        [b.op("Gather", [b.op("Shape", [y]), b.const(0, np.int64)], axis=0), b.const([0], np.int64)],
    )
    y = b.op("Reshape", [y, b.op("Concat", [n, b.const([-1], np.int64)], axis=0)], "/view/Reshape")
    y = b.op(
        "Add", [b.op("MatMul", [y, b.weight(4, 6)], "/fc/MatMul"), b.const(RNG.normal(size=6))], "/fc/Add"
    )
    return b.model(y)


def ops_branches() -> onnx.ModelProto:
    """Residual add, squeeze-excitation mul, an Inception concat, DenseNet concats, a three-way Sum."""
    b = Builder((1, 4, 12, 12))
    y = b.op("Relu", [b.conv("x", 4, 8, 3, "/stem/Conv", pads=[1, 1, 1, 1])])
    r = b.conv(
        b.op("Relu", [b.conv(y, 8, 8, 3, "/res/conv1/Conv", pads=[1, 1, 1, 1])]),
        8,
        8,
        3,
        "/res/conv2/Conv",
        pads=[1, 1, 1, 1],
    )
    y = b.op("Relu", [b.op("Add", [r, y], "/res/Add")])
    s = b.op("ReduceMean", [y, b.const([2, 3], np.int64)], keepdims=1)
    s = b.op("Sigmoid", [b.conv(b.op("Relu", [b.conv(s, 8, 2, 1, "/se/fc1/Conv")]), 2, 8, 1, "/se/fc2/Conv")])
    y = b.op("Mul", [y, s], "/se/Mul")
    a = b.conv(y, 8, 4, 1, "/inc/b1/Conv")
    c = b.conv(b.conv(y, 8, 3, 1, "/inc/b2a/Conv"), 3, 4, 3, "/inc/b2b/Conv", pads=[1, 1, 1, 1])
    p = b.conv(b.op("MaxPool", [y], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), 8, 2, 1, "/inc/b3/Conv")
    x0 = b.op("Concat", [a, c, p], "/inc/Concat", axis=1)
    y1 = b.conv(b.op("Relu", [x0]), 10, 3, 3, "/dense/l1/Conv", pads=[1, 1, 1, 1])
    y2 = b.conv(
        b.op("Relu", [b.op("Concat", [x0, y1], axis=1)]), 13, 3, 3, "/dense/l2/Conv", pads=[1, 1, 1, 1]
    )
    y = b.op("Concat", [x0, y1, y2], "/dense/Concat_2", axis=1)
    y = b.op(
        "Sum", [b.conv(y, 16, 4, 1), b.conv(y, 16, 4, 3, pads=[1, 1, 1, 1]), b.conv(y, 16, 4, 1)], "/sum/Sum"
    )
    y = b.op("ReduceMean", [y, b.const([-1, -2], np.int64)], keepdims=0)
    return b.model(y, opset=18)


def ops_gelu_groupnorm() -> onnx.ModelProto:
    """Opset 21: Gelu (both approximations), GroupNormalization with per-channel scale and bias."""
    b = Builder((1, 4, 8, 8))
    y = b.op("Gelu", [b.op("Gelu", ["x"])], approximate="tanh")
    y = b.op(
        "GroupNormalization",
        [y, b.const(RNG.uniform(0.5, 1.5, 4)), b.const(RNG.normal(size=4))],
        num_groups=2,
        epsilon=1e-5,
    )
    return b.model(b.op("Relu", [y]), opset=21, out_shape=[1, 4, 8, 8])


def ops_groupnorm18() -> onnx.ModelProto:
    """Opset 18: GroupNormalization's scale and bias are per group."""
    b = Builder((1, 6, 5, 5))
    y = b.op(
        "GroupNormalization",
        ["x", b.const(RNG.uniform(0.5, 1.5, 3)), b.const(RNG.normal(size=3))],
        num_groups=3,
        epsilon=1e-4,
    )
    return b.model(b.op("Sigmoid", [y]), opset=18, out_shape=[1, 6, 5, 5])


def ops_opset9() -> onnx.ModelProto:
    """Opset 9 spellings: Pad and Clip with attributes, the Upsample op, Softmax-1 on a vector."""
    b = Builder((1, 3, 6, 6))
    y = b.op("Pad", ["x"], "/pad/Pad", pads=[0, 0, 1, 2, 0, 0, 0, 1], mode="constant")
    y = b.op("Clip", [b.conv(y, 3, 4, 3, "/conv/Conv")], "/act/Clip", min=0.0, max=6.0)
    y = b.op("Upsample", [y, b.const([1, 1, 2, 2])], "/up/Upsample", mode="nearest")
    y = b.op("Flatten", [b.op("GlobalAveragePool", [b.bn(y, 4, "/bn/BatchNormalization")])], axis=1)
    y = b.op("Gemm", [y, b.weight(3, 4), b.const(RNG.normal(size=3))], "/fc/Gemm", transB=1)
    return b.model(b.op("Softmax", [y], axis=1), opset=9)


OP_FILES = {
    "ops_padding": ops_padding,
    "ops_pools_norms": ops_pools_norms,
    "ops_activations": ops_activations,
    "ops_branches": ops_branches,
    "ops_gelu_groupnorm": ops_gelu_groupnorm,
    "ops_groupnorm18": ops_groupnorm18,
    "ops_opset9": ops_opset9,
}


def reference_with_onnxruntime(stem: str, model: onnx.ModelProto) -> np.ndarray:
    import onnxruntime as ort

    shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim)
    x = reference_input(stem, shape)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0][0]


def torch_exports(refs: dict[str, np.ndarray]) -> None:
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import torch_models

    for name in torch_models.MODELS:
        model = torch_models.build(name)
        for exporter, dynamo in (("ts", False), ("dynamo", True)):
            stem = f"torch_{name}_{exporter}"
            x = torch.from_numpy(reference_input(stem, (1, 3, 32, 32)))
            with torch.no_grad():
                y = model(x).numpy()[0]
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), OUT / f"{stem}.onnx", dynamo=dynamo)
            _slim(OUT / f"{stem}.onnx", external=stem == EXTERNAL_DATA_FILE)
            refs[stem] = y


EXTERNAL_DATA_FILE = "torch_resnet_dynamo"  # keeps its weights in torch_resnet_dynamo.onnx.data, as exported


def _slim(path: Path, external: bool) -> None:
    """Drop the dynamo exporter's stack traces (keeping ``name_scopes``, which names the layers) and, except
    for ``EXTERNAL_DATA_FILE``, move the weights into the model file."""
    model = onnx.load(str(path))
    for node in model.graph.node:
        keep = [(p.key, p.value) for p in node.metadata_props if p.key == "pkg.torch.onnx.name_scopes"]
        del node.metadata_props[:]
        for key, value in keep:
            node.metadata_props.add(key=key, value=value)
    data = path.with_name(path.name + ".data")
    if data.exists():
        data.unlink()
    if external:
        onnx.save(model, str(path), save_as_external_data=True, location=data.name, size_threshold=0)
    else:
        onnx.save(model, str(path))


def torch_weight_files(refs: dict[str, np.ndarray]) -> None:
    """``small_state_dict.pt`` (``torch.save(model.state_dict())``) and ``small_checkpoint.pth`` (a
    DataParallel state dict inside ``{"state_dict": …, "epoch": 3}``) of ``tests/interop/small_net.json``."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import torch_models

    model = torch_models.build("small_net")
    torch.save(model.state_dict(), OUT / "small_state_dict.pt")
    torch.save(
        {"state_dict": torch.nn.DataParallel(model).state_dict(), "epoch": 3}, OUT / "small_checkpoint.pth"
    )
    with torch.no_grad():
        refs["small_net"] = model(torch.from_numpy(reference_input("small_net", (1, 3, 16, 16)))).numpy()[0]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    refs: dict[str, np.ndarray] = {}
    for stem, build in OP_FILES.items():
        model = build()
        if (
            stem != "ops_groupnorm18"
        ):  # the checker calls GroupNormalization-18 deprecated; onnxruntime runs it
            onnx.checker.check_model(model)
        onnx.save(model, OUT / f"{stem}.onnx")
        refs[stem] = reference_with_onnxruntime(stem, model)
    torch_exports(refs)
    torch_weight_files(refs)
    np.savez(OUT / "reference.npz", **refs)
    print(f"wrote {len(refs)} models to {OUT}")


if __name__ == "__main__":
    main()
