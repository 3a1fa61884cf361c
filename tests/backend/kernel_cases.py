"""Kernel test cases shared by the live-torch tests and the stored reference outputs.

A case is ``(kernel, arrays, hp)``: ``arrays`` holds float32 inputs (``x`` is ``[C, H, W]`` or
``[F]``), ``hp`` JSON-able hyperparameters. :func:`ours` runs our kernel, :func:`torch_ref`
runs ``torch.nn.functional`` on the same case (importing torch lazily), so the stored file
``reference_outputs.npz`` (see ``make_reference.py``) needs no torch to be checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from designer.backend import kernels as K
from designer.core.arithmetic import same_padding

Case = tuple[str, dict[str, np.ndarray], dict[str, Any]]


def rel_error(ours_: np.ndarray, ref: np.ndarray) -> float:
    """``max|a − b| / max|b|``: the error relative to the reference's scale."""
    scale = max(float(np.abs(ref).max(initial=0.0)), 1e-12)
    return float(np.abs(ours_.astype(np.float64) - ref).max(initial=0.0)) / scale


def conv_methods(arrays: dict[str, np.ndarray], hp: dict[str, Any]) -> list[str | None]:
    """All conv2d strategies valid for a case (``None`` = automatic choice)."""
    c_in = arrays["x"].shape[0]
    _, cg, kh, kw = arrays["weight"].shape
    methods: list[str | None] = [None, "im2col"]
    stride = hp["stride"] if isinstance(hp["stride"], list) else [hp["stride"]] * 2
    if stride == [1, 1]:
        methods += ["shifted", "wide"]
    if kh == kw == 1:
        methods.append("matmul")
    if hp["groups"] == c_in and cg == 1 and c_in > 1:
        methods.append("depthwise")
    return methods


def _tuple(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def ours(kernel: str, arrays: dict[str, np.ndarray], hp: dict[str, Any], method: str | None = None) -> np.ndarray:
    """Run our kernel on one case."""
    a, h = arrays, {k: _tuple(v) for k, v in hp.items()}
    x = a["x"]
    if kernel == "conv2d":
        return K.conv2d(x, a["weight"], a.get("bias"), h["stride"], h["padding"], h["dilation"], h["groups"],
                        method=method)
    if kernel == "conv_transpose2d":
        return K.conv_transpose2d(x, a["weight"], a.get("bias"), h["stride"], h["padding"],
                                  h["output_padding"], h["groups"], h["dilation"])
    if kernel == "max_pool2d":
        return K.max_pool2d(x, h["kernel_size"], h["stride"], h["padding"], h["dilation"], h["ceil_mode"])
    if kernel == "avg_pool2d":
        return K.avg_pool2d(x, h["kernel_size"], h["stride"], h["padding"], h["ceil_mode"], h["count_include_pad"])
    if kernel in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        return getattr(K, kernel)(x, h["output_size"])
    if kernel == "spatial_pyramid_pool":
        return K.spatial_pyramid_pool(x, h["levels"], h["mode"])
    if kernel == "batch_norm":
        return K.batch_norm(x, a["mean"], a["var"], a.get("weight"), a.get("bias"), h["eps"])
    if kernel == "local_response_norm":
        return K.local_response_norm(x, h["size"], h["alpha"], h["beta"], h["k"])
    if kernel == "prelu":
        return K.prelu(x, a["weight"])
    if kernel == "linear":
        return K.linear(x, a["weight"], a.get("bias"))
    if kernel == "upsample":
        return K.upsample(x, h.get("size"), h.get("scale_factor"), h["mode"], h["align_corners"])
    return getattr(K, kernel)(x, **h)


def _torch_pads(x_hw: tuple[int, int], w_hw: tuple[int, int], hp: dict[str, Any]) -> tuple[int, int, int, int]:
    """Explicit ``(top, bottom, left, right)`` for a conv2d case's padding."""
    p, s, d = hp["padding"], _pair(hp["stride"]), _pair(hp["dilation"])
    if p == "valid":
        return 0, 0, 0, 0
    if p == "same":
        top, bottom = same_padding(x_hw[0], w_hw[0], s[0], d[0])
        left, right = same_padding(x_hw[1], w_hw[1], s[1], d[1])
        return top, bottom, left, right
    p = list(_pair(p)) if not (isinstance(p, list) and len(p) == 4) else p
    return (p[0], p[0], p[1], p[1]) if len(p) == 2 else tuple(p)


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def torch_ref(kernel: str, arrays: dict[str, np.ndarray], hp: dict[str, Any]) -> np.ndarray:
    """The same case through ``torch.nn.functional`` (float32, batch of one)."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    h = {k: _tuple(v) for k, v in hp.items()}
    x = t["x"][None] if t["x"].ndim == 3 else t["x"]
    if kernel == "conv2d":
        top, bottom, left, right = _torch_pads(arrays["x"].shape[1:], arrays["weight"].shape[2:], hp)
        y = F.conv2d(F.pad(x, (left, right, top, bottom)), t["weight"], t.get("bias"), h["stride"], 0,
                     h["dilation"], h["groups"])
    elif kernel == "conv_transpose2d":
        y = F.conv_transpose2d(x, t["weight"], t.get("bias"), h["stride"], h["padding"], h["output_padding"],
                               h["groups"], h["dilation"])
    elif kernel == "max_pool2d":
        y = F.max_pool2d(x, h["kernel_size"], h["stride"], h["padding"], h["dilation"], h["ceil_mode"])
    elif kernel == "avg_pool2d":
        y = F.avg_pool2d(x, h["kernel_size"], h["stride"], h["padding"], h["ceil_mode"], h["count_include_pad"])
    elif kernel in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        y = getattr(F, kernel)(x, h["output_size"])
    elif kernel == "spatial_pyramid_pool":
        pool = F.adaptive_max_pool2d if h["mode"] == "max" else F.adaptive_avg_pool2d
        y = torch.cat([pool(x, n).flatten(1) for n in h["levels"]], 1)
    elif kernel == "batch_norm":
        y = F.batch_norm(x, t["mean"], t["var"], t.get("weight"), t.get("bias"), False, 0.0, h["eps"])
    elif kernel == "local_response_norm":
        y = F.local_response_norm(x, h["size"], h["alpha"], h["beta"], h["k"])
    elif kernel == "prelu":
        y = F.prelu(x, t["weight"])
    elif kernel == "linear":
        y = F.linear(t["x"], t["weight"], t.get("bias"))
    elif kernel == "upsample":
        ac = h["align_corners"] if h["mode"] == "bilinear" else None
        y = F.interpolate(x, h.get("size"), h.get("scale_factor"), h["mode"], ac)
    elif kernel == "softmax":
        y = torch.softmax(t["x"], h["dim"])
    elif kernel == "flatten":
        y = torch.flatten(t["x"])
    elif kernel == "dropout":
        y = F.dropout(t["x"], h["p"], training=False)
    elif kernel in ("relu", "relu6", "sigmoid", "tanh"):
        y = getattr(torch, kernel)(t["x"]) if kernel in ("sigmoid", "tanh") else getattr(F, kernel)(t["x"])
    elif kernel == "leaky_relu":
        y = F.leaky_relu(t["x"], h["negative_slope"])
    elif kernel == "elu":
        y = F.elu(t["x"], h["alpha"])
    else:
        raise KeyError(kernel)
    y = y.numpy()
    return y[0] if kernel in MAP_KERNELS and arrays["x"].ndim == 3 else y


MAP_KERNELS = {"conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
               "adaptive_max_pool2d", "spatial_pyramid_pool", "batch_norm", "local_response_norm", "prelu",
               "upsample"}
