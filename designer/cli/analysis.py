"""``summary`` and ``coverage``: the analysis subcommands (no backend needed)."""

from __future__ import annotations

import argparse
import sys

from designer.core import analyze
from designer.core.formatting import FORMATS, format_analysis
from designer.core.memory import DTYPE_BYTES, OPTIMIZER_STATES

from .outputs import check_distinct_paths, write_file
from .support import EXIT_DESIGN_ERRORS, EXIT_OK, UserError, check_errors, load_design_or_fail, positive_int


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
    """Trace the centre unit of ``--layer`` on the support box of its receptive field (the cost follows the
    field, not the image) and write the full input H×W int64 map at exactly ``--out``."""
    from designer.core.coverage import MAX_SIDE, coverage_support
    from designer.core.errors import LayerError

    check_distinct_paths({"the design": args.design}, {"--out": args.out})
    design = load_design_or_fail(args.design)
    if args.layer in design.names():
        check_errors(design, args.design)
    try:
        box = coverage_support(design, args.layer)
    except KeyError:
        raise UserError(f"{args.design}: no layer named {args.layer!r}") from None
    except LayerError as exc:
        raise UserError(f"{args.design}: layer '{args.layer}': {exc}") from None
    if max(box.height, box.width) > MAX_SIDE:
        raise UserError(f"{args.design}: the {box.height}×{box.width} input is too large for a coverage map file "
                        f"(at most {MAX_SIDE} pixels per side); use a smaller input size")
    write_file(args.out, lambda handle: write_box_npy(handle, box), "the coverage map")
    counts = box.counts
    used = int((counts > 0).sum())
    print(f"{args.layer}: {used} of {counts.size} pixels in its {counts.shape[0]}×{counts.shape[1]} receptive "
          f"field are used (max {int(counts.max(initial=0))} paths); saved {box.height}×{box.width} map to {args.out}")
    return EXIT_OK


def write_box_npy(handle, box) -> None:
    """``np.save`` of ``box.full()`` without building it: the header, then only the box's rows at their
    offsets; the file is extended to its full size with zeros (a sparse file where the system allows)."""
    import numpy as np

    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.int64)), "fortran_order": False,
              "shape": (box.height, box.width)}
    np.lib.format.write_array_header_1_0(handle, header)
    start, row_bytes = handle.tell(), box.width * 8
    for i, row in enumerate(np.ascontiguousarray(box.counts, "<i8")):
        handle.seek(start + (box.top + i) * row_bytes + box.left * 8)
        handle.write(row.tobytes())
    handle.truncate(start + box.height * row_bytes)


def add_coverage_parser(subparsers) -> None:
    p = subparsers.add_parser("coverage", help="count the paths from each input pixel to a layer's centre unit")
    p.add_argument("design")
    p.add_argument("--layer", required=True, help="layer name (its centre unit is traced)")
    p.add_argument("--out", required=True, help="output .npy (int64, input H×W), written at exactly this path")
    p.set_defaults(handler=cmd_coverage)


def add_parsers(subparsers) -> None:
    """Register ``summary`` and ``coverage``."""
    add_summary_parser(subparsers)
    add_coverage_parser(subparsers)
