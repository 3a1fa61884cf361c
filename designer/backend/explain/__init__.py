"""Qt-free computations behind the "see how it computes" views (issue 14).

* :mod:`.transposed` — a transposed convolution both ways: zero insertion + padding + flipped-kernel
  convolution, and ``Cᵀ`` of the matching convolution, each checked against the layer;
* :mod:`.pooling` — max vs average pooling of one map and the fraction each window discards;
* :mod:`.layouts` — NCHW/NHWC addresses, OIHW/HWIO weights, and weights saved in TensorFlow layout;
* :mod:`.fully_conv_grid` — a classifier made fully convolutional, run on a larger image, each cell
  checked against the original network on its crop.

The window arithmetic and the conv matrix themselves live in :mod:`designer.backend.arithmetic_view`
and :mod:`designer.backend.conv_matrix`.
"""
