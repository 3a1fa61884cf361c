"""Convolution as one matrix product: the equivalent matrix ``C`` of a layer on its input.

For an affine layer ``f`` with input ``x`` (shape ``[C_in, H, W]``) and output ``y``::

    f(x) − b = C @ x.ravel()          C: [out elements, in elements], C·H·W (row-major) order

where ``b = f(0)`` is the bias spread over the output (``bias[o]`` at every position of channel ``o``).

* **Conv2d** (seed article 002): row ``(o, i, j)`` holds the kernel ``w[o, c, u, v]`` at column
  ``(c, s·i + d·u − p_top, s·j + d·v − p_left)`` for every input channel ``c`` of ``o``'s group; taps that
  fall on padding have no column, so a 3×3 kernel on a 4×4 input (no padding) gives a 4×16 ``C`` with nine
  nonzeros per row.
* **ConvTranspose2d**: the same definition, and ``C`` is exactly ``Cᵀ`` of the *matching* convolution:
  ``Conv2d(C_out → C_in, same k, s, p, d, groups)`` applied to the transposed layer's output shape, whose
  weight is the transposed layer's own ``weight [C_in, C_out/g, kh, kw]`` (read as ``[O, I/g, kh, kw]``).
  (With ``output_padding ≥ stride``, allowed when the dilation is larger, that conv has a few more outputs
  than the transposed layer has inputs: ``C`` is the transpose of the rows the input has.)
* Linear: ``C`` is its weight. Other affine types (AvgPool2d, BatchNorm2d with running statistics, Upsample,
  Flatten, …) are probed: column ``k`` is ``f(e_k) − f(0)``. Nonlinear types have no matrix; their registry
  entry says why.

``MATRIX_RULES`` maps every layer type to its rule (a test checks each registered type has one).
Matrices beyond ``MAX_ENTRIES`` (10⁸) entries are refused before anything is allocated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from designer.core import Design, Layer, analyze
from designer.core.layers_conv import resolve_conv_padding

MAX_ENTRIES = 10**8
MAX_PROBES = 20_000  # input elements a probed (non-conv) layer may have


class ConvMatrixError(ValueError):
    """The matrix cannot be made (names the layer and the reason, one line)."""


@dataclass(frozen=True)
class LayerMatrix:
    """``f(x) = matrix @ x.ravel() + offset`` for inputs of ``in_shape``; outputs of ``out_shape``."""

    layer: str
    matrix: np.ndarray  # [out elements, in elements] float32
    offset: np.ndarray  # [out elements] float32 (the bias spread over the output)
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def nonzeros(self) -> int:
        return int(np.count_nonzero(self.matrix))

    @property
    def sparsity_text(self) -> str:
        """``36 nonzeros of 64 entries (56.2%)``."""
        total = self.matrix.size
        return f"{self.nonzeros:,} nonzeros of {total:,} entries ({100.0 * self.nonzeros / max(total, 1):.1f}%)"


Builder = Callable[[Layer, tuple[int, ...], tuple[int, ...], Mapping[str, np.ndarray]],
                   "tuple[np.ndarray, np.ndarray]"]


# --- the window matrix shared by Conv2d and ConvTranspose2d ----------------------------------------------

def window_matrix(small: tuple[int, int, int], big: tuple[int, int, int], weight: np.ndarray,
                  stride: tuple[int, int], dilation: tuple[int, int], pad: tuple[int, int],
                  groups: int, transpose: bool = False) -> np.ndarray:
    """``M[(a, i, j), (b, y, x)] = weight[a, b mod (B/g), u, v]`` where ``y = s·i + d·u − pad``.

    ``small`` is the conv's output (the transposed conv's input), ``big`` the conv's input; ``weight`` is
    ``[A, B/g, kh, kw]`` and small channel ``a`` sees the big channels of its group ``a // (A/g)``.
    Taps outside ``big`` (padding) have no column. Built with index arrays, no loop over pixels;
    ``transpose`` fills ``Mᵀ`` directly (one dense allocation, not two, for a ConvTranspose2d).
    """
    a_n, hs, ws = small
    b_n, hb, wb = big
    _, bg, kh, kw = weight.shape
    ag = a_n // groups
    a = np.arange(a_n)[:, None, None, None, None, None]
    b = (a // ag) * bg + np.arange(bg)[None, :, None, None, None, None]
    y = (stride[0] * np.arange(hs)[None, None, None, None, :, None]
         + dilation[0] * np.arange(kh)[None, None, :, None, None, None] - pad[0])
    x = (stride[1] * np.arange(ws)[None, None, None, None, None, :]
         + dilation[1] * np.arange(kw)[None, None, None, :, None, None] - pad[1])
    i = np.arange(hs)[None, None, None, None, :, None]
    j = np.arange(ws)[None, None, None, None, None, :]
    shape = (a_n, bg, kh, kw, hs, ws)
    rows = np.broadcast_to((a * hs + i) * ws + j, shape)
    cols = np.broadcast_to((b * hb + y) * wb + x, shape)
    inside = np.broadcast_to((y >= 0) & (y < hb) & (x >= 0) & (x < wb), shape)
    values = np.broadcast_to(weight.astype(np.float32)[:, :, :, :, None, None], shape)
    n_small, n_big = a_n * hs * ws, b_n * hb * wb
    if transpose:
        matrix = np.zeros((n_big, n_small), np.float32)
        matrix[cols[inside], rows[inside]] = values[inside]
    else:
        matrix = np.zeros((n_small, n_big), np.float32)
        matrix[rows[inside], cols[inside]] = values[inside]
    return matrix


def _bias_offset(layer: Layer, out_shape: tuple[int, ...], weights: Mapping[str, np.ndarray]) -> np.ndarray:
    bias = weights.get(f"{layer.name}.bias")
    c, h, w = out_shape
    if bias is None:
        return np.zeros(c * h * w, np.float32)
    return np.repeat(np.asarray(bias, np.float32), h * w)


def _conv2d_rule(layer: Layer, in_shape, out_shape, weights):
    hp = layer.hp
    (top, _), (left, _) = resolve_conv_padding(hp, in_shape[1], in_shape[2])
    m = window_matrix(tuple(out_shape), tuple(in_shape), np.asarray(weights[f"{layer.name}.weight"]),
                      hp["stride"], hp["dilation"], (top, left), hp["groups"])
    return m, _bias_offset(layer, out_shape, weights)


def matching_conv_matrix(layer: Layer, in_shape, out_shape, weights, transpose: bool = False) -> np.ndarray:
    """``C`` of the convolution a ConvTranspose2d is the transpose of: ``[in elements, out elements]`` of the
    transposed layer (the conv maps the transposed layer's output shape back to its input shape);
    ``transpose``: its ``Cᵀ``, the transposed layer's own matrix, built directly."""
    hp = layer.hp
    return window_matrix(tuple(in_shape), tuple(out_shape), np.asarray(weights[f"{layer.name}.weight"]),
                         hp["stride"], hp["dilation"], hp["padding"], hp["groups"], transpose)


def _conv_transpose_rule(layer: Layer, in_shape, out_shape, weights):
    m = matching_conv_matrix(layer, in_shape, out_shape, weights, transpose=True)
    return m, _bias_offset(layer, out_shape, weights)


def _linear_rule(layer: Layer, in_shape, out_shape, weights):
    """A Linear layer is its own matrix: ``C = weight [out, in]``, offset ``bias`` (no probing)."""
    matrix = np.ascontiguousarray(weights[f"{layer.name}.weight"], np.float32)
    bias = weights.get(f"{layer.name}.bias")
    return matrix, np.zeros(matrix.shape[0], np.float32) if bias is None else np.asarray(bias, np.float32)


# --- probing for the other affine layers ---------------------------------------------------------------

def _probe_rule(layer: Layer, in_shape, out_shape, weights):
    """Column ``k`` = ``f(e_k) − f(0)`` through the backend's own kernel (exact for affine layers)."""
    from .layer_ops import LAYER_OPS

    n_in = int(np.prod(in_shape))
    if n_in > MAX_PROBES:
        raise ConvMatrixError(f"layer '{layer.name}': probing {layer.type} needs one run per input element "
                              f"({n_in:,} > {MAX_PROBES:,}); use a smaller input size")
    op = LAYER_OPS[layer.type]

    def f(x: np.ndarray) -> np.ndarray:
        return np.asarray(op(layer, [x], weights), np.float32).reshape(-1)

    offset = f(np.zeros(in_shape, np.float32))
    matrix = np.zeros((offset.size, n_in), np.float32)
    basis = np.zeros(n_in, np.float32)
    for k in range(n_in):
        basis[k] = 1.0
        matrix[:, k] = f(basis.reshape(in_shape)) - offset
        basis[k] = 0.0
    return matrix, offset


def _refuse_bn(layer: Layer) -> str | None:
    if layer.hp.get("track_running_stats", True):
        return None
    return "BatchNorm2d without running statistics divides by the statistics of its own input"


def _refuse_spp(layer: Layer) -> str | None:
    return None if layer.hp.get("mode") == "avg" else "max pyramid pooling picks the largest input of each bin"


@dataclass(frozen=True)
class MatrixRule:
    """How one layer type gets its matrix: ``build(layer, in_shape, out_shape, weights) -> (C, offset)``, or
    the reason it has none (``refuse(layer)``, checked before any size check or allocation)."""

    build: Builder | None
    refuse: Callable[[Layer], str | None] = lambda layer: None

    def reason(self, layer: Layer) -> str | None:
        return self.refuse(layer) if self.build is not None else self.refuse(layer) or "has no matrix"


def _not_linear(reason: str) -> MatrixRule:
    return MatrixRule(None, lambda layer: f"{layer.type} {reason}")


_PICKS_MAX = _not_linear("picks the largest input of each window")
_NONLINEAR = _not_linear("is not linear: its output is not a fixed matrix times its input")
_NORMALISES = _not_linear("divides by statistics of its own input")
_PROBE = MatrixRule(_probe_rule)

MATRIX_RULES: dict[str, MatrixRule] = {
    "Conv2d": MatrixRule(_conv2d_rule),
    "ConvTranspose2d": MatrixRule(_conv_transpose_rule),
    "Linear": MatrixRule(_linear_rule), "AvgPool2d": _PROBE, "AdaptiveAvgPool2d": _PROBE, "Upsample": _PROBE,
    "Flatten": _PROBE, "Dropout": _PROBE, "Identity": _PROBE, "ZeroPad2d": _PROBE,
    "BatchNorm2d": MatrixRule(_probe_rule, _refuse_bn), "SpatialPyramidPool2d": MatrixRule(_probe_rule, _refuse_spp),
    "MaxPool2d": _PICKS_MAX, "AdaptiveMaxPool2d": _PICKS_MAX,
    "LocalResponseNorm": _NORMALISES, "GroupNorm": _NORMALISES, "Softmax": _NORMALISES,
    "Branch": _not_linear("joins several branches (pick a layer inside it)"),
    **{t: _NONLINEAR for t in ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh", "SiLU",
                               "Hardswish", "Hardsigmoid", "GELU")},
}


def refusal(layer: Layer) -> str | None:
    """Why ``layer`` has no matrix (one line naming it), or ``None`` when it has one."""
    rule = MATRIX_RULES.get(layer.type)
    reason = f"no matrix rule for {layer.type}" if rule is None else rule.reason(layer)
    return None if reason is None else (f"layer '{layer.name}': {reason}, so it has no matrix "
                                        "(choose a Conv2d, ConvTranspose2d or another linear layer)")


# --- entry points -----------------------------------------------------------------------------------------

def _fmt(shape) -> str:
    return "×".join(str(d) for d in shape)


def check_size(design: Design, name: str, in_shape, out_shape, limit: int = MAX_ENTRIES) -> None:
    """Refuse, before allocating, a matrix of more than ``limit`` entries, suggesting an input size that fits."""
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
    if n_in * n_out <= limit:
        return
    hint = suggest_input(design, name, limit)
    size = f"{design.input.height}×{design.input.width}"
    if hint is None:
        advice = f"no input smaller than {size} makes it fit: give the layer fewer channels or features"
    else:
        advice = f"use a smaller input size (e.g. {hint[0]}×{hint[1]} instead of {size}"
        if hint[2] is not None:
            advice += (f"; at that size layer '{hint[2]}' has an error, so try it on a copy of the design that "
                       f"ends at '{name}'")
        advice += ")"
    raise ConvMatrixError(
        f"layer '{name}': C would be {n_out:,} × {n_in:,} = {n_in * n_out:,} entries (out {_fmt(out_shape)}, "
        f"in {_fmt(in_shape)}), more than {limit:,}; {advice}")


def _entries_at(design: Design, name: str, h: int, w: int) -> tuple[int | None, str | None]:
    """``(entries of the layer's C or None when its shapes are unknown, first layer with an error or None)``
    with the design's input resized to ``h×w``."""
    report = analyze(design.with_input(height=h, width=w))
    error = next((i.layer for i in report.issues if i.level == "error"), None)
    try:
        row = report.row(name)
    except (StopIteration, KeyError):
        return None, error
    if not row.input_shape or not row.output_shape:
        return None, error
    return int(np.prod(row.input_shape)) * int(np.prod(row.output_shape)), error


def suggest_input(design: Design, name: str, limit: int = MAX_ENTRIES) -> tuple[int, int, str | None] | None:
    """The largest input ``H×W`` of the design's aspect at which the layer's ``C`` has at most ``limit``
    entries, and the first layer with an error at that size (``None`` when the design is valid there).

    Shrinks by 1/√2 steps until it fits, then bisects the height between the last two steps (a layer's size
    grows with its input). ``None`` when no size fits (a Linear's ``C`` does not depend on the input).
    """
    h0, w0 = design.input.height, design.input.width

    def size(h: int) -> tuple[int, int]:
        return h, max(1, round(h * w0 / h0))

    def fits(h: int) -> bool:
        entries, _ = _entries_at(design, name, *size(h))
        return entries is not None and entries <= limit

    high, low = h0, None  # high: known not to fit
    while high > 1:
        candidate = max(1, int(high / 1.4142))
        if fits(candidate):
            low = candidate
            break
        high = candidate
    if low is None:
        return None
    while high - low > 1:  # invariant: low fits, high does not
        mid = (low + high) // 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    return (*size(low), _entries_at(design, name, *size(low))[1])


def layer_matrix(layer: Layer, in_shape, out_shape, weights: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(C, offset)`` of one layer for the given shapes (no size check; see :func:`design_layer_matrix`)."""
    reason = refusal(layer)
    if reason is not None:
        raise ConvMatrixError(reason)
    return MATRIX_RULES[layer.type].build(layer, tuple(in_shape), tuple(out_shape), weights)


def design_layer_matrix(design: Design, name: str, weights: Mapping[str, np.ndarray],
                        limit: int = MAX_ENTRIES) -> LayerMatrix:
    """The equivalent matrix of layer ``name`` of ``design`` at the design's input size, with ``weights``
    (``state_dict`` keys; only this layer's are read)."""
    if name not in design.names():
        raise ConvMatrixError(f"no layer named {name!r}")
    layer = design.get(design.find(name))
    row = analyze(design).row(name)
    if row.input_shape is None or row.output_shape is None:
        raise ConvMatrixError(f"layer '{name}': its shapes are unknown (the design has errors before it)")
    reason = refusal(layer)
    if reason is not None:
        raise ConvMatrixError(reason)
    check_size(design, name, row.input_shape, row.output_shape, limit)
    matrix, offset = layer_matrix(layer, row.input_shape, row.output_shape, weights)
    return LayerMatrix(name, matrix, offset, tuple(row.input_shape), tuple(row.output_shape))
