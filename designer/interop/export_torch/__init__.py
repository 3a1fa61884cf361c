"""A design as one readable PyTorch module (``export_pytorch``), for the CLI and File › Export.

The file imports only torch: an ``nn.Module`` subclass named after the design, one attribute per
layer named after the layer (``state_dict`` keys are the app's weight keys), ``forward`` written
out, helpers where ``torch.nn`` has no module (TensorFlow SAME with a stride, spatial pyramid
pooling), and, with weights, ``load_pretrained()`` reading ``<stem>.safetensors`` beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from designer.core import Design
from designer.core.files import atomic_write

from ..export_checks import ExportError, prepare_export
from .layers import TORCH_LAYERS
from .writer import NN_MODULE_STATE, module_source

__all__ = ["TORCH_LAYERS", "ExportError", "export_pytorch", "pytorch_source"]


def pytorch_source(design: Design, weights_file: str | None = None) -> str:
    """The generated module's text (``weights_file``: the name ``load_pretrained()`` reads beside it).

    Raises ``ExportError`` for a design with errors or a layer name a ``state_dict`` cannot carry.
    """
    report, _ = prepare_export(design)
    missing = sorted({layer.type for _, layer in design.walk()} - set(TORCH_LAYERS))
    if missing:
        raise ExportError(f"no PyTorch code for layer type {missing[0]}")
    clash = next((layer for _, layer in design.walk() if layer.name in NN_MODULE_STATE), None)
    if clash is not None:
        raise ExportError(f"layer '{clash.name}' ({clash.type}): every nn.Module keeps its own "
                          f"'{clash.name}' attribute, so a submodule cannot have that name; rename the layer")
    return module_source(design, report, weights_file)


def export_pytorch(design: Design, path: str | Path,
                   weights: Mapping[str, np.ndarray] | None = None) -> list[Path]:
    """Write ``design`` as PyTorch code to ``path`` (``net.py``); with ``weights`` (``{"<layer>.weight": …}``,
    e.g. ``Runner(design).weights``) also ``net.safetensors`` beside it and a ``load_pretrained()`` helper.

    Returns the paths written. Raises ``ExportError`` (design errors, bad names), ``WeightsError`` (weights
    that do not fit) or ``OSError`` (the path cannot be written); nothing is written when it raises before
    writing.
    """
    path = Path(path)
    _, checked = prepare_export(design, weights)
    weights_path = path.with_suffix(".safetensors") if checked is not None else None
    source = pytorch_source(design, weights_path.name if weights_path else None)
    atomic_write(path, lambda handle: handle.write(source.encode("utf-8")))
    if weights_path is None:
        return [path]
    from ..weight_files import write_weight_file

    write_weight_file(weights_path, checked)
    return [path, weights_path]
