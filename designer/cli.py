"""Command line: ``python main.py [DESIGN.json]`` opens the window; subcommands work headless.

Exit codes: 0 valid; 1 the design has errors (the summary is still printed); 2 the file cannot be
read as a design (one line on stderr naming file, layer and field).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .cli_support import (
    EXIT_BAD_FILE,
    EXIT_DESIGN_ERRORS,
    EXIT_OK,
    UserError,
    load_design_or_fail,
    positive_int,
)
from .core import analyze
from .core.formatting import FORMATS, format_analysis
from .core.memory import DTYPE_BYTES, OPTIMIZER_STATES


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

    from .core.coverage import coverage_map
    from .core.errors import LayerError

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


def _subcommand_registrars() -> list[Callable]:
    """Headless subcommands; the backend's are imported lazily (they import this module)."""
    from .backend.cli_commands import add_parsers as add_backend_parsers
    from .backend.grad_cli import add_parsers as add_grad_parsers

    return [add_summary_parser, add_coverage_parser, add_backend_parsers, add_grad_parsers]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-designer", description="Design, analyse and run CNNs.")
    subparsers = parser.add_subparsers(dest="command")
    for register in _subcommand_registrars():
        register(subparsers)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-designer", description="Open the CNN Designer window.",
                                     epilog="Subcommands: summary, run, fully-conv, bench, erf, coverage (see SUBCOMMAND -h).")
    parser.add_argument("design", nargs="?", help="design file to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window offscreen to a PNG and exit")
    return parser


def run_gui(argv: Sequence[str]) -> int:
    args = build_gui_parser().parse_args(argv)
    try:
        from .gui.app import run_app
    except ImportError as exc:
        raise UserError(f"the window needs PySide6 and pyqtgraph ({exc})") from None
    return run_app(args.design, screenshot=args.screenshot)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()
    try:
        if argv and argv[0] in known:
            args = parser.parse_args(argv)
            return args.handler(args)
        return run_gui(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except (ValueError, OSError) as exc:  # unreadable input files, bad values argparse could not see
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_FILE
    except MemoryError:
        print("error: not enough memory for this design; use a smaller input size", file=sys.stderr)
        return EXIT_BAD_FILE
