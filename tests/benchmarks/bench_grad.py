"""Benchmark: the input gradient of one unit of ResNet-18 at 224×224 against the forward pass.

Run by hand: ``python tests/benchmarks/bench_grad.py [--repeat N] [--layer NAME]``. Prints JSON with the
median forward time (a fresh input each time, so the runner's cache does not help), the median time of
one unit's input gradient from the cached forward pass, their ratio (target ≤ 3), and the uniform ERF
time (no forward pass at all).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from designer.backend import Runner
from designer.backend.gradients import effective_rf, input_gradient
from designer.core import Design


def _median_ms(fn, repeat: int) -> float:
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--layer", default="layer4_1", help="layer whose centre unit (channel 0) is differentiated")
    args = parser.parse_args()
    design = Design.load(ROOT / "resources" / "examples" / "resnet18.json")
    runner = Runner(design)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(design.input.shape).astype(np.float32) for _ in range(args.repeat + 1)]
    runner.run(inputs[-1])  # warm-up (scratch buffers, thread pool)
    forward = _median_ms(lambda i: runner.run(inputs[i]), args.repeat)
    x = inputs[args.repeat - 1]
    out = runner.run(x)[args.layer]
    unit = ((out.shape[1] - 1) // 2, (out.shape[2] - 1) // 2) if out.ndim == 3 else (None, None)
    grad = _median_ms(lambda i: input_gradient(runner, x, args.layer, 0, *unit), args.repeat)
    uniform = _median_ms(lambda i: effective_rf(design, None, args.layer, uniform=True), args.repeat)
    print(json.dumps({"forward_ms": round(forward, 1), "gradient_ms": round(grad, 1),
                      "ratio": round(grad / forward, 2), "uniform_erf_ms": round(uniform, 1),
                      "layer": args.layer, "unit": unit}))


if __name__ == "__main__":
    main()
