"""What both exports (PyTorch code and ONNX) check and share before writing anything.

``prepare_export(design, weights)`` refuses a design with errors (``ExportError`` naming every
error on its layer) or with a layer name no ``state_dict`` key can carry, and checks the weights
against the design; it returns the analysis (shapes, totals) the writers use.
``class_name(design.name)`` is the design's name as a Python class name (``"VGG-16"`` → ``VGG16``).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping

import numpy as np

from designer.core import Analysis, Design, analyze
from designer.core.formatting import human_count

Weights = dict[str, np.ndarray]


class ExportError(ValueError):
    """A design that cannot be exported; one line naming the layer(s) and the reason."""


def design_errors(report: Analysis) -> list[str]:
    """``"layer 'c1': message"`` for every error of the analysis, in order."""
    return [f"layer '{i.layer}': {i.message}" if i.layer else i.message
            for i in report.issues if i.level == "error"]


def check_names(design: Design) -> None:
    """Every layer name must be usable as a ``state_dict`` prefix: not empty, no ``.``."""
    for _, layer in design.walk():
        if not layer.name or "." in layer.name:
            raise ExportError(f"layer {layer.name!r} ({layer.type}): a PyTorch module name cannot be empty "
                              "or contain '.'; rename the layer")


def prepare_export(design: Design, weights: Mapping[str, np.ndarray] | None = None
                   ) -> tuple[Analysis, Weights | None]:
    """The design's analysis and its checked float32 weights (``None`` stays ``None``).

    Raises ``ExportError`` for a design with errors (all of them named) or a bad layer name, and the
    backend's ``WeightsError`` (one line naming the layer and both shapes) for weights that do not fit.
    """
    report = analyze(design)
    errors = design_errors(report)
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        many = len(errors) > 1
        raise ExportError(f"the design has {len(errors)} error{'s' if many else ''}, fix "
                          f"{'them' if many else 'it'} before exporting: {'; '.join(errors[:3])}{more}")
    check_names(design)
    if weights is None:
        return report, None
    from designer.backend.weights import check_weights, expected_shapes

    return report, check_weights(weights, expected_shapes(design), copy=False)  # only read, never changed


RESERVED_CLASS_NAMES = frozenset({"F", "nn", "torch", "Path", "SpatialPyramidPool2d", "tf_same_pad",
                                  "load_pretrained", "annotations"})


def class_name(name: str) -> str:
    """A class name from the design's name: its ASCII words capitalised and joined.

    ``"VGG-16"`` → ``VGG16``, ``"GoogLeNet inception 3a"`` → ``GoogLeNetInception3a``; ``Net`` is put in
    front of a leading digit and used for a name without letters or digits.
    """
    words = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(w[0].upper() + w[1:] for w in words) or "Net"
    if text[0].isdigit():
        text = "Net" + text
    if keyword.iskeyword(text) or text in RESERVED_CLASS_NAMES:
        text += "Net"
    return text


def input_text(design: Design) -> str:
    """How the network's input is prepared: pixels in [0, 1], then the design's per-channel normalisation."""
    spec = design.input
    if spec.mean is None and spec.std is None:
        return "The input is the image with values in [0, 1] (no normalisation in the design)."
    return (f"The input is the image with values in [0, 1], normalised (x - mean) / std per channel with "
            f"mean {list(spec.mean or [0.0])} and std {list(spec.std or [1.0])}.")


def totals_text(report: Analysis) -> str:
    """``138,357,544 parameters (buffers 0); 15,470,264,320 MACs (15.47 G) per image``."""
    totals = report.totals
    return (f"{totals['params']:,} parameters (buffers {totals['buffers']:,}); "
            f"{totals['macs']:,} MACs ({human_count(totals['macs'])}) per image")
