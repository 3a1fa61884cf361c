"""Hand-made convolution kernels ("init": {"preset": [name per output channel]}) in any odd size.

Every preset is a ``[k, k]`` float32 array; a Conv2d layer puts preset ``o`` into every input
channel of output channel ``o``, divided by the channels per group, so the filter acts on the
channel mean (a grayscale view of an RGB input).

* ``identity``: 1 at the centre.
* ``box_blur``: ``1/k²`` everywhere. ``gaussian_blur``: normalised ``exp(−r²/2σ²)``, ``σ = k/6 + 1/3``.
* ``sharpen``: ``2·identity − box_blur``.
* ``sobel_x`` / ``sobel_y``: ``b ⊗ g`` with smoothing ``b`` = binomial row of length ``k`` and
  derivative ``g = binomial(k − 2) * [−1, 0, 1]`` (k = 3 gives the classic Sobel operator).
* ``laplacian``: the 4-neighbour ``[[0,1,0],[1,−4,1],[0,1,0]]`` for k = 3; for larger k the
  smoothed second differences ``b ⊗ h + h ⊗ b`` with ``h = binomial(k − 2) * [1, −2, 1]``.
* ``vertical_line`` / ``horizontal_line``: ones in the middle column / row (Géron's 7×7 line
  filters: one keeps vertical structure, the other horizontal).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _binomial(n: int) -> np.ndarray:
    row = np.array([1.0])
    for _ in range(n - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row


def _identity(k: int) -> np.ndarray:
    out = np.zeros((k, k))
    out[k // 2, k // 2] = 1.0
    return out


def _gaussian(k: int) -> np.ndarray:
    sigma = k / 6 + 1 / 3
    r = np.arange(k) - k // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def _derivative(k: int) -> np.ndarray:
    return np.convolve(_binomial(k - 2), [-1.0, 0.0, 1.0]) if k >= 3 else np.zeros(k)


def _sobel_x(k: int) -> np.ndarray:
    return np.outer(_binomial(k), _derivative(k))


def _laplacian(k: int) -> np.ndarray:
    if k == 3:
        return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    if k < 3:
        return np.zeros((k, k))
    h = np.convolve(_binomial(k - 2), [1.0, -2.0, 1.0])
    b = _binomial(k)
    return np.outer(b, h) + np.outer(h, b)


def _line(k: int, vertical: bool) -> np.ndarray:
    out = np.zeros((k, k))
    if vertical:
        out[:, k // 2] = 1.0
    else:
        out[k // 2, :] = 1.0
    return out


PRESETS: dict[str, Callable[[int], np.ndarray]] = {
    "identity": _identity,
    "box_blur": lambda k: np.full((k, k), 1.0 / (k * k)),
    "gaussian_blur": _gaussian,
    "sharpen": lambda k: 2 * _identity(k) - np.full((k, k), 1.0 / (k * k)),
    "sobel_x": _sobel_x,
    "sobel_y": lambda k: _sobel_x(k).T,
    "laplacian": _laplacian,
    "vertical_line": lambda k: _line(k, True),
    "horizontal_line": lambda k: _line(k, False),
}


def preset_kernel(name: str, size: int) -> np.ndarray:
    """The ``[size, size]`` kernel of a preset; ``size`` must be odd."""
    if name not in PRESETS:
        raise ValueError(f"unknown kernel preset {name!r}; choose from {', '.join(PRESETS)}")
    if size % 2 == 0:
        raise ValueError(f"kernel preset {name!r} needs an odd kernel size, got {size}")
    return PRESETS[name](size).astype(np.float32)


def preset_weight(names: list[str] | str, c_out: int, c_per_group: int, kernel: tuple[int, int]) -> np.ndarray:
    """Conv2d weight ``[C_out, C_in/g, kh, kw]`` from preset names (one per output channel).

    A single name (or a list of length 1) applies to every output channel; otherwise the list
    must name one preset per output channel.
    """
    names = [names] if isinstance(names, str) else list(names)
    if len(names) == 1:
        names = names * c_out
    if len(names) != c_out:
        raise ValueError(f"init preset names {len(names)} kernels but the layer has {c_out} output channels")
    if kernel[0] != kernel[1]:
        raise ValueError(f"kernel presets need a square kernel, got {kernel[0]}×{kernel[1]}")
    kernels = np.stack([preset_kernel(n, kernel[0]) for n in names])  # [C_out, k, k]
    weight = np.repeat(kernels[:, None], c_per_group, axis=1) / np.float32(c_per_group)
    return weight.astype(np.float32)
