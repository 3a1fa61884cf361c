"""to_fully_convolutional: the converted network scores every stride-aligned crop."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend import Runner
from designer.backend.fully_conv import FullyConvError, to_fully_convolutional
from designer.core import Design

from .designs import as_dict, conv, layer


def _classifier(extra: list[dict] | None = None, h: int = 18) -> Design:
    return Design.from_dict(as_dict([
        conv("c1", 4, 3), layer("ReLU", "r1"), layer("MaxPool2d", "p1", kernel_size=2),
        conv("c2", 5, 3), layer("ReLU", "r2"), layer("MaxPool2d", "p2", kernel_size=2),
        *(extra or []),
        layer("Flatten", "flat"), layer("Dropout", "d"), layer("Linear", "fc1", out_features=7),
        layer("ReLU", "r3"), layer("Linear", "fc2", out_features=3, bias=False), layer("Softmax", "probs"),
    ], h=h, w=h))


def test_scores_every_stride_aligned_crop():
    design = _classifier()  # 18 → 16 → 8 → 6 → 3: total stride 4
    runner = Runner(design, seed=5)
    fc_design, fc_weights = to_fully_convolutional(design, runner.weights)
    assert [l.type for l in fc_design.layers][-5:] == ["Dropout", "Conv2d", "ReLU", "Conv2d", "Softmax"]
    assert fc_weights["fc1.weight"].shape == (7, 5, 3, 3) and fc_weights["fc2.weight"].shape == (3, 7, 1, 1)
    rng = np.random.default_rng(0)
    big = rng.standard_normal((3, 18 + 4 * 3, 18 + 4 * 2)).astype(np.float32)
    grid = Runner(fc_design, fc_weights).run(big)["probs"]
    assert grid.shape == (3, 4, 3)
    for i in range(4):
        for j in range(3):
            crop = big[:, 4 * i:4 * i + 18, 4 * j:4 * j + 18]
            runner.invalidate()
            np.testing.assert_allclose(grid[:, i, j], runner.run(crop)["probs"], rtol=1e-5, atol=1e-6)


def test_identity_adaptive_pool_is_dropped_and_other_is_an_error():
    design = _classifier([layer("AdaptiveAvgPool2d", "keep", output_size=3)])
    fc_design, _ = to_fully_convolutional(design, Runner(design).weights)
    assert "keep" not in {l.name for l in fc_design.layers}
    squeeze = _classifier([layer("AdaptiveAvgPool2d", "gap", output_size=1)])
    with pytest.raises(FullyConvError, match="layer 'gap'.*3×3 to 1×1"):
        to_fully_convolutional(squeeze, Runner(squeeze).weights)


def test_nothing_to_convert_is_an_error():
    design = Design.from_dict(as_dict([conv("c", 2, 3)]))
    with pytest.raises(FullyConvError, match="already fully convolutional"):
        to_fully_convolutional(design, Runner(design).weights)
