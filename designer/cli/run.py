"""Headless subcommands that run the backend: ``run``, ``fully-conv`` and ``bench``.

``add_parsers(subparsers)`` registers them; each handler takes the parsed ``argparse.Namespace``
and returns the exit code. User errors (unreadable design, image or weights; a layer that
fails) print one line ``error: …`` on stderr and exit 2; a design whose analysis has errors
exits 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from designer.core import Design

from .outputs import check_distinct_paths, read_image, safe_file_name, write_file, write_png
from .support import (
    EXIT_OK,
    SAVE_WEIGHTS_HELP,
    UserError,
    add_weights_argument,
    check_valid,
    load_design_or_fail,
    make_runner,
    positive_int,
    run_errors,
)


def _load_valid_design(path: str) -> Design:
    design = load_design_or_fail(path)
    check_valid(design, path)
    return design


def _input_array(args: argparse.Namespace, design: Design) -> tuple[Design, np.ndarray]:
    """The design to run and the network input from ``--image``, ``--input-npy`` or ``--sample``.

    An ``--input-npy`` array of another height or width than the design's input is run at its own size:
    the design is analysed at that size (errors, memory guard) from the array's header, before its data
    is read; the design's input is then the array's size (so weights are checked at that size too).
    """
    from designer.backend.images import sample_input

    if args.input_npy:
        return _npy_input(args.input_npy, design, args.design)
    check_valid(design, args.design)
    if args.image:
        return design, read_image(args.image, design.input, args.fit)
    return design, sample_input(design.input, args.fit)


def _npy_input(path: str, design: Design, design_path: str) -> tuple[Design, np.ndarray]:
    """``--input-npy``: header checked against the design (channels; errors and memory at the array's size),
    then the data read as float32 ``[C, H, W]``."""
    from designer.backend.npz import NpyHeader, NpyReadError, read_npy

    sized: list[Design] = []

    def check(header: NpyHeader) -> None:
        shape = header.shape[1:] if len(header.shape) == 4 and header.shape[0] == 1 else header.shape
        if header.dtype.kind not in "biuf":
            raise UserError(f"{path}: expected a numeric array, got dtype {header.dtype}")
        if len(shape) != 3 or shape[0] != design.input.channels or min(shape) < 1:
            raise UserError(f"{path}: expected a [{design.input.channels}, H, W] array, got {list(header.shape)}")
        resized = design if shape[1:] == design.input.shape[1:] else design.with_input(height=shape[1], width=shape[2])
        check_valid(resized, f"{design_path} (at the {shape[1]}×{shape[2]} size of {path})")
        sized.append(resized)

    try:
        x = read_npy(path, check)
    except NpyReadError as exc:
        raise UserError(f"{path}: cannot read the input array: {exc}") from None
    return sized[0], x.reshape(x.shape[-3:]).astype(np.float32)


def input_key(names: Mapping[str, object]) -> str:
    """The key of the network input in ``run --out``: ``input``, or ``__input__`` when a layer is named ``input``
    (more underscores while those are layer names too)."""
    key = "input"
    while key in names:
        key = f"__{key}__"
    return key


def save_maps(path: str | Path, x: np.ndarray, outputs: Mapping[str, np.ndarray]) -> str:
    """Write ``outputs`` (one entry per layer name, whatever the name) and the input ``x`` as an uncompressed
    ``.npz`` at exactly ``path``, atomically; returns the input's key (:func:`input_key`)."""
    key = input_key(outputs)

    def write(handle) -> None:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, arr in {key: x, **outputs}.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)

    write_file(path, write, "the feature maps")
    return key


def _save_weights(path: str, weights: Mapping[str, np.ndarray]) -> None:
    from designer.backend.weights import save_weights

    try:
        save_weights(path, weights)
    except OSError as exc:
        raise UserError(f"{path}: cannot write the weights: {exc.strerror or exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    """Run a design on an image; save every layer's output (and optionally contact sheets)."""
    inputs = {"the design": args.design, "--image": args.image, "--input-npy": args.input_npy,
              "--weights": args.weights}
    check_distinct_paths(inputs, {"--out": args.out, "--save-weights": args.save_weights})
    design, x = _input_array(args, load_design_or_fail(args.design))
    runner = make_runner(args, design)
    with run_errors(args.design):
        outputs = runner.run(x)
    if args.save_weights:
        _save_weights(args.save_weights, runner.weights)
    key = save_maps(args.out, x, outputs)
    if args.png:
        _write_sheets(Path(args.png), outputs, inputs)
    note = f" (the input as '{key}': a layer is named 'input')" if key != "input" else ""
    print(f"ran {len(outputs)} layers of '{design.name}' on {'×'.join(map(str, x.shape))}; wrote {args.out}{note}")
    return EXIT_OK


def _write_sheets(folder: Path, outputs: dict[str, np.ndarray], inputs: Mapping[str, str | None]) -> None:
    """One contact sheet per layer, ``NNN_<name>.png`` (the name made safe for a file name); none of them may
    be an input file (``--image DIR/000_conv1.png --png DIR``)."""
    from designer.backend.images import contact_sheet

    paths = [folder / f"{i:03d}_{safe_file_name(name)}.png" for i, name in enumerate(outputs)]
    for path in paths:
        check_distinct_paths(inputs, {"--png": str(path)})
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder}: cannot create the folder: {exc.strerror or exc}") from None
    for path, out in zip(paths, outputs.values()):
        write_png(path, contact_sheet(out))


def cmd_fully_conv(args: argparse.Namespace) -> int:
    """Convert Linear layers after a Flatten into convolutions; write the new design and weights."""
    from designer.backend.fully_conv import to_fully_convolutional
    from designer.backend.weights import WeightsError, load_weights
    from designer.core.serialization import design_to_json

    check_distinct_paths({"the design": args.design, "--weights": args.weights},
                         {"--out": args.out, "--out-weights": args.out_weights})
    design = _load_valid_design(args.design)
    try:
        weights = load_weights(args.weights, design)
    except WeightsError as exc:
        raise UserError(str(exc)) from None
    new_design, new_weights = to_fully_convolutional(design, weights)
    write_file(args.out, lambda handle: handle.write(design_to_json(new_design).encode("utf-8")), "the design")
    _save_weights(args.out_weights, new_weights)
    print(f"wrote {args.out} and {args.out_weights}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """Time whole forward passes; print JSON ``{"forward_ms": median, "layers": {name: median ms}}``."""
    design = _load_valid_design(args.design)
    runner = make_runner(args, design)
    from designer.backend.images import sample_input

    x = sample_input(design.input)
    totals, per_layer = [], {}
    with run_errors(args.design):
        runner.run(x)  # warm-up: scratch buffers, BLAS threads
        for _ in range(args.repeat):
            runner.invalidate()
            t0 = time.perf_counter()
            runner.run(x)
            totals.append(time.perf_counter() - t0)
            for name, seconds in runner.last_timings.items():
                per_layer.setdefault(name, []).append(seconds)
    result = {"forward_ms": round(statistics.median(totals) * 1e3, 3),
              "layers": {n: round(statistics.median(v) * 1e3, 3) for n, v in per_layer.items()}}
    print(json.dumps(result, indent=1 if args.pretty else None))
    return EXIT_OK


def add_parsers(subparsers) -> None:
    """Register ``run``, ``fully-conv`` and ``bench`` on an ``argparse`` subparsers object."""
    p = subparsers.add_parser("run", help="run a design on an image and save every layer's output")
    p.add_argument("design", help="design file (cnn-designer/v1 JSON)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="PNG/JPEG/BMP image")
    source.add_argument("--input-npy", metavar="X.npy",
                        help="a ready [C, H, W] input array (another H×W than the design's runs at its own size)")
    source.add_argument("--sample", action="store_true", help="the built-in sample image")
    init = p.add_mutually_exclusive_group()
    add_weights_argument(init)
    init.add_argument("--seed", type=int, default=0, help="seed of the He-normal initialisation (default 0)")
    p.add_argument("--save-weights", metavar="W", help=SAVE_WEIGHTS_HELP)
    p.add_argument("--out", required=True, metavar="MAPS.npz",
                   help="one array per layer name, plus 'input' (the network input; stored as '__input__' "
                        "instead when a layer is itself named 'input')")
    p.add_argument("--png", metavar="DIR", help="write one contact sheet of feature maps per layer")
    p.add_argument("--fit", choices=("resize", "crop"), default="resize", help="how the image meets the input size")
    p.set_defaults(handler=cmd_run)

    p = subparsers.add_parser("fully-conv", help="convert the classifier head into convolutions")
    p.add_argument("design")
    add_weights_argument(p, required=True)
    p.add_argument("--out", required=True, metavar="NEW.json", help="the new design (written at exactly this path)")
    p.add_argument("--out-weights", required=True, metavar="NEW_WEIGHTS",
                   help="the converted weights (written at exactly this path)")
    p.set_defaults(handler=cmd_fully_conv, seed=0)

    p = subparsers.add_parser("bench", help="time the NumPy forward pass of a design")
    p.add_argument("design")
    p.add_argument("--repeat", type=positive_int, default=5)
    add_weights_argument(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.set_defaults(handler=cmd_bench)
