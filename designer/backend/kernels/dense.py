"""Flatten, fully connected and dropout (inference) layers."""

from __future__ import annotations

import numpy as np

from ._util import as_f32


def flatten(x: np.ndarray) -> np.ndarray:
    """``[C, H, W]`` → ``[C·H·W]`` (``[N, C, H, W]`` → ``[N, C·H·W]``), channel-major like ``torch.flatten``."""
    return as_f32(x).reshape(-1) if x.ndim <= 3 else as_f32(x).reshape(x.shape[0], -1)


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``y = W·x + b`` with ``W [out, in]`` (``torch.nn.functional.linear``); ``x [in]`` or ``[N, in]``."""
    x, weight = as_f32(x), as_f32(weight)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features, weight expects {weight.shape[1]}")
    y = x @ weight.T
    if bias is not None:
        y += as_f32(bias)
    return y


def dropout(x: np.ndarray, p: float = 0.5) -> np.ndarray:
    """Inference dropout: the identity (PyTorch scales at training time, so nothing to undo)."""
    return x
