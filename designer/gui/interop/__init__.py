"""File › Export › PyTorch code / ONNX and File › Open of ``.onnx`` models (issues 11, 12); see ``plugin``."""
