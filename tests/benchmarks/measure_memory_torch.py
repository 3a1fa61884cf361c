"""Training-step and inference peaks: the core's estimate against what PyTorch allocates (CPU profiler).

    python tests/benchmarks/measure_memory_torch.py table [--examples resnet18,vgg16] [--batches 8,32]
                                                          [--optimizers sgd,momentum,adam]
    python tests/benchmarks/measure_memory_torch.py reference   # rewrite tests/oracle/memory_reference.json

``table`` prints a Markdown table (MiB) of estimate vs measured for the examples at their full input size;
``reference`` measures every ``PEAK_CASES`` entry and the saved tensors of every ``SAVED_CASES`` layer and
stores them for the torch-free tests, with the bytes autograd keeps over each training case's forward pass. The measurement is described in ``tests/oracle/torch_memory.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from designer.core.analysis import analyze  # noqa: E402
from designer.core.serialization import design_from_dict  # noqa: E402
from tests.oracle.memory_cases import (  # noqa: E402
    EXAMPLES, PEAK_CASES, SAVED_BATCH, SAVED_INPUT, PeakCase, case_design, saved_case_key, saved_designs)
from tests.oracle.torch_memory import measure_case, saved_by_last_layer, saved_bytes  # noqa: E402

REFERENCE = ROOT / "tests" / "oracle" / "memory_reference.json"
MIB = 2**20


def estimate(design: dict, batch: int, optimizer: str | None) -> int:
    a = analyze(design_from_dict(design), batch, optimizer=optimizer or "sgd")
    return a.memory["training_bytes"] if optimizer else a.memory["inference_peak_bytes"]


def table(examples: list[str], batches: list[int], optimizers: list[str | None]) -> None:
    print("| design | batch | step | estimate MiB | measured MiB | estimate/measured | s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name in examples:
        for batch in batches:
            for opt in optimizers:
                design = case_design(PeakCase(name, batch, opt))
                start = time.perf_counter()
                measured = measure_case(design, batch, opt).peak
                est = estimate(design, batch, opt)
                print(f"| {name} | {batch} | {opt or 'no_grad'} | {est / MIB:,.1f} | {measured / MIB:,.1f} | "
                      f"{est / measured:.3f} | {time.perf_counter() - start:.0f} |", flush=True)


def reference() -> None:
    peaks, kept = {}, {}
    for case in PEAK_CASES:
        peaks[case.key] = measure_case(case_design(case), case.batch, case.optimizer).peak
        if case.optimizer:
            kept[case.key] = saved_bytes(case_design(case), case.batch)
        print(case.key, peaks[case.key], kept.get(case.key), flush=True)
    saved = {saved_case_key(layers[-1]): saved_by_last_layer(layers, SAVED_INPUT, SAVED_BATCH)
             for layers in saved_designs()}
    import torch

    data = {"torch": torch.__version__, "peaks": peaks, "saved": saved, "saved_bytes": kept}
    REFERENCE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print("wrote", REFERENCE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("table")
    t.add_argument("--examples", default=",".join(sorted(p.stem for p in EXAMPLES.glob("*.json"))))
    t.add_argument("--batches", default="8")
    t.add_argument("--optimizers", default="sgd,momentum,adam,no_grad")
    sub.add_parser("reference")
    args = parser.parse_args()
    if args.command == "reference":
        reference()
        return
    opts = [None if o == "no_grad" else o for o in args.optimizers.split(",")]
    table(args.examples.split(","), [int(b) for b in args.batches.split(",")], opts)


if __name__ == "__main__":
    main()
