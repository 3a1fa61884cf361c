"""Stored PyTorch results for every layer type: forward output, input gradient and parameter gradients.

``python -m tests.backend_grad.layer_reference`` (with torch) regenerates ``reference_layers.npz`` from the random
cases of ``cases.py`` (``SEEDS`` per type); ``test_layers_reference.py`` checks the NumPy forward and VJP against it
on machines without torch, so no layer type is ever checked by nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from designer.core import Design

from .cases import GENERATORS, Case, random_case

REFERENCE = Path(__file__).with_name("reference_layers.npz")
SEEDS = range(3)


def _key(kind: str, seed: int, what: str) -> str:
    return f"{kind}/{seed}/{what}"


def build() -> dict[str, np.ndarray]:
    from .torch_ref import torch_grads

    entries: dict[str, np.ndarray] = {}
    for kind in sorted(GENERATORS):
        for seed in SEEDS:
            case = random_case(kind, np.random.default_rng([seed, len(kind), 99]))
            x_in = case.x.reshape(case.design["input"]["channels"], case.design["input"]["height"],
                                  case.design["input"]["width"])
            dx, grads, y = torch_grads(case.design, case.weights, x_in, case.gy)
            entries[_key(kind, seed, "design")] = np.array(json.dumps(case.design))
            entries[_key(kind, seed, "x")] = case.x
            entries[_key(kind, seed, "gy")] = case.gy
            entries[_key(kind, seed, "y")] = y.astype(np.float32)
            entries[_key(kind, seed, "dx")] = dx.reshape(case.x.shape).astype(np.float32)
            entries.update({_key(kind, seed, f"w:{k}"): v for k, v in case.weights.items()})
            entries.update({_key(kind, seed, f"g:{k}"): g.astype(np.float32) for k, g in grads.items()})
    return entries


def load() -> dict[tuple[str, int], dict]:
    """``{(kind, seed): {"case": Case, "y", "dx", "grads": {key: array}}}``."""
    out: dict[tuple[str, int], dict] = {}
    with np.load(REFERENCE) as data:
        for name in data.files:
            kind, seed, what = name.split("/", 2)
            entry = out.setdefault((kind, int(seed)), {"weights": {}, "grads": {}})
            value = data[name]
            if what.startswith("w:"):
                entry["weights"][what[2:]] = value
            elif what.startswith("g:"):
                entry["grads"][what[2:]] = value
            else:
                entry[what] = value
    for entry in out.values():
        raw = json.loads(str(entry["design"]))
        layer = Design.from_dict(raw).layers[-1]
        entry["case"] = Case(raw, layer, entry["x"], entry["weights"], entry["gy"])
    return out


def main() -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("layer_reference: PyTorch is needed to regenerate the reference", file=sys.stderr)
        return 1
    entries = build()
    np.savez_compressed(REFERENCE, **entries)
    print(f"wrote {len(entries)} arrays for {len(GENERATORS)} layer types to {REFERENCE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
