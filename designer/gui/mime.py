"""Drag-and-drop and clipboard payloads."""

from __future__ import annotations

PALETTE_MIME = "application/x-cnn-designer-palette"  # "layer:Conv2d" or "block:conv_bn_relu"
LAYER_MIME = "application/x-cnn-designer-layer"  # the dragged layer's name
