"""``import``: an ONNX model as a design and its weights (``designer.interop.onnx_import``).

``python main.py import MODEL.onnx --out DESIGN.json --out-weights W.npz [--input CxHxW]``

The whole model is converted and checked before anything is written, so a model that cannot be
imported leaves no file behind: exit 2 with one line listing every unsupported op type (count and
first node), or naming the node where the graph is not series-parallel. ``--out-weights`` may end
in ``.npz`` or ``.safetensors``.
"""

from __future__ import annotations

import argparse
import time

from .analysis import parse_input_shape
from .outputs import check_distinct_paths
from .support import EXIT_OK, UserError


def cmd_import(args: argparse.Namespace) -> int:
    """Convert, then write the design and the weights; print what was written."""
    from designer.core import analyze
    from designer.interop.onnx_import import OnnxImportError, import_onnx
    from designer.interop.weight_files import WeightFileError, write_weight_file

    check_distinct_paths({"the model": args.model}, {"--out": args.out, "--out-weights": args.out_weights})
    if not str(args.out_weights).lower().endswith((".npz", ".safetensors")):
        raise UserError(f"{args.out_weights}: --out-weights must end in .npz or .safetensors")
    start = time.perf_counter()
    try:
        design, weights = import_onnx(args.model, args.input)
    except OnnxImportError as exc:
        raise UserError(str(exc)) from None
    seconds = time.perf_counter() - start
    try:
        write_weight_file(args.out_weights, weights)
    except WeightFileError as exc:
        raise UserError(str(exc)) from None
    design.save(args.out)
    report = analyze(design)
    print(
        f"{args.model}: {sum(1 for _ in design.walk())} layers, {report.totals['params']:,} params, "
        f"input {'×'.join(map(str, design.input.shape))}, imported in {seconds:.2f} s"
    )
    print(f"wrote {args.out} and {args.out_weights} ({len(weights)} tensors)")
    return EXIT_OK


def add_parsers(subparsers) -> None:
    """Register ``import`` on ``designer.cli``'s subparsers."""
    p = subparsers.add_parser("import", help="open an ONNX model as a design with its weights")
    p.add_argument("model", help="ONNX model (.onnx); external data files are read from beside it")
    p.add_argument("--out", required=True, help="design file to write (cnn-designer/v1 JSON)")
    p.add_argument("--out-weights", required=True, help="weights to write (.npz or .safetensors)")
    p.add_argument(
        "--input",
        type=parse_input_shape,
        default=None,
        metavar="CxHxW",
        help="input size, needed when the model's is dynamic (default: the model's)",
    )
    p.set_defaults(handler=cmd_import)
