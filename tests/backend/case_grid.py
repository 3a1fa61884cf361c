"""Seeded random grids of kernel cases (the stored reference set and the live-torch sweep)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from designer.core.arithmetic import conv_out, conv_transpose_out, pool_out, same_padding, upsample_out

from .kernel_cases import Case


def _f32(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _choice(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _maybe_pair(rng: np.random.Generator, lo: int, hi: int) -> int | list[int]:
    a, b = (int(v) for v in rng.integers(lo, hi + 1, 2))
    return a if rng.random() < 0.5 else [a, b]


def _p(v: int | list[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def conv2d_case(rng: np.random.Generator) -> Case:
    groups = _choice(rng, [1, 1, 2, 3, "dw"])
    cg_in = int(rng.integers(1, 5))
    c_in = cg_in if groups == "dw" else cg_in * groups
    if groups == "dw":
        groups, mult = c_in + 1, int(rng.integers(1, 3))
        c_in = groups
        c_out, cg_in = c_in * mult, 1
    else:
        c_out = groups * int(rng.integers(1, 4))
    k, s, d = _maybe_pair(rng, 1, 5), _maybe_pair(rng, 1, 3), _maybe_pair(rng, 1, 2)
    h, w = (int(v) for v in rng.integers(6, 20, 2))
    padding = _choice(rng, ["same", "valid", 0, 1, [1, 2], "four"])
    if padding == "four":
        padding = [int(v) for v in rng.integers(0, 3, 4)]
    kk, ss, dd = _p(k), _p(s), _p(d)
    pads = _pads(padding, (h, w), kk, ss, dd)
    if conv_out(h, kk[0], ss[0], pads[0], dd[0]) <= 0 or conv_out(w, kk[1], ss[1], pads[1], dd[1]) <= 0:
        return conv2d_case(rng)
    arrays = {"x": _f32(rng, c_in, h, w), "weight": _f32(rng, c_out, cg_in, *kk, scale=0.3)}
    if rng.random() < 0.7:
        arrays["bias"] = _f32(rng, c_out)
    return "conv2d", arrays, {"stride": s, "padding": padding, "dilation": d, "groups": groups}


def _pads(padding: Any, hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int],
          d: tuple[int, int]) -> tuple[int, int]:
    """Total padding per axis of a conv2d case."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return sum(same_padding(hw[0], k[0], s[0], d[0])), sum(same_padding(hw[1], k[1], s[1], d[1]))
    if isinstance(padding, list) and len(padding) == 4:
        return padding[0] + padding[1], padding[2] + padding[3]
    p = _p(padding)
    return 2 * p[0], 2 * p[1]


def conv_transpose2d_case(rng: np.random.Generator) -> Case:
    groups = _choice(rng, [1, 1, 2, 3])
    c_in, cg_out = groups * int(rng.integers(1, 4)), int(rng.integers(1, 4))
    k, s, d = _p(_maybe_pair(rng, 1, 4)), _p(_maybe_pair(rng, 1, 3)), _p(_maybe_pair(rng, 1, 2))
    p = tuple(int(rng.integers(0, kk)) for kk in k)
    op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d))
    h, w = (int(v) for v in rng.integers(3, 10, 2))
    if min(conv_transpose_out(n, kk, ss, pp, dd, oo) for n, kk, ss, pp, dd, oo in
           zip((h, w), k, s, p, d, op)) <= 0:
        return conv_transpose2d_case(rng)
    arrays = {"x": _f32(rng, c_in, h, w), "weight": _f32(rng, c_in, cg_out, *k, scale=0.3)}
    if rng.random() < 0.7:
        arrays["bias"] = _f32(rng, cg_out * groups)
    return "conv_transpose2d", arrays, {"stride": list(s), "padding": list(p), "output_padding": list(op),
                                        "groups": groups, "dilation": list(d)}


def pool_case(rng: np.random.Generator, kind: str) -> Case:
    k = _p(_maybe_pair(rng, 1, 4))
    s = _choice(rng, [None, 1, 2, [2, 1], 3])
    p = [int(rng.integers(0, kk // 2 + 1)) for kk in k]
    d = [int(v) for v in rng.integers(1, 3, 2)] if kind == "max_pool2d" else [1, 1]
    ceil = bool(rng.random() < 0.5)
    h, w = (int(v) for v in rng.integers(4, 16, 2))
    ss = k if s is None else _p(s)
    if min(pool_out(n, kk, st, pp, dd, ceil) for n, kk, st, pp, dd in zip((h, w), k, ss, p, d)) <= 0:
        return pool_case(rng, kind)
    hp: dict[str, Any] = {"kernel_size": list(k), "stride": s, "padding": p, "ceil_mode": ceil}
    if kind == "max_pool2d":
        hp["dilation"] = d
    else:
        hp["count_include_pad"] = bool(rng.random() < 0.5)
    return kind, {"x": _f32(rng, int(rng.integers(1, 5)), h, w)}, hp


def misc_cases(rng: np.random.Generator) -> Iterator[Case]:
    """Fixed-shape cases for the remaining kernels, including ±1e4 inputs for the activations."""
    big = np.array([-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4], np.float32)
    for n_out in (1, 3, [2, 5], 7):
        for kind in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            yield kind, {"x": _f32(rng, 3, 11, 9)}, {"output_size": n_out}
    for levels, mode in (([4, 2, 1], "max"), ([3, 1], "avg"), ([1, 2, 6], "max")):
        yield "spatial_pyramid_pool", {"x": _f32(rng, 4, 13, 10)}, {"levels": levels, "mode": mode}
    c = 5
    bn = {"x": _f32(rng, c, 6, 7), "mean": _f32(rng, c), "var": np.abs(_f32(rng, c)) + 0.1}
    yield "batch_norm", dict(bn), {"eps": 1e-5}
    yield "batch_norm", dict(bn, weight=_f32(rng, c), bias=_f32(rng, c)), {"eps": 1e-3}
    for size, alpha, beta, k in ((5, 1e-4, 0.75, 2.0), (2, 0.5, 0.5, 1.0), (3, 1.0, 1.0, 1.0), (8, 0.1, 0.75, 1.0)):
        yield "local_response_norm", {"x": _f32(rng, 6, 5, 4, scale=3)}, {"size": size, "alpha": alpha,
                                                                         "beta": beta, "k": k}
    xs = [_f32(rng, 3, 5, 6, scale=3), np.tile(big, (2, 1))[None].copy()]
    for x in xs:
        for name, hp in (("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 1.3}),
                         ("sigmoid", {}), ("tanh", {}), ("softmax", {"dim": 0}), ("flatten", {}),
                         ("dropout", {"p": 0.5})):
            yield name, {"x": x}, hp
    yield "softmax", {"x": big * 1.0}, {"dim": 0}
    yield "softmax", {"x": _f32(rng, 10, scale=5)}, {"dim": 0}
    yield "prelu", {"x": _f32(rng, 3, 4, 5)}, {}
    yield "prelu", {"x": _f32(rng, 3, 4, 5), "weight": _f32(rng, 3)}, {}
    yield "linear", {"x": _f32(rng, 12), "weight": _f32(rng, 5, 12), "bias": _f32(rng, 5)}, {}
    yield "linear", {"x": _f32(rng, 7), "weight": _f32(rng, 3, 7)}, {}


def upsample_cases(rng: np.random.Generator) -> Iterator[Case]:
    for mode in ("nearest", "bilinear"):
        for scale in (2.0, 3.0, 1.5, 0.5, 2.7, [2.0, 1.5]):
            for ac in ((False, True) if mode == "bilinear" else (False,)):
                yield "upsample", {"x": _f32(rng, 2, 5, 7)}, {"scale_factor": scale, "mode": mode,
                                                              "align_corners": ac}
        yield "upsample", {"x": _f32(rng, 2, 5, 7)}, {"size": [9, 4], "mode": mode, "align_corners": False}


def _scale(rng: np.random.Generator, n: int) -> float:
    """An upsampling factor for an axis of length ``n``: often just above 1 (``floor(n·s) == n``, an identity
    axis in PyTorch), else integral, below 1 or anywhere in (1, 4)."""
    kind = _choice(rng, ["identity", "identity", "integer", "shrink", "any", "any"])
    if kind == "identity":  # in (1, (n + 1)/n)
        return round(1.0 + float(rng.uniform(0.01, 0.99)) / n, 4)
    if kind == "integer":
        return float(rng.integers(1, 4))
    if kind == "shrink":
        return round(float(rng.uniform(0.3, 1.0)), 3)
    return round(float(rng.uniform(1.0, 4.0)), 3)


def upsample_case(rng: np.random.Generator) -> Case:
    """Random size, scale (one or per axis, just above 1 included) or explicit size; nearest or bilinear."""
    h, w = (int(v) for v in rng.integers(1, 14, 2))
    mode = _choice(rng, ["nearest", "bilinear", "bilinear"])
    hp: dict[str, Any] = {"mode": mode, "align_corners": bool(mode == "bilinear" and rng.random() < 0.3)}
    if rng.random() < 0.2:
        hp["size"] = [_choice(rng, [h, int(rng.integers(1, 20))]), _choice(rng, [w, int(rng.integers(1, 20))])]
    else:
        sh, sw = _scale(rng, h), _scale(rng, w)
        hp["scale_factor"] = sh if rng.random() < 0.3 else [sh, sw]
        scales = hp["scale_factor"] if isinstance(hp["scale_factor"], list) else [sh, sh]
        if min(upsample_out(n, sc) for n, sc in zip((h, w), scales)) < 1:
            return upsample_case(rng)
    return "upsample", {"x": _f32(rng, int(rng.integers(1, 4)), h, w)}, hp


def lrn_case(rng: np.random.Generator) -> Case:
    c = int(rng.integers(1, 12))
    hp = {"size": int(rng.integers(1, c + 4)), "alpha": float(10 ** rng.uniform(-4, 0)),
          "beta": round(float(rng.uniform(0.1, 1.5)), 3), "k": round(float(rng.uniform(0.5, 3.0)), 3)}
    h, w = (int(v) for v in rng.integers(1, 8, 2))
    return "local_response_norm", {"x": _f32(rng, c, h, w, scale=float(rng.uniform(0.1, 5.0)))}, hp


def adaptive_pool_case(rng: np.random.Generator, kind: str) -> Case:
    """Output sizes below, equal to and above the input's, one or per axis (``None`` keeps an axis)."""
    h, w = (int(v) for v in rng.integers(1, 16, 2))
    oh, ow = int(rng.integers(1, h + 3)), int(rng.integers(1, w + 3))
    size: Any = _choice(rng, [oh, [oh, ow], [oh, ow], [None, ow], [oh, None]])
    return kind, {"x": _f32(rng, int(rng.integers(1, 4)), h, w)}, {"output_size": size}


def spp_case(rng: np.random.Generator) -> Case:
    levels = sorted({int(v) for v in rng.integers(1, 7, int(rng.integers(1, 4)))}, reverse=True)
    h, w = (int(v) for v in rng.integers(1, 16, 2))
    return "spatial_pyramid_pool", {"x": _f32(rng, int(rng.integers(1, 4)), h, w)}, {
        "levels": levels, "mode": _choice(rng, ["max", "avg"])}


def sweep_case(rng: np.random.Generator) -> Case:
    """One random case of the resampling and pooling kernels: upsample, LRN, adaptive pools or SPP."""
    kind = _choice(rng, ["upsample", "upsample", "local_response_norm", "adaptive_avg_pool2d",
                         "adaptive_max_pool2d", "spatial_pyramid_pool"])
    if kind == "upsample":
        return upsample_case(rng)
    if kind == "local_response_norm":
        return lrn_case(rng)
    if kind == "spatial_pyramid_pool":
        return spp_case(rng)
    return adaptive_pool_case(rng, kind)


def identity_axis_upsample_cases(rng: np.random.Generator) -> Iterator[Case]:
    """Bilinear scales with ``floor(n·s) == n`` on one or both axes (PyTorch copies such an axis)."""
    for scale in (1.1, [1.69, 1.056], [1.056, 1.69], 1.2):
        for ac in (False, True):
            yield "upsample", {"x": _f32(rng, 2, 9, 17)}, {"scale_factor": scale, "mode": "bilinear",
                                                           "align_corners": ac}


def reference_cases(seed: int = 1234) -> list[Case]:
    """The fixed set stored in ``reference_outputs.npz``."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = [conv2d_case(rng) for _ in range(40)]
    cases += [conv_transpose2d_case(rng) for _ in range(20)]
    cases += [pool_case(rng, "max_pool2d") for _ in range(20)]
    cases += [pool_case(rng, "avg_pool2d") for _ in range(20)]
    cases += list(misc_cases(rng)) + list(upsample_cases(rng))
    extra = np.random.default_rng(seed + 1)  # a second stream: the cases above stay as they were
    cases += list(identity_axis_upsample_cases(extra)) + [sweep_case(extra) for _ in range(24)]
    for case in cases:  # prelu's default slope is the PyTorch init (0.25)
        if case[0] == "prelu" and "weight" not in case[1]:
            case[1]["weight"] = np.array([0.25], np.float32)
    return cases
