"""The layer palette: layer types by family and block templates."""
