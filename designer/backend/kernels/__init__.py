"""Pure-NumPy float32 layer kernels with ``torch.nn.functional``-like signatures.

Each kernel takes one image ``[C, H, W]`` (or a batch ``[N, C, H, W]``) and returns a new float32
array; convolution-like kernels take PyTorch ``state_dict`` weight layouts.
"""

from ._util import release_scratch
from .activation import elu, leaky_relu, prelu, relu, relu6, sigmoid, softmax, tanh
from .conv import choose_method, conv2d, im2col
from .conv_transpose import conv_transpose2d, transposed_window
from .dense import dropout, flatten, linear
from .norm import batch_norm, local_response_norm
from .pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d, spatial_pyramid_pool
from .resample import upsample, upsample_bilinear, upsample_nearest

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "choose_method",
    "conv2d",
    "conv_transpose2d",
    "dropout",
    "elu",
    "flatten",
    "im2col",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "max_pool2d",
    "prelu",
    "release_scratch",
    "relu",
    "relu6",
    "sigmoid",
    "softmax",
    "spatial_pyramid_pool",
    "tanh",
    "transposed_window",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
