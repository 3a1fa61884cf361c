"""Image loading through QImage, conversion to the design's input, contact sheets, no QtWidgets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from designer.backend import images
from designer.backend.sample_image import sample_image
from designer.core import InputSpec

ROOT = Path(__file__).resolve().parents[2]


def _write_rgb(path: Path, rgb: np.ndarray, fmt: str) -> None:
    from PySide6.QtGui import QImage

    data = np.ascontiguousarray((rgb.transpose(1, 2, 0) * 255).round().astype(np.uint8))
    h, w = data.shape[:2]
    assert QImage(data.data, w, h, w * 3, QImage.Format.Format_RGB888).save(str(path), fmt)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "JPEG"])
def test_read_rgb_round_trip(tmp_path, fmt):
    pytest.importorskip("PySide6.QtGui")
    img = sample_image(61, 83)  # odd width: QImage pads its rows
    path = tmp_path / f"scene.{fmt.lower()}"
    _write_rgb(path, img, fmt)
    got = images.read_rgb(path)
    assert got.shape == (3, 61, 83) and got.dtype == np.float32
    tolerance = 0.5 / 255 + 1e-6 if fmt != "JPEG" else 0.08
    assert np.abs(got - img).mean() <= tolerance


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """``jpeg`` with an APP1 Exif segment holding only the orientation tag (0x0112) after its SOI marker."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01"
    tiff += orientation.to_bytes(2, "big") + b"\x00\x00" + b"\x00\x00\x00\x00"
    payload = b"Exif\x00\x00" + tiff
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


@pytest.mark.parametrize(("orientation", "upright"), [
    (1, lambda a: a),
    (3, lambda a: a[:, ::-1, ::-1]),
    (6, lambda a: np.rot90(a, k=-1, axes=(1, 2))),  # stored on its side: turn 90° clockwise
    (8, lambda a: np.rot90(a, k=1, axes=(1, 2))),
])
def test_read_rgb_follows_exif_orientation(tmp_path, orientation, upright):
    pytest.importorskip("PySide6.QtGui")
    img = np.zeros((3, 16, 32), np.float32)  # four flat quadrants: red, green / blue, white
    img[0, :8, :16] = img[1, :8, 16:] = img[2, 8:, :16] = 1
    img[:, 8:, 16:] = 1
    plain = tmp_path / "plain.jpg"
    _write_rgb(plain, img, "JPEG")
    path = tmp_path / f"rotated{orientation}.jpg"
    path.write_bytes(_with_exif_orientation(plain.read_bytes(), orientation))
    got, expected = images.read_rgb(path), upright(img)
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 0.05


def test_unreadable_image_is_one_clear_error(tmp_path):
    pytest.importorskip("PySide6.QtGui")
    (tmp_path / "x.png").write_text("not an image")
    with pytest.raises(images.ImageError, match="x.png: cannot read"):
        images.read_rgb(tmp_path / "x.png")


def test_prepare_channels_size_and_normalisation():
    rgb = np.zeros((3, 40, 60), np.float32)
    rgb[0], rgb[1], rgb[2] = 1.0, 0.5, 0.25
    gray = images.prepare(rgb, InputSpec(1, 20, 30))
    assert gray.shape == (1, 20, 30)
    np.testing.assert_allclose(gray, 0.299 + 0.587 * 0.5 + 0.114 * 0.25, rtol=1e-6)
    norm = images.prepare(rgb, InputSpec(3, 8, 8, mean=(0.5, 0.5, 0.5), std=(0.5, 0.25, 0.25)), mode="crop")
    np.testing.assert_allclose(norm[:, 0, 0], [1.0, 0.0, -1.0], atol=1e-6)


def test_centre_crop_keeps_the_middle():
    rgb = np.zeros((3, 10, 30), np.float32)
    rgb[:, :, 10:20] = 1.0  # a bright middle third
    out = images.fit(rgb, 10, 10, mode="crop")
    assert out.shape == (3, 10, 10) and np.all(out == 1.0)
    up = images.fit(rgb[:, :5, 10:15], 10, 10, mode="crop")  # smaller: scaled up to cover
    assert up.shape == (3, 10, 10)


def test_sample_image_is_rich():
    img = sample_image()
    assert img.shape == (3, 256, 256) and img.min() >= 0 and img.max() <= 1
    gy, gx = np.abs(np.diff(img.mean(0), axis=0)), np.abs(np.diff(img.mean(0), axis=1))
    assert (gx > 0.2).sum() > 500 and (gy > 0.2).sum() > 500  # strong edges both ways
    assert np.array_equal(img, sample_image())


def test_contact_sheet_and_png(tmp_path):
    pytest.importorskip("PySide6.QtGui")
    fmap = np.random.default_rng(0).standard_normal((5, 7, 9)).astype(np.float32)
    sheet = images.contact_sheet(fmap)
    assert sheet.shape == (2 * 8 + 1, 3 * 10 + 1) and sheet.dtype == np.uint8
    images.save_gray_png(tmp_path / "s.png", sheet)
    back = images.read_rgb(tmp_path / "s.png")
    assert back.shape == (3, *sheet.shape)
    assert images.contact_sheet(np.arange(10, dtype=np.float32)).shape == (3 * 2 + 1, 4 * 2 + 1)


def test_backend_never_imports_qt_widgets():
    code = (
        "import sys, numpy as np\n"
        "import designer.backend, designer.cli.run\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'backend imported Qt eagerly'\n"
        "from designer.backend import images\n"
        "from designer.core import InputSpec\n"
        "images.sample_input(InputSpec(3, 32, 32))\n"
        "try:\n"
        "    images.read_rgb('missing.png')\n"
        "except images.ImageError:\n"
        "    pass\n"
        "assert 'PySide6.QtWidgets' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
