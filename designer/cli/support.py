"""What every command-line handler shares: exit codes, the one-line user error, argument types.

Every subcommand module imports this one; the backend never imports the CLI.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from designer.core import Analysis, Design, DesignFormatError, analyze

EXIT_OK, EXIT_DESIGN_ERRORS, EXIT_BAD_FILE = 0, 1, 2


class UserError(Exception):
    """A problem with the user's input, reported as one ``error: …`` line on stderr."""

    def __init__(self, message: str, code: int = EXIT_BAD_FILE) -> None:
        super().__init__(message)
        self.code = code


def positive_int(text: str) -> int:
    """``argparse`` type for counts such as ``--batch`` and ``--repeat``."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def load_design_or_fail(path: str) -> Design:
    """The design in ``path``, or a ``UserError`` carrying the format error's one line."""
    try:
        return Design.load(path)
    except DesignFormatError as exc:
        raise UserError(str(exc)) from None


def check_errors(design: Design, path: str, report: Analysis | None = None) -> Analysis:
    """The design's analysis when it has no errors; else exit 1 naming the first error's layer."""
    report = report if report is not None else analyze(design)
    errors = [i for i in report.issues if i.level == "error"]
    if errors:
        raise UserError(f"{path}: layer '{errors[0].layer}': {errors[0].message}", EXIT_DESIGN_ERRORS)
    return report


def check_valid(design: Design, path: str, report: Analysis | None = None) -> Analysis:
    """The design's analysis when it can run: no errors (:func:`check_errors`, exit 1) and within the memory
    guard (:func:`check_runnable`, exit 2)."""
    report = check_errors(design, path, report)
    check_runnable(design, path, report=report)
    return report


@contextlib.contextmanager
def run_errors(path: str) -> Iterator[None]:
    """Backend failures inside the block become one line naming the design file ``path``: a layer that cannot
    run (``RunError``, which names the layer) or a run that does not fit in memory."""
    from designer.backend.runner import RunError

    try:
        yield
    except RunError as exc:
        raise UserError(f"{path}: {exc}") from None
    except MemoryError:
        raise UserError(f"{path}: not enough memory to run this design; use a smaller input size") from None


def check_runnable(design: Design, path: str, report: Analysis | None = None) -> None:
    """Refuse, with one line, a design whose single-image run would need more than the memory guard
    allows (:mod:`designer.backend.limits`, shared with the window; the analysis knows without allocating
    anything, e.g. for a 10⁹×10⁹ input). ``report`` is the design's analysis (batch 1) when the caller
    already has it."""
    from designer.backend.limits import run_memory_refusal

    refusal = run_memory_refusal(design, report=report)
    if refusal is not None:
        raise UserError(f"{path}: {refusal}")


def make_runner(args: argparse.Namespace, design: Design):
    """A backend ``Runner`` with ``--weights`` (when given) or ``--seed``; weight and run errors become one
    ``UserError`` line naming the weights file or the design file."""
    from designer.backend.runner import RunError, Runner
    from designer.backend.weights import WeightsError, load_weights

    weights_path = getattr(args, "weights", None)
    try:
        weights = load_weights(weights_path, design) if weights_path else None
        return Runner(design, weights=weights, seed=getattr(args, "seed", 0))
    except (WeightsError, RunError) as exc:
        text = str(exc)
        raise UserError(text if weights_path and text.startswith(str(weights_path)) else f"{args.design}: {text}") \
            from None
    except MemoryError:
        raise UserError(f"{args.design}: not enough memory for this design's weights") from None


WEIGHTS_HELP = ("weights: .npz, .safetensors or a PyTorch .pt/.pth state_dict (read without torch; keys as in the "
                "state_dict, a 'module.' prefix is accepted)")
SAVE_WEIGHTS_HELP = "write weights at exactly this path: .safetensors for that suffix, else an uncompressed .npz"


def add_weights_argument(parser, required: bool = False) -> None:
    """``--weights W`` with the formats every command accepts."""
    parser.add_argument("--weights", metavar="W", required=required, help=WEIGHTS_HELP)
