"""Convolution arithmetic written out: the window of one output position, its terms and the shape formula.

Every sliding-window layer is described as one *grid* the kernel slides over with stride ``s`` and
dilation ``d`` (Dumoulin & Visin, "A guide to convolution arithmetic"; seed articles 002 and 004):

* Conv2d, MaxPool2d, AvgPool2d: the grid is the input with its padding (``p_top``/``p_bottom``…,
  TensorFlow SAME puts the extra row at the bottom); ``y[o, i, j] = b[o] + Σ_{c ∈ group(o)} Σ_{u, v}
  w[o, c, u, v] · grid[c, s·i + d·u, s·j + d·v]`` (max or mean over the window for pools).
* ConvTranspose2d: the grid is the input with ``s − 1`` zeros inserted between pixels and padded by
  ``d(k − 1) − p`` on each side (``+ output_padding`` at the bottom/right; negative padding crops), and
  the kernel is flipped up-down and left-right: a plain stride-1 convolution over that grid equals the layer.

``geometry(layer, in_shape)`` gives the grid; ``position(layer, x, weights, (o, i, j))`` the terms with real
numbers and their sum; ``shape_formula(layer, in_shape)`` the output size with the numbers filled in.
``ARITHMETIC_RULES`` maps every layer type to its kind (``None``: not a sliding-window layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from designer.core import Layer
from designer.core import arithmetic as ar
from designer.core.layers_conv import resolve_conv_padding

ARITHMETIC_RULES: dict[str, str | None] = {
    "Conv2d": "conv", "ConvTranspose2d": "transpose", "MaxPool2d": "max", "AvgPool2d": "avg",
    **dict.fromkeys((  # not a kernel sliding over the input with a stride
        "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "SpatialPyramidPool2d", "BatchNorm2d", "GroupNorm",
        "LocalResponseNorm", "Dropout", "Identity", "ZeroPad2d", "Flatten", "Linear", "Upsample", "Branch",
        "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "SiLU", "Hardswish",
        "Hardsigmoid", "GELU"), None),
}
"""Layer type → kind of window arithmetic (``None``: not a sliding window over its input)."""


def arithmetic_kind(layer_type: str) -> str | None:
    """``"conv"``, ``"transpose"``, ``"max"``, ``"avg"`` or ``None``."""
    return ARITHMETIC_RULES.get(layer_type)


@dataclass(frozen=True)
class Geometry:
    """The grid a kernel slides over, per axis ``(h, w)`` pairs.

    Grid cell ``g`` is cell ``z = g − pad_before`` of the zero-inserted input (``insert`` = stride of the
    zero insertion, 1 for a plain conv); ``z`` is real input pixel ``z / insert`` when ``z`` is inside and a
    multiple of ``insert``, an inserted zero when inside otherwise, and padding outside.
    """

    kind: str
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad_before: tuple[int, int]
    pad_after: tuple[int, int]
    insert: tuple[int, int] = (1, 1)

    @property
    def grid_hw(self) -> tuple[int, int]:
        return tuple((n - 1) * t + 1 + a + b for n, t, a, b in  # type: ignore[return-value]
                     zip(self.in_hw, self.insert, self.pad_before, self.pad_after))

    def window(self, i: int, j: int) -> list[tuple[int, int, int, int]]:
        """``(gy, gx, u, v)`` grid cells under kernel tap ``(u, v)`` at output ``(i, j)``."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        return [(sh * i + dh * u, sw * j + dw * v, u, v) for u in range(self.kernel[0]) for v in range(self.kernel[1])]

    def source(self, gy: int, gx: int) -> tuple[str, int, int]:
        """``("input", y, x)``, ``("inserted", -1, -1)`` or ``("padding", -1, -1)`` for a grid cell."""
        kinds, coords = [], []
        for g, n, t, before in zip((gy, gx), self.in_hw, self.insert, self.pad_before):
            z = g - before
            if z < 0 or z > (n - 1) * t:
                kinds.append("padding")
            elif z % t:
                kinds.append("inserted")
            coords.append(z // t)
        if "padding" in kinds:
            return "padding", -1, -1
        if kinds:
            return "inserted", -1, -1
        return "input", coords[0], coords[1]

    def axis_sources(self, axis: int) -> np.ndarray:
        """Per grid row (``axis`` 0) or column (1): ``"input"``, ``"inserted"`` or ``"padding"``; a cell is
        padding when its row or column is, else inserted when either is."""
        n, t, before = self.in_hw[axis], self.insert[axis], self.pad_before[axis]
        z = np.arange(self.grid_hw[axis]) - before
        kinds = np.where(z % t != 0, "inserted", "input").astype(object)
        kinds[(z < 0) | (z > (n - 1) * t)] = "padding"
        return kinds.astype(str)

    def readers(self, y: int, x: int) -> list[tuple[int, int]]:
        """Output positions ``(i, j)`` whose window covers real input pixel ``(y, x)`` (hover linking)."""
        g = [c * t + b for c, t, b in zip((y, x), self.insert, self.pad_before)]
        axes = []
        for gc, n_out, s, d, k in zip(g, self.out_hw, self.stride, self.dilation, self.kernel):
            axes.append(sorted({(gc - d * u) // s for u in range(k)
                                if (gc - d * u) % s == 0 and 0 <= (gc - d * u) // s < n_out}))
        return [(i, j) for i in axes[0] for j in axes[1]]


def geometry(layer: Layer, in_shape: tuple[int, ...]) -> Geometry:
    """The grid of ``layer`` on an input of ``in_shape`` (see the module docstring)."""
    kind = arithmetic_kind(layer.type)
    if kind is None:
        raise ValueError(f"layer '{layer.name}': {layer.type} is not a sliding-window layer")
    hp, hw = layer.hp, (in_shape[1], in_shape[2])
    dilation = hp.get("dilation", (1, 1))
    if kind == "conv":
        pads = resolve_conv_padding(hp, *hw)
        out = tuple(ar.conv_out(n, k, s, sum(p), d) for n, k, s, p, d in
                    zip(hw, hp["kernel_size"], hp["stride"], pads, dilation))
        return Geometry(kind, hw, out, hp["kernel_size"], hp["stride"], dilation,
                        (pads[0][0], pads[1][0]), (pads[0][1], pads[1][1]))
    if kind == "transpose":
        out = tuple(ar.conv_transpose_out(n, k, s, p, d, op) for n, k, s, p, d, op in
                    zip(hw, hp["kernel_size"], hp["stride"], hp["padding"], dilation, hp["output_padding"]))
        before = tuple(d * (k - 1) - p for k, d, p in zip(hp["kernel_size"], dilation, hp["padding"]))
        after = tuple(b + op for b, op in zip(before, hp["output_padding"]))
        return Geometry(kind, hw, out, hp["kernel_size"], (1, 1), dilation, before, after, hp["stride"])
    out = tuple(ar.pool_out(n, k, s, p, d, hp["ceil_mode"]) for n, k, s, p, d in
                zip(hw, hp["kernel_size"], hp["stride"], hp["padding"], dilation))
    after = tuple(max(p, (o - 1) * s + d * (k - 1) + 1 - p - n) for o, s, d, k, p, n in
                  zip(out, hp["stride"], dilation, hp["kernel_size"], hp["padding"], hw))
    return Geometry(kind, hw, out, hp["kernel_size"], hp["stride"], dilation, hp["padding"], after)


def conv_weight(layer: Layer, weights: Mapping[str, np.ndarray], c_in: int) -> np.ndarray:
    """The ``[C_out, C_in/g, kh, kw]`` kernel slid over the grid: the layer's own for a Conv2d; for a
    ConvTranspose2d its ``[C_in, C_out/g, kh, kw]`` weight regrouped and flipped up-down and left-right."""
    w = np.asarray(weights[f"{layer.name}.weight"], np.float64)
    if layer.type != "ConvTranspose2d":
        return w
    g = layer.hp["groups"]
    cg_in, cg_out, kh, kw = c_in // g, w.shape[1], w.shape[2], w.shape[3]
    regrouped = w.reshape(g, cg_in, cg_out, kh, kw).transpose(0, 2, 1, 3, 4).reshape(g * cg_out, cg_in, kh, kw)
    return regrouped[:, :, ::-1, ::-1]


def filter_channels(layer: Layer, c_in: int, out_channel: int) -> range:
    """The input channels output channel ``out_channel`` sees: its group's ``C_in/g`` channels
    (all of them for ``g = 1``, only its own for a depthwise layer); pools see their own channel."""
    if arithmetic_kind(layer.type) in ("max", "avg"):
        return range(out_channel, out_channel + 1)
    g, c_out = layer.hp["groups"], layer.hp["out_channels"]
    group = out_channel // (c_out // g)
    return range(group * (c_in // g), (group + 1) * (c_in // g))


def grid_values(geo: Geometry, x: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """The grid itself, ``[C, grid_h, grid_w]`` float64: the input placed every ``insert`` cells, ``fill``
    (0, or −∞ for max pooling) in padding and inserted cells; negative padding crops."""
    c = x.shape[0]
    zh, zw = [(n - 1) * t + 1 for n, t in zip(geo.in_hw, geo.insert)]
    z = np.full((c, zh, zw), fill, np.float64)
    z[:, ::geo.insert[0], ::geo.insert[1]] = x
    grid = np.full((c, *geo.grid_hw), fill, np.float64)
    zy, zx = np.arange(geo.grid_hw[0]) - geo.pad_before[0], np.arange(geo.grid_hw[1]) - geo.pad_before[1]
    iy, ix = np.flatnonzero((zy >= 0) & (zy < zh)), np.flatnonzero((zx >= 0) & (zx < zw))
    grid[:, iy[:, None], ix[None, :]] = z[:, zy[iy][:, None], zx[ix][None, :]]
    return grid


@dataclass(frozen=True)
class Term:
    """One term of a window: input channel, grid cell, kernel tap, weight (``None`` for pools) and value."""

    channel: int
    cell: tuple[int, int]
    tap: tuple[int, int]
    weight: float | None
    value: float
    source: str  # "input" | "padding" | "inserted"


@dataclass(frozen=True)
class Position:
    """The arithmetic of output ``(o, i, j)``: ``value = bias + Σ w·x`` (conv), ``max x`` or ``Σ x / divisor``."""

    kind: str
    output: tuple[int, int, int]
    terms: tuple[Term, ...]
    bias: float
    divisor: int
    value: float

    def text(self, channel: int | None = None, max_terms: int = 12) -> str:
        """The sum written out with the real numbers, e.g. ``Σ w·x + b = 0.50·1.00 + … + 0.10 = 1.23``;
        ``channel`` restricts the written terms to one input channel (the rest summed in one number)."""
        shown = [t for t in self.terms if channel is None or t.channel == channel]
        rest = [t for t in self.terms if channel is not None and t.channel != channel]
        if self.kind == "max":
            items = [f"{t.value:.3g}" for t in shown if t.source != "padding"] or ["only padding (−∞)"]
            return f"max({', '.join(_cut(items, max_terms))}) = {self.value:.4g}"
        if self.kind == "avg":
            items = _cut([f"{t.value:.3g}" for t in shown], max_terms, [t.value for t in shown])
            return f"({_signed_sum(items)}) / {self.divisor} = {self.value:.4g}"
        items = _cut([f"{t.weight:.3g}·{_paren(t.value)}" for t in shown], max_terms,
                     [t.weight * t.value for t in shown])
        if rest:  # after the cut, so the other channels' subtotal and the bias are always written
            items.append(f"[{len(rest)} terms of other channels: {sum(t.weight * t.value for t in rest):.4g}]")
        items.append(f"{self.bias:.3g}")
        return f"Σ w·x + b = {_signed_sum(items)} = {self.value:.4g}"


def _paren(v: float) -> str:
    return f"({v:.3g})" if v < 0 else f"{v:.3g}"


def _signed_sum(items: list[str]) -> str:
    """``a + -b`` written ``a − b``."""
    text = items[0] if items else "0"
    for item in items[1:]:
        text += f" − {item[1:]}" if item.startswith("-") else f" + {item}"
    return text


def _cut(items: list[str], n: int, values: list[float] | None = None) -> list[str]:
    """At most ``n`` items written: the first ``n − 1`` and the last, the ``k`` between them as one
    ``[… k more terms: their sum]`` (``… (k more)`` without ``values``), so the sum can be checked by hand."""
    if len(items) <= n:
        return items
    skipped = len(items) - n  # the first n − 1 and the last are written
    middle = (f"… ({skipped} more)" if values is None else
              f"[… {skipped} more terms: {sum(values[n - 1:-1]):.4g}]")
    return [*items[:n - 1], middle, items[-1]]


def position(layer: Layer, x: np.ndarray, weights: Mapping[str, np.ndarray], out_index: tuple[int, int, int],
             geo: Geometry | None = None) -> Position:
    """The window arithmetic of output ``(o, i, j)`` of ``layer`` on input ``x [C, H, W]`` (float64)."""
    geo = geo or geometry(layer, x.shape)
    o, i, j = out_index
    kind = geo.kind
    cells = [(gy, gx, u, v, geo.source(gy, gx)[0]) for gy, gx, u, v in geo.window(i, j)]
    grid = grid_values(geo, x[list(filter_channels(layer, x.shape[0], o))])
    channels = filter_channels(layer, x.shape[0], o)
    if kind in ("max", "avg"):
        terms = tuple(Term(o, (gy, gx), (u, v), None, _cell(grid[0], gy, gx), src) for gy, gx, u, v, src in cells)
        values = [t.value for t in terms if t.source == "input"]
        if kind == "max":  # a dilated window may fall wholly on padding: −∞, as in PyTorch
            return Position(kind, out_index, terms, 0.0, 1, max(values, default=-np.inf))
        divisor = _avg_divisor(layer, geo, i, j)
        return Position(kind, out_index, terms, 0.0, divisor, sum(t.value for t in terms) / divisor)
    w = conv_weight(layer, weights, x.shape[0])
    bias = weights.get(f"{layer.name}.bias")
    b = 0.0 if bias is None else float(bias[o])
    terms = tuple(Term(c, (gy, gx), (u, v), float(w[o, k, u, v]), _cell(grid[k], gy, gx), src)
                  for k, c in enumerate(channels) for gy, gx, u, v, src in cells)
    return Position(kind, out_index, terms, b, 1, b + sum(t.weight * t.value for t in terms))


def _cell(grid: np.ndarray, gy: int, gx: int) -> float:
    """A grid value; cells past the grid (a ceil-mode window) read as padding (0)."""
    return float(grid[gy, gx]) if gy < grid.shape[0] and gx < grid.shape[1] else 0.0


def _avg_divisor(layer: Layer, geo: Geometry, i: int, j: int) -> int:
    """PyTorch's avg-pool divisor: the window clipped to ``n + p``, then (without ``count_include_pad``)
    to the input."""
    sizes = []
    for idx, n, k, s, p in zip((i, j), geo.in_hw, geo.kernel, geo.stride, geo.pad_before):
        start = idx * s - p
        end = min(start + k, n + p)
        sizes.append(end - start if layer.hp["count_include_pad"] else min(end, n) - max(start, 0))
    return sizes[0] * sizes[1]


# --- the shape formula with the numbers filled in ---------------------------------------------------------

def shape_formula(layer: Layer, in_shape: tuple[int, ...]) -> list[str]:
    """One line per axis: the output-size formula with this layer's numbers, and the rows/columns the
    windows never reach when the stride does not tile the input (seed 004's VALID example)."""
    geo = geometry(layer, in_shape)
    hp = layer.hp
    lines = []
    for axis, a in (("H", 0), ("W", 1)):
        n, k, d, o = geo.in_hw[a], geo.kernel[a], geo.dilation[a], geo.out_hw[a]
        if geo.kind == "transpose":
            s, p, op = hp["stride"][a], hp["padding"][a], hp["output_padding"][a]
            lines.append(f"{axis}_out = ({axis} − 1)s − 2p + d(k − 1) + output_padding + 1 = ({n} − 1)·{s} − 2·{p} + "
                         f"{d}·({k} − 1) + {op} + 1 = {o}; the grid: {s - 1} zero(s) between pixels, padding "
                         f"d(k − 1) − p = {geo.pad_before[a]} (+{op} after), flipped kernel, stride 1")
            continue
        lines.append(_window_line(axis, layer, geo, a))
        tail = ar.ignored_tail(n, k, geo.stride[a], geo.pad_before[a] + geo.pad_after[a], d) \
            if not hp.get("ceil_mode", False) and ar.effective_kernel(k, d) >= geo.stride[a] else 0
        if tail:
            what = "row" if a == 0 else "column"
            unseen = f"the last {what} of the input is" if tail == 1 else f"the last {tail} {what}s of the input are"
            lines.append(f"  the stride does not tile: (padded {axis} − k_eff) mod s = "
                         f"({n + geo.pad_before[a] + geo.pad_after[a]} − {ar.effective_kernel(k, d)}) mod "
                         f"{geo.stride[a]} ⇒ {unseen} never seen")
    return lines


def _window_line(axis: str, layer: Layer, geo: Geometry, a: int) -> str:
    n, k, s, d, o = geo.in_hw[a], geo.kernel[a], geo.stride[a], geo.dilation[a], geo.out_hw[a]
    before, after = geo.pad_before[a], geo.pad_after[a]
    if layer.hp.get("padding") == "same":
        return (f"{axis}_out = ceil({axis}/s) = ceil({n}/{s}) = {o} (SAME); padding max(({o} − 1)·{s} + "
                f"{ar.effective_kernel(k, d)} − {n}, 0) = {before + after}: {before} before, {after} after")
    ceil = layer.hp.get("ceil_mode", False)
    p = before if geo.kind != "conv" else None
    pad_text = f"2·{p}" if p is not None else f"{before} + {after}"
    rounding = "ceil" if ceil else "floor"
    span = n + (2 * p if p is not None else before + after) - d * (k - 1) - 1
    return (f"{axis}_out = {rounding}(({axis} + {'2p' if p is not None else 'p_before + p_after'} − d(k − 1) − 1)/s) "
            f"+ 1 = {rounding}(({n} + {pad_text} − {d}·({k} − 1) − 1)/{s}) + 1 = {rounding}({span}/{s}) + 1 = {o}")


def layer_input(design, outputs: Mapping[str, np.ndarray], x: np.ndarray, name: str) -> np.ndarray:
    """The tensor layer ``name`` consumed in a run: ``x`` for the first layer, else the output of the step
    before it (``outputs`` is ``Runner.run``'s result)."""
    from .graph import compile_design

    steps = compile_design(design)
    step = next((s for s in steps if s.name == name), None)
    if step is None:
        raise KeyError(name)
    source = step.inputs[0]
    return x if source == 0 else outputs[steps[source - 1].name]
