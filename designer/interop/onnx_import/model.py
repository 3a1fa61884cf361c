"""An ONNX model read for import: nodes, constants (converted on demand), tensor shapes, data flow.

Only what the import needs is parsed: the protobuf once without external data, initializers
converted to NumPy when a mapping asks for them (external data read from beside the model), and
shapes inferred on a copy whose large initializers are replaced by typed inputs (so shape
inference never copies the weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from designer.core.files import open_regular

from .errors import DynamicInputError, OnnxImportError

SHAPE_ONLY_OPS = ("Shape", "Size")  # their output describes a tensor, it does not carry its values
SMALL_CONSTANT = 4096  # elements: initializers up to this size stay in the shape-inference copy
SHAPE_KEEPING = (
    "GroupNormalization",
    "InstanceNormalization",
    "LRN",
    "LayerNormalization",
    "Gelu",
    "HardSwish",
    "Mish",
)  # ops whose output has their first input's shape


@dataclass
class Node:
    """One ONNX node, with its attributes as Python values and its name scope for naming."""

    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    scope: list[str] = field(default_factory=list)  # module path parts, outermost first
    leaf: str = ""  # the op's own name inside its scope (fx node name or op type)

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise OnnxImportError("importing ONNX models needs the 'onnx' package (pip install onnx)") from None
    return onnx


def _scope_of(proto: Any) -> tuple[list[str], str]:
    """``(module path parts, leaf name)`` from the dynamo exporter's ``name_scopes`` metadata or a
    TorchScript node name such as ``/layer1/layer1.0/conv1/Conv``."""
    for prop in proto.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            parts = [p.strip().strip("'\"") for p in prop.value.strip("[]").split(",")]
            parts = [p for p in parts if p]
            return parts[:-1], (parts[-1] if parts else "")
    if "/" in proto.name:
        parts = [p for p in proto.name.split("/") if p]
        return parts[:-1], (parts[-1] if parts else "")
    return [], proto.name


class OnnxGraph:
    """The main graph of a model: nodes, constants, the data input/output and inferred shapes."""

    def __init__(self, path: str | Path, input_shape: tuple[int, int, int] | None = None) -> None:
        onnx = _require_onnx()
        self.path = Path(path)
        try:
            with open_regular(self.path) as handle:  # a FIFO or a device is refused, never waited on
                self.model = onnx.load_model_from_string(handle.read())  # external data: read on demand
        except FileNotFoundError:
            raise OnnxImportError(f"{self.path}: no such file") from None
        except OSError as exc:
            raise OnnxImportError(f"{self.path}: cannot read the model: {exc.strerror or exc}") from None
        except Exception as exc:  # protobuf raises its own DecodeError and friends
            raise OnnxImportError(f"{self.path}: not an ONNX model ({type(exc).__name__}: {exc})") from None
        graph = self.model.graph
        self.opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self._tensors = {t.name: t for t in graph.initializer}
        self.nodes: list[Node] = []
        self.protos: list[Any] = []
        for proto in graph.node:
            if proto.op_type == "Constant" and not proto.domain:
                self._tensors[proto.output[0]] = self._constant_tensor(proto)
                continue
            self.nodes.append(self._node(proto))
            self.protos.append(proto)
        self._arrays: dict[str, np.ndarray] = {}
        self._check_external_data()
        self.input_name, self.input_shape = self._data_input(input_shape)
        outputs = [o.name for o in graph.output]
        if len(outputs) != 1:
            raise OnnxImportError(
                f"{self.path}: the model has {len(outputs)} outputs ({', '.join(outputs)}); "
                "only single-output models can be imported"
            )
        self.output_name = outputs[0]
        self.shapes = self._infer_shapes(self.protos)
        if self._fold_constants():
            self.shapes = self._infer_shapes(
                [p for n, p in zip(self.nodes, self.protos) if n.outputs[0] not in self._arrays]
            )

    # --- reading ---------------------------------------------------------------------------------
    def _node(self, proto: Any) -> Node:
        from onnx import helper

        attrs = {a.name: helper.get_attribute_value(a) for a in proto.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        op = proto.op_type if proto.domain in ("", "ai.onnx") else f"{proto.domain}.{proto.op_type}"
        scope, leaf = _scope_of(proto)
        return Node(
            op,
            proto.name or f"{op}_{len(self.nodes)}",
            list(proto.input),
            list(proto.output),
            attrs,
            scope,
            leaf,
        )

    def _constant_tensor(self, proto: Any) -> Any:
        from onnx import helper, numpy_helper

        attr = proto.attribute[0]
        value = helper.get_attribute_value(attr)
        if attr.name == "value":
            return value
        array = np.asarray(value, dtype=np.float32 if attr.name.startswith("value_float") else np.int64)
        return numpy_helper.from_array(array, proto.output[0])

    def _check_external_data(self) -> None:
        """Refuse clearly when a tensor's external data file is not beside the model."""
        for tensor in self._tensors.values():
            if tensor.data_location != 1:  # TensorProto.EXTERNAL
                continue
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if not (self.path.parent / location).is_file():
                raise OnnxImportError(
                    f"{self.path}: the weights are stored in the external file '{location}', "
                    f"which is not beside the model (looked in {self.path.parent})"
                )

    def _data_input(self, override: tuple[int, int, int] | None) -> tuple[str, tuple[int, int, int, int]]:
        inputs = [i for i in self.model.graph.input if i.name not in self._tensors]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise OnnxImportError(
                f"{self.path}: the model has {len(inputs)} inputs ({names}); "
                "only single-image models can be imported"
            )
        value = inputs[0]
        dims = [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]
        if len(dims) != 4:
            raise OnnxImportError(
                f"{self.path}: input '{value.name}' has {len(dims)} dimensions; an image model takes N×C×H×W"
            )
        if override is not None:
            if dims[1] is not None and dims[1] != override[0]:
                raise OnnxImportError(
                    f"{self.path}: --input has {override[0]} channels but the model takes {dims[1]}"
                )
            return value.name, (1, *override)
        if None in dims[1:]:
            shown = "×".join("?" if d is None else str(d) for d in dims)
            raise DynamicInputError(
                f"{self.path}: input '{value.name}' has a dynamic size ({shown}); "
                "give the size with --input CxHxW",
                channels=dims[1],
            )
        return value.name, (1, dims[1], dims[2], dims[3])

    def _fold_constants(self) -> bool:
        """Evaluate the nodes that do not depend on the image's values (``Shape`` of a tensor whose shape is
        known, then anything over constants, e.g. the pads of an exported ``ZeroPad2d``); their outputs
        become constants. Returns whether anything was folded (a failure leaves the graph as it was)."""
        from .folding import fold_constants

        folded = fold_constants(self)
        self._arrays.update(folded)
        return any(n.op not in SHAPE_ONLY_OPS and n.outputs[0] in folded for n in self.nodes)

    def _infer_shapes(self, protos: list[Any]) -> dict[str, tuple[int, ...]]:
        """Static shapes of every tensor (batch 1), by ONNX shape inference on a weight-free copy.

        Ops ONNX cannot infer (GroupNormalization is a function without an inference rule) but that
        keep their input's shape get it declared, and inference runs again from there."""
        from onnx import helper

        light, declared = self._light_model(protos), 0
        while True:
            shapes = self._run_inference(light)
            missing = [
                (p.output[0], shapes[p.input[0]])
                for p in protos
                if p.op_type in SHAPE_KEEPING
                and p.input
                and p.input[0] in shapes
                and p.output[0] not in shapes
            ]
            if not missing or declared > 20:
                break
            declared += 1
            light.graph.value_info.extend(helper.make_tensor_value_info(n, 1, list(s)) for n, s in missing)
        for name, tensor in self._tensors.items():
            shapes[name] = tuple(tensor.dims)
        return shapes

    def _light_model(self, protos: list[Any]) -> Any:
        """The graph with large initializers replaced by typed inputs and the outputs' shapes left open."""
        from onnx import TensorProto, helper, numpy_helper

        graph = self.model.graph
        constants = [p for p in graph.node if p.op_type == "Constant" and not p.domain]
        stored = list(graph.initializer) + [
            numpy_helper.from_array(np.asarray(v), k)
            for k, v in self._arrays.items()
            if k not in self._tensors
        ]
        small = [
            t if t.data_location != 1 else numpy_helper.from_array(self.constant(t.name), t.name)
            for t in stored
            if self._numel(t) <= SMALL_CONSTANT
        ]  # e.g. a ReduceMean's axes, read
        big = [t for t in stored if self._numel(t) > SMALL_CONSTANT]
        inputs = [helper.make_tensor_value_info(self.input_name, TensorProto.FLOAT, list(self.input_shape))]
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in big]
        outputs = [helper.make_empty_tensor_value_info(o.name) for o in graph.output]
        light = helper.make_graph(constants + list(protos), "light", inputs, outputs, initializer=small)
        return helper.make_model(
            light, opset_imports=list(self.model.opset_import), ir_version=self.model.ir_version
        )

    def _run_inference(self, light: Any) -> dict[str, tuple[int, ...]]:
        from onnx import shape_inference

        try:
            inferred = shape_inference.infer_shapes(light, data_prop=True)
        except Exception as exc:  # onnx raises InferenceError and plain RuntimeErrors
            raise OnnxImportError(
                f"{self.path}: shape inference failed: {str(exc).splitlines()[0]}"
            ) from None
        shapes: dict[str, tuple[int, ...]] = {self.input_name: tuple(self.input_shape)}
        for info in list(inferred.graph.value_info) + list(inferred.graph.output):
            dims = info.type.tensor_type.shape.dim
            if info.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                shapes[info.name] = tuple(d.dim_value for d in dims)
        return shapes

    @staticmethod
    def _numel(tensor: Any) -> int:
        return int(np.prod(tensor.dims)) if len(tensor.dims) else 1

    # --- queries ---------------------------------------------------------------------------------
    def is_constant(self, name: str) -> bool:
        return name in self._tensors or name in self._arrays

    def constant(self, name: str) -> np.ndarray | None:
        """The value of an initializer, Constant or folded output (read once, external data included)."""
        if name not in self._tensors:
            return self._arrays.get(name)
        if name not in self._arrays:
            from onnx import numpy_helper

            try:
                self._arrays[name] = numpy_helper.to_array(
                    self._tensors[name], base_dir=str(self.path.parent)
                )
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise OnnxImportError(f"{self.path}: cannot read tensor '{name}': {exc}") from None
        return self._arrays[name]

    def shape(self, name: str) -> tuple[int, ...] | None:
        return self.shapes.get(name)

    def add_constant(self, name: str, value: np.ndarray) -> str:
        """Store a value made by a rewrite (a fused norm's scale) under a fresh name; returns the name."""
        while name in self._tensors or name in self._arrays:
            name += "_"
        self._arrays[name] = np.asarray(value)
        return name

    def set_constant(self, name: str, value: np.ndarray) -> str:
        """Replace the value of the constant ``name`` (a rewrite folded into it); returns the name."""
        self._arrays[name] = np.asarray(value)
        return name
