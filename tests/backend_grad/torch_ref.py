"""Reference gradients from ``torch.autograd`` (float64) through the design oracle of ``tests/oracle``."""

from __future__ import annotations

import copy

import numpy as np
import torch

from tests.oracle.torch_model import build_torch_model

from .torch_ref_free import rel_error  # noqa: F401  (re-exported for the torch tests)


def _untracked_batch_norms(layers: list) -> list[str]:
    """Drop ``track_running_stats`` (the oracle does not know it) and return the names where it was false."""
    names = []
    for layer in layers:
        if layer.pop("track_running_stats", True) is False:
            names.append(layer["name"])
        for branch in layer.get("branches", []):
            names += _untracked_batch_norms(branch)
    return names


def torch_model(design: dict, weights: dict[str, np.ndarray]) -> torch.nn.Module:
    """The oracle's float64 eval-mode model of ``design`` with ``weights`` loaded by name."""
    design = copy.deepcopy(design)
    untracked = _untracked_batch_norms(design["layers"])
    model = build_torch_model(design).double()
    state = model.state_dict()
    for k, v in weights.items():
        state[k] = torch.from_numpy(np.asarray(v, np.float64))
    model.load_state_dict(state)
    for name in untracked:  # no running statistics: eval mode normalises by the batch's own
        bn = model.get_submodule(name)
        bn.track_running_stats, bn.running_mean, bn.running_var = False, None, None
    return model


def torch_grads(design: dict, weights: dict[str, np.ndarray], x: np.ndarray, gy: np.ndarray,
                output: str | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """``(∂L/∂x, {param: ∂L/∂param}, y)`` for ``L = Σ gy·y``, ``y`` the model output (or layer ``output``'s)."""
    model = torch_model(design, weights)
    inp = design["input"]
    xt = torch.tensor(x.reshape(1, inp["channels"], inp["height"], inp["width"]), dtype=torch.float64,
                      requires_grad=True)
    captured: list[torch.Tensor] = []
    if output is not None:
        model.get_submodule(output).register_forward_hook(lambda m, a, out: captured.append(out))
    y = model(xt)
    if output is not None:
        y = captured[0]
    (y * torch.from_numpy(gy.astype(np.float64)).reshape(y.shape)).sum().backward()
    params = {k: p.grad.numpy() for k, p in model.named_parameters() if p.grad is not None}
    return xt.grad.numpy().reshape(x.shape), params, y.detach().numpy().reshape(gy.shape)
