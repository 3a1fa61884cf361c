"""Errors of the ONNX import: every one is a single line naming the model file (and node)."""

from __future__ import annotations


class OnnxImportError(ValueError):
    """The model cannot be imported; the message is one line naming the file and the node."""


class Unsupported(Exception):
    """Raised by an op mapping: this node (with these attributes) has no layer; the reason says why."""
