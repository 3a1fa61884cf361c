"""Every figure of ../shared/seeds (DIGEST.md) about shapes, params, MACs, RF and memory."""

from __future__ import annotations

import pytest

from designer.core.memory import analysis_step
from designer.core import analyze
from designer.core import arithmetic as ar
from designer.core.advice import hdc_advice, hdc_max_distance

from .helpers import conv, design, messages, rows


def test_conv_5x5_rgb_200_maps_on_150x100():
    """[004] 15,200 params, 225,000,000 multiplies, 12,000,000 bytes (≈ 11.4 MB) per image."""
    r = rows([conv("c", 200, 5, padding="same")], c=3, h=100, w=150)["c"]
    assert r.output_shape == (200, 100, 150)
    assert r.params == (5 * 5 * 3 + 1) * 200 == 15_200
    assert r.macs == 225_000_000
    assert r.output_bytes == 12_000_000
    assert r.output_bytes * 8 == 96_000_000  # 96 million bits
    assert round(r.output_bytes / 2**20, 1) == 11.4


def test_batch_of_100_takes_over_a_gigabyte_for_that_layer():
    a = analyze(design([conv("c", 200, 5, padding="same")], c=3, h=100, w=150), batch_size=100)
    assert 100 * a.rows[0].output_bytes > 2**30
    assert a.memory["activations_bytes"] == 1_200_000_000


@pytest.mark.parametrize("dtype, nbytes", [("float32", 4), ("float16", 2), ("float64", 8)])
def test_dtype_sizes(dtype, nbytes):
    a = analyze(design([conv("c", 200, 5, padding="same")], c=3, h=100, w=150), dtype=dtype)
    assert a.rows[0].output_bytes == 3_000_000 * nbytes


def test_tensorflow_same_and_valid_width_13_kernel_6_stride_5():
    """[004] SAME → 3, VALID → 2 and VALID ignores the last columns."""
    assert -(-13 // 5) == 3 and ar.conv_out(13, 6, 5, sum(ar.same_padding(13, 6, 5))) == 3
    assert ar.valid_out(13, 6, 5) == 2
    same = rows([conv("c", 1, [1, 6], stride=[1, 5], padding="same")], c=1, h=1, w=13)["c"]
    valid = rows([conv("c", 1, [1, 6], stride=[1, 5], padding="valid")], c=1, h=1, w=13)["c"]
    assert same.output_shape == (1, 1, 3) and valid.output_shape == (1, 1, 2)
    assert ar.same_padding(13, 6, 5) == (1, 2)  # extra column at the right
    assert any("the last 2 columns are never seen" in i.message for i in valid.issues)
    assert not same.issues


def test_conv_output_formula_with_dilation():
    """[001, 002] floor((n + 2p − d(k−1) − 1)/s) + 1."""
    r = rows([conv("c", 4, 3, stride=2, padding=2, dilation=2)], h=17, w=17)["c"]
    assert r.output_shape == (4, (17 + 4 - 4 - 1) // 2 + 1, 9)


def test_ceil_mode_rounds_up():
    floor = rows([{"type": "MaxPool2d", "name": "p", "kernel_size": 3, "stride": 2}], h=56, w=56)["p"]
    ceil = rows([{"type": "MaxPool2d", "name": "p", "kernel_size": 3, "stride": 2, "ceil_mode": True}],
                h=56, w=56)["p"]
    assert floor.output_shape[1:] == (27, 27) and ceil.output_shape[1:] == (28, 28)


def test_transposed_conv_3x3_to_5x5():
    """[002] (n − 1)s − 2p + d(k−1) + output_padding + 1 with k=3, s=2, p=1."""
    r = rows([{"type": "ConvTranspose2d", "name": "t", "out_channels": 1, "kernel_size": 3, "stride": 2,
               "padding": 1}], c=1, h=3, w=3)["t"]
    assert r.output_shape == (1, 5, 5)
    assert r.macs == 1 * 3 * 3 * 1 * 3 * 3


def test_seven_by_seven_versus_three_stacked_3x3():
    """[000] 49C² vs 27C² with the same 7×7 receptive field."""
    c = 64
    one = rows([conv("c7", c, 7, padding=3, bias=False)], c=c)
    three = rows([conv(f"c{i}", c, 3, padding=1, bias=False) for i in range(3)], c=c)
    assert one["c7"].params == 49 * c * c == 200_704
    assert sum(r.params for r in three.values()) == 27 * c * c == 110_592
    assert one["c7"].receptive_field == three["c2"].receptive_field == [7, 7]
    hint = " ".join(i.message for i in one["c7"].issues)
    assert "200,704 weights (49·C²)" in hint and "110,592 weights (27·C²)" in hint


def test_1x1_reduction_96_to_48():
    """[002] 41,472 weights directly vs 3,072 + 13,824 = 16,896 with a 1×1 to 32 first."""
    direct = rows([conv("c", 48, 3, padding=1, bias=False)], c=96)["c"]
    reduced = rows([conv("r", 32, 1, bias=False), conv("c", 48, 3, padding=1, bias=False)], c=96)
    assert direct.params == 41_472
    assert (reduced["r"].params, reduced["c"].params) == (3_072, 13_824)
    assert reduced["r"].params + reduced["c"].params == 16_896


def _inception(reduce: bool) -> list[dict]:
    def c(name, out, k, **hp):
        return conv(name, out, k, bias=False, **hp)
    pre3 = [c("r3", 96, 1)] if reduce else []
    pre5 = [c("r5", 16, 1)] if reduce else []
    post_pool = [c("pp", 32, 1)] if reduce else []
    return [{"type": "Branch", "name": "b", "merge": "concat", "branches": [
        [c("b1", 64, 1)], pre3 + [c("b3", 128, 3, padding=1)], pre5 + [c("b5", 32, 5, padding=2)],
        [{"type": "MaxPool2d", "name": "mp", "kernel_size": 3, "stride": 1, "padding": 1}] + post_pool]}]


def test_inception_3a_naive_vs_reduced():
    """[003] naive branches give 416 maps; with 1×1 reductions 256 maps and about a third of the weights.

    The article's kernel weights: 1·1·192·64 + 3·3·192·128 + 5·5·192·32 = 387,072 naive;
    1·1·192·64 + (1·1·192·96 + 3·3·96·128) + (1·1·192·16 + 5·5·16·32) = 157,184 reduced.
    """
    naive = rows(_inception(False), c=192, h=28, w=28)
    reduced = rows(_inception(True), c=192, h=28, w=28)
    assert naive["b"].output_shape == (416, 28, 28)
    assert reduced["b"].output_shape == (256, 28, 28)
    assert naive["b"].params == 387_072
    assert reduced["b"].params - reduced["pp"].params == 157_184
    assert reduced["b"].params - reduced["pp"].params < 0.41 * naive["b"].params


def test_depthwise_separable_3_to_4_channels():
    """[002] standard 108 weights; depthwise 27 + pointwise 12 = 39."""
    standard = rows([conv("s", 4, 3, bias=False)], c=3)["s"]
    sep = rows([conv("dw", 3, 3, groups=3, bias=False), conv("pw", 4, 1, bias=False)], c=3)
    assert standard.params == 108
    assert (sep["dw"].params, sep["pw"].params) == (27, 12)


def test_grouped_conv_divides_weights_by_g():
    full = rows([conv("c", 64, 3, bias=False)], c=32)["c"]
    grouped = rows([conv("c", 64, 3, groups=4, bias=False)], c=32)["c"]
    assert grouped.params * 4 == full.params
    assert grouped.macs * 4 == full.macs


def test_spatially_separable_3x1_then_1x3():
    sep = rows([conv("v", 8, [3, 1], bias=False), conv("h", 8, [1, 3], bias=False)], c=8, h=9, w=9)
    assert sep["h"].receptive_field == [3, 3] and sep["h"].output_shape == (8, 7, 7)
    assert sep["v"].params + sep["h"].params == 6 * 64 < 9 * 64


@pytest.mark.parametrize("size", [13, 32, 61, 224])
def test_spp_fixed_length_for_any_input(size):
    """[002] 256 maps pooled into 4×4, 2×2, 1×1 bins give (16+4+1)·256 features for any input."""
    r = rows([{"type": "SpatialPyramidPool2d", "name": "spp"}], c=256, h=size, w=size + 7)["spp"]
    assert r.output_shape == ((16 + 4 + 1) * 256,)
    assert r.receptive_field is None


def test_dilated_stack_on_17x17_sees_13x13():
    """[002] three 3×3 convs with dilation 2: the last output sees 13×13."""
    r = rows([conv(f"c{i}", 1, 3, dilation=2) for i in range(3)], c=1, h=17, w=17)
    assert r["c2"].receptive_field == [13, 13]
    assert r["c0"].receptive_field == [5, 5]
    assert r["c2"].output_shape == (1, 5, 5)


def test_receptive_field_recursion_with_strides():
    """r_k = r_{k−1} + (k_eff − 1)·Π s; the first conv's RF equals its kernel."""
    r = rows([conv("a", 8, 5, stride=2), {"type": "MaxPool2d", "name": "p", "kernel_size": 2},
              conv("b", 8, 3, dilation=2)], h=64, w=64)
    assert r["a"].receptive_field == [5, 5]
    assert r["p"].receptive_field == [5 + 1 * 2, 7] and r["p"].jump == [4, 4]
    assert r["b"].receptive_field == [7 + 4 * 4, 23]


@pytest.mark.parametrize("rates, ok", [([1, 2, 5], True), ([1, 2, 9], False), ([2, 4, 8], False),
                                       ([2, 2, 2], False), ([1, 2, 3], True)])
def test_hdc_rule(rates, ok):
    assert (not hdc_advice(rates, 3, "c")) == ok
    layers = [conv(f"c{i}", 8, 3, dilation=r, padding=r) for i, r in enumerate(rates)]
    a = analyze(design(layers, c=8, h=64, w=64))
    assert any("dilation rates" in m for m in messages(a, "warning")) == (not ok)


def test_hdc_max_distance_values():
    assert hdc_max_distance([1, 2, 5]) == 2
    assert hdc_max_distance([1, 2, 9]) == 5


def test_sawtooth_1_2_3_repeated_is_recommended():
    layers = [conv(f"c{i}", 8, 3, dilation=r, padding=r) for i, r in enumerate([1, 2, 3, 1, 2, 3])]
    assert not messages(analyze(design(layers, c=8, h=64, w=64)), "warning")


def test_inference_needs_two_consecutive_activations_training_keeps_all():
    """[000, 004] inference: only two consecutive layers alive; training keeps everything plus gradients."""
    layers = [conv("a", 16, 3, padding=1, bias=False), {"type": "ReLU", "name": "r"},
              conv("b", 16, 3, padding=1, bias=False)]
    a = analyze(design(layers, c=16, h=32, w=32))
    act = 16 * 32 * 32 * 4
    step = analysis_step(a, None)  # inference: nothing saved for a backward pass
    assert max(p.by_kind["activations"] for p in step.timeline) == 2 * act
    assert a.memory["activations_bytes"] == 3 * act
    assert a.memory["training_saved_bytes"] == act  # ReLU keeps its output, which conv b shares
    assert a.memory["training_bytes"] > a.memory["inference_peak_bytes"]


def test_optimizer_state_counts_at_least_three_times_params():
    a = analyze(design([conv("a", 16, 3)], c=16), optimizer="momentum")
    b = analyze(design([conv("a", 16, 3)], c=16), optimizer="adam")
    weights = a.totals["params"] * 4
    assert a.memory["training_bytes"] - 2 * (a.memory["input_bytes"] + a.memory["activations_bytes"]) == 3 * weights
    assert b.memory["training_bytes"] - a.memory["training_bytes"] == weights


def test_input_sizes_divisible_by_two_many_times():
    good = analyze(design([conv("a", 8, 3, stride=2, padding=1)] * 1, h=224, w=224))
    bad = analyze(design([conv("a", 8, 3, stride=2, padding=1), conv("b", 8, 3, stride=2, padding=1)],
                         h=227, w=224))
    assert not [i for i in good.issues if i.layer == "input"]
    assert any("height 227" in i.message and "total stride 4" in i.message for i in bad.issues)


def test_pooling_window_above_three_warns_but_global_pool_does_not():
    big = rows([{"type": "MaxPool2d", "name": "p", "kernel_size": 4}], h=32, w=32)["p"]
    glob = rows([{"type": "AvgPool2d", "name": "p", "kernel_size": 7}], h=7, w=7)["p"]
    assert any(i.level == "warning" and "4×4 pooling window" in i.message for i in big.issues)
    assert not glob.issues


def test_lrn_hint():
    r = rows([{"type": "LocalResponseNorm", "name": "n", "size": 5}])["n"]
    assert [i.level for i in r.issues] == ["hint"]
