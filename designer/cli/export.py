"""``export``: a design as PyTorch code or as an ONNX model (``designer.interop``).

``python main.py export DESIGN.json --format pytorch|onnx [--weights W | --seed N] --out PATH``

* ``pytorch`` writes one module (PATH); with ``--weights`` or ``--seed`` also ``<stem>.safetensors``
  beside it and a ``load_pretrained()`` helper.
* ``onnx`` writes the model with the weights of ``--weights`` or of the He-normal initialisation with
  ``--seed`` (default 0), the weights the app runs with.

Exit 1 when the design has errors (each named on its layer), 2 for unreadable inputs or an
unwritable output (one line).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .outputs import check_distinct_paths
from .support import EXIT_DESIGN_ERRORS, EXIT_OK, UserError, load_design_or_fail, make_runner

FORMATS = ("pytorch", "onnx")


def _check_design(design, path: str) -> None:
    from designer.core import analyze
    from designer.interop.export_checks import design_errors

    errors = design_errors(analyze(design))
    if errors:
        raise UserError(f"{path}: cannot export a design with errors: {'; '.join(errors)}",
                        EXIT_DESIGN_ERRORS)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the design as PyTorch code or ONNX; print the files written."""
    from designer.interop.export_checks import ExportError

    weights_beside = str(Path(args.out).with_suffix(".safetensors")) if args.format == "pytorch" else None
    check_distinct_paths({"the design": args.design, "--weights": args.weights},
                         {"--out": args.out, "the weights beside the code": weights_beside})
    design = load_design_or_fail(args.design)
    _check_design(design, args.design)
    want_weights = args.format == "onnx" or args.weights or args.seed is not None
    if args.seed is None:
        args.seed = 0
    weights = make_runner(args, design).weights if want_weights else None
    try:
        if args.format == "onnx":
            from designer.interop.export_onnx import export_onnx

            written = export_onnx(design, args.out, weights)
        else:
            from designer.interop.export_torch import export_pytorch

            written = export_pytorch(design, args.out, weights)
    except ExportError as exc:
        raise UserError(f"{args.design}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {' and '.join(str(p) for p in written)} ({args.format}) from '{design.name}'")
    return EXIT_OK


def add_parsers(subparsers) -> None:
    """Register ``export`` on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("export", help="write a design as PyTorch code or an ONNX model")
    p.add_argument("design", help="design file (cnn-designer/v1 JSON)")
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="pytorch: one .py module; onnx: a .onnx model")
    init = p.add_mutually_exclusive_group()
    init.add_argument("--weights", metavar="W",
                      help="weights to export (PyTorch state_dict names and layouts)")
    init.add_argument("--seed", type=int, default=None,
                      help="export the app's He-normal weights of this seed (onnx: default 0; pytorch: "
                           "no weights unless given)")
    p.add_argument("--out", required=True, metavar="PATH", help="the .py or .onnx file to write")
    p.set_defaults(handler=cmd_export)
