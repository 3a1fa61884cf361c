"""Comparison helpers that need no torch."""

from __future__ import annotations

import numpy as np


def rel_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """``max|a − b| / max|b|`` (the error relative to the reference's scale)."""
    scale = max(float(np.abs(ref).max(initial=0.0)), 1e-12)
    return float(np.abs(np.asarray(ours, np.float64) - ref).max(initial=0.0)) / scale
