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

from .support import (
    EXIT_DESIGN_ERRORS,
    EXIT_OK,
    UserError,
    check_runnable,
    make_runner,
    load_design_or_fail,
    positive_int,
)
from designer.core import Design, analyze


def _load_valid_design(path: str) -> Design:
    design = load_design_or_fail(path)
    report = analyze(design)
    errors = [i for i in report.issues if i.level == "error"]
    if errors:
        raise UserError(f"{path}: layer '{errors[0].layer}': {errors[0].message}", EXIT_DESIGN_ERRORS)
    check_runnable(design, path, report=report)
    return design


def _input_array(args: argparse.Namespace, design: Design) -> np.ndarray:
    """The network input from ``--image``, ``--input-npy`` or ``--sample``."""
    from designer.backend.images import load_image, sample_input

    if args.input_npy:
        x = _load_npy(args.input_npy)
        if x.ndim == 4 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 3 or x.shape[0] != design.input.channels:
            raise UserError(f"{args.input_npy}: expected a [{design.input.channels}, H, W] array, got {list(x.shape)}")
        return x
    if args.image:
        return load_image(args.image, design.input, args.fit)
    return sample_input(design.input, args.fit)


def _load_npy(path: str) -> np.ndarray:
    """A numeric ``.npy`` array as float32, or a ``UserError`` naming the file."""
    from designer.backend.weights import NPZ_READ_ERRORS

    try:
        x = np.load(path, allow_pickle=False)
    except NPZ_READ_ERRORS as exc:
        raise UserError(f"{path}: cannot read the input array: {str(exc) or type(exc).__name__}") from None
    if not isinstance(x, np.ndarray):
        x.close()
        raise UserError(f"{path}: expected one array saved by np.save (.npy), got an .npz archive")
    if x.dtype.kind not in "biuf":
        raise UserError(f"{path}: expected a numeric array, got dtype {x.dtype}")
    return x.astype(np.float32)


def input_key(names: Mapping[str, object]) -> str:
    """The key of the network input in ``run --out``: ``input``, or ``__input__`` when a layer is named ``input``
    (more underscores while those are layer names too)."""
    key = "input"
    while key in names:
        key = f"__{key}__"
    return key


def save_maps(path: str | Path, x: np.ndarray, outputs: Mapping[str, np.ndarray]) -> str:
    """Write ``outputs`` (one entry per layer name, whatever the name) and the input ``x`` as an uncompressed
    ``.npz`` at exactly ``path``; returns the input's key (:func:`input_key`)."""
    key = input_key(outputs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, arr in {key: x, **outputs}.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)
    return key


def cmd_run(args: argparse.Namespace) -> int:
    """Run a design on an image; save every layer's output (and optionally contact sheets)."""
    from designer.backend.weights import save_weights

    design = _load_valid_design(args.design)
    runner = make_runner(args, design)
    x = _input_array(args, design)
    outputs = runner.run(x)
    if args.save_weights:
        save_weights(args.save_weights, runner.weights)
    key = save_maps(args.out, x, outputs)
    if args.png:
        _write_sheets(Path(args.png), outputs)
    note = f" (the input as '{key}': a layer is named 'input')" if key != "input" else ""
    print(f"ran {len(outputs)} layers of '{design.name}' on {'×'.join(map(str, x.shape))}; wrote {args.out}{note}")
    return EXIT_OK


def _write_sheets(folder: Path, outputs: dict[str, np.ndarray]) -> None:
    from designer.backend.images import contact_sheet, save_gray_png

    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, out) in enumerate(outputs.items()):
        save_gray_png(folder / f"{i:03d}_{name}.png", contact_sheet(out))


def cmd_fully_conv(args: argparse.Namespace) -> int:
    """Convert Linear layers after a Flatten into convolutions; write the new design and weights."""
    from designer.backend.fully_conv import to_fully_convolutional
    from designer.backend.weights import load_weights, save_weights

    design = _load_valid_design(args.design)
    new_design, new_weights = to_fully_convolutional(design, load_weights(args.weights, design))
    new_design.save(args.out)
    save_weights(args.out_weights, new_weights)
    print(f"wrote {args.out} and {args.out_weights}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """Time whole forward passes; print JSON ``{"forward_ms": median, "layers": {name: median ms}}``."""
    design = _load_valid_design(args.design)
    runner = make_runner(args, design)
    from designer.backend.images import sample_input

    x = sample_input(design.input)
    runner.run(x)  # warm-up: scratch buffers, BLAS threads
    totals, per_layer = [], {}
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
    source.add_argument("--input-npy", metavar="X.npy", help="a ready [C, H, W] input array")
    source.add_argument("--sample", action="store_true", help="the built-in sample image")
    init = p.add_mutually_exclusive_group()
    init.add_argument("--weights", metavar="W.npz", help="weights (PyTorch state_dict names and layouts)")
    init.add_argument("--seed", type=int, default=0, help="seed of the He-normal initialisation (default 0)")
    p.add_argument("--save-weights", metavar="W.npz", help="write the weights used")
    p.add_argument("--out", required=True, metavar="MAPS.npz",
                   help="one array per layer name, plus 'input' (the network input; stored as '__input__' "
                        "instead when a layer is itself named 'input')")
    p.add_argument("--png", metavar="DIR", help="write one contact sheet of feature maps per layer")
    p.add_argument("--fit", choices=("resize", "crop"), default="resize", help="how the image meets the input size")
    p.set_defaults(handler=cmd_run)

    p = subparsers.add_parser("fully-conv", help="convert the classifier head into convolutions")
    p.add_argument("design")
    p.add_argument("--weights", required=True, metavar="W.npz")
    p.add_argument("--out", required=True, metavar="NEW.json")
    p.add_argument("--out-weights", required=True, metavar="NEW.npz")
    p.set_defaults(handler=cmd_fully_conv, seed=0)

    p = subparsers.add_parser("bench", help="time the NumPy forward pass of a design")
    p.add_argument("design")
    p.add_argument("--repeat", type=positive_int, default=5)
    p.add_argument("--weights", metavar="W.npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.set_defaults(handler=cmd_bench)
