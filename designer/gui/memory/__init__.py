"""The memory panel: the training step's live bytes over time (stacked by kind, the peak marked and
explained) and "will it fit?" for a memory budget with the remedies' effect computed."""

from .panel import MemoryPanel

__all__ = ["MemoryPanel"]
