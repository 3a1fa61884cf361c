"""Design advice that needs context beyond one layer: input size, large kernels, 1×1 reductions,
and the Hybrid Dilated Convolution rule for dilation stacks.

Levels: ``error`` an impossible design; ``warning`` information lost or misaligned; ``hint``
efficiency or style advice. Messages are sentences a student understands, with the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .design import Design, Layer
from .spec import TRANSPARENT, WEIGHTED, numel


def _transparent(layer: Layer) -> bool:
    """Advice looks through activations, normalisations and dropout (the spec's ``transparent`` trait)."""
    return layer.spec.has(TRANSPARENT)

MANY_CHANNELS = 256  # a 3×3 conv on at least this many input channels earns the 1×1-reduction hint


@dataclass
class Issue:
    level: str  # "error" | "warning" | "hint"
    message: str
    layer: str  # layer name, or "input"

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "message": self.message, "layer": self.layer}


def design_advice(design: Design, rows, input_shape) -> list[Issue]:
    """Attach context advice to ``rows`` (in place); return the issues about the input itself."""
    by_name = {r.name: r for r in rows}
    convs = [r for r in rows if r.type == "Conv2d" and r.output_shape is not None]
    for index, row in enumerate(convs):
        row.issues += _large_kernel_advice(design.get(row.path), row, first=index == 0)
    for seq in _sequences(design.layers):
        _reduction_advice(seq, by_name)
        _redundant_bias_advice(seq, by_name)
        for run in _dilated_runs(seq):
            for group in _sawtooth_groups(run):
                by_name[group[-1].name].issues += hdc_advice([layer.hp["dilation"][0] for layer in group],
                                                             group[-1].hp["kernel_size"][0], group[-1].name)
    return _input_advice(input_shape, rows)


def _sequences(layers: tuple[Layer, ...]) -> Iterator[tuple[Layer, ...]]:
    yield layers
    for layer in layers:
        for branch in layer.branches:
            yield from _sequences(branch)


def _fmt(n: int) -> str:
    return f"{n:,}"


# --- large kernels --------------------------------------------------------------------------
def _large_kernel_advice(layer: Layer, row, first: bool) -> list[Issue]:
    """A k×k kernel (k ≥ 5 after the first conv, or 7×7 anywhere) against ⌈(k−1)/2⌉ stacked 3×3 convs,
    which see at least the same region: ``k²·C_in·C_out`` weights vs ``9·C_in·C_out + (n−1)·9·C_out²``."""
    hp = layer.hp
    kh, kw = hp["kernel_size"]
    k = kh
    if kh != kw or hp["groups"] != 1 or not (k == 7 or (k >= 5 and not first)):
        return []
    c_in, c_out = row.input_shape[0], hp["out_channels"]
    n = k // 2  # ⌈(k − 1)/2⌉ 3×3 convs see (2n + 1)² ⊇ k²
    seen = 2 * n + 1
    big = k * k * c_in * c_out
    stack = 9 * c_in * c_out + (n - 1) * 9 * c_out * c_out
    square = c_in == c_out
    big_txt = f"{_fmt(big)} weights" + (f" ({k * k}·C²)" if square else "")
    stack_txt = f"{_fmt(stack)} weights" + (f" ({9 * n}·C²)" if square else "")
    if stack < big:
        verdict = f"saving {100 * (big - stack) / big:.0f}% of the weights and adding {_nonlinearities(n - 1)}"
    else:
        verdict = (f"here the stack costs more weights (its later 3×3 convs run on all {c_out} output channels), "
                   f"but it adds {_nonlinearities(n - 1)}")
    region = f"the same {k}×{k} region" if seen == k else f"a {seen}×{seen} region (covering {k}×{k})"
    where = (" (a large kernel is acceptable only in the first layer, on few input channels)" if first
             else "; after the first layer small 3×3 kernels are the rule")
    return [Issue("hint", f"a {k}×{k} kernel on {c_in}→{c_out} channels has {big_txt}; {n} stacked 3×3 convs see "
                          f"{region} with {stack_txt}, {verdict}{where}", layer.name)]


def _nonlinearities(n: int) -> str:
    return f"{n} nonlinearit{'y' if n == 1 else 'ies'}"


# --- a bias the next layer removes -------------------------------------------------------------
def _redundant_bias_advice(seq: tuple[Layer, ...], by_name) -> None:
    """A weighted layer with a bias (a conv: the spec's ``weighted`` trait and a ``bias`` switch) right before a
    layer that subtracts each channel's mean (the next spec's ``cancels_bias``: BatchNorm2d; GroupNorm with one
    channel per group): the bias is removed again, so ``bias=False`` saves its ``C_out`` parameters."""
    for conv, after in zip(seq, seq[1:]):
        if not (conv.spec.has(WEIGHTED) and conv.hp.get("bias")):
            continue
        row, next_row = by_name[conv.name], by_name[after.name]
        if row.output_shape is None or next_row.output_shape is None:
            continue
        if after.spec.cancels_bias(row.output_shape, after.hp):
            c = numel(conv.spec.tensors(row.input_shape, conv.hp)["bias"].shape)
            row.issues.append(Issue("hint", f"the bias is redundant: the {after.type} right after subtracts each "
                                            f"channel's mean, which removes it; set bias to false and save "
                                            f"{_fmt(c)} parameters", conv.name))


# --- 1×1 reductions ------------------------------------------------------------------------------
def _reduction_advice(seq: tuple[Layer, ...], by_name) -> None:
    previous_conv: Layer | None = None
    for layer in seq:
        if layer.type == "Conv2d":
            row = by_name[layer.name]
            if row.output_shape is not None and _wants_reduction(layer, row, previous_conv):
                row.issues.append(_reduction_issue(layer, row))
            previous_conv = layer
        elif not _transparent(layer):
            previous_conv = None


def _wants_reduction(layer: Layer, row, previous: Layer | None) -> bool:
    hp = layer.hp
    if hp["groups"] != 1 or min(hp["kernel_size"]) < 3 or row.input_shape[0] < MANY_CHANNELS:
        return False
    reduced_before = previous is not None and previous.hp["kernel_size"] == (1, 1)
    return not reduced_before


def _reduction_issue(layer: Layer, row) -> Issue:
    kh, kw = layer.hp["kernel_size"]
    c_in, c_out = row.input_shape[0], layer.hp["out_channels"]
    r = c_in // 4
    direct = kh * kw * c_in * c_out
    reduced = c_in * r + kh * kw * r * c_out
    return Issue("hint", f"this {kh}×{kw} conv reads {c_in} channels directly ({_fmt(direct)} weights); a 1×1 conv "
                         f"to {r} channels first would need {_fmt(c_in * r)} + {_fmt(kh * kw * r * c_out)} = "
                         f"{_fmt(reduced)} weights ({100 * (direct - reduced) / direct:.0f}% fewer, as in "
                         f"Inception/ResNet bottlenecks)", layer.name)


# --- dilation stacks (HDC) ---------------------------------------------------------------------
def _dilated_runs(seq: tuple[Layer, ...]) -> Iterator[list[Layer]]:
    """Maximal runs of ≥ 2 stride-1 square convs (activations/BN between allowed) with some dilation > 1."""
    run: list[Layer] = []
    for layer in list(seq) + [None]:  # type: ignore[list-item]
        if layer is not None and _transparent(layer):
            continue
        is_candidate = (layer is not None and layer.type == "Conv2d" and layer.hp["stride"] == (1, 1)
                        and layer.hp["dilation"][0] == layer.hp["dilation"][1]
                        and (not run or layer.hp["kernel_size"] == run[0].hp["kernel_size"]))
        if is_candidate:
            run.append(layer)
            continue
        if len(run) >= 2 and any(conv.hp["dilation"][0] > 1 for conv in run):
            yield run
        run = [layer] if layer is not None and layer.type == "Conv2d" else []


def _sawtooth_groups(run: list[Layer]) -> list[list[Layer]]:
    """Split a run into non-decreasing rate groups: the sawtooth [1, 2, 5, 1, 2, 5] is two groups."""
    groups: list[list[Layer]] = [[run[0]]]
    for layer in run[1:]:
        if layer.hp["dilation"][0] < groups[-1][-1].hp["dilation"][0]:
            groups.append([])
        groups[-1].append(layer)
    return [g for g in groups if len(g) >= 2 and any(conv.hp["dilation"][0] > 1 for conv in g)]


def hdc_max_distance(rates: list[int]) -> int:
    """``M_2`` of the HDC rule: ``M_n = r_n``, ``M_i = max(M_{i+1} − 2r_i, M_{i+1} − 2(M_{i+1} − r_i), r_i)``."""
    m = rates[-1]
    for r in reversed(rates[1:-1]):
        m = max(m - 2 * r, m - 2 * (m - r), r)
    return m


def hdc_advice(rates: list[int], kernel: int, layer_name: str) -> list[Issue]:
    """Gridding warnings for a stack of dilated ``kernel``×``kernel`` convs (Wang et al. 2018)."""
    common = math.gcd(*rates)
    rf = 1 + sum(r * (kernel - 1) for r in rates)
    if common > 1:
        return [Issue("warning", f"dilation rates {rates} share the factor {common}: the stack samples the input "
                                 f"on a grid and some pixels of its {rf}×{rf} receptive field are never used "
                                 "(gridding); use rates without a common factor, e.g. [1, 2, 5] or the sawtooth "
                                 "[1, 2, 3, 1, 2, 3]", layer_name)]
    m2 = hdc_max_distance(rates)
    if m2 > kernel:
        return [Issue("warning", f"dilation rates {rates} break the hybrid dilated convolution rule: the largest "
                                 f"gap M₂ = {m2} exceeds the kernel size {kernel}, so holes remain in the "
                                 f"{rf}×{rf} receptive field (gridding); e.g. [1, 2, 5] satisfies it", layer_name)]
    return []


# --- input size ------------------------------------------------------------------------------------
def _input_advice(input_shape, rows) -> list[Issue]:
    spatial = [r for r in rows if r.rf is not None]
    total_stride = max((r.rf[0].jump for r in spatial), default=1)
    issues = []
    for axis, n in (("height", input_shape[1]), ("width", input_shape[2])):
        if total_stride > 1 and float(total_stride).is_integer() and n % int(total_stride):
            issues.append(Issue("hint", f"the input {axis} {n} is not divisible by the network's total stride "
                                        f"{int(total_stride)}: some layers round their size and lose border "
                                        f"pixels; sizes divisible by 2 many times (32, 64, 96, 224, 384, 512) "
                                        "avoid this", "input"))
        elif total_stride <= 1 and (n & -n) < 4:
            issues.append(Issue("hint", f"the input {axis} {n} cannot be halved twice; sizes divisible by 2 many "
                                        "times (32, 64, 96, 224, 384, 512) leave room for pooling", "input"))
    return issues
