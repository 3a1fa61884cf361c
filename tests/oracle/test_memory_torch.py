"""The memory model against what PyTorch really does (CPU, float32, eager).

- Saved tensors: for one layer of every type (and each ``inplace`` setting), what ``LayerSpec.saves``
  says equals what ``torch.autograd.graph.saved_tensors_hooks`` sees (tensors of under 32 elements, the
  normalisation statistics, left out).
- Whole networks: the bytes the simulated forward pass leaves saved for the backward equal the distinct
  storages autograd saves (one tensor saved by two layers counts once); LocalResponseNorm's intermediates
  are sized like its input, so designs with it agree within 5%.
- Peaks: ``training_bytes`` (sgd, momentum, adam) and ``inference_peak_bytes`` (no_grad) within 10% of
  the profiler-measured peak for the examples (15% for the small random designs, where allocator-sized
  details weigh more).

Both are checked against ``memory_reference.json`` (written by ``tests/benchmarks/measure_memory_torch.py
reference``) always, and against torch live when it is installed (the quick cases).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designer.core.analysis import analyze
from designer.core.memory import analysis_step
from designer.core.serialization import design_from_dict
from designer.core.spec import LAYER_SPECS, saved_kinds, numel
from tests.oracle.memory_cases import (
    PEAK_CASES, SAVED_BATCH, SAVED_CASES, SAVED_INPUT, PeakCase, case_design, saved_case_key, saved_designs)

try:
    import torch  # noqa: F401

    from tests.oracle.torch_memory import measure_case, saved_by_last_layer, saved_bytes
except ImportError:  # pragma: no cover - torch is optional
    torch = None

REFERENCE = json.loads((Path(__file__).with_name("memory_reference.json")).read_text())
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
SMALL = 32  # saved tensors below this many elements are statistics, not maps


def _estimate(case: PeakCase) -> int:
    a = analyze(design_from_dict(case_design(case)), case.batch, optimizer=case.optimizer or "sgd")
    return a.memory["training_bytes"] if case.optimizer else a.memory["inference_peak_bytes"]


def _tolerance(case: PeakCase) -> float:
    return 0.15 if case.design.startswith("random") else 0.10


def _expected_saved(layers: list[dict]) -> tuple[list[list], bool]:
    """``[role, numel, element size]`` of what the registry says the last layer saves (batch included), and
    whether any is a composite op's intermediate (``work``: sized like the input, within 30%)."""
    design = {"format": "cnn-designer/v1", "name": "saved",
              "input": dict(zip(("channels", "height", "width"), SAVED_INPUT)), "layers": layers}
    row = analyze(design_from_dict(design)).rows[-1]
    n_in, n_out = SAVED_BATCH * numel(row.input_shape), SAVED_BATCH * numel(row.output_shape)
    roles = {"input": ["input", n_in, 4], "operands": ["input", n_in, 4], "output": ["output", n_out, 4],
             "indices": ["other", n_out, 8], "mask": ["other", n_in, 4], "work": ["other", n_in, 4],
             "input_copy": ["other", n_in, 4]}
    kinds = saved_kinds(LAYER_SPECS[row.type], row.hp)
    shared = [roles[k] for k in dict.fromkeys(k for k in kinds if k in ("input", "operands", "output"))]
    if ["input", n_in, 4] in shared and shared.count(["input", n_in, 4]) > 1:
        shared = [t for k, t in enumerate(shared) if t not in shared[:k]]  # one storage saved twice
    new = [roles[k] for k in kinds if k in roles and k not in ("input", "operands", "output")]
    return sorted(shared + new), "work" in kinds


def _totals(tensors: list[list]) -> dict[tuple[str, int], int]:
    """Elements by (role, element size): several pyramid levels' indices add up to one ``indices``."""
    totals: dict[tuple[str, int], int] = {}
    for role, n, size in tensors:
        totals[role, size] = totals.get((role, size), 0) + n
    return totals


def _assert_same_saved(layers: list[dict], measured: list[list]) -> None:
    expected, approximate = _expected_saved(layers)
    got = _totals([t for t in measured if t[1] >= SMALL or t[2] == 8])
    want = _totals(expected)
    assert got.keys() == want.keys(), (layers[-1], measured, expected)
    tolerance = 0.3 if approximate else 0
    for key, n in want.items():
        assert abs(got[key] - n) <= tolerance * n, (layers[-1], key, got[key], n)


SAVED = saved_designs()


def test_every_type_has_saved_cases_and_stored_references():
    assert set(SAVED_CASES) == set(LAYER_SPECS)
    assert {saved_case_key(layers[-1]) for layers in SAVED} <= set(REFERENCE["saved"])


@pytest.mark.parametrize("layers", SAVED, ids=lambda layers: saved_case_key(layers[-1]))
def test_saved_tensors_match_stored_pytorch(layers):
    _assert_same_saved(layers, REFERENCE["saved"][saved_case_key(layers[-1])])


@needs_torch
def test_saved_tensors_match_pytorch_live():
    for layers in SAVED:
        _assert_same_saved(layers, saved_by_last_layer(layers, SAVED_INPUT, SAVED_BATCH))


@pytest.mark.parametrize("case", PEAK_CASES, ids=lambda c: c.key)
def test_peak_within_tolerance_of_stored_measurement(case):
    measured = REFERENCE["peaks"][case.key]
    assert abs(_estimate(case) - measured) <= _tolerance(case) * measured


@needs_torch
@pytest.mark.parametrize("case", [c for c in PEAK_CASES if c.live], ids=lambda c: c.key)
def test_peak_within_tolerance_of_live_measurement(case):
    measured = measure_case(case_design(case), case.batch, case.optimizer).peak
    assert abs(_estimate(case) - measured) <= _tolerance(case) * measured


TRAINING = [c for c in PEAK_CASES if c.optimizer]


def _simulated_saved(case: PeakCase) -> int:
    """Saved activations alive at the end of the simulated forward pass."""
    a = analyze(design_from_dict(case_design(case)), case.batch, optimizer=case.optimizer)
    forward = [p for p in analysis_step(a, case.optimizer).timeline if p.phase == "forward"]
    return forward[-1].by_kind["saved activations"]


def _assert_saved_total(case: PeakCase, measured: int) -> None:
    approximate = any(row.type == "LocalResponseNorm" for row in analyze(design_from_dict(case_design(case))).rows)
    assert abs(_simulated_saved(case) - measured) <= (0.05 * measured if approximate else 0), case.key


@pytest.mark.parametrize("case", TRAINING, ids=lambda c: c.key)
def test_saved_bytes_of_whole_networks_equal_stored_hooks(case):
    _assert_saved_total(case, REFERENCE["saved_bytes"][case.key])


@needs_torch
@pytest.mark.parametrize("case", [c for c in TRAINING if c.live], ids=lambda c: c.key)
def test_saved_bytes_of_whole_networks_equal_live_hooks(case):
    _assert_saved_total(case, saved_bytes(case_design(case), case.batch))
