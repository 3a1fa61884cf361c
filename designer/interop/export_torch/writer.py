"""The generated module's text: imports, helpers, the class (``__init__``, ``forward``), ``load_pretrained``.

``forward`` is written out layer by layer: a Branch becomes one variable per branch (``b1``, ``b2``;
nested: ``b2_1``) merged by ``torch.cat([...], dim=1)``, ``a + b`` or ``a * b``; an empty branch is
its input. An in-place activation whose input is also read elsewhere is written with ``inplace=False``:
the input of a Branch's columns (it would overwrite what the other branches read), or ``forward``'s own
argument (it would overwrite the caller's tensor), also through layers that return their input or a view.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field

from designer.core import Analysis, Design, Layer
from designer.core.spec import fmt_shape

from ..export_checks import class_name, input_text, totals_text
from .helpers import HELPERS, load_pretrained_source
from .layers import TORCH_LAYERS

# Attributes every nn.Module has (dir(nn.Module()) in torch 2.13): a layer with one of these names is
# registered through self._modules instead of becoming an attribute.
NN_MODULE_ATTRIBUTES = frozenset("""
T_destination _apply _backward_hooks _backward_pre_hooks _buffers _call_impl _compiled_call_impl
_forward_hooks _forward_hooks_always_called _forward_hooks_with_kwargs _forward_pre_hooks
_forward_pre_hooks_with_kwargs _get_backward_hooks _get_backward_pre_hooks _get_name _is_full_backward_hook
_load_from_state_dict _load_state_dict_post_hooks _load_state_dict_pre_hooks
_maybe_warn_non_full_backward_hook
_modules _named_members _non_persistent_buffers_set _parameters _register_load_state_dict_pre_hook
_register_state_dict_hook _replicate_for_data_parallel _save_to_state_dict _slow_forward _state_dict_hooks
_state_dict_pre_hooks _version _wrapped_call_impl add_module apply bfloat16 buffers call_super_init children
compile cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
named_parameters
parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty
train training type xpu zero_grad
""".split())


# Of those, the ones every module instance sets (nn.Module().__dict__): a submodule cannot take these names
# (``net.eval()`` assigns ``training``), so such a layer must be renamed.
NN_MODULE_STATE = frozenset("""
_backward_hooks _backward_pre_hooks _buffers _forward_hooks _forward_hooks_always_called
_forward_hooks_with_kwargs _forward_pre_hooks _forward_pre_hooks_with_kwargs _is_full_backward_hook
_load_state_dict_post_hooks _load_state_dict_pre_hooks _modules _non_persistent_buffers_set _parameters
_state_dict_hooks _state_dict_pre_hooks training
""".split())


WIDTH = 110 - 8  # characters of code in __init__'s body


def is_plain(name: str) -> bool:
    """Whether ``self.<name>`` can hold the layer: an identifier that no ``nn.Module`` attribute shadows."""
    import keyword

    return name.isidentifier() and not keyword.iskeyword(name) and name not in NN_MODULE_ATTRIBUTES \
        and not name.startswith("__")


def access(name: str) -> str:
    """``self.conv1``, or ``self._modules["conv 1"]`` for a name that is not a plain attribute."""
    return f"self.{name}" if is_plain(name) else f"self._modules[{json.dumps(name)}]"


def register(name: str) -> tuple[str, str, str]:
    """How ``__init__`` registers a layer under its own name: text before and after its constructor, and a
    comment (``self.conv1 = …``, ``self.add_module("conv 1", …)``, ``self._modules["forward"] = …``)."""
    if is_plain(name):
        return f"self.{name} = ", "", ""
    if name in NN_MODULE_ATTRIBUTES or (name.startswith("__") and name.endswith("__")):  # add_module refuses
        return f"self._modules[{json.dumps(name)}] = ", "", "nn.Module has an attribute of this name"
    return f"self.add_module({json.dumps(name)}, ", ")", ""


def fit(head: str, args: list[str], tail: str, comment: str = "", width: int = WIDTH) -> list[str]:
    """``head(arg, arg, …)tail  # comment`` in lines of at most ``width`` characters where possible: the
    comment moves above a line it would make too long; arguments wrap under the opening parenthesis."""
    one = f"{head}({', '.join(args)}){tail}"
    if len(one) + len(comment) + 4 <= width or not comment and len(one) <= width:
        return [one + (f"  # {comment}" if comment else "")]
    above = [f"# {comment}"] if comment else []
    if len(one) <= width:
        return above + [one]
    lines, current, indent = [], f"{head}(", " " * (len(head) + 1)
    for k, arg in enumerate(args):
        piece = arg + (", " if k < len(args) - 1 else f"){tail}")
        if len(current) + len(piece.rstrip()) > width and current.strip() != f"{head}(".strip():
            lines.append(current.rstrip())
            current = indent
        current += piece
    return above + lines + [current]


def merge_expression(merge: str, names: list[str]) -> str:
    """``torch.cat([a, b], dim=1)``, ``a + b`` or ``a * b``."""
    if merge == "concat":
        return f"torch.cat([{', '.join(names)}], dim=1)"
    return f" {'+' if merge == 'add' else '*'} ".join(names)


SHARED_BY_BRANCHES = "not in place: its input is shared with other branches"
CALLERS_INPUT = "not in place: it would overwrite the caller's input tensor"


@dataclass
class Forward:
    """``forward``'s lines and what writing them found out (layers to write with ``inplace=False``)."""

    lines: list[str] = field(default_factory=list)
    not_inplace: dict[str, str] = field(default_factory=dict)

    def sequence(self, layers: tuple[Layer, ...], x: str, target: str, shared: str) -> tuple[str, str]:
        """Write ``layers`` from variable ``x`` into ``target``; ``shared``: why ``x`` must not be overwritten
        (``""``: it may be). Returns the result's variable and why it must not be overwritten (it may still be
        ``x`` itself or a view of it)."""
        for layer in layers:
            if layer.type == "Branch":
                x, shared = self.branch(layer, x, target, shared)
                continue
            entry = TORCH_LAYERS[layer.type]
            if shared and layer.hp.get("inplace"):
                self.not_inplace[layer.name] = shared
            self.lines.append(f"{target} = {entry.call(layer, access(layer.name), x)}")
            x, shared = target, shared if entry.aliases else ""
        return x, shared

    def branch(self, layer: Layer, x: str, target: str, shared: str) -> tuple[str, str]:
        n = len(layer.branches)
        merge = layer.hp["merge"]
        self.lines.append(f"# {shown(layer.name)}: {n} branch{'es' if n > 1 else ''} merged by {merge}")
        results = [self.sequence(b, x, f"b{k}" if target == "x" else f"{target}_{k}",
                                 SHARED_BY_BRANCHES if n > 1 else shared)
                   for k, b in enumerate(layer.branches, start=1)]
        self.lines.append(f"{target} = {merge_expression(merge, [var for var, _ in results])}")
        fresh = merge == "concat" or n > 1
        return target, "" if fresh else results[0][1]


def init_lines(layers: tuple[Layer, ...], report: Analysis, not_inplace: dict[str, str]) -> list[str]:
    """``__init__``'s body after ``super().__init__()``: one registration per layer, Branches as comments."""
    lines: list[str] = []
    for layer in layers:
        if layer.type == "Branch":
            for k, branch in enumerate(layer.branches, start=1):
                lines.append(f"# {shown(layer.name)}, branch {k} of {len(layer.branches)}"
                             + (" (empty: the identity)" if not branch else ""))
                lines += init_lines(branch, report, not_inplace)
            lines.append("")
            continue
        hp = dict(layer.hp)
        entry = TORCH_LAYERS[layer.type]
        before, after, comment = register(layer.name)
        comment = entry.note(layer) or comment
        if layer.name in not_inplace:
            hp["inplace"], comment = False, not_inplace[layer.name]
        args = entry.arguments(layer, report.row(layer.name).input_shape, hp)
        lines += fit(before + entry.module, args, after, comment)
    return lines


def helpers_used(design: Design) -> list[str]:
    """Helper definitions the layers need, in ``HELPERS`` order (``tf_same_pad``: SAME with a stride)."""
    used: set[str] = set()
    for _, layer in design.walk():
        entry = TORCH_LAYERS[layer.type]
        if entry.helpers and entry.uses_helpers(layer):
            used.update(entry.helpers)
    return [h for h in HELPERS if h in used]


def shown(name: str) -> str:
    """A layer name for a comment: as it is, or quoted with escapes when it has line breaks or controls."""
    return name if name.isprintable() else json.dumps(name)


def _docstring(text: str, indent: str) -> str:
    """``text`` wrapped at 110 columns for a docstring; backslashes and triple quotes escaped."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    paragraphs = [textwrap.fill(p, 110, initial_indent=indent, subsequent_indent=indent) if p else ""
                  for p in text.split("\n")]
    return "\n".join(paragraphs)


def _module_docstring(design: Design, name: str, out_shape: tuple[int, ...]) -> str:
    c, h, w = design.input.shape
    counter = any(layer.hp.get("track_running_stats", False) for _, layer in design.walk())  # torch's _BatchNorm
    header = (f"{design.name} as a PyTorch module, generated by CNN Designer."
              + (f"\n\n{design.description}" if design.description else "")
              + "\n\nThe state_dict keys are the design's weight keys (\"<layer>.weight\", ...)"
              + (" plus BatchNorm's num_batches_tracked counters, which load_state_dict fills in when absent"
                 if counter else "")
              + ", so weights saved by CNN Designer load with strict=True:")
    example = (f"\n    net = {name}().eval()\n"
               "    state = np.load(\"weights.npz\")  # import numpy as np\n"
               "    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})\n"
               f"    y = net(torch.randn(1, {c}, {h}, {w}))  # [1, {', '.join(map(str, out_shape))}]\n")
    return '"""' + _docstring(header, "").lstrip() + "\n" + example + '"""'


def _imports(helpers: list[str], name: str, weights_file: str | None) -> list[str]:
    lines = ["from __future__ import annotations", ""]
    lines += ["from pathlib import Path", ""] if weights_file else []
    lines += ["import torch"]
    lines += ["import torch.nn.functional as F"] if any(HELPERS[h][1] for h in helpers) else []
    exported = [name] + (["load_pretrained"] if weights_file else [])
    return lines + ["from torch import nn", "", f"__all__ = [{', '.join(json.dumps(e) for e in exported)}]"]


def _class_source(design: Design, report: Analysis, name: str, out_shape: tuple[int, ...]) -> list[str]:
    forward = Forward()
    forward.sequence(design.layers, "x", "x", CALLERS_INPUT)
    c, h, w = design.input.shape
    doc = (f"{design.name}: input [N, {c}, {h}, {w}] → output [N, {', '.join(map(str, out_shape))}].\n\n"
           f"{totals_text(report)}; the {fmt_shape(design.input.shape)} input size is the one analysed. "
           f"{input_text(design)} Call .eval() for inference (Dropout off, BatchNorm on its running "
           "statistics).")
    lines = [f"class {name}(nn.Module):", '    """' + _docstring(doc, "    ").lstrip() + '\n    """', "",
             "    def __init__(self) -> None:", "        super().__init__()"]
    init = init_lines(design.layers, report, forward.not_inplace)
    init = [line for i, line in enumerate(init) if line or (0 < i < len(init) - 1 and init[i + 1])]
    lines += [("        " + line) if line else "" for line in init]
    lines += ["", "    def forward(self, x: torch.Tensor) -> torch.Tensor:"]
    return lines + ["        " + line for line in forward.lines] + ["        return x"]


def module_source(design: Design, report: Analysis, weights_file: str | None = None) -> str:
    """The whole generated file (see the package docstring); ``weights_file``: the ``.safetensors`` file
    beside it that ``load_pretrained()`` reads (no ``load_pretrained`` when ``None``)."""
    name = class_name(design.name)
    out_shape = report.rows[-1].output_shape if report.rows else design.input.shape
    helpers = helpers_used(design)
    parts = [_module_docstring(design, name, out_shape), "", *_imports(helpers, name, weights_file), "", ""]
    for helper in helpers:
        parts += [HELPERS[helper][0], ""]
    parts += _class_source(design, report, name, out_shape)
    if weights_file:
        parts += ["", "", load_pretrained_source(name, weights_file)]
    return "\n".join(parts).rstrip("\n") + "\n"
