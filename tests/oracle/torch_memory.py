"""What PyTorch really allocates for one eager training step (or one no-grad forward) on CPU.

Measured from the profiler's allocation events (``profile_memory=True``): every CPU allocation and
free in time order. The reported peak is

    peak = parameters + buffers + optimizer state + input + max over the step of Σ(allocated − freed)

with the model in train mode (inference: eval mode under ``torch.no_grad()``), float32, after one
warm-up step so the optimizer state already exists, and the gradients cleared with
``zero_grad(set_to_none=True)`` (PyTorch's default) before the measured step. The loss is
``output.mean()``. Optimizers: ``sgd`` = ``SGD(lr)``, ``momentum`` = ``SGD(lr, momentum=0.9)``,
``adam`` = ``Adam(lr)`` (PyTorch's defaults otherwise: the per-tensor loop on CPU).

``saved_tensors(module, x)`` lists what autograd keeps for one module's backward
(``torch.autograd.graph.saved_tensors_hooks``), each as ``(role, numel, bytes per element)`` with
role ``input`` / ``output`` / ``other`` (recognised by storage identity).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.profiler import ProfilerActivity, profile

from tests.oracle.torch_model import assign_names, build_torch_model

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass
class Measurement:
    """Bytes of one measured step; ``peak`` is the total the issue compares with."""

    params: int
    state: int
    input: int
    above: int  # peak of live bytes allocated during the step

    @property
    def peak(self) -> int:
        return self.params + self.state + self.input + self.above


def _walk(layers: list):
    for layer in layers:
        yield layer
        for branch in layer.get("branches", []) if layer.get("type") == "Branch" else []:
            yield from _walk(branch)


def build_model(design: dict) -> torch.nn.Module:
    """The oracle's model with ``inplace`` switched on where the design asks for it (the oracle itself
    builds out-of-place activations so its hooks can read every input)."""
    model = build_torch_model(design)
    for layer in _walk(assign_names(design)["layers"]):
        if layer.get("inplace"):
            model.get_submodule(layer["name"]).inplace = True
    return model


def _optimizer(name: str, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=1e-3)
    if name == "momentum":
        return torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")


def _nbytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def allocation_events(prof) -> list[tuple[int, int]]:
    """``(time ns, bytes)`` of every CPU allocation (+) and free (−) in time order."""
    events = [(e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
              if e.name() == "[memory]"]
    return sorted(events, key=lambda ev: ev[0])


def peak_above(events: list[tuple[int, int]]) -> int:
    """max over prefixes of Σ bytes (0 if nothing is allocated)."""
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return peak


def _input(design: dict, batch: int) -> torch.Tensor:
    inp = design["input"]
    return torch.randn(batch, int(inp["channels"]), int(inp["height"]), int(inp["width"]))


def _profiled(fn) -> list[tuple[int, int]]:
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return allocation_events(prof)


def measure_training(design: dict, batch: int, optimizer: str = "sgd", model=None) -> Measurement:
    """Peak of one training step (see the module docstring)."""
    torch.manual_seed(0)
    model = (model or build_model(design)).train()
    params = list(model.parameters())
    opt = _optimizer(optimizer, params or [torch.zeros(1, requires_grad=True)])
    x = _input(design, batch)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        model(x).mean().backward()
        opt.step()

    step()
    opt.zero_grad(set_to_none=True)
    params = _nbytes(model.parameters()) + _nbytes(model.buffers())
    state = _nbytes(t for s in opt.state.values() for t in s.values() if torch.is_tensor(t) and t.dim() > 0)
    above = peak_above(_profiled(step))
    return Measurement(params, state, x.numel() * 4, above)


def measure_inference(design: dict, batch: int, model=None) -> Measurement:
    """Peak of one forward pass in eval mode under ``torch.no_grad()``."""
    torch.manual_seed(0)
    model = (model or build_model(design)).eval()
    x = _input(design, batch)

    def forward() -> None:
        with torch.no_grad():
            model(x)

    forward()
    params = _nbytes(model.parameters()) + _nbytes(model.buffers())
    return Measurement(params, 0, x.numel() * 4, peak_above(_profiled(forward)))


def saved_tensors(module: torch.nn.Module, x: torch.Tensor) -> list[tuple[str, int, int]]:
    """What autograd saves for ``module(x)`` in train mode: ``(role, numel, element size)``, parameters
    left out, each storage once."""
    module.train()
    x = x.detach().requires_grad_(True)
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    packed: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        packed.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = module(x.clone() if _is_inplace(module) else x)
    roles, seen = [], set()
    for t in packed:
        ptr = t.untyped_storage().data_ptr()
        if ptr in params or ptr in seen or t.numel() == 0:
            continue
        seen.add(ptr)
        role = "output" if ptr == y.untyped_storage().data_ptr() else (
            "input" if ptr == x.untyped_storage().data_ptr() else "other")
        roles.append((role, t.numel(), t.element_size()))
    return roles


def _is_inplace(module: torch.nn.Module) -> bool:
    return bool(getattr(module, "inplace", False))


def measure_case(design: dict, batch: int, optimizer: str | None) -> Measurement:
    """:func:`measure_training` with ``optimizer``, or :func:`measure_inference` when it is ``None``."""
    return measure_training(design, batch, optimizer) if optimizer else measure_inference(design, batch)


def saved_by_last_layer(layers: list[dict], input_shape: tuple[int, int, int], batch: int) -> list[list]:
    """What autograd saves for the last of ``layers`` (the others only prepare its input), as sorted
    ``[role, numel, element size]`` lists."""
    design = {"format": "cnn-designer/v1", "name": "saved",
              "input": dict(zip(("channels", "height", "width"), input_shape)), "layers": layers}
    model = build_model(design)
    names = model.layer_order
    torch.manual_seed(0)
    x = torch.randn(batch, *input_shape)
    with torch.no_grad():
        for name in names[:-1]:
            x = model.get_submodule(name)(x)
    return sorted([list(t) for t in saved_tensors(model.get_submodule(names[-1]), x)])


def saved_bytes(design: dict, batch: int) -> int:
    """Bytes of the distinct storages autograd saves over one forward pass in train mode (parameters,
    buffers and the input left out): what stays alive for the backward."""
    torch.manual_seed(0)
    model = build_model(design).train()
    x = _input(design, batch)
    skip = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers(), x]}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    del out
    return sum(storages.values())
