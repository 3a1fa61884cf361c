"""Designs and runners shared by the export tests.

* ``CASES``: hand-made designs for what the exports must get right (TensorFlow SAME with a stride, spatial
  pyramid pooling, transposed convolutions, depthwise separable blocks, nested branches with
  broadcasting add/mul, and a mix of pooling/normalisation/resampling corner cases);
* ``every_type_designs()``: one small design per registered layer type (new types are picked up);
* ``example_variant(path)``: an example at the smallest input size it accepts, its hidden Linear layers
  thinned to 32 features when it has more than 5 M parameters (VGG-16, AlexNet: the export of the
  full-size heads is the same code; only the test's memory and time shrink);
* ``app_output``, ``onnx_reference``, ``onnxruntime_output``, ``torch_output``: the same input through the app,
  the ONNX model and the generated PyTorch module (batch 1).
"""

from __future__ import annotations

import copy
import types
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from designer.backend.runner import Runner
from designer.core import LAYER_SPECS, Design, analyze
from designer.interop.export_checks import class_name

ROOT = Path(__file__).resolve().parents[2]


def importable(module: str) -> bool:
    """Whether ``module`` imports (optional dependencies: torch, onnxruntime)."""
    try:
        __import__(module)
    except ImportError:
        return False
    return True


HAS_TORCH, HAS_ORT = importable("torch"), importable("onnxruntime")
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))
RTOL = 1e-4


def _design(name: str, channels: int, height: int, width: int, layers: list) -> Design:
    return Design.from_dict({"format": "cnn-designer/v1", "name": name,
                             "input": {"channels": channels, "height": height, "width": width}, "layers": layers})


def _conv(name: str, out: int, k, **kw) -> dict:
    return {"type": "Conv2d", "name": name, "out_channels": out, "kernel_size": k, **kw}


def _se_block(prefix: str, channels: int) -> dict:
    """Squeeze-excitation: the map times a per-channel gate (64×H×W · 64×1×1 broadcasting)."""
    return {"type": "Branch", "name": f"{prefix}_se", "merge": "mul", "branches": [
        [],
        [{"type": "AdaptiveAvgPool2d", "name": f"{prefix}_squeeze", "output_size": 1},
         _conv(f"{prefix}_reduce", 2, 1), {"type": "ReLU", "name": f"{prefix}_se_relu", "inplace": True},
         _conv(f"{prefix}_expand", channels, 1), {"type": "Hardsigmoid", "name": f"{prefix}_gate"}],
    ]}


CASES: dict[str, Design] = {
    "same_stride": _design("SAME with stride", 3, 11, 10, [
        _conv("s2_k3", 6, 3, stride=2, padding="same"), {"type": "ReLU", "name": "r1"},
        _conv("s2_k4", 6, [4, 2], stride=[2, 3], padding="same", bias=False),
        _conv("s1_d2", 4, 3, padding="same", dilation=2), _conv("s3_d2", 4, 2, stride=3, padding="same", dilation=2),
    ]),
    "spp": _design("SPP net", 3, 13, 11, [
        _conv("c1", 8, 3, padding=1), {"type": "ReLU", "name": "r1"},
        {"type": "Branch", "name": "pyramids", "merge": "concat", "branches": [
            [{"type": "SpatialPyramidPool2d", "name": "spp_max"}],
            [{"type": "SpatialPyramidPool2d", "name": "spp_avg", "levels": [3, 2], "mode": "avg"}]]},
        {"type": "Linear", "name": "fc", "out_features": 5},
    ]),
    "transposed": _design("Transposed convs", 4, 5, 6, [
        {"type": "ConvTranspose2d", "name": "up1", "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1,
         "output_padding": 1},
        {"type": "ConvTranspose2d", "name": "up2", "out_channels": 4, "kernel_size": [2, 3], "stride": [1, 2],
         "groups": 2, "dilation": 2, "bias": False},
        {"type": "ConvTranspose2d", "name": "up3", "out_channels": 3, "kernel_size": 4, "stride": 3, "padding": 2,
         "output_padding": 2},
    ]),
    "depthwise": _design("Depthwise separable", 8, 12, 12, [
        _conv("dw1", 8, 3, stride=2, padding=1, groups=8, bias=False), {"type": "BatchNorm2d", "name": "bn1"},
        {"type": "ReLU6", "name": "r1", "inplace": True},
        _conv("pw1", 16, 1, bias=False), {"type": "BatchNorm2d", "name": "bn2"}, {"type": "ReLU6", "name": "r2"},
        _conv("dw2", 32, 3, padding="same", groups=16), {"type": "Hardswish", "name": "hs"},
    ]),
    "nested_branches": _design("Nested branches", 4, 9, 9, [
        _conv("stem", 8, 3, padding=1),
        {"type": "Branch", "name": "outer", "merge": "add", "branches": [
            [{"type": "ReLU", "name": "first_in_branch", "inplace": True},
             {"type": "Branch", "name": "inner", "merge": "concat", "branches": [
                 [_conv("i1", 4, 1)],
                 [{"type": "ELU", "name": "elu", "alpha": 0.5, "inplace": True}, _conv("i2", 4, 3, padding=1)]]}],
            [],
            [{"type": "Identity", "name": "id"}, {"type": "Dropout", "name": "nodrop", "p": 0.1},
             {"type": "SiLU", "name": "silu", "inplace": True}],
        ]},
        _se_block("blk", 8),
        {"type": "Branch", "name": "bcast", "merge": "add", "branches": [  # 8×1×1 + 1×9×9 → 8×9×9
            [{"type": "AdaptiveAvgPool2d", "name": "gap", "output_size": 1}], [_conv("to1", 1, 1)]]},
        {"type": "Branch", "name": "single", "merge": "add", "branches": [[{"type": "Tanh", "name": "tanh"}]]},
    ]),
    "mix": _design("Everything mixed", 6, 15, 14, [
        {"type": "ZeroPad2d", "name": "pad", "padding": [1, 0, 2, 1]},
        {"type": "MaxPool2d", "name": "mp_ceil", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"type": "AvgPool2d", "name": "ap_ceil", "kernel_size": 3, "stride": 2, "ceil_mode": True,
         "count_include_pad": False},
        {"type": "LocalResponseNorm", "name": "lrn_even", "size": 4, "alpha": 0.01, "beta": 0.75, "k": 2.0},
        {"type": "LocalResponseNorm", "name": "lrn_odd", "size": 3, "alpha": 0.02},
        {"type": "Upsample", "name": "up_bilinear", "scale_factor": 2, "mode": "bilinear"},
        {"type": "AvgPool2d", "name": "ap_pad", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"type": "Upsample", "name": "up_corners", "scale_factor": [3, 2], "mode": "bilinear", "align_corners": True},
        {"type": "Upsample", "name": "up_nearest", "scale_factor": 2},
        {"type": "BatchNorm2d", "name": "bn_batch_stats", "track_running_stats": False},
        {"type": "BatchNorm2d", "name": "bn_plain", "affine": False},
        {"type": "GroupNorm", "name": "gn", "num_groups": 3, "eps": 1e-3},
        {"type": "PReLU", "name": "prelu", "num_parameters": 6},
        {"type": "MaxPool2d", "name": "mp_dil", "kernel_size": 2, "stride": 1, "dilation": 2, "ceil_mode": True},
        {"type": "AdaptiveMaxPool2d", "name": "amp", "output_size": [5, 4]},
        {"type": "GELU", "name": "gelu"}, {"type": "GELU", "name": "gelu_tanh", "approximate": "tanh"},
        {"type": "LeakyReLU", "name": "leaky", "negative_slope": 0.2},
        {"type": "AdaptiveAvgPool2d", "name": "aap", "output_size": [3, 2]},
        {"type": "Softmax", "name": "softmax"}, {"type": "Flatten", "name": "flatten"},
        {"type": "Dropout", "name": "drop", "p": 0.3}, {"type": "Linear", "name": "fc", "out_features": 7, "bias": False},
        {"type": "Sigmoid", "name": "sigmoid"},
    ]),
    "odd_names": _design("class", 3, 6, 6, [  # names PyTorch cannot take as attributes, escapes in strings
        _conv("conv 1", 4, 3, padding=1), {"type": "ReLU", "name": "forward"}, _conv("1x1", 4, 1),
        {"type": "BatchNorm2d", "name": "eval"}, {"type": "ReLU", "name": "input"},
        {"type": "Branch", "name": 'br"\\', "merge": "add", "branches": [
            [_conv("def", 4, 1), _conv("__init__", 4, 1)], [{"type": "Identity", "name": 'q"uote\nx'}]]},
        {"type": "Sigmoid", "name": "output"},
    ]),
}


def every_type_designs() -> dict[str, Design]:
    """One small design per layer type (Branch: a residual add) with the type's palette defaults; a type that
    needs a vector gets a Flatten first. A type for which neither works is returned as an invalid design, so
    the test using it fails and names it."""
    out = {}
    for type_name, spec in LAYER_SPECS.items():
        layer = {"type": type_name, "name": "layer", **copy.deepcopy(getattr(spec, "default_params", {}))}
        if type_name == "Branch":
            layer["branches"] = [[_conv("c", 32, 1)], []]
        candidates = [[layer], [{"type": "Flatten", "name": "flat"}, layer]]
        designs = [_design(type_name, 32, 7, 6, layers) for layers in candidates]
        out[type_name] = next((d for d in designs if analyze(d).valid), designs[0])
    return out


def _smallest_valid(design: Design) -> Design:
    for side in (8, 16, 32, 48, 64, 96, 128, 160, 192, 224):
        if side > max(design.input.height, design.input.width):
            break
        small = design.with_input(height=side, width=side)
        if analyze(small).valid:
            return small
    return design


def example_variant(path: Path) -> Design:
    """The example at its smallest valid square input, hidden Linear layers thinned when it is large."""
    design = _smallest_valid(Design.load(path))
    if analyze(design).totals["params"] > 5_000_000:
        linears = [p for p, layer in design.walk() if layer.type == "Linear"]
        for path_ in linears[:-1]:
            design = design.set_params(path_, out_features=32)
        for path_ in linears[1:]:
            design = design.set_params(path_, in_features=None)
    return design


def random_weights(design: Design, seed: int = 0) -> dict[str, np.ndarray]:
    """The app's weights of ``seed`` (He-normal kernels) with every vector perturbed, so biases, BatchNorm
    statistics, γ, β and PReLU slopes are not their trivial starting values (running variances stay positive)."""
    rng = np.random.default_rng(seed)
    weights = dict(Runner(design, seed=seed).weights)
    for key, value in weights.items():
        if value.ndim == 1:
            noisy = value + rng.normal(0, 0.2, value.shape).astype(np.float32)
            weights[key] = np.abs(noisy) + 0.5 if key.endswith("running_var") else noisy
    return weights


def sample(design: Design, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(design.input.shape).astype(np.float32)


def app_output(design: Design, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The app's output ``[C, H, W]`` or ``[F]`` (the last layer's)."""
    outputs = Runner(design, weights).run(x)
    return outputs[list(outputs)[-1]]


def assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """``max |got − want| ≤ 1e-4 · max |want|`` (relative to the output's scale), shapes equal."""
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs the app's {want.shape}"
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite], want[~finite]), f"{what}: non-finite values differ"
    scale = max(float(np.abs(want[finite]).max(initial=0.0)), 1e-6)
    err = float(np.abs(got[finite].astype(np.float64) - want[finite]).max(initial=0.0)) / scale
    assert err <= RTOL, f"{what}: relative error {err:.2e} > {RTOL:g}"


def onnx_reference(model, x: np.ndarray) -> np.ndarray:
    """The model's output for ``x`` (one image) by ``onnx.reference`` as installed (needs only the onnx
    package; no operator replaced: the export avoids its faulty ``LRN`` and grouped ``ConvTranspose``)."""
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model).run(None, {"input": x[None]})[0][0]


def onnxruntime_output(model, batch: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": batch})[0]


def load_generated(source: str, design: Design):
    """The generated module's class, from its source text."""
    module = types.ModuleType("generated_net")
    exec(compile(source, f"<{class_name(design.name)}>", "exec"), module.__dict__)  # noqa: S102 (our own output)
    return getattr(module, class_name(design.name))


def torch_output(source: str, design: Design, weights: dict[str, np.ndarray], batch: np.ndarray) -> np.ndarray:
    """The generated module's output for ``batch`` ``[N, C, H, W]``, weights loaded with ``strict=True``."""
    import torch

    net = load_generated(source, design)()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    with torch.no_grad():
        return net.eval()(torch.from_numpy(batch)).numpy()


# --- random designs with every kind of layer and nested branches (add/mul broadcasting, concat) ---------------
EXTRA_LAYERS = st.sampled_from([
    {"type": "SiLU", "inplace": True}, {"type": "Hardswish"}, {"type": "Hardsigmoid"}, {"type": "GELU"},
    {"type": "GELU", "approximate": "tanh"}, {"type": "Identity"}, {"type": "ReLU", "inplace": True},
    {"type": "ELU", "inplace": True, "alpha": 0.3}, {"type": "LeakyReLU", "negative_slope": 0.1, "inplace": True},
    {"type": "ReLU6", "inplace": True}, {"type": "PReLU"}, {"type": "Dropout"}, {"type": "Tanh"},
    {"type": "GroupNorm", "num_groups": 2}, {"type": "ZeroPad2d", "padding": [1, 0, 0, 2]},
    {"type": "BatchNorm2d", "track_running_stats": False}, {"type": "BatchNorm2d", "affine": False},
    {"type": "AdaptiveMaxPool2d", "output_size": [3, 2]}, {"type": "AdaptiveAvgPool2d", "output_size": 1},
    {"type": "Upsample", "scale_factor": 1.5, "mode": "bilinear"},
    {"type": "Upsample", "scale_factor": [2, 3], "mode": "bilinear", "align_corners": True},
    {"type": "LocalResponseNorm", "size": 2}, {"type": "SpatialPyramidPool2d", "levels": [3, 1], "mode": "avg"},
    {"type": "MaxPool2d", "kernel_size": 2, "dilation": 2, "ceil_mode": True, "stride": 1},
]).map(copy.deepcopy)  # a fresh dict per draw: no test can change another's examples


def mixed_designs(layer: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """Design dicts of up to 5 layers drawn from ``layer`` (the property tests' strategy) and
    ``EXTRA_LAYERS``, with Branches (concat/add/mul) nested two deep."""
    any_layer = st.one_of(layer, EXTRA_LAYERS, EXTRA_LAYERS)

    def sequences(depth: int) -> st.SearchStrategy[list]:
        inner = any_layer if depth == 0 else st.one_of(any_layer, any_layer, branches(depth - 1))
        return st.lists(inner, max_size=3)

    def branches(depth: int) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries({"type": st.just("Branch"),
                                      "merge": st.sampled_from(["concat", "add", "mul"]),
                                      "branches": st.lists(sequences(depth), min_size=1, max_size=3)})

    return st.fixed_dictionaries({
        "format": st.just("cnn-designer/v1"), "name": st.just("mixed"),
        "input": st.fixed_dictionaries({"channels": st.sampled_from([2, 4]), "height": st.integers(3, 14),
                                        "width": st.integers(3, 14)}),
        "layers": st.lists(st.one_of(any_layer, branches(1)), min_size=1, max_size=5)})
