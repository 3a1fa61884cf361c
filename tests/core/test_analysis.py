"""Analysis: errors on their layers, branches, totals, memory liveness, absurd sizes."""

from __future__ import annotations

import pytest

from designer.core.memory import analysis_step
from designer.core import analyze

from .helpers import conv, design, rows


def test_kernel_larger_than_padded_input_is_an_error_and_later_rows_survive():
    a = analyze(design([conv("big", 8, 7), {"type": "ReLU", "name": "r"}, conv("c", 4, 1)], h=5, w=5))
    assert [r.name for r in a.rows] == ["big", "r", "c"]
    big = a.row("big")
    assert big.output_shape is None and big.issues[0].level == "error"
    assert "larger than the padded input 5×5" in big.issues[0].message
    assert a.row("c").output_shape is None and not a.row("c").issues
    assert not a.valid


def test_channels_not_divisible_by_groups():
    r = rows([conv("g", 8, 3, groups=3)], c=6)["g"]
    assert "output channels (8) are not divisible by groups (3)" in r.issues[0].message


def test_linear_on_a_feature_map_suggests_flatten_with_in_features():
    r = rows([{"type": "Linear", "name": "fc", "out_features": 10}], c=16, h=5, w=5)["fc"]
    assert "insert a Flatten before it (it would then get in_features = 400)" in r.issues[0].message


def test_conv_after_flatten_explains():
    r = rows([{"type": "Flatten", "name": "f"}, conv("c", 4, 3)])["c"]
    assert "needs a C×H×W feature map" in r.issues[0].message


def _branch(merge: str, a: list, b: list) -> list[dict]:
    return [{"type": "Branch", "name": "br", "merge": merge, "branches": [a, b]}]


def test_concat_mismatch_names_the_dimension():
    r = rows(_branch("concat", [conv("a", 8, 3, padding=1)], [conv("b", 8, 3)]))["br"]
    assert r.issues[0].level == "error" and "heights differ (30 vs 32)" in r.issues[0].message


def test_add_mismatch_names_channels():
    r = rows(_branch("add", [conv("a", 8, 1)], []))["br"]
    assert "channels differ (3 vs 8)" in r.issues[0].message


def test_branch_row_sums_inner_layers_and_comes_after_them():
    a = analyze(design(_branch("concat", [conv("a", 8, 3, padding=1)], [conv("b", 4, 1), conv("c", 4, 1)])))
    assert [r.name for r in a.rows] == ["a", "b", "c", "br"]
    br = a.row("br")
    assert br.output_shape == (12, 32, 32) and br.depth == 0 and a.row("a").depth == 1
    assert br.params == sum(a.row(n).params for n in "abc")
    assert a.totals["params"] == br.params  # every layer counted once


def test_branches_with_different_jumps_warn():
    aligned = rows(_branch("concat", [conv("a", 8, 3, stride=2, padding=1)],
                           [{"type": "MaxPool2d", "name": "p", "kernel_size": 2}, conv("b", 4, 1)]))["br"]
    assert not aligned.issues
    # both 16×16, but one moves 2 pixels per unit and the other 1
    skewed = rows(_branch("concat", [conv("a", 8, 3, stride=2, padding=1)], [conv("b", 8, 17)]))["br"]
    assert skewed.output_shape == (16, 16, 16)
    assert skewed.issues[0].level == "warning" and "different jumps (2, 1)" in skewed.issues[0].message


def test_branch_receptive_field_is_the_widest_branch():
    r = rows(_branch("add", [conv("a", 3, 1)], [conv("u", 3, 3, padding=1)]))["br"]
    assert r.receptive_field == [3, 3]


def test_rf_is_global_after_flatten_and_linear():
    r = rows([conv("c", 4, 3), {"type": "Flatten", "name": "f"}, {"type": "Linear", "name": "l", "out_features": 2}])
    assert r["c"].receptive_field == [3, 3] and r["f"].receptive_field is None and r["l"].receptive_field is None


def test_absurd_input_is_analysed_without_allocating():
    a = analyze(design([conv("c", 64, 3, padding=1), {"type": "MaxPool2d", "name": "p", "kernel_size": 2}],
                       h=10**9, w=10**9))
    assert a.row("c").output_bytes == 64 * 10**18 * 4
    assert a.row("p").output_shape == (64, 5 * 10**8, 5 * 10**8)


def test_branch_keeps_its_input_alive_for_inference_peak():
    layers = [{"type": "Branch", "name": "br", "merge": "add", "branches": [
        [conv("a", 3, 3, padding=1, bias=False), conv("b", 3, 3, padding=1, bias=False)], []]}]
    a = analyze(design(layers, c=3, h=10, w=10))
    t = 3 * 10 * 10 * 4
    # while b runs: input (kept for the identity branch) + a's output + b's output
    step = analysis_step(a, None)
    assert max(p.by_kind["input"] + p.by_kind["activations"] for p in step.timeline) == 3 * t


def test_totals_equal_column_sums_and_flops_are_twice_macs():
    a = analyze(design([conv("a", 8, 3), {"type": "BatchNorm2d", "name": "bn"}, {"type": "Flatten", "name": "f"},
                        {"type": "Linear", "name": "fc", "out_features": 10}]))
    leaf = [r for r in a.rows if r.type != "Branch"]
    assert a.totals["params"] == sum(r.params for r in leaf) == 224 + 16 + 8 * 30 * 30 * 10 + 10
    assert a.totals["buffers"] == 16
    assert a.totals["flops"] == 2 * a.totals["macs"]


def test_prelu_and_batchnorm_declared_sizes_are_checked():
    r = rows([{"type": "PReLU", "name": "p", "num_parameters": 5}], c=3)["p"]
    assert "num_parameters must be 1 or the number of channels (3)" in r.issues[0].message
    r = rows([{"type": "BatchNorm2d", "name": "bn", "num_features": 4}], c=3)["bn"]
    assert "num_features is 4 but the input has 3 channels" in r.issues[0].message


def test_conv_transpose_output_padding_must_be_below_stride():
    r = rows([{"type": "ConvTranspose2d", "name": "t", "out_channels": 2, "kernel_size": 3, "stride": 2,
               "output_padding": 2}])["t"]
    assert "output_padding (2) must be smaller than the stride (2)" in r.issues[0].message


def test_label_shows_only_non_defaults():
    r = rows([conv("c", 64, 3, stride=2, padding=1, dilation=2, groups=3)], c=3)["c"]
    assert r.label == "64 3×3 s2 p1 d2 g3"


def test_upsample_that_shrinks_to_nothing_is_an_error():
    r = rows([{"type": "Upsample", "name": "u", "scale_factor": 0.01}], h=8, w=8)["u"]
    assert r.output_shape is None and "shrinks the 8×8 input to nothing" in r.issues[0].message


def test_large_kernel_hints_after_the_first_layer_for_any_size():
    r = rows([conv("a", 8, 3), conv("b", 8, 6), conv("c", 8, 13)], h=64, w=64)
    assert "3 stacked 3×3 convs see a 7×7 region (covering 6×6)" in r["b"].issues[0].message
    assert "6 stacked 3×3 convs see the same 13×13 region" in r["c"].issues[0].message
    assert "after the first layer" in r["c"].issues[0].message


def test_summary_formats_survive_astronomical_numbers():
    from designer.core.formatting import format_analysis
    a = analyze(design([{"type": "Flatten", "name": "f"}, {"type": "Linear", "name": "l", "out_features": 10**300}]))
    for fmt in ("table", "markdown", "csv", "json"):
        assert "l" in format_analysis(a, fmt)


@pytest.mark.parametrize("init, kernel, expected", [
    ({"preset": ["bogus"]}, 3, "unknown kernel preset 'bogus'"),
    ({"preset": ["identity", "sharpen"]}, 3, "init names 2 presets but the layer has 3 output channels"),
    ({"preset": "identity"}, 4, "odd square kernel, got 4×4"),
    ({"preset": "identity"}, [3, 5], "odd square kernel, got 3×5"),
])
def test_kernel_preset_mistakes_are_layer_errors(init, kernel, expected):
    r = rows([conv("c", 3, kernel, init=init)])["c"]
    assert r.issues[0].level == "error" and expected in r.issues[0].message


def test_core_preset_names_match_the_backend():
    from designer.backend.presets import PRESETS
    from designer.core.layers_conv import KERNEL_PRESETS
    assert tuple(PRESETS) == KERNEL_PRESETS
