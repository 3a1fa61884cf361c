"""Issue 9, items 1, 7 and 14: LRN cost independent of ``size`` and cancellable inside the kernel; weights
read header first (nothing unneeded inflated); NaN/inf, out-of-float32 and negative variances refused."""

from __future__ import annotations

import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from designer.backend import Cancelled, Runner, WeightsError, init_weights, load_weights, save_weights
from designer.backend.cancel import cancellable, check_cancel
from designer.backend.kernels import local_response_norm
from designer.core import Design

from .designs import as_dict, conv, layer


def lrn_reference(x: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """PyTorch's formula, window by window in float64 (the zero-padded average has divisor ``size``)."""
    c = x.shape[0]
    sq = x.astype(np.float64) ** 2
    div = np.empty_like(sq)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        div[ch] = k + alpha / size * sq[lo:hi].sum(axis=0)
    return (x / div ** beta).astype(np.float32)


@pytest.mark.parametrize("c, size", [(6, 1), (6, 5), (16, 4), (16, 17), (16, 33), (40, 200), (5, 10**12)])
def test_lrn_matches_the_formula_for_any_size(c, size):
    x = np.random.default_rng(size % 97).standard_normal((c, 5, 7)).astype(np.float32) * 3
    np.testing.assert_allclose(local_response_norm(x, size, 1e-2, 0.75, 0.5),
                               lrn_reference(x, min(size, 10**12), 1e-2, 0.75, 0.5), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("size", [3, 16, 17, 101])
def test_lrn_matches_torch(size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 48, 6, 6)).astype(np.float32)
    expected = torch.nn.functional.local_response_norm(torch.from_numpy(x), size, 1e-3, 0.75, 2.0).numpy()
    np.testing.assert_allclose(local_response_norm(x, size, 1e-3, 0.75, 2.0), expected, rtol=1e-5, atol=1e-6)


def test_lrn_cost_does_not_depend_on_size():
    x = np.random.default_rng(0).standard_normal((32, 32, 32)).astype(np.float32)
    local_response_norm(x, 5)
    t0 = time.perf_counter()
    local_response_norm(x, 10**15)  # was one Python iteration per window offset: never ends
    assert time.perf_counter() - t0 < 2.0


def _lrn_design(size: int, hw: int = 64) -> Design:
    return Design.from_dict(as_dict([layer("LocalResponseNorm", "lrn", size=size)], c=8, h=hw, w=hw))


def test_cancel_reaches_inside_a_long_kernel(monkeypatch):
    """One LRN layer: the runner asks before the layer, the kernel asks between its row chunks."""
    from designer.backend.kernels import norm

    monkeypatch.setattr(norm, "LRN_CHUNK_ELEMENTS", 8 * 64)  # one row per chunk
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) >= 3  # let the runner start the layer, then stop at the kernel's second chunk

    runner = Runner(_lrn_design(10**9))
    with pytest.raises(Cancelled, match="inside LocalResponseNorm"):
        runner.run(np.ones((8, 64, 64), np.float32), cancel=cancel)
    assert len(asked) == 3
    assert runner.run(np.ones((8, 64, 64), np.float32))["lrn"].shape == (8, 64, 64)  # usable afterwards


def test_check_cancel_is_a_no_op_outside_a_run_and_per_thread():
    check_cancel()
    with cancellable(lambda: True):
        with pytest.raises(Cancelled):
            check_cancel()
        with cancellable(None):
            check_cancel()
    check_cancel()


# --- item 7: weights header first ----------------------------------------------------------------
def tiny_design() -> Design:
    return Design.from_dict(as_dict([conv("c", 4, 3), layer("BatchNorm2d", "bn")], c=3, h=8, w=8))


def _npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _write_npz(path, members: dict[str, bytes | np.ndarray], zeros: dict[str, int] | None = None) -> None:
    """An archive with real arrays, raw member bytes, and members of ``n`` zero bytes streamed compressed."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in members.items():
            with archive.open(f"{key}.npy", "w") as member:
                if isinstance(value, np.ndarray):
                    np.lib.format.write_array(member, value)
                else:
                    member.write(value)
        for key, n in (zeros or {}).items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                member.write(_npy_header((n // 8,), "<f8"))
                chunk = bytes(1 << 20)
                for _ in range(n >> 20):
                    member.write(chunk)


def test_an_unused_huge_member_is_never_inflated(tmp_path):
    weights = init_weights(tiny_design())
    path = tmp_path / "w.npz"
    _write_npz(path, dict(weights), zeros={"optimizer_state": 64 << 20})
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        loaded = load_weights(path, tiny_design())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert set(loaded) == set(weights) and peak < 16 << 20, peak  # was 64 MiB (all members inflated)


def test_a_header_claiming_terabytes_cannot_be_read(tmp_path):
    weights = init_weights(tiny_design())
    path = tmp_path / "liar.npz"
    _write_npz(path, {**weights, "c.weight": _npy_header((2**40,)) + bytes(64)})
    with pytest.raises(WeightsError) as info:
        load_weights(path, tiny_design())
    assert str(info.value).startswith(f"{path}: cannot read weights: member 'c.weight' claims 4")
    assert str(info.value).endswith("([1099511627776] float32) but holds only 64 B")


def test_a_header_claiming_terabytes_in_an_unused_member_is_ignored(tmp_path):
    path = tmp_path / "extra.npz"
    _write_npz(path, {**init_weights(tiny_design()), "num_batches_tracked": _npy_header((2**40,))})
    assert set(load_weights(path, tiny_design())) == {"c.weight", "c.bias", "bn.weight", "bn.bias",
                                                      "bn.running_mean", "bn.running_var"}


def test_shape_and_key_errors_come_from_headers(tmp_path):
    weights = init_weights(tiny_design())
    path = tmp_path / "w.npz"
    _write_npz(path, {**weights, "c.weight": np.zeros((4, 3, 5, 5), np.float32)})
    with pytest.raises(WeightsError, match=r"layer 'c': weight has shape \[4, 3, 5, 5\] but the design needs "):
        load_weights(path, tiny_design())
    del weights["bn.running_var"]
    _write_npz(path, weights)
    with pytest.raises(WeightsError, match=r"layer 'bn': the weights lack 'bn.running_var'"):
        load_weights(path, tiny_design())


# --- item 14: values --------------------------------------------------------------------------
@pytest.mark.parametrize("key, value, message", [
    ("c.weight", np.nan, r"layer 'c': weight holds NaN or infinite values \(first: nan at \[0, 0, 0, 0\]\)"),
    ("c.bias", -np.inf, r"layer 'c': bias holds NaN or infinite values \(first: -inf at \[0\]\)"),
    ("bn.running_var", -0.5, r"layer 'bn': running_var holds values below 0 \(a variance cannot be negative\)"),
    ("bn.weight", 1e300, r"layer 'bn': weight holds values beyond float32's range"),
])
def test_bad_values_are_refused_naming_the_tensor(tmp_path, key, value, message):
    weights = {k: v.astype(np.float64) for k, v in init_weights(tiny_design()).items()}
    weights[key].flat[0] = value
    path = tmp_path / "bad.npz"
    save_weights(path, weights)
    with pytest.raises(WeightsError, match=f"^{path}: {message}"):
        load_weights(path, tiny_design())
    with pytest.raises(WeightsError, match=message):
        Runner(tiny_design(), weights=weights)


def test_float64_within_float32_range_still_loads(tmp_path):
    weights = {k: v.astype(np.float64) for k, v in init_weights(tiny_design()).items()}
    weights["c.weight"].flat[0] = 3.0e38
    save_weights(tmp_path / "ok.npz", weights)
    assert load_weights(tmp_path / "ok.npz", tiny_design())["c.weight"].dtype == np.float32


def test_save_weights_writes_exactly_the_path_given(tmp_path):
    save_weights(tmp_path / "weights", init_weights(tiny_design()))
    assert [p.name for p in tmp_path.iterdir()] == ["weights"]
