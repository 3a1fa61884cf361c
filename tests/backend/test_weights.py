"""Weights: layouts, He-normal init, presets, .npz round trip and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from designer.backend import Runner, WeightsError, init_weights, load_weights, save_weights
from designer.backend.presets import PRESETS, preset_kernel
from designer.core import Design

from .designs import as_dict, conv, layer, mini


def test_state_dict_layouts_and_init():
    design = Design.from_dict(as_dict([
        conv("c", 8, 3, groups=1), layer("BatchNorm2d", "bn"), layer("PReLU", "p", num_parameters=8, init=0.1),
        layer("ConvTranspose2d", "t", out_channels=4, kernel_size=2, stride=2, groups=2, bias=False),
        layer("Flatten", "f"), layer("Linear", "fc", out_features=5),
    ], h=10, w=10))
    w = init_weights(design, seed=0)
    assert w["c.weight"].shape == (8, 3, 3, 3) and w["c.bias"].shape == (8,)
    assert w["t.weight"].shape == (8, 2, 2, 2) and "t.bias" not in w
    assert w["fc.weight"].shape == (5, 4 * 16 * 16)
    assert np.all(w["bn.weight"] == 1) and np.all(w["bn.running_var"] == 1) and np.all(w["bn.running_mean"] == 0)
    assert np.all(w["p.weight"] == np.float32(0.1)) and np.all(w["c.bias"] == 0)
    assert all(v.dtype == np.float32 for v in w.values())
    big = init_weights(Design.from_dict(as_dict([conv("c", 256, 3)], c=64)), seed=0)["c.weight"]
    assert big.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.02)  # He-normal


def test_seeded_init_is_per_layer_and_reproducible():
    a, b = init_weights(mini(), seed=3), init_weights(mini(), seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = init_weights(mini(), seed=4)
    assert not np.array_equal(a["stem.weight"], c["stem.weight"])


def test_npz_round_trip(tmp_path):
    runner = Runner(mini(), seed=2)
    path = tmp_path / "w.npz"
    save_weights(path, runner.weights)
    loaded = load_weights(path, mini())
    assert set(loaded) == set(runner.weights)
    x = np.random.default_rng(0).standard_normal(mini().input.shape).astype(np.float32)
    a, b = runner.run(x), Runner(mini(), loaded).run(x)
    assert all(np.array_equal(a[n], b[n]) for n in a)


def test_shape_mismatch_names_layer_and_both_shapes(tmp_path):
    w = init_weights(mini())
    w["stem.weight"] = np.zeros((8, 3, 3, 3), np.float32)
    save_weights(tmp_path / "bad.npz", w)
    with pytest.raises(WeightsError, match=r"layer 'stem': weight has shape \[8, 3, 3, 3\] .* needs \[8, 3, 3, 5\]"):
        load_weights(tmp_path / "bad.npz", mini())
    del w["stem.weight"]
    with pytest.raises(WeightsError, match="layer 'stem'.*lack"):
        Runner(mini(), w)


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("size", [3, 5, 7])
def test_presets_in_any_odd_size(name, size):
    k = preset_kernel(name, size)
    assert k.shape == (size, size) and k.dtype == np.float32
    if name in ("sobel_x", "sobel_y", "laplacian"):
        assert abs(k.sum()) < 1e-6
    if name in ("identity", "box_blur", "gaussian_blur", "sharpen"):
        assert k.sum() == pytest.approx(1.0, abs=1e-6)
    if name == "sobel_x" and size == 3:
        np.testing.assert_array_equal(k, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def test_preset_errors():
    with pytest.raises(ValueError, match="odd"):
        preset_kernel("identity", 4)
    with pytest.raises(ValueError, match="unknown kernel preset"):
        preset_kernel("emboss_3d", 3)


def _line_filter_design(channels: int) -> Design:
    return Design.from_dict(as_dict([
        conv("lines", 2, 7, stride=2, padding="same", bias=False,
             init={"preset": ["vertical_line", "horizontal_line"]}),
    ], c=channels, h=256, w=256))


@pytest.mark.parametrize("channels", [1, 3])
def test_line_filter_experiment(channels):
    """Seed [004]: two 7×7 line filters, stride 2, SAME: one map keeps vertical, the other horizontal structure."""
    from designer.backend.images import prepare
    from designer.backend.sample_image import sample_image

    design = _line_filter_design(channels)
    x = prepare(sample_image(), design.input)
    out = Runner(design).run(x)["lines"]
    assert out.shape == (2, 128, 128)

    def anisotropy(m: np.ndarray) -> float:  # > 1: structure varies across x (vertical edges)
        return float(np.abs(np.diff(m, axis=1)).mean() / np.abs(np.diff(m, axis=0)).mean())

    scene = anisotropy(x.mean(axis=0))
    assert anisotropy(out[0]) > 1.1 * scene  # vertical line filter: vertical structure kept
    assert anisotropy(out[1]) < scene / 1.1  # horizontal line filter: horizontal structure kept
    assert anisotropy(out[0]) > 1.5 * anisotropy(out[1])
    edit = design.set_params((0,), init={"preset": ["identity", "box_blur"]})
    runner = Runner(design)
    runner.update(edit)
    np.testing.assert_allclose(runner.weights["lines.weight"][0, 0, 3, 3], 1.0 / channels)


def _corruptions(data: bytes) -> list[bytes]:
    """Truncations at several points and byte flips of an ``.npz`` file."""
    rng = np.random.default_rng(0)
    out = [data[:n] for n in (0, 10, 40, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1)]
    for _ in range(20):
        flipped = bytearray(data)
        for i in rng.integers(0, len(data), 3):
            flipped[i] ^= 0xFF
        out.append(bytes(flipped))
    return out


@pytest.mark.parametrize("compressed", [False, True])
def test_corrupt_or_truncated_npz_is_a_weights_error(tmp_path, compressed):
    w = init_weights(mini())
    good = tmp_path / "good.npz"
    (np.savez_compressed if compressed else np.savez)(good, **w)
    data = good.read_bytes()
    path = tmp_path / "broken.npz"
    for broken in _corruptions(data):
        path.write_bytes(broken)
        try:
            loaded = load_weights(path, mini())
        except WeightsError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        else:  # a flip in padding or an unused header byte may leave the arrays intact
            assert set(loaded) == set(w)


def test_npy_or_non_numeric_weights_name_file_layer_and_tensor(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3, np.float32))
    with pytest.raises(WeightsError, match=r"one\.npy: cannot read weights: not an \.npz archive"):
        load_weights(tmp_path / "one.npy", mini())
    w = init_weights(mini())
    w["stem_bn.running_var"] = np.array(["a"] * 8)
    save_weights(tmp_path / "text.npz", w)
    with pytest.raises(WeightsError, match=r"text\.npz: layer 'stem_bn': running_var is not numeric"):
        load_weights(tmp_path / "text.npz", mini())


@pytest.mark.parametrize(("init", "k", "message"), [
    ({"preset": ["emboss_3d"]}, 3, "unknown kernel preset"),
    ({"preset": ["identity", "box_blur", "sharpen"]}, 3, "3 kernels but the layer has 2 output channels"),
    ({"preset": ["identity"]}, 4, "odd kernel size"),
    ({"preset": ["identity"]}, [3, 5], "square kernel"),
])
def test_preset_errors_name_the_layer(init, k, message):
    from designer.backend.weights import init_layer

    layer_ = Design.from_dict(as_dict([conv("edges", 2, k, init=init)])).layers[0]
    with pytest.raises(WeightsError, match=rf"^layer 'edges': .*{message}"):
        init_layer(layer_, (3, 20, 20))


def test_runner_copies_the_callers_weights():
    w = init_weights(mini(), seed=1)
    x = np.random.default_rng(0).standard_normal(mini().input.shape).astype(np.float32)
    runner = Runner(mini(), w)
    before = runner.run(x)["probs"].copy()
    for value in w.values():
        value += 1  # the caller edits its own arrays in place
    runner.invalidate()
    np.testing.assert_array_equal(runner.run(x)["probs"], before)
    runner.set_weights(w)  # the edit takes effect only when handed over
    assert not np.array_equal(runner.run(x)["probs"], before)
