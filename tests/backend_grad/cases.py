"""Random single-layer cases for the VJP tests, shared by the torch and finite-difference checks.

A case is a one-layer ``cnn-designer/v1`` dict (vector-input layers get a Flatten in front, over a
``[F, 1, 1]`` input), the float32 input, random weights (random biases, BatchNorm statistics and PReLU
slopes too, so every term of the gradient is exercised) and a random output gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from designer.backend.grad import VJP_OPS
from designer.backend.layer_ops import LAYER_OPS
from designer.backend.weights import init_weights
from designer.core import Design, Layer, analyze

Rng = np.random.Generator


@dataclass
class Case:
    design: dict
    layer: Layer
    x: np.ndarray  # the layer's input ([C, H, W] or [F])
    weights: dict[str, np.ndarray]
    gy: np.ndarray

    def forward(self, x: np.ndarray | None = None, weights: dict | None = None) -> np.ndarray:
        return LAYER_OPS[self.layer.type](self.layer, [self.x if x is None else x], weights or self.weights)

    def vjp(self, params: bool = True):
        return VJP_OPS[self.layer.type](self.layer, [self.x], self.forward(), self.gy, self.weights, params=params)


def _design(layer: dict, shape: tuple[int, ...]) -> dict:
    layers = [layer] if len(shape) == 3 else [{"type": "Flatten", "name": "flat"}, layer]
    c, h, w = shape if len(shape) == 3 else (shape[0], 1, 1)
    return {"format": "cnn-designer/v1", "name": "case", "input": {"channels": c, "height": h, "width": w},
            "layers": layers}


def _randomise(weights: dict[str, np.ndarray], rng: Rng) -> dict[str, np.ndarray]:
    out = {}
    for k, v in weights.items():
        tensor = k.rsplit(".", 1)[1]
        if tensor == "running_var":
            out[k] = rng.uniform(0.5, 2.0, v.shape).astype(np.float32)
        elif tensor == "weight" and v.ndim == 1:  # BatchNorm γ, PReLU slopes
            out[k] = rng.uniform(-1.5, 1.5, v.shape).astype(np.float32)
        elif tensor in ("bias", "running_mean"):
            out[k] = rng.standard_normal(v.shape).astype(np.float32)
        else:
            out[k] = v
    return out


def make_case(layer: dict, shape: tuple[int, ...], rng: Rng, x: np.ndarray | None = None) -> Case | None:
    """The case for ``layer`` on an input of ``shape``; ``None`` when the design is invalid."""
    raw = _design({"name": "L", **layer}, shape)
    design = Design.from_dict(raw)
    report = analyze(design)
    if not report.valid:
        return None
    weights = _randomise(init_weights(design, int(rng.integers(1 << 30))), rng)
    if x is None:
        x = rng.standard_normal(shape).astype(np.float32)
    lay = design.layers[-1]
    case = Case(raw, lay, x.astype(np.float32), weights, np.zeros(0, np.float32))
    case.gy = rng.standard_normal(case.forward().shape).astype(np.float32)
    return case


def _pair(rng: Rng, lo: int, hi: int) -> list[int] | int:
    a, b = (int(v) for v in rng.integers(lo, hi + 1, 2))
    return a if rng.random() < 0.5 else [a, b]


def conv2d(rng: Rng) -> tuple[dict, tuple]:
    g = int(rng.choice([1, 1, 2, 3]))
    c_in = g * int(rng.integers(1, 4))
    depthwise = rng.random() < 0.2
    if depthwise:
        g = c_in
    c_out = g * int(rng.integers(1, 4))
    padding: Any = rng.choice(["same", "valid", "int", "pair"])
    padding = {"int": int(rng.integers(0, 3)), "pair": [int(v) for v in rng.integers(0, 3, 2)]}.get(padding, padding)
    layer = {"type": "Conv2d", "out_channels": c_out, "kernel_size": _pair(rng, 1, 4), "stride": _pair(rng, 1, 3),
             "dilation": _pair(rng, 1, 3), "groups": g, "padding": padding, "bias": bool(rng.random() < 0.7)}
    return layer, (c_in, int(rng.integers(6, 17)), int(rng.integers(6, 17)))


def conv_transpose2d(rng: Rng) -> tuple[dict, tuple]:
    g = int(rng.choice([1, 1, 2]))
    s, d = [int(v) for v in rng.integers(1, 4, 2)], [int(v) for v in rng.integers(1, 3, 2)]
    layer = {"type": "ConvTranspose2d", "out_channels": g * int(rng.integers(1, 4)), "kernel_size": _pair(rng, 1, 4),
             "stride": s, "dilation": d, "groups": g, "padding": [int(v) for v in rng.integers(0, 3, 2)],
             "output_padding": [int(rng.integers(0, max(a, b))) for a, b in zip(s, d)],
             "bias": bool(rng.random() < 0.7)}
    return layer, (g * int(rng.integers(1, 4)), int(rng.integers(3, 9)), int(rng.integers(3, 9)))


def pool(kind: str) -> Callable[[Rng], tuple[dict, tuple]]:
    def make(rng: Rng) -> tuple[dict, tuple]:
        k = [int(v) for v in rng.integers(1, 5, 2)]
        layer = {"type": kind, "kernel_size": k, "stride": [int(v) for v in rng.integers(1, 4, 2)],
                 "padding": [int(rng.integers(0, kk // 2 + 1)) for kk in k], "ceil_mode": bool(rng.random() < 0.5)}
        if kind == "MaxPool2d":
            layer["dilation"] = [int(v) for v in rng.integers(1, 3, 2)]
        else:
            layer["count_include_pad"] = bool(rng.random() < 0.5)
        return layer, (int(rng.integers(1, 4)), int(rng.integers(5, 15)), int(rng.integers(5, 15)))
    return make


def adaptive(kind: str) -> Callable[[Rng], tuple[dict, tuple]]:
    def make(rng: Rng) -> tuple[dict, tuple]:
        h, w = (int(v) for v in rng.integers(1, 13, 2))
        out = [int(rng.integers(1, h + 3)), int(rng.integers(1, w + 3))]
        return {"type": kind, "output_size": out}, (int(rng.integers(1, 4)), h, w)
    return make


def spp(rng: Rng) -> tuple[dict, tuple]:
    levels = sorted({int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4)))}, reverse=True)
    return ({"type": "SpatialPyramidPool2d", "levels": levels, "mode": str(rng.choice(["max", "avg"]))},
            (int(rng.integers(1, 4)), int(rng.integers(5, 14)), int(rng.integers(5, 14))))


def _map_or_vector(rng: Rng) -> tuple:
    if rng.random() < 0.3:
        return (int(rng.integers(2, 30)),)
    return int(rng.integers(1, 6)), int(rng.integers(1, 9)), int(rng.integers(1, 9))


def simple(kind: str, **ranges: Callable[[Rng], Any]) -> Callable[[Rng], tuple[dict, tuple]]:
    def make(rng: Rng) -> tuple[dict, tuple]:
        return {"type": kind, **{k: f(rng) for k, f in ranges.items()}}, _map_or_vector(rng)
    return make


def batch_norm(rng: Rng) -> tuple[dict, tuple]:
    return ({"type": "BatchNorm2d", "affine": bool(rng.random() < 0.7), "track_running_stats": bool(rng.random() < 0.6),
             "eps": float(rng.choice([1e-5, 1e-3]))},
            (int(rng.integers(1, 5)), int(rng.integers(2, 8)), int(rng.integers(2, 8))))


def lrn(rng: Rng) -> tuple[dict, tuple]:
    return ({"type": "LocalResponseNorm", "size": int(rng.integers(1, 6)), "alpha": float(rng.uniform(0.01, 1.0)),
             "beta": float(rng.uniform(0.3, 1.0)), "k": float(rng.uniform(0.5, 2.0))},
            (int(rng.integers(1, 8)), int(rng.integers(2, 6)), int(rng.integers(2, 6))))


def prelu(rng: Rng) -> tuple[dict, tuple]:
    shape = _map_or_vector(rng)
    return {"type": "PReLU", "num_parameters": int(rng.choice([1, shape[0]]))}, shape


def upsample(rng: Rng) -> tuple[dict, tuple]:
    scale = rng.choice([2.0, 3.0, 1.5, 2.5, 1.0, 0.5, 0.75])
    scale = float(scale) if rng.random() < 0.6 else [float(scale), float(rng.choice([2.0, 1.5, 1.0]))]
    mode = str(rng.choice(["nearest", "bilinear"]))
    align = {"align_corners": bool(rng.random() < 0.5)} if mode == "bilinear" else {}  # torch: bilinear only
    return ({"type": "Upsample", "scale_factor": scale, "mode": mode, **align},
            (int(rng.integers(1, 4)), int(rng.integers(2, 9)), int(rng.integers(2, 9))))


def linear(rng: Rng) -> tuple[dict, tuple]:
    return ({"type": "Linear", "out_features": int(rng.integers(1, 12)), "bias": bool(rng.random() < 0.7)},
            (int(rng.integers(1, 20)),))


def group_norm(rng: Rng) -> tuple[dict, tuple]:
    g = int(rng.integers(1, 4))
    shape = (g * int(rng.integers(1, 4)), int(rng.integers(1, 7)), int(rng.integers(1, 7)))
    if rng.random() < 0.25:
        shape = (shape[0],)
    return ({"type": "GroupNorm", "num_groups": g, "affine": bool(rng.random() < 0.7),
             "eps": float(rng.choice([1e-5, 1e-3]))}, shape)


def zero_pad(rng: Rng) -> tuple[dict, tuple]:
    padding = int(rng.integers(0, 3)) if rng.random() < 0.4 else [int(v) for v in rng.integers(0, 4, 4)]
    return ({"type": "ZeroPad2d", "padding": padding},
            (int(rng.integers(1, 4)), int(rng.integers(1, 7)), int(rng.integers(1, 7))))


GENERATORS: dict[str, Callable[[Rng], tuple[dict, tuple]]] = {
    "Conv2d": conv2d,
    "ConvTranspose2d": conv_transpose2d,
    "MaxPool2d": pool("MaxPool2d"),
    "AvgPool2d": pool("AvgPool2d"),
    "AdaptiveAvgPool2d": adaptive("AdaptiveAvgPool2d"),
    "AdaptiveMaxPool2d": adaptive("AdaptiveMaxPool2d"),
    "SpatialPyramidPool2d": spp,
    "BatchNorm2d": batch_norm,
    "LocalResponseNorm": lrn,
    "Dropout": simple("Dropout", p=lambda r: float(r.uniform(0, 0.9))),
    "ReLU": simple("ReLU"),
    "ReLU6": simple("ReLU6"),
    "LeakyReLU": simple("LeakyReLU", negative_slope=lambda r: float(r.uniform(-0.5, 0.5))),
    "PReLU": prelu,
    "ELU": simple("ELU", alpha=lambda r: float(r.uniform(0.1, 2.0))),
    "Sigmoid": simple("Sigmoid"),
    "Tanh": simple("Tanh"),
    "Softmax": simple("Softmax"),
    "Flatten": simple("Flatten"),
    "Linear": linear,
    "Upsample": upsample,
    "SiLU": simple("SiLU"),
    "Hardswish": simple("Hardswish"),
    "Hardsigmoid": simple("Hardsigmoid"),
    "GELU": simple("GELU", approximate=lambda r: str(r.choice(["none", "tanh"]))),
    "Identity": simple("Identity"),
    "GroupNorm": group_norm,
    "ZeroPad2d": zero_pad,
}
SCALE = {"ReLU6": 5.0, "Sigmoid": 3.0, "Tanh": 2.0, "ELU": 2.0, "Hardswish": 4.0, "Hardsigmoid": 4.0, "GELU": 2.0,
         "SiLU": 3.0}  # inputs that reach every regime


def random_case(kind: str, rng: Rng) -> Case:
    """A valid random case of layer type ``kind`` (retries until the drawn hyperparameters fit)."""
    for _ in range(200):
        layer, shape = GENERATORS[kind](rng)
        x = rng.standard_normal(shape).astype(np.float32) * np.float32(SCALE.get(kind, 1.0))
        case = make_case(layer, shape, rng, x)
        if case is not None:
            return case
    raise AssertionError(f"no valid {kind} case drawn")


def tie_case(kind: str, rng: Rng) -> Case:
    """Pools on small-integer inputs (many equal maxima, like windows of zeros after a ReLU)."""
    for _ in range(200):
        layer, shape = GENERATORS[kind](rng)
        x = np.maximum(rng.integers(-2, 3, shape), 0).astype(np.float32)
        case = make_case(layer, shape, rng, x)
        if case is not None:
            return case
    raise AssertionError(f"no valid {kind} case drawn")
