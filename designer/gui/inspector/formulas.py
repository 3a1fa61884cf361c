"""Formulas with the layer's numbers filled in, for the inspector (no Qt); the text comes from the spec."""

from __future__ import annotations

from ...core import Layer, LayerRow


def params_with_numbers(layer: Layer, row: LayerRow) -> str:
    """E.g. ``(3·3·64/1 + 1)·128 = 73,856``; empty when the layer has no parameters or no input."""
    if row.input_shape is None or row.output_shape is None:
        return ""
    text = layer.spec.params_text(row.input_shape, layer.hp)
    return f"{text} = {row.params:,}" if text else ""


def macs_with_numbers(layer: Layer, row: LayerRow) -> str:
    """E.g. ``128·56·56·(64/1)·3·3 = 231,211,008``."""
    if row.input_shape is None or row.output_shape is None or not row.macs:
        return ""
    text = layer.spec.macs_text(row.input_shape, row.output_shape, layer.hp)
    return f"{text} = {row.macs:,}" if text else ""
