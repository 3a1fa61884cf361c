"""Qt-free model of a CNN design: format, analysis, validation, advice and formatting.

Public API::

    from designer.core import Design, analyze
    design = Design.load("resources/examples/vgg16.json")
    report = analyze(design, batch_size=8)
    report.totals["params"], report.rows[0].output_shape, report.to_dict()
"""

from __future__ import annotations

from . import layers_conv, layers_misc, layers_pool
from .advice import Issue
from .analysis import MACS_NOTE, Analysis, LayerRow, analyze
from .design import Design, InputSpec, Layer, LayerPath
from .errors import DesignFormatError, LayerError
from .layers_conv import resolve_conv_padding
from .spec import FAMILIES, LAYER_SPECS, LayerSpec, get_spec

__all__ = [
    "FAMILIES",
    "LAYER_SPECS",
    "MACS_NOTE",
    "Analysis",
    "Design",
    "DesignFormatError",
    "InputSpec",
    "Issue",
    "Layer",
    "LayerError",
    "LayerPath",
    "LayerRow",
    "LayerSpec",
    "analyze",
    "get_spec",
    "resolve_conv_padding",
]
