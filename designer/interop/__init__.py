"""Interoperability: ONNX and PyTorch models and weights in and out (imports core and backend only).

``onnx_import.import_onnx(path)`` opens an ONNX model as a design with its weights;
``weight_files.read_weight_file(path)`` reads ``.npz``, ``.safetensors`` and PyTorch checkpoints;
``export_torch.export_pytorch(design, path, weights=None)`` writes a design as PyTorch code (weights as
``.safetensors`` beside it) and ``export_onnx.export_onnx(design, path, weights)`` as an ONNX model.
"""
