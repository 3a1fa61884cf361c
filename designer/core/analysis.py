"""Per-layer analysis rows → totals and memory (torchinfo's compute/aggregate split).

``analyze(design)`` walks the network in execution order (a Branch's row after its inner
layers) and records, for every layer, its input and output shape, trainable parameters,
buffers, MACs, receptive field and output bytes, plus its issues. After an error the later
shapes are unknown (``None``) but every layer still gets a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import receptive_field as rfm
from .advice import Issue, design_advice
from .design import Design, Layer, LayerPath
from .errors import LayerError
from .memory import DTYPE_BYTES, OPTIMIZER_STATES, memory_summary
from .spec import Shape, fmt_shape, numel

MACS_NOTE = ("MACs count weight multiply-accumulates only (Conv2d, ConvTranspose2d, Linear); "
             "FLOPs = 2 × MACs; activations, pooling and normalisation are not counted")


@dataclass
class LayerRow:
    """One layer's numbers. Numbers carry no units; formatting adds them."""

    name: str
    type: str
    path: LayerPath
    depth: int
    label: str
    input_shape: Shape | None
    output_shape: Shape | None = None
    params: int = 0
    buffers: int = 0
    macs: int = 0
    rf: rfm.RFState = None
    output_elements: int = 0
    output_bytes: int = 0
    issues: list[Issue] = field(default_factory=list)
    inputs: tuple[int, ...] = ()  # tensor ids consumed (for liveness)
    output: int = -1  # tensor id produced
    hp: dict[str, Any] = field(default_factory=dict)  # the layer's hyperparameters (memory model)

    @property
    def receptive_field(self):
        return rfm.size(self.rf)

    @property
    def jump(self):
        return rfm.jump(self.rf)

    @property
    def start(self):
        return rfm.start(self.rf)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "type": self.type, "depth": self.depth, "path": list(self.path),
            "label": self.label,
            "input_shape": _list(self.input_shape), "output_shape": _list(self.output_shape),
            "params": self.params, "buffers": self.buffers, "macs": self.macs,
            "receptive_field": self.receptive_field, "jump": self.jump, "start": self.start,
            "output_bytes": self.output_bytes, "issues": [i.to_dict() for i in self.issues],
        }


def _list(shape: Shape | None) -> list[int] | None:
    return None if shape is None else list(shape)


@dataclass
class Analysis:
    design_name: str
    input_shape: Shape
    batch_size: int
    dtype: str
    optimizer: str
    rows: list[LayerRow]
    totals: dict[str, int]
    memory: dict[str, int]
    issues: list[Issue]
    tensor_sizes: list[int] = field(default_factory=list)  # elements per image of every value (0: input)
    memory_peak: dict[str, Any] = field(default_factory=dict)  # where the training peak happens

    @property
    def valid(self) -> bool:
        return not any(i.level == "error" for i in self.issues)

    def row(self, name: str) -> LayerRow:
        return next(r for r in self.rows if r.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.design_name, "input_shape": list(self.input_shape), "batch_size": self.batch_size,
            "dtype": self.dtype, "optimizer": self.optimizer, "valid": self.valid,
            "layers": [r.to_dict() for r in self.rows], "totals": dict(self.totals),
            "memory": dict(self.memory), "memory_peak": dict(self.memory_peak),
            "issues": [i.to_dict() for i in self.issues], "notes": [MACS_NOTE],
        }


class _Walker:
    """Walks sequences and branches, producing rows and the tensor graph for liveness."""

    def __init__(self, dtype_bytes: int) -> None:
        self.rows: list[LayerRow] = []
        self.tensor_sizes: list[int] = []  # elements per image
        self.dtype_bytes = dtype_bytes

    def new_tensor(self, shape: Shape | None) -> int:
        self.tensor_sizes.append(numel(shape) if shape else 0)
        return len(self.tensor_sizes) - 1

    def sequence(self, layers, shape, rf, tensor, depth: int, prefix: LayerPath):
        for i, layer in enumerate(layers):
            path = prefix + (i,)
            if layer.type == "Branch":
                shape, rf, tensor = self.branch(layer, shape, rf, tensor, depth, path)
            else:
                shape, rf, tensor = self.layer(layer, shape, rf, tensor, depth, path)
        return shape, rf, tensor

    def _row(self, layer: Layer, shape, depth: int, path: LayerPath) -> LayerRow:
        return LayerRow(name=layer.name, type=layer.type, path=path, depth=depth, label=layer.label,
                        input_shape=shape, hp=layer.hp)

    def _finish(self, row: LayerRow, out_shape, rf, inputs: tuple[int, ...]):
        row.output_shape, row.rf, row.inputs = out_shape, rf, inputs
        row.output_elements = numel(out_shape) if out_shape else 0
        row.output_bytes = row.output_elements * self.dtype_bytes
        row.output = self.new_tensor(out_shape)
        self.rows.append(row)
        return out_shape, rf, row.output

    def layer(self, layer: Layer, shape, rf, tensor, depth: int, path: LayerPath):
        row = self._row(layer, shape, depth, path)
        spec, hp = layer.spec, layer.hp
        out = None
        if shape is not None:
            try:
                out = spec.shape(shape, hp)
                row.params, row.buffers = spec.count_params(shape, hp)
                row.macs = spec.macs(shape, out, hp)
                rf = rfm.apply(rf, spec.rf(shape, hp))
                row.issues += [Issue(level, msg, layer.name) for level, msg in spec.advice(shape, out, hp)]
            except LayerError as exc:
                out, rf = None, None
                row.issues.append(Issue("error", str(exc), layer.name))
        return self._finish(row, out, rf if out is not None else None, (tensor,))

    def branch(self, layer: Layer, shape, rf, tensor, depth: int, path: LayerPath):
        first = len(self.rows)
        results = [self.sequence(b, shape, rf, tensor, depth + 1, path + (k,)) for k, b in enumerate(layer.branches)]
        row = self._row(layer, shape, depth, path)
        inner = self.rows[first:]
        row.params = sum(r.params for r in inner if r.type != "Branch")
        row.buffers = sum(r.buffers for r in inner if r.type != "Branch")
        row.macs = sum(r.macs for r in inner if r.type != "Branch")
        out = _merge_shapes(layer.hp["merge"], [r[0] for r in results], row) if shape is not None else None
        merged_rf, jumps_differ = rfm.merge([r[1] for r in results])
        if jumps_differ and out is not None:
            jumps = ", ".join(str(rfm.jump(r[1])[0]) for r in results)
            row.issues.append(Issue("warning", f"the branches move over the input with different jumps "
                                               f"({jumps}): their units are not aligned when merged", layer.name))
        return self._finish(row, out, merged_rf if out is not None else None, tuple(r[2] for r in results))


def _merge_shapes(merge: str, shapes: list[Shape | None], row: LayerRow) -> Shape | None:
    """The merged shape, or ``None`` with an error on ``row`` naming the branch and the dimension."""
    if any(s is None for s in shapes):
        return None
    merged = shapes[0]
    for k, s in enumerate(shapes[1:], start=2):
        result = merge_shape(merge, merged, s)
        if isinstance(result, str):
            row.issues.append(Issue("error", f"cannot {merge} branch {k} ({fmt_shape(s)}) with branches 1–{k - 1} "
                                             f"({fmt_shape(merged)}): {result}" if k > 2 else
                                    f"cannot {merge} branch {k} ({fmt_shape(s)}) with branch 1 "
                                    f"({fmt_shape(merged)}): {result}", row.name))
            return None
        merged = result
    return merged


def merge_shape(merge: str, a: Shape, b: Shape) -> Shape | str:
    """The shape of merging ``a`` and ``b``, or why they cannot merge.

    ``concat``: channels (features) add up, the other sizes must agree. ``add``/``mul``: PyTorch broadcasting
    (per dimension equal, or one of them 1: the result takes the other), e.g. ``64×56×56 · 64×1×1 → 64×56×56``.
    """
    if len(a) != len(b):
        return "one is a feature map and the other a flat vector; insert a Flatten or pool before merging"
    names = ("channels", "heights", "widths") if len(a) == 3 else ("features",)
    if merge == "concat":
        for name, x, y in list(zip(names, a, b))[1:]:
            if x != y:
                return f"{name} differ ({y} vs {x}); concat joins channels, the other sizes must agree"
        return (a[0] + b[0],) + tuple(a[1:])
    out = []
    for name, x, y in zip(names, a, b):
        if x != y and 1 not in (x, y):
            fix = ("a 1×1 projection conv on one branch to match the channels, or merge by concat" if name == "channels"
                   else "a stride or pool on one branch to match the size, or make one of them 1 to broadcast")
            return f"{name} differ ({y} vs {x}) and do not broadcast (sizes must be equal, or one of them 1); use {fix}"
        out.append(max(x, y))
    return tuple(out)


def analyze(design: Design, batch_size: int = 1, dtype: str = "float32", optimizer: str = "sgd",
            input_shape: Shape | None = None) -> Analysis:
    """Analyse every layer; see the module docstring. Raises ``ValueError`` for a bad option."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZER_STATES)}, got {optimizer!r}")
    if batch_size < 1:
        raise ValueError(f"batch size must be positive, got {batch_size}")
    shape = tuple(input_shape) if input_shape else design.input.shape
    walker = _Walker(DTYPE_BYTES[dtype])
    input_tensor = walker.new_tensor(shape)
    walker.sequence(design.layers, shape, rfm.INPUT_RF, input_tensor, 0, ())
    rows = walker.rows
    issues_extra = design_advice(design, rows, shape)
    leaf = [r for r in rows if r.type != "Branch"]
    params = sum(r.params for r in leaf)
    macs = sum(r.macs for r in leaf)
    totals = {"params": params, "trainable_params": params, "buffers": sum(r.buffers for r in leaf),
              "macs": macs, "flops": 2 * macs}
    memory, peak = memory_summary(walker.tensor_sizes, rows, totals, batch_size, dtype, optimizer)
    issues = issues_extra + [i for r in rows for i in r.issues]
    return Analysis(design.name, shape, batch_size, dtype, optimizer, rows, totals, memory, issues,
                    walker.tensor_sizes, peak)
