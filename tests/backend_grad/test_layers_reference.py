"""Every layer type's forward and VJP against stored PyTorch results (runs with or without torch)."""

from __future__ import annotations

import pytest

from designer.core import LAYER_SPECS

from .layer_reference import load
from .torch_ref_free import rel_error

REFERENCE = load()


def test_reference_covers_every_layer_type():
    assert {kind for kind, _ in REFERENCE} | {"Branch"} == set(LAYER_SPECS)


@pytest.mark.parametrize("key", sorted(REFERENCE), ids=lambda k: f"{k[0]}-{k[1]}")
def test_forward_and_vjp_match_stored_torch_results(key):
    entry = REFERENCE[key]
    case = entry["case"]
    assert rel_error(case.forward(), entry["y"].reshape(case.forward().shape)) <= 1e-5
    (dx,), grads = case.vjp()
    assert rel_error(dx, entry["dx"]) <= 1e-4
    assert set(grads) == set(entry["grads"])
    for k, g in grads.items():
        assert rel_error(g, entry["grads"][k]) <= 1e-4, k
