"""Example designs: published totals, receptive fields, and golden summaries.

Golden summaries (tests/core/golden/*.txt) are the table output for each example; regenerate them
after an intended change with ``UPDATE_GOLDEN=1 pytest tests/core/test_examples.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from designer.core import Design, analyze
from designer.core.formatting import format_analysis

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))
GOLDEN = Path(__file__).parent / "golden"

PUBLISHED = {  # name: (params, MACs or None)
    "vgg16": (138_357_544, 15_470_264_320),
    "resnet18": (11_689_512, 1_814_073_344),
    "alexnet": (61_100_840, 714_188_480),
    "lenet5": (61_706, 416_520),
    "inception3a": (163_696, 128_049_152),
    "mobilenet_v1": (4_231_976, 568_740_352),
}


def load(name: str):
    return analyze(Design.load(ROOT / "resources" / "examples" / f"{name}.json"))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_totals(name):
    params, macs = PUBLISHED[name]
    a = load(name)
    assert a.totals["params"] == params
    assert a.totals["macs"] == macs
    assert a.valid


def test_vgg16_pool5_receptive_field_212_jump_32():
    r = load("vgg16").row("pool5")
    assert r.receptive_field == [212, 212] and r.jump == [32, 32]


def test_alexnet_pool5_receptive_field_195():
    a = load("alexnet")
    assert a.row("pool5").receptive_field == [195, 195]


def test_resnet18_buffers_are_batchnorm_running_stats():
    a = load("resnet18")
    bn_channels = sum(r.output_shape[0] for r in a.rows if r.type == "BatchNorm2d")
    assert a.totals["buffers"] == 2 * bn_channels


def test_hdc_example_has_no_gridding_warning_and_fcn_restores_size():
    assert not [i for i in load("hdc_segment").issues if "dilation" in i.message]
    fcn = load("fcn")
    assert fcn.rows[-1].output_shape[1:] == fcn.input_shape[1:]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_golden_summary(path):
    text = format_analysis(analyze(Design.load(path)), "table")
    golden = GOLDEN / f"{path.stem}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing; create it with UPDATE_GOLDEN=1 and review it before committing"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_column_sums_equal_totals(path):
    a = analyze(Design.load(path))
    leaf = [r for r in a.rows if r.type != "Branch"]
    assert sum(r.params for r in leaf) == a.totals["params"]
    assert sum(r.macs for r in leaf) == a.totals["macs"]
    assert sum(r.output_bytes for r in a.rows) == a.memory["activations_bytes"]
