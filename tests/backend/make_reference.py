"""Regenerate ``tests/backend/reference_outputs.npz`` from PyTorch.

Run from the repository root with torch installed::

    python -m tests.backend.make_reference

The file holds, for a fixed seeded set of cases per kernel (``case_grid.reference_cases``),
the inputs, the hyperparameters and ``torch.nn.functional``'s output, so the kernel tests can
check exactness on machines without torch; ``reference_runner.npz`` holds the same for the
``mini`` design (every layer type, nested branches) run by the PyTorch oracle.
"""

from __future__ import annotations

import sys

import numpy as np

from designer.backend import Runner

from .case_grid import reference_cases
from .designs import mini, mini_dict, randomise_buffers
from .kernel_cases import torch_ref
from .reference_io import REFERENCE_FILE, RUNNER_REFERENCE_FILE, save_reference
from .torch_outputs import torch_outputs


def main() -> int:
    try:
        import torch
    except ImportError:
        print("make_reference: PyTorch is needed to generate the reference outputs", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    cases = reference_cases()
    save_reference([(case, torch_ref(*case)) for case in cases])
    print(f"wrote {len(cases)} cases (torch {torch.__version__}) to {REFERENCE_FILE}")
    save_runner_reference()
    print(f"wrote the runner reference to {RUNNER_REFERENCE_FILE}")
    return 0


def save_runner_reference() -> None:
    """The ``mini`` design (every layer type, nested branches): input, weights and every output."""
    weights = randomise_buffers(Runner(mini(), seed=0).weights)
    x = np.random.default_rng(11).standard_normal(mini().input.shape).astype(np.float32)
    outputs = torch_outputs(mini_dict(), weights, x)
    entries = {"input": x, **{f"w/{k}": v for k, v in weights.items()}, **{f"out/{k}": v for k, v in outputs.items()}}
    np.savez_compressed(RUNNER_REFERENCE_FILE, **entries)


if __name__ == "__main__":
    raise SystemExit(main())
