"""Command line: ``python main.py [DESIGN.json]`` opens the window; subcommands work headless.

Exit codes: 0 valid; 1 the design has errors (the summary is still printed); 2 the file cannot be
read as a design (one line on stderr naming file, layer and field). Every subcommand module has an
``add_parsers(subparsers)``; errors become one ``error: …`` line here and nowhere else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from designer.core.serialization import printable

from . import analysis, conv_matrix, erf, export, import_model, run
from .support import EXIT_BAD_FILE, UserError

SUBCOMMAND_MODULES = (analysis, run, erf, conv_matrix, export, import_model)


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The headless parser and the names of its subcommands."""
    parser = argparse.ArgumentParser(prog="cnn-designer", description="Design, analyse and run CNNs.")
    subparsers = parser.add_subparsers(dest="command")
    for module in SUBCOMMAND_MODULES:
        module.add_parsers(subparsers)
    return parser, set(subparsers.choices)


def build_gui_parser(commands: set[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-designer", description="Open the CNN Designer window.",
                                     epilog=f"Subcommands: {', '.join(sorted(commands))} (see SUBCOMMAND -h).")
    parser.add_argument("design", nargs="?", help="design file to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window offscreen to a PNG and exit")
    parser.add_argument("--size", metavar="WxH", help="window size for --screenshot (default 1600x1000)")
    parser.add_argument("--workspace", choices=("design", "run"), default="design", help="workspace to show")
    return parser


def run_gui(argv: Sequence[str], commands: set[str]) -> int:
    args = build_gui_parser(commands).parse_args(argv)
    try:
        from designer.gui.app import run_app
    except ImportError as exc:
        raise UserError(f"the window needs PySide6 and pyqtgraph ({exc})") from None
    return run_app(args.design, screenshot=args.screenshot, size=args.size, workspace=args.workspace)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = build_parser()
    try:
        if argv and argv[0] in commands:
            args = parser.parse_args(argv)
            return args.handler(args)
        return run_gui(argv, commands)
    except UserError as exc:
        return report_error(str(exc), exc.code)
    except (ValueError, OSError) as exc:  # unreadable input files, bad values argparse could not see
        return report_error(str(exc), EXIT_BAD_FILE)
    except MemoryError:
        return report_error("not enough memory for this design; use a smaller input size", EXIT_BAD_FILE)


def report_error(message: str, code: int) -> int:
    """Print ``error: message`` as exactly one line (newlines, NULs and lone surrogates escaped: a layer name
    may hold any of them) and return ``code``."""
    print(f"error: {printable(message)}", file=sys.stderr)
    return code
