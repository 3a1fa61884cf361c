"""Small designs for the runner tests (raw ``cnn-designer/v1`` dicts)."""

from __future__ import annotations

from typing import Any

import numpy as np

from designer.core import Design


def conv(name: str, out: int, k: Any, **hp: Any) -> dict:
    return {"type": "Conv2d", "name": name, "out_channels": out, "kernel_size": k, **hp}


def layer(type_: str, name: str, **hp: Any) -> dict:
    return {"type": type_, "name": name, **hp}


def as_dict(layers: list[dict], c: int = 3, h: int = 20, w: int = 20, name: str = "t", **inp: Any) -> dict:
    return {"format": "cnn-designer/v1", "name": name,
            "input": {"channels": c, "height": h, "width": w, **inp}, "layers": layers}


def mini_dict() -> dict:
    """Every layer type, branches (concat with an identity branch, add, a squeeze-excitation mul), nested once."""
    inception = layer("Branch", "mix", merge="concat", branches=[
        [conv("mix_1x1", 4, 1)],
        [conv("mix_dw", 8, 3, padding=1, groups=8, bias=False), layer("ReLU6", "mix_relu6")],
        [],
        [layer("MaxPool2d", "mix_pool", kernel_size=3, stride=1, padding=1), conv("mix_proj", 3, 1, bias=False)],
    ])
    residual = layer("Branch", "res", merge="add", branches=[
        [conv("res_conv", 23, 3, padding="same"), layer("BatchNorm2d", "res_bn"),
         layer("Branch", "res_inner", merge="add", branches=[[layer("PReLU", "res_prelu", num_parameters=23)], []])],
        [],
    ])
    return as_dict([
        conv("stem", 8, [3, 5], stride=2, padding="same"),
        layer("BatchNorm2d", "stem_bn"),
        layer("LeakyReLU", "stem_act", negative_slope=0.1),
        inception, residual,
        conv("mod_conv", 12, 1),
        layer("GroupNorm", "mod_gn", num_groups=4),
        layer("SiLU", "mod_silu"),
        layer("Branch", "mod_se", merge="mul", branches=[
            [],
            [layer("AdaptiveAvgPool2d", "se_pool", output_size=1), conv("se_reduce", 3, 1),
             layer("Hardswish", "se_act"), conv("se_expand", 12, 1), layer("Hardsigmoid", "se_gate")],
        ]),
        layer("GELU", "mod_gelu", approximate="tanh"),
        layer("ZeroPad2d", "mod_pad", padding=[1, 0, 2, 1]),
        layer("Identity", "mod_id"),
        layer("ReLU", "mod_relu"),
        layer("LocalResponseNorm", "lrn", size=5, alpha=0.01, beta=0.75, k=2.0),
        layer("ConvTranspose2d", "up", out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1),
        layer("ELU", "up_act"),
        layer("Upsample", "resize", scale_factor=1.5, mode="bilinear"),
        layer("AvgPool2d", "avg", kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        layer("Tanh", "squash"),
        layer("Dropout", "drop", p=0.3),
        layer("Branch", "heads", merge="concat", branches=[
            [layer("SpatialPyramidPool2d", "spp", levels=[3, 1], mode="max")],
            [layer("AdaptiveAvgPool2d", "gap", output_size=2), layer("Flatten", "gap_flat")],
            [layer("AdaptiveMaxPool2d", "gmp", output_size=1), layer("Flatten", "gmp_flat")],
        ]),
        layer("Linear", "fc", out_features=10),
        layer("GELU", "fc_gelu"),
        layer("Sigmoid", "gate"),
        layer("Linear", "fc2", out_features=5, bias=False),
        layer("Softmax", "probs"),
    ], name="mini")


def mini() -> Design:
    return Design.from_dict(mini_dict())


def randomise_buffers(weights: dict[str, np.ndarray], seed: int = 3) -> dict[str, np.ndarray]:
    """Non-trivial BatchNorm statistics/affine and biases, so the tests see them."""
    rng = np.random.default_rng(seed)
    out = dict(weights)
    for key, value in weights.items():
        if key.endswith(("running_mean", "bias")) or (key.endswith(".weight") and value.ndim == 1):
            out[key] = rng.standard_normal(value.shape).astype(np.float32) * 0.5
        elif key.endswith("running_var"):
            out[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
    return out
