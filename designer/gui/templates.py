"""The palette's starting layers and block templates live in the core (``designer.core.templates``)."""

from ..core.templates import BLOCKS, BlockTemplate, default_layer

__all__ = ["BLOCKS", "BlockTemplate", "default_layer"]
