"""``conv-matrix`` subcommand: the equivalent matrix ``C`` of one layer, saved as ``.npy``.

``python main.py conv-matrix DESIGN.json --layer NAME [--weights W.npz | --seed N] --out C.npy`` writes the
dense float32 ``C`` of shape ``[out elements, in elements]`` (C·H·W order of the layer's own input and
output at the design's input size) with ``layer(x) − bias = C @ x.ravel()``; for a ConvTranspose2d it is
the transpose of the matching convolution's ``C`` (see :mod:`designer.backend.conv_matrix`). More than 10⁸
entries are refused (exit 2, one line suggesting a smaller input).
"""

from __future__ import annotations

import argparse

import numpy as np

from designer.core import analyze

from .outputs import check_distinct_paths, save_npy
from .support import EXIT_DESIGN_ERRORS, EXIT_OK, UserError, add_weights_argument, load_design_or_fail


def _weights(args: argparse.Namespace, design, name: str) -> dict[str, np.ndarray]:
    """``--weights`` (checked against the whole design) or this layer's fresh ``--seed`` weights, which are
    exactly those ``run --seed N`` uses."""
    from designer.backend.weights import WeightsError, init_layer, input_shapes, load_weights

    try:
        if args.weights:
            return load_weights(args.weights, design)
        layer = design.get(design.find(name))
        shapes = input_shapes(design)
        return init_layer(layer, shapes[name], args.seed) if name in shapes else {}
    except WeightsError as exc:
        text = str(exc)
        raise UserError(text if args.weights and text.startswith(str(args.weights)) else f"{args.design}: {text}") \
            from None


def cmd_conv_matrix(args: argparse.Namespace) -> int:
    from designer.backend.conv_matrix import ConvMatrixError, check_size, layer_matrix, refusal

    check_distinct_paths({"the design": args.design, "--weights": args.weights}, {"--out": args.out})
    design = load_design_or_fail(args.design)
    if args.layer not in design.names():
        raise UserError(f"{args.design}: no layer named {args.layer!r}")
    report = analyze(design)
    errors = [i for i in report.issues if i.level == "error"]
    if errors:
        raise UserError(f"{args.design}: layer '{errors[0].layer}': {errors[0].message}", EXIT_DESIGN_ERRORS)
    row = report.row(args.layer)
    layer = design.get(design.find(args.layer))
    try:
        if refusal(layer) is not None:
            raise ConvMatrixError(refusal(layer))
        check_size(design, args.layer, row.input_shape, row.output_shape)
        weights = _weights(args, design, args.layer)
        matrix, _ = layer_matrix(layer, row.input_shape, row.output_shape, weights)
    except ConvMatrixError as exc:
        raise UserError(f"{args.design}: {exc}") from None
    save_npy(args.out, matrix, "the matrix")
    nonzeros = int(np.count_nonzero(matrix))
    print(f"{args.layer}: C is {matrix.shape[0]:,}×{matrix.shape[1]:,} (out {_fmt(row.output_shape)} · "
          f"in {_fmt(row.input_shape)}), {nonzeros:,} nonzeros ({100.0 * nonzeros / max(matrix.size, 1):.2f}%); "
          f"layer(x) − bias = C @ x.ravel(); saved to {args.out}")
    return EXIT_OK


def _fmt(shape) -> str:
    return "×".join(str(d) for d in shape)


def add_parsers(subparsers) -> None:
    """Register ``conv-matrix`` on ``designer.cli``'s subparsers."""
    p = subparsers.add_parser("conv-matrix", help="a layer's equivalent matrix C: layer(x) − bias = C @ x.ravel()")
    p.add_argument("design", help="design file (cnn-designer/v1 JSON)")
    p.add_argument("--layer", required=True, help="layer name (Conv2d, ConvTranspose2d or another linear layer)")
    source = p.add_mutually_exclusive_group()
    add_weights_argument(source)
    source.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    p.add_argument("--out", required=True, help="output .npy: float32 [out elements, in elements] (C·H·W order)")
    p.set_defaults(handler=cmd_conv_matrix)
