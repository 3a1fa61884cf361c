"""Errors raised for user input. Each renders as one line naming file, layer and field."""

from __future__ import annotations


class DesignFormatError(ValueError):
    """A file or dict that cannot be read as a design.

    ``str(err)`` is a single line: ``FILE: layer 'NAME' (layers[3]): field 'kernel_size': message``.
    """

    def __init__(self, message: str, *, source: str = "", layer: str = "", field: str = "") -> None:
        self.message = message
        self.source = source
        self.layer = layer
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.source, self.layer, f"field '{self.field}'" if self.field else "") if p]
        return ": ".join(parts + [self.message])

    def located(self, *, source: str | None = None, layer: str | None = None) -> DesignFormatError:
        """A copy with the file and/or layer filled in (inner code knows only the field)."""
        return DesignFormatError(
            self.message,
            source=self.source or (source or ""),
            layer=self.layer or (layer or ""),
            field=self.field,
        )


class LayerError(ValueError):
    """An impossible layer configuration found during analysis (the design is loaded fine)."""
