"""The built-in sample image, drawn with NumPy: the app runs with no image file at all.

A synthetic scene with something for every kind of filter: a sky gradient, a sun (a disc:
edges at every orientation), a house with a slanted roof (±45° edges), a door and windows
(vertical and horizontal edges), a picket fence (vertical lines), brick courses (horizontal
lines), a checkerboard, concentric rings, a diagonal road, and fine seeded noise on grass.
"""

from __future__ import annotations

import numpy as np


def _fill(img: np.ndarray, mask: np.ndarray, rgb: tuple[float, float, float]) -> None:
    img[:, mask] = np.asarray(rgb, np.float32)[:, None]


def sample_image(height: int = 256, width: int = 256, seed: int = 7) -> np.ndarray:
    """An RGB scene ``[3, height, width]`` float32 in ``[0, 1]``."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    v, u = y / height, x / width  # normalised coordinates in [0, 1)
    img = np.empty((3, height, width), np.float32)
    img[0], img[1], img[2] = 0.35 + 0.3 * v, 0.55 + 0.25 * v, 0.95 - 0.1 * v  # sky gradient
    ground = v > 0.62
    _fill(img, ground, (0.25, 0.55, 0.2))
    rng = np.random.default_rng(seed)
    img[1] += ground * rng.normal(0, 0.06, (height, width)).astype(np.float32)  # grass texture
    _fill(img, (u - 0.83) ** 2 + (v - 0.16) ** 2 < 0.08**2, (1.0, 0.85, 0.2))  # sun
    rings = np.hypot(u - 0.83, v - 0.16)
    img[:, (rings > 0.1) & (rings < 0.2) & (np.sin(rings * 180) > 0.6)] *= 0.85  # halo rings
    _draw_house(img, u, v)
    fence = (v > 0.55) & (v < 0.7) & (u > 0.6) & (np.sin(u * 2 * np.pi * 24) > 0.2)
    _fill(img, fence, (0.95, 0.95, 0.9))
    _fill(img, (v > 0.58) & (v < 0.6) & (u > 0.6), (0.95, 0.95, 0.9))  # fence rail
    road = np.abs((u - 0.15) - (v - 0.62) * 0.9) < 0.05
    _fill(img, ground & road, (0.45, 0.42, 0.4))
    checker = (u > 0.02) & (u < 0.22) & (v > 0.06) & (v < 0.26)
    board = ((x // max(1, width // 64)) + (y // max(1, height // 64))) % 2 == 0
    _fill(img, checker & board, (0.1, 0.1, 0.1))
    _fill(img, checker & ~board, (0.9, 0.9, 0.9))
    return np.clip(img, 0.0, 1.0)


def _draw_house(img: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Brick wall with horizontal courses, a triangular roof, a door and two windows."""
    wall = (u > 0.3) & (u < 0.56) & (v > 0.42) & (v < 0.8)
    _fill(img, wall, (0.7, 0.35, 0.25))
    courses = wall & (np.mod(v * 60, 1.0) < 0.18)
    _fill(img, courses, (0.85, 0.8, 0.75))
    roof = (v < 0.42) & (v > 0.26) & (np.abs(u - 0.43) < (v - 0.26) * 1.0)
    _fill(img, roof, (0.35, 0.2, 0.15))
    _fill(img, (u > 0.41) & (u < 0.46) & (v > 0.62) & (v < 0.8), (0.3, 0.2, 0.1))  # door
    for left in (0.33, 0.49):
        window = (u > left) & (u < left + 0.05) & (v > 0.48) & (v < 0.56)
        _fill(img, window, (0.6, 0.8, 0.95))
        _fill(img, window & ((np.abs(u - left - 0.025) < 0.004) | (np.abs(v - 0.52) < 0.004)), (1, 1, 1))
