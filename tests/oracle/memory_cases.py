"""Designs for the memory tests: small random networks over every layer type, and the examples.

``random_design(seed)`` draws a valid design (checked with the core's analysis) of 3-10 layers on a
small map: convolutions (strided, grouped, depthwise, transposed), every activation with and without
``inplace``, pools, normalisations, dropout, padding, up-sampling, branches merged by concat, add or
mul (a squeeze-excitation gate), and sometimes a Flatten + Linear head.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from designer.core.analysis import analyze
from designer.core.layers_misc import MERGES
from designer.core.serialization import design_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"

_ACTS = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Hardswish", "Sigmoid", "Tanh", "Hardsigmoid", "GELU",
         "PReLU", "Softmax")
_INPLACE = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Hardswish")


def _activation(rng: random.Random) -> dict:
    t = rng.choice(_ACTS)
    layer = {"type": t}
    if t in _INPLACE and rng.random() < 0.5:
        layer["inplace"] = True
    return layer


def _conv(rng: random.Random, channels: int) -> tuple[dict, int]:
    out = rng.choice((4, 8, 12, 16, 24))
    kind = rng.random()
    if kind < 0.15:
        return {"type": "Conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1,
                "groups": channels}, channels
    if kind < 0.25:
        return {"type": "ConvTranspose2d", "out_channels": out, "kernel_size": 2, "stride": 2}, out
    k = rng.choice((1, 3))
    return {"type": "Conv2d", "out_channels": out, "kernel_size": k, "padding": k // 2,
            "stride": rng.choice((1, 1, 2)), "bias": rng.random() < 0.5}, out


def _block(rng: random.Random, channels: int) -> tuple[list[dict], int]:
    r = rng.random()
    if r < 0.35:
        conv, channels = _conv(rng, channels)
        return [conv], channels
    if r < 0.55:
        return [_activation(rng)], channels
    if r < 0.65:
        groups = 2 if channels % 2 == 0 else 1
        return [rng.choice(({"type": "BatchNorm2d"}, {"type": "GroupNorm", "num_groups": groups}))], channels
    if r < 0.75:
        return [rng.choice(({"type": "MaxPool2d", "kernel_size": 2}, {"type": "AvgPool2d", "kernel_size": 2},
                            {"type": "ZeroPad2d", "padding": 1}, {"type": "Dropout", "p": 0.3},
                            {"type": "Identity"}, {"type": "LocalResponseNorm", "size": 3}))], channels
    return _branch(rng, channels)


def _branch(rng: random.Random, channels: int) -> tuple[list[dict], int]:
    merge = rng.choice(("concat", "add", "mul"))
    if merge == "mul":  # squeeze-excitation gate: x · sigmoid(fc(pool(x)))
        gate = [{"type": "AdaptiveAvgPool2d", "output_size": 1},
                {"type": "Conv2d", "out_channels": channels, "kernel_size": 1}, {"type": "Sigmoid"}]
        return [{"type": "Branch", "merge": "mul", "branches": [[], gate]}], channels
    out = rng.choice((4, 8))
    first = [{"type": "Conv2d", "out_channels": out if merge == "concat" else channels, "kernel_size": 3,
              "padding": 1}, _activation(rng)]
    second = [] if merge == "add" and rng.random() < 0.5 else [
        {"type": "Conv2d", "out_channels": out if merge == "concat" else channels, "kernel_size": 1}]
    total = (out + (out if second else channels)) if merge == "concat" else channels
    return [{"type": "Branch", "merge": merge, "branches": [first, second]}], total


def random_design(seed: int) -> dict:
    """A valid random design (see the module docstring)."""
    for attempt in range(50):
        rng = random.Random(seed * 1000 + attempt)
        in_channels = channels = rng.choice((3, 8))
        size = rng.choice((24, 32))
        layers: list[dict] = []
        for _ in range(rng.randint(3, 8)):
            block, channels = _block(rng, channels)
            layers += block
        if rng.random() < 0.5:
            layers += [{"type": "Flatten"}, {"type": "Linear", "out_features": rng.choice((5, 10))}]
        design = {"format": "cnn-designer/v1", "name": f"random{seed}",
                  "input": {"channels": in_channels, "height": size, "width": size}, "layers": layers}
        if analyze(design_from_dict(design)).valid:
            return design
    raise RuntimeError(f"no valid random design for seed {seed}")


# --- cases with stored reference numbers (tests/oracle/memory_reference.json) -----------------------
@dataclass(frozen=True)
class PeakCase:
    """One measured step: an example (or ``random<seed>``), its input side, batch and optimizer (``None``:
    inference under ``torch.no_grad()``). ``live``: also measured with torch in the tests (fast enough)."""

    design: str
    batch: int
    optimizer: str | None
    size: int | None = None
    live: bool = True

    @property
    def key(self) -> str:
        return f"{self.design}@{self.size or 'full'}/b{self.batch}/{self.optimizer or 'no_grad'}"


PEAK_CASES = (
    PeakCase("resnet18", 2, "momentum", 32),
    PeakCase("resnet18", 2, "adam", 64, live=False),
    PeakCase("resnet18", 2, None, 64),
    PeakCase("mobilenet_v1", 2, "adam", live=False),
    PeakCase("mobilenet_v1", 2, None),
    PeakCase("inception3a", 4, "sgd"),
    PeakCase("inception3a", 8, "adam"),
    PeakCase("alexnet", 2, "sgd", 96, live=False),
    PeakCase("lenet5", 16, "momentum"),
    PeakCase("hdc_segment", 2, "adam", 64),
    PeakCase("vgg16", 1, "sgd", 32, live=False),
    PeakCase("resnet18", 8, "momentum", live=False),
    PeakCase("mobilenet_v1", 16, "sgd", live=False),
    PeakCase("alexnet", 8, "adam", live=False),
    PeakCase("vgg16", 4, "sgd", live=False),
    *(PeakCase(f"random{seed}", 4, opt) for seed in (1, 4, 9, 19) for opt in ("sgd", "adam", None)),
)


def case_design(case: PeakCase) -> dict:
    """The design dict of a case, resized to ``case.size`` when given."""
    if case.design.startswith("random"):
        design = random_design(int(case.design[len("random"):]))
    else:
        design = json.loads((EXAMPLES / f"{case.design}.json").read_text())
    if case.size:
        design["input"]["height"] = design["input"]["width"] = case.size
    return design


# --- one layer per type, for the saved tensors (torch.autograd.graph.saved_tensors_hooks) --------------
SAVED_INPUT = (8, 6, 6)
SAVED_BATCH = 2

SAVED_CASES: dict[str, list[dict]] = {
    "Conv2d": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}],
    "ConvTranspose2d": [{"type": "ConvTranspose2d", "out_channels": 4, "kernel_size": 2, "stride": 2}],
    "MaxPool2d": [{"type": "MaxPool2d", "kernel_size": 2}],
    "AvgPool2d": [{"type": "AvgPool2d", "kernel_size": 2}],
    "AdaptiveAvgPool2d": [{"type": "AdaptiveAvgPool2d", "output_size": 2}],
    "AdaptiveMaxPool2d": [{"type": "AdaptiveMaxPool2d", "output_size": 2}],
    "SpatialPyramidPool2d": [{"type": "SpatialPyramidPool2d", "levels": [2, 1], "mode": "max"},
                             {"type": "SpatialPyramidPool2d", "levels": [2, 1], "mode": "avg"}],
    "BatchNorm2d": [{"type": "BatchNorm2d"}],
    "GroupNorm": [{"type": "GroupNorm", "num_groups": 2}],
    "LocalResponseNorm": [{"type": "LocalResponseNorm", "size": 3}],
    "Dropout": [{"type": "Dropout", "p": 0.5}],
    "PReLU": [{"type": "PReLU"}],
    "Identity": [{"type": "Identity"}],
    "Flatten": [{"type": "Flatten"}],
    "Linear": [{"type": "Linear", "out_features": 5}],
    "Upsample": [{"type": "Upsample", "scale_factor": 2, "mode": "nearest"},
                 {"type": "Upsample", "scale_factor": 2, "mode": "bilinear"}],
    "ZeroPad2d": [{"type": "ZeroPad2d", "padding": 1}],
    "Branch": [{"type": "Branch", "merge": m, "branches": [[], [{"type": "Identity"}]]} for m in MERGES],
    **{t: [{"type": t}] + ([{"type": t, "inplace": True}] if t in _INPLACE else [])
       for t in _ACTS if t != "PReLU"},
}
"""Layers per type whose saved tensors are checked (each alone; a ``Linear`` after a ``Flatten``)."""


def saved_case_key(layer: dict) -> str:
    return json.dumps(layer, sort_keys=True)


def saved_designs() -> list[list[dict]]:
    """Every ``SAVED_CASES`` layer as a layer list ending with it."""
    return [([{"type": "Flatten"}] if layer["type"] == "Linear" else []) + [layer]
            for cases in SAVED_CASES.values() for layer in cases]
