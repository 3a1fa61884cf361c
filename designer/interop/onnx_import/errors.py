"""Errors of the ONNX import: every one is a single line naming the model file (and node)."""

from __future__ import annotations


class OnnxImportError(ValueError):
    """The model cannot be imported; the message is one line naming the file and the node."""


class DynamicInputError(OnnxImportError):
    """The model's input size is not fixed: import again with ``input_shape=(C, H, W)``. ``channels`` is
    the model's channel count when it is fixed (a window can ask for H and W only)."""

    def __init__(self, message: str, channels: int | None = None) -> None:
        super().__init__(message)
        self.channels = channels


class Unsupported(Exception):
    """Raised by an op mapping: this node (with these attributes) has no layer; the reason says why."""
