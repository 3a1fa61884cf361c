"""The Runner: exact outputs (stored and live torch), incremental re-execution, progress, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from designer.backend import Cancelled, RunError, Runner
from designer.core import Design

from .designs import as_dict, conv, layer, mini, randomise_buffers
from .kernel_cases import rel_error
from .reference_io import RUNNER_REFERENCE_FILE

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_mini_design_matches_stored_torch_outputs():
    with np.load(RUNNER_REFERENCE_FILE, allow_pickle=False) as data:
        x = data["input"]
        weights = {k[2:]: data[k] for k in data.files if k.startswith("w/")}
        expected = {k[4:]: data[k] for k in data.files if k.startswith("out/")}
    outputs = Runner(mini(), weights).run(x)
    assert list(outputs) == list(expected)  # every layer, in execution order
    for name, ref in expected.items():
        assert outputs[name].shape == ref.shape, name
        assert rel_error(outputs[name], ref) <= 1e-5, name


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_examples_match_live_torch(example):
    pytest.importorskip("torch")
    from .torch_outputs import torch_outputs

    raw = json.loads((EXAMPLES / f"{example}.json").read_text())
    runner = Runner(Design.from_dict(raw), seed=1)
    runner.set_weights(randomise_buffers(runner.weights))
    x = np.random.default_rng(0).standard_normal(runner.design.input.shape).astype(np.float32)
    ours, ref = runner.run(x), torch_outputs(raw, runner.weights, x)
    assert set(ours) == set(ref)
    worst = max(ours, key=lambda n: rel_error(ours[n], ref[n]))
    assert rel_error(ours[worst], ref[worst]) <= 1e-5, worst


def _chain() -> Design:
    return Design.from_dict(as_dict([
        conv("c1", 4, 3, padding=1), layer("ReLU", "r1"), conv("c2", 6, 3, stride=2),
        layer("Branch", "b", merge="concat", branches=[[conv("b1", 2, 1)], []]),
        layer("ReLU", "r2"), layer("Flatten", "f"), layer("Linear", "fc", out_features=3),
    ], h=12, w=12))


def test_incremental_rerun_recomputes_from_first_change():
    design = _chain()
    runner = Runner(design)
    x = np.random.default_rng(0).standard_normal((3, 12, 12)).astype(np.float32)
    first = runner.run(x)
    assert runner.kernel_calls == 8
    again = runner.run(x.copy())
    assert runner.kernel_calls == 8 and runner.last_computed == []
    assert all(again[n] is first[n] for n in first)

    edited = design.replace_layer((4,), design.layers[4].__class__("LeakyReLU", "r2", {"negative_slope": 0.5}))
    runner.update(edited)
    out = runner.run(x)
    assert runner.last_computed == ["r2", "f", "fc"] and runner.kernel_calls == 11
    assert out["c2"] is first["c2"] and out["b"] is first["b"]

    runner.update(edited.set_params((3, 0, 0), out_channels=5))  # inner layer of the branch
    runner.run(x)
    assert runner.last_computed == ["b1", "b", "r2", "f", "fc"]
    assert runner.weights["b1.weight"].shape == (5, 6, 1, 1)
    assert runner.weights["c1.weight"] is not None


def test_weights_of_unchanged_layers_survive_edits():
    design = _chain()
    runner = Runner(design, seed=4)
    w_before = dict(runner.weights)
    runner.update(design.set_params((2,), out_channels=7))
    assert runner.weights["c1.weight"] is w_before["c1.weight"]
    assert runner.weights["c2.weight"].shape == (7, 4, 3, 3)
    assert runner.weights["b1.weight"].shape == (2, 7, 1, 1)


def test_new_input_recomputes_everything():
    runner = Runner(_chain())
    rng = np.random.default_rng(1)
    runner.run(rng.standard_normal((3, 12, 12)).astype(np.float32))
    runner.run(rng.standard_normal((3, 12, 12)).astype(np.float32))
    assert runner.kernel_calls == 16


def test_input_edited_in_place_is_a_new_input():
    runner = Runner(_chain())
    x = np.random.default_rng(2).standard_normal((3, 12, 12)).astype(np.float32)
    first = {n: v.copy() for n, v in runner.run(x).items()}
    x += 1  # the runner keeps its own copy: this is a different image now
    second = runner.run(x)
    assert runner.kernel_calls == 16
    assert not np.array_equal(second["c1"], first["c1"])
    np.testing.assert_array_equal(second["fc"], Runner(_chain()).run(x)["fc"])


def test_progress_and_cancel_between_layers():
    runner = Runner(_chain())
    x = np.ones((3, 12, 12), np.float32)
    seen: list[tuple[int, int, str]] = []
    with pytest.raises(Cancelled):
        runner.run(x, progress=lambda i, n, name: seen.append((i, n, name)), cancel=lambda: len(seen) >= 3)
    assert seen == [(0, 8, "c1"), (1, 8, "r1"), (2, 8, "c2")]
    assert runner.kernel_calls == 3
    outputs = runner.run(x)  # resumes after the cached prefix
    assert runner.kernel_calls == 8 and len(outputs) == 8


def test_layer_failure_names_the_layer():
    runner = Runner(_chain())
    with pytest.raises(RunError, match="layer 'fc'"):
        runner.run(np.ones((3, 16, 16), np.float32))  # Linear sized for 12×12
    with pytest.raises(RunError, match="input"):
        runner.run(np.ones((1, 12, 12), np.float32))


def test_nested_output_shapes_follow_the_analysis():
    from designer.core import analyze

    design = mini()
    outputs = Runner(design).run(np.zeros(design.input.shape, np.float32))
    for row in analyze(design).rows:
        assert outputs[row.name].shape == tuple(row.output_shape), row.name
        assert outputs[row.name].dtype == np.float32


def test_recycling_never_touches_outputs_the_caller_keeps():
    runner = Runner(mini())
    rng = np.random.default_rng(2)
    kept = runner.run(rng.standard_normal((3, 20, 20)).astype(np.float32))
    snapshot = {n: a.copy() for n, a in kept.items()}
    piece = kept.pop("stem")[1:3]  # a slice of one output keeps that buffer alive too
    stem_copy = piece.copy()
    del kept["mix"], kept["res"]
    runner.run(rng.standard_normal((3, 20, 20)).astype(np.float32))
    assert all(np.array_equal(kept[n], snapshot[n]) for n in kept)
    np.testing.assert_array_equal(piece, stem_copy)


def test_memory_of_discarded_outputs_is_reused():
    design = _chain()
    runner = Runner(design)
    rng = np.random.default_rng(3)
    addresses = {n: a.__array_interface__["data"][0] for n, a in runner.run(
        rng.standard_normal((3, 12, 12)).astype(np.float32)).items()}
    again = runner.run(rng.standard_normal((3, 12, 12)).astype(np.float32))
    reused = sum(a.__array_interface__["data"][0] == addresses[n] for n, a in again.items())
    assert reused >= 4


def test_reclaim_pools_unreferenced_arrays_and_views_only():
    from designer.backend.runner import reclaim

    kept = np.ones(500, np.float32)
    stale = [np.empty(1000, np.float32), np.empty((4, 30), np.float32)[:, :25], kept]
    pool = reclaim(stale)
    assert stale == []
    assert pool.take(1000) is not None  # a plain array nobody else holds
    assert pool.take(120) is not None  # the base of a view nobody else holds
    assert pool.take(500) is None  # still referenced by ``kept``
    np.testing.assert_array_equal(kept, 1)


def test_invalidate_hands_the_old_outputs_to_the_next_run():
    import designer.backend.kernels._util as util

    design = _chain()
    runner = Runner(design)
    x = np.random.default_rng(4).standard_normal((3, 12, 12)).astype(np.float32)
    runner.run(x)
    fresh = []
    take = util.BufferPool.take

    def counting_take(self, n):
        buf = take(self, n)
        fresh.append(buf is None)
        return buf

    util.BufferPool.take = counting_take
    try:
        runner.invalidate()
        again = runner.run(x)
    finally:
        util.BufferPool.take = take
    assert fresh and not any(fresh)  # every output written into recycled memory
    assert len(runner.last_computed) == len(again)  # every layer computed again
