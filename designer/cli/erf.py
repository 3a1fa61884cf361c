"""``erf`` subcommand: the effective receptive field of one layer's centre unit, saved as ``.npy``/PNG.

``python main.py erf DESIGN.json --layer NAME [--image IMG | --sample] [--uniform] [--seed N]
[--weights W.npz] --out ERF.npy [--png ERF.png]`` — wired by ``designer.cli.main`` through :func:`add_parsers`.
"""

from __future__ import annotations

import argparse

import numpy as np

from designer.backend.gradients import EffectiveRF, effective_rf
from designer.core import Design, analyze

from .outputs import check_distinct_paths, read_image, save_npy, write_png
from .support import (
    EXIT_OK,
    UserError,
    add_weights_argument,
    check_valid,
    load_design_or_fail,
    make_runner,
    run_errors,
)


def _input(args: argparse.Namespace, design: Design) -> np.ndarray | None:
    """The network input: the image, the built-in sample (default), or none for ``--uniform``."""
    from designer.backend.images import sample_input

    if args.uniform and not args.image:
        return None
    return read_image(args.image, design.input) if args.image else sample_input(design.input)


def to_gray(erf: np.ndarray) -> np.ndarray:
    """The ERF map as uint8 ``[H, W]``, its maximum at 255."""
    top = float(erf.max(initial=0.0))
    return np.zeros(erf.shape, np.uint8) if top <= 0 else np.round(erf / top * 255).astype(np.uint8)


def _summary(args: argparse.Namespace, design: Design, result: EffectiveRF) -> str:
    row = next(r for r in analyze(design).rows if r.name == args.layer)
    rf = row.receptive_field
    theory = "global" if rf is None else "×".join(str(v) for v in rf)
    kind = "uniform" if args.uniform else "real weights"
    where = "" if result.unit is None else f" of unit {result.unit}"
    if not np.any(result.map):  # the unit sees only padding: no input pixel moves it, no centre to report
        mass = "is empty: no input pixel changes this unit (it sees only padding)"
    else:
        mass = (f"holds 95% of its mass within radius {result.radius:.1f} px of "
                f"({result.centre[0]:.1f}, {result.centre[1]:.1f})")
    return (f"{args.layer}: effective RF{where} ({kind}) {mass}; theoretical RF {theory}; "
            f"saved {result.map.shape[0]}×{result.map.shape[1]} map to {args.out}")


def cmd_erf(args: argparse.Namespace) -> int:
    check_distinct_paths({"the design": args.design, "--image": args.image, "--weights": args.weights},
                         {"--out": args.out, "--png": args.png})
    design = load_design_or_fail(args.design)
    if args.layer not in design.names():
        raise UserError(f"{args.design}: no layer named {args.layer!r}")
    check_valid(design, args.design)
    x = _input(args, design)
    source = design if args.uniform else make_runner(args, design)
    try:
        with run_errors(args.design):
            result = effective_rf(source, x, args.layer, uniform=args.uniform)
    except ValueError as exc:  # a unit outside the layer's output
        raise UserError(f"{args.design}: layer '{args.layer}': {exc}") from None
    save_npy(args.out, result.map, "the ERF map")
    if args.png:
        write_png(args.png, to_gray(result.map))
    print(_summary(args, design, result))
    return EXIT_OK


def add_parsers(subparsers) -> None:
    """Register ``erf`` on ``designer.cli``'s subparsers."""
    p = subparsers.add_parser("erf", help="effective receptive field of a layer's centre unit (Luo et al. 2016)")
    p.add_argument("design", help="design file (cnn-designer/v1 JSON)")
    p.add_argument("--layer", required=True, help="layer name (its centre unit, all channels summed)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--image", help="input image (PNG/JPEG/BMP); default: the built-in sample")
    source.add_argument("--sample", action="store_true", help="use the built-in sample image (the default)")
    p.add_argument("--uniform", action="store_true", help="all-equal weights, no nonlinearity (architecture only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    add_weights_argument(p)
    p.add_argument("--out", required=True, help="output .npy: float64 input H×W map summing to 1 (exactly this path)")
    p.add_argument("--png", help="also write the map as a grayscale PNG (maximum white)")
    p.set_defaults(handler=cmd_erf)
