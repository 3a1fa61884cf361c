"""The training-step memory model without torch: registry completeness, a hand-derived step, invariants,
in-place activations, the largest batch that fits and the remedies (tests/oracle/test_memory_torch.py
checks the numbers against PyTorch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.core import Design, analyze
from designer.core.memory import BREAKDOWN, analysis_step
from designer.core.memory_advice import inplace_candidates, largest_batch, peak_at, remedies
from designer.core.memory_costs import OP_COSTS
from designer.core.spec import LAYER_SPECS, SAVED_KINDS, saved_kinds
from designer.core.training_memory import KINDS

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def design(layers, c=16, h=32, w=32) -> Design:
    return Design.from_dict({"format": "cnn-designer/v1", "name": "t",
                             "input": {"channels": c, "height": h, "width": w}, "layers": layers})


def test_every_layer_type_has_saves_and_an_op_cost():
    assert set(OP_COSTS) == set(LAYER_SPECS)
    for spec in LAYER_SPECS.values():
        hp = spec.hyperparameters(dict(spec.default_params))
        assert set(saved_kinds(spec, hp)) <= set(SAVED_KINDS), spec.type


def test_linear_step_by_hand():
    """Linear(1000 → 10) on a vector, batch 4, sgd: the input needs no gradient, so the peak is
    parameters + input + loss gradient + weight gradients (the output is freed after the loss)."""
    a = analyze(Design.from_dict({"format": "cnn-designer/v1", "name": "fc", "input": {"channels": 1000,
                                  "height": 1, "width": 1},
                                  "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}]}),
                batch_size=4)
    params, inp, out = 10_010 * 4, 4 * 1000 * 4, 4 * 10 * 4
    assert a.memory["training_bytes"] == params + inp + out + params
    assert a.memory["inference_peak_bytes"] == params + inp + out
    assert a.memory_peak["phase"] == "backward" and a.memory_peak["layer"] == "linear1"


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v1", "inception3a", "alexnet"])
def test_breakdown_adds_up_and_timeline_peaks_at_the_peak(name):
    a = analyze(Design.load(EXAMPLES / f"{name}.json"), batch_size=4, optimizer="adam")
    m = a.memory
    assert sum(m[k] for k in BREAKDOWN) == m["training_bytes"]
    step = analysis_step(a, "adam")
    assert max(p.total for p in step.timeline) == step.peak == m["training_bytes"]
    assert [p.phase for p in step.timeline][-1] == "optimizer"
    assert set(step.peak_point.by_kind) == set(KINDS)
    assert sum(b.nbytes for b in step.peak_blocks) == step.peak
    assert step.largest_at_peak(3)[0][1] >= step.largest_at_peak(3)[-1][1]


def test_peak_grows_with_batch_and_optimizer_state():
    a = analyze(Design.load(EXAMPLES / "resnet18.json"), batch_size=2)
    peaks = [peak_at(a, b) for b in (1, 2, 4, 8)]
    assert peaks == sorted(peaks) and len(set(peaks)) == 4
    resnet = Design.load(EXAMPLES / "resnet18.json")
    sgd, momentum, adam = (analyze(resnet, 2, optimizer=o).memory["training_bytes"] for o in ("sgd", "momentum", "adam"))
    assert sgd < momentum < adam


def test_inference_peak_is_below_training_peak_and_keeps_nothing_saved():
    a = analyze(Design.load(EXAMPLES / "vgg16.json"), batch_size=2)
    step = analysis_step(a, None)
    assert a.memory["inference_peak_bytes"] < a.memory["training_bytes"]
    assert all(p.by_kind["saved activations"] == 0 == p.by_kind["parameter gradients"] for p in step.timeline)


def _conv_act(inplace: bool, act: str) -> Design:
    return design([{"type": "Conv2d", "name": "c1", "out_channels": 16, "kernel_size": 3, "padding": 1},
                   {"type": act, "name": "a", "inplace": inplace},
                   {"type": "Conv2d", "name": "c2", "out_channels": 16, "kernel_size": 3, "padding": 1}])


def test_inplace_leaky_relu_saves_one_map_relu6_does_not():
    """PyTorch: leaky_relu_ saves its result; hardtanh_ (ReLU6) clones its input first, so no gain."""
    one_map = 16 * 32 * 32 * 4
    leaky = [analyze(_conv_act(i, "LeakyReLU")).memory["training_bytes"] for i in (False, True)]
    relu6 = [analyze(_conv_act(i, "ReLU6")).memory["training_bytes"] for i in (False, True)]
    assert leaky[0] - leaky[1] >= one_map
    assert relu6[0] == relu6[1]


def test_inplace_candidates_skip_shared_inputs_and_saved_outputs():
    d = design([{"type": "Sigmoid", "name": "s"}, {"type": "ReLU", "name": "after_sigmoid"},
                {"type": "Conv2d", "name": "c", "out_channels": 16, "kernel_size": 1},
                {"type": "Branch", "name": "b", "merge": "add",
                 "branches": [[{"type": "ReLU", "name": "shared"}], []]},
                {"type": "ReLU", "name": "ok"}])
    a = analyze(d)
    names = {d.get(p).name for p in inplace_candidates(d, a)}
    assert names == {"ok"}


def test_largest_batch_fits_and_the_next_does_not():
    a = analyze(Design.load(EXAMPLES / "mobilenet_v1.json"), batch_size=8)
    budget = 2 * 2**30
    b = largest_batch(a, budget)
    assert b > 8 and peak_at(a, b) <= budget < peak_at(a, b + 1)
    assert largest_batch(a, 1000) == 0


def test_remedies_compute_their_effect():
    d = Design.load(EXAMPLES / "hdc_segment.json")
    a = analyze(d, batch_size=32, optimizer="adam")
    found = {r.title.split()[0]: r for r in remedies(d, a, a.memory["training_bytes"] // 2)}
    assert found["16-bit"].peak_bytes == pytest.approx(a.memory["training_bytes"] / 2, rel=0.01)
    assert found["Batch"].batch_size < 32 and found["Batch"].fits
    assert found["Stride"].design is not None and found["Stride"].peak_bytes < a.memory["training_bytes"]


def test_edge_designs_keep_the_input_and_never_go_negative():
    """An empty design, an in-place activation on the input (the caller's tensor is never freed) and a
    design with an error all give a peak of at least the input."""
    for layers in ([], [{"type": "ReLU", "name": "r", "inplace": True}],
                   [{"type": "Linear", "name": "l", "out_features": 4}]):
        a = analyze(design(layers, c=3), batch_size=4, optimizer="adam")
        step = analysis_step(a, "adam")
        assert a.memory["training_bytes"] >= a.memory["input_bytes"] == 4 * 3 * 32 * 32 * 4
        assert min(p.total for p in step.timeline) >= a.memory["input_bytes"]
