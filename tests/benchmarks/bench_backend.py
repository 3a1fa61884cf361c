"""Whole-network forward time of the NumPy backend against PyTorch CPU (run by hand, not by pytest).

    python tests/benchmarks/bench_backend.py [--repeat 7] [--nets vgg16 resnet18 mobilenet_v1]

Same machine, same process, same thread count, same weights; a 0.3 s pause between the two
libraries (OpenBLAS threads spin after a call and would slow torch down). Prints the median ms
of each and the ratio, then the peak memory of a VGG-16 run against the bytes of the outputs
it returns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from designer.backend import Runner
from designer.backend.kernels import release_scratch
from designer.core import Design

TARGETS = {"vgg16": 1.5, "resnet18": 1.5, "mobilenet_v1": 2.0}
PAUSE = 0.3


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of CPU time used by other processes over ``seconds`` (Linux ``/proc/stat``), or None."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    a = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:]]
    time.sleep(seconds)
    b = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:]]
    d = [y - x for x, y in zip(a, b)]
    return 1 - (d[3] + d[4]) / max(sum(d), 1)


def wait_until_quiet(limit: float = 0.1, timeout: float = 120.0) -> float | None:
    """Wait (up to ``timeout`` s) until other processes use less than ``limit`` of the CPUs."""
    end = time.time() + timeout
    busy = cpu_busy()
    while busy is not None and busy > limit and time.time() < end:
        busy = cpu_busy()
    return busy


def _torch_model(raw: dict, weights: dict[str, np.ndarray]):
    import torch

    from tests.oracle.torch_model import build_torch_model

    model = build_torch_model(raw)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    return model.eval()


def bench_net(name: str, repeat: int) -> dict:
    """Median forward ms of NumPy and torch for one example design."""
    import torch

    raw = json.loads((ROOT / "resources" / "examples" / f"{name}.json").read_text())
    runner = Runner(Design.from_dict(raw), seed=0)
    model = _torch_model(raw, runner.weights)
    x = np.random.default_rng(0).standard_normal(runner.design.input.shape).astype(np.float32)
    xt = torch.from_numpy(x)[None]
    ours, theirs = [], []
    with torch.no_grad():
        for i in range(repeat + 1):
            runner.invalidate()
            t0 = time.perf_counter()
            runner.run(x)
            t1 = time.perf_counter()
            time.sleep(PAUSE)
            t2 = time.perf_counter()
            model(xt)
            t3 = time.perf_counter()
            time.sleep(PAUSE)
            if i:  # the first round warms both up
                ours.append(t1 - t0)
                theirs.append(t3 - t2)
    layers = sorted(runner.last_timings.items(), key=lambda kv: -kv[1])[:5]
    return {"numpy_ms": statistics.median(ours) * 1e3, "torch_ms": statistics.median(theirs) * 1e3,
            "numpy_min": min(ours) * 1e3, "torch_min": min(theirs) * 1e3,
            "slowest": [(n, round(s * 1e3, 1)) for n, s in layers]}


def peak_memory(name: str = "vgg16") -> tuple[int, int]:
    """(peak bytes allocated during one cold run, bytes of the distinct outputs returned)."""
    raw = json.loads((ROOT / "resources" / "examples" / f"{name}.json").read_text())
    runner = Runner(Design.from_dict(raw), seed=0)
    x = np.random.default_rng(0).standard_normal(runner.design.input.shape).astype(np.float32)
    release_scratch()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    outputs = runner.run(x)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    distinct = {id(a): a.nbytes for a in outputs.values()}
    return peak, sum(distinct.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--nets", nargs="+", default=list(TARGETS))
    args = parser.parse_args()
    import torch

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, torch {torch.__version__}, {threads} threads, median of {args.repeat}")
    print(f"{'network':<14}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'target':>8}"
          f"{'min numpy':>11}{'min torch':>11}{'ratio':>7}")
    for name in args.nets:
        busy = wait_until_quiet()
        if busy is not None and busy > 0.1:
            print(f"warning: other processes use {busy:.0%} of the CPUs; timings are unreliable")
        r = bench_net(name, args.repeat)
        ratio, min_ratio = r["numpy_ms"] / r["torch_ms"], r["numpy_min"] / r["torch_min"]
        print(f"{name:<14}{r['numpy_ms']:>10.1f}{r['torch_ms']:>10.1f}{ratio:>8.2f}{TARGETS.get(name, 0):>8.1f}"
              f"{r['numpy_min']:>11.1f}{r['torch_min']:>11.1f}{min_ratio:>7.2f}   slowest: {r['slowest']}")
    peak, out_bytes = peak_memory()
    print(f"vgg16 peak memory {peak / 2**20:.1f} MiB for {out_bytes / 2**20:.1f} MiB of outputs "
          f"({peak / out_bytes:.2f}×, target ≤ 1.5×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
