"""Proof, not hope: the exported ONNX model and the generated PyTorch module, fed the app's weights, give the
app's NumPy output to 1e-4 relative — for every example, the hand-made cases, one design per layer type and
random designs of the property-test strategy.

ONNX is checked with ``onnx.reference`` as installed (needs only onnx) and with onnxruntime when it is
installed; the PyTorch code runs when
torch is installed (``tests/interop/golden`` holds the code the torch runs checked, for runs without torch).
onnxruntime and torch get a batch of two different images, so the symbolic batch and ``[N, C, H, W]``
broadcasting are exercised too.
"""

from __future__ import annotations

import copy
import functools
import os

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings

from designer.core import Design, analyze
from designer.interop.export_onnx import build_onnx
from designer.interop.export_torch import pytorch_source
from tests.core.test_properties import LAYER, designs
from tests.interop.export_cases import (
    CASES,
    EXAMPLES,
    HAS_ORT,
    HAS_TORCH,
    app_output,
    assert_close,
    every_type_designs,
    example_variant,
    mixed_designs,
    onnx_reference,
    onnxruntime_output,
    random_weights,
    sample,
    torch_output,
)

DESIGNS: dict[str, Design] = {
    **{f"example_{p.stem}": example_variant(p) for p in EXAMPLES},
    **CASES,
    **{f"type_{t}": d for t, d in every_type_designs().items()},
}


def batch_independent(design: Design) -> bool:
    """Whether each image's output depends on that image only: BatchNorm2d without running statistics
    normalises by the batch's (PyTorch in eval mode; the app runs one image, its own statistics)."""
    return not any(layer.type == "BatchNorm2d" and not layer.hp["track_running_stats"] for _, layer in design.walk())


@functools.cache
def prepared(name: str) -> tuple[Design, dict[str, np.ndarray], np.ndarray, np.ndarray, onnx.ModelProto]:
    """``(design, weights, a batch of two images (one when the batch matters), the app's output for each, the
    ONNX model)``."""
    design = DESIGNS[name]
    assert analyze(design).valid, [i.message for i in analyze(design).issues if i.level == "error"]
    weights = random_weights(design)
    batch = np.stack([sample(design, 1), sample(design, 2)][:2 if batch_independent(design) else 1])
    return (design, weights, batch, np.stack([app_output(design, weights, x) for x in batch]),
            build_onnx(design, weights))


@pytest.fixture(scope="module", autouse=True)
def _free():
    yield
    prepared.cache_clear()


@pytest.mark.parametrize("name", DESIGNS)
def test_onnx_reference_evaluator_gives_the_app_output(name):
    _, _, batch, want, model = prepared(name)
    assert_close(onnx_reference(model, batch[0]), want[0], f"{name}: onnx.reference")


@pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is optional")
@pytest.mark.parametrize("name", DESIGNS)
def test_onnxruntime_gives_the_app_output_for_a_batch(name):
    _, _, batch, want, model = prepared(name)
    got = onnxruntime_output(model, batch)
    for i in range(len(batch)):
        assert_close(got[i], want[i], f"{name}: onnxruntime image {i}")


@pytest.mark.skipif(not HAS_TORCH, reason="the live comparison needs torch")
@pytest.mark.parametrize("name", DESIGNS)
def test_generated_pytorch_gives_the_app_output_for_a_batch(name):
    design, weights, batch, want, _ = prepared(name)
    got = torch_output(pytorch_source(design), design, weights, batch)
    for i in range(len(batch)):
        assert_close(got[i], want[i], f"{name}: generated PyTorch image {i}")


RANDOM = settings(max_examples=int(os.environ.get("EXPORT_EXAMPLES", "30")), deadline=None,
                  derandomize=not os.environ.get("EXPORT_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])


def _check_random(data: dict) -> None:
    design = Design.from_dict(copy.deepcopy(data))
    if not analyze(design).valid:
        return  # the property tests check that invalid designs are refused
    weights, x = random_weights(design), sample(design)
    want = app_output(design, weights, x)
    model = build_onnx(design, weights)
    assert_close(onnx_reference(model, x), want, "onnx.reference")
    if HAS_ORT:
        assert_close(onnxruntime_output(model, x[None])[0], want, "onnxruntime")
    if HAS_TORCH:
        assert_close(torch_output(pytorch_source(design), design, weights, x[None])[0], want, "generated PyTorch")


@RANDOM
@given(designs())
def test_random_designs_export_to_what_the_app_computes(data):
    _check_random(data)


@RANDOM
@given(mixed_designs(LAYER))
def test_random_mixed_designs_with_nested_branches_export_to_what_the_app_computes(data):
    _check_random(data)
