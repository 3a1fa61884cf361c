"""``summary`` and ``coverage``: the analysis subcommands (no backend needed)."""

from __future__ import annotations

import argparse
import sys

from designer.core import analyze
from designer.core.formatting import FORMATS, format_analysis
from designer.core.memory import DTYPE_BYTES, OPTIMIZER_STATES

from .support import EXIT_DESIGN_ERRORS, EXIT_OK, UserError, load_design_or_fail, positive_int


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``3x224x224`` → ``(3, 224, 224)``."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected CxHxW with positive integers, e.g. 3x224x224, got {text!r}")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def cmd_summary(args: argparse.Namespace) -> int:
    design = load_design_or_fail(args.design)
    report = analyze(design, batch_size=args.batch, dtype=args.dtype, optimizer=args.optimizer,
                     input_shape=args.input)
    sys.stdout.write(format_analysis(report, args.format))
    return EXIT_OK if report.valid else EXIT_DESIGN_ERRORS


def add_summary_parser(subparsers) -> None:
    p = subparsers.add_parser("summary", help="print the per-layer analysis of a design")
    p.add_argument("design", help="design file (cnn-designer/v1 JSON)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--batch", type=positive_int, default=1, help="batch size for memory figures")
    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32")
    p.add_argument("--optimizer", choices=list(OPTIMIZER_STATES), default="sgd")
    p.add_argument("--input", type=parse_input_shape, default=None, metavar="CxHxW",
                   help="override the design's input size")
    p.set_defaults(handler=cmd_summary)


def cmd_coverage(args: argparse.Namespace) -> int:
    import numpy as np

    from designer.core.coverage import coverage_map
    from designer.core.errors import LayerError

    design = load_design_or_fail(args.design)
    try:
        counts = coverage_map(design, args.layer)
    except KeyError:
        raise UserError(f"{args.design}: no layer named {args.layer!r}") from None
    except LayerError as exc:
        raise UserError(f"{args.design}: layer '{args.layer}': {exc}") from None
    np.save(args.out, counts)
    used = counts > 0
    ys, xs = np.nonzero(used)
    box = counts[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if used.any() else counts[:0, :0]
    print(f"{args.layer}: {int(used.sum())} of {box.size} pixels in its {box.shape[0]}×{box.shape[1]} receptive "
          f"field are used (max {int(counts.max())} paths); saved {counts.shape[0]}×{counts.shape[1]} map to {args.out}")
    return EXIT_OK


def add_coverage_parser(subparsers) -> None:
    p = subparsers.add_parser("coverage", help="count the paths from each input pixel to a layer's centre unit")
    p.add_argument("design")
    p.add_argument("--layer", required=True, help="layer name (its centre unit is traced)")
    p.add_argument("--out", required=True, help="output .npy (int64, input H×W)")
    p.set_defaults(handler=cmd_coverage)


def add_parsers(subparsers) -> None:
    """Register ``summary`` and ``coverage``."""
    add_summary_parser(subparsers)
    add_coverage_parser(subparsers)
