"""Regenerate ``conv_matrix_reference.npz``: for each case of ``test_conv_matrix.LAYERS`` its weights and the
torch Jacobian of the layer (the test compares ``C`` with it even where torch is not installed).

Run: ``.venv/bin/python -m tests.backend.make_conv_matrix_reference``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tests.backend.test_conv_matrix import LAYERS, _design
from tests.oracle.torch_model import build_torch_model

REFERENCE = Path(__file__).with_name("conv_matrix_reference.npz")


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for case in sorted(LAYERS):
        raw, _, weights = _design(case)
        model = build_torch_model(raw).double()
        model.load_state_dict({k: torch.from_numpy(weights[k]).double() for k in model.state_dict()})
        c, h, w = LAYERS[case][1]
        jac = torch.autograd.functional.jacobian(model, torch.zeros(1, c, h, w, dtype=torch.float64))
        out_size = int(np.prod(model(torch.zeros(1, c, h, w, dtype=torch.float64)).shape))
        arrays[f"{case}/jacobian"] = jac.reshape(out_size, c * h * w).numpy().astype(np.float32)
        for key, value in weights.items():
            arrays[f"{case}/{key}"] = value
    np.savez_compressed(REFERENCE, **arrays)
    print(f"wrote {REFERENCE} ({len(arrays)} arrays)")


if __name__ == "__main__":
    main()
