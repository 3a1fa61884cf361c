"""Reading and writing ``reference_outputs.npz``: one entry per array, prefixed by the case number.

Keys: ``NNN.kernel`` (str), ``NNN.hp`` (JSON str), ``NNN.in.<name>`` (inputs), ``NNN.out`` (torch output).
Strings are stored as NumPy unicode arrays, so loading never needs pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .kernel_cases import Case

REFERENCE_FILE = Path(__file__).with_name("reference_outputs.npz")
RUNNER_REFERENCE_FILE = Path(__file__).with_name("reference_runner.npz")


def save_reference(cases: list[tuple[Case, np.ndarray]], path: Path = REFERENCE_FILE) -> None:
    """Store ``(case, torch output)`` pairs."""
    entries: dict[str, np.ndarray] = {}
    for i, ((kernel, arrays, hp), out) in enumerate(cases):
        entries[f"{i:03d}.kernel"] = np.array(kernel)
        entries[f"{i:03d}.hp"] = np.array(json.dumps(hp))
        entries[f"{i:03d}.out"] = out.astype(np.float32)
        for name, arr in arrays.items():
            entries[f"{i:03d}.in.{name}"] = arr
    np.savez_compressed(path, **entries)


def load_reference(path: Path = REFERENCE_FILE) -> list[tuple[str, Case, np.ndarray]]:
    """``(case id, case, torch output)`` for every stored case, in order."""
    with np.load(path, allow_pickle=False) as data:
        keys = list(data.keys())
        ids = sorted({k.split(".", 1)[0] for k in keys})
        result = []
        for cid in ids:
            kernel = str(data[f"{cid}.kernel"])
            hp = json.loads(str(data[f"{cid}.hp"]))
            prefix = f"{cid}.in."
            arrays = {k[len(prefix):]: data[k] for k in keys if k.startswith(prefix)}
            result.append((f"{cid}-{kernel}", (kernel, arrays, hp), data[f"{cid}.out"]))
    return result
