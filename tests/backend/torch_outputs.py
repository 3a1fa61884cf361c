"""Every layer's output of a design run by the PyTorch oracle (``tests/oracle``), for comparison."""

from __future__ import annotations

from typing import Any

import numpy as np


def torch_outputs(design: dict, weights: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """``{layer name: output without the batch dimension}`` with our weights loaded by name."""
    import torch

    from tests.oracle.torch_model import build_torch_model

    model = build_torch_model(design)
    result = model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    assert not result.missing_keys, result.missing_keys
    outputs: dict[str, np.ndarray] = {}
    handles = []
    for name in model.layer_order:
        def hook(_m: Any, _args: Any, out: Any, name: str = name) -> None:
            outputs[name] = out.detach()[0].numpy().copy()
        handles.append(model.get_submodule(name).register_forward_hook(hook))
    with torch.no_grad():
        model(torch.from_numpy(np.ascontiguousarray(x))[None])
    for h in handles:
        h.remove()
    return outputs
