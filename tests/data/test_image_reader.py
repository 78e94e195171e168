"""MammoImageReader on real mini-MIAS PNGs, CDD-CESM JPEGs, and PNG/TIFF/PGM/JPEG copies of a real image."""

from __future__ import annotations

import io
import re
import zlib

import numpy as np
import pytest
import tifffile
import torch
from monai.transforms import LoadImaged
from PIL import Image
from reader_helpers import BASE_SHAPE, load_image

from monai_mammo.data import (
    ImageTooLargeError,
    MammoImageReader,
    TruncatedFileError,
    UnsupportedImageError,
    laterality_from_image,
)
from monai_mammo.utils.enums import MammoMetaKey


def read(path, **kwargs) -> tuple[np.ndarray, dict]:
    return load_image(MammoImageReader(**kwargs), path)


# ----------------------------------------------------------------------------- real files
def test_mini_mias_png(shared_data):
    path = shared_data / "mini_mias" / "images" / "mdb001.png"
    img, meta = read(path, voi="raw", pixel_spacing=(0.2, 0.2))
    expected = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    assert img.shape == (1, 1024, 1024)
    np.testing.assert_array_equal(img[0], expected)  # rows first: no transpose
    for key in MammoMetaKey:
        assert key.value in meta
    assert meta["bits_stored"] == 8 and meta["voi_mode"] == "raw"
    assert meta["pixel_spacing"] == [0.2, 0.2]
    np.testing.assert_allclose(meta["affine"], np.diag([0.2, 0.2, 1.0]))
    assert meta["view_position"] == "UNKNOWN" and meta["manufacturer"] == "UNKNOWN"
    assert meta["presentation_intent"] == "UNKNOWN" and meta["photometric_interpretation"] == "MONOCHROME2"
    # mdb001 is a right breast (odd numbers are right breasts): found from the image
    assert (meta["laterality"], meta["laterality_source"]) == ("R", "image")


def test_mini_mias_laterality_from_image_all(shared_data):
    """All 216 mini-MIAS (odd = right, even = left): none wrong; a breast filling the film may be UNKNOWN."""
    wrong, unknown = [], []
    for path in sorted((shared_data / "mini_mias" / "images").glob("mdb*.png")):
        expected = "R" if int(re.findall(r"\d+", path.stem)[0]) % 2 else "L"
        got = laterality_from_image(np.asarray(Image.open(path).convert("L"))).value
        if got == "UNKNOWN":
            unknown.append(path.name)
        elif got != expected:
            wrong.append(path.name)
    assert not wrong
    assert len(unknown) <= 2, unknown


def test_cdd_cesm_jpegs(shared_data):
    """3-channel JPEGs with equal channels read as grey; the name gives side and view; the image agrees."""
    paths = sorted((shared_data / "cdd_cesm" / "images").glob("*.jpg"))
    assert len(paths) == 9
    for path in paths:
        img, meta = read(path)
        side, view = re.search(r"_(L|R)_DM_(CC|MLO)", path.name).groups()
        assert img.shape == (1, 512, 512)
        assert meta["bits_stored"] == 8 and meta["voi_mode"] == "full_range"  # WINDOW fell back
        assert (meta["laterality"], meta["laterality_source"], meta["view_position"]) == (side, "text", view)
        assert laterality_from_image(img).value == side
        np.testing.assert_allclose(img[0], _full_range(np.asarray(Image.open(path))[..., 0]), atol=1e-6)


def test_cdd_cesm_colour_masks_are_refused(shared_data):
    """The colour lesion masks (red/green on black; P143: a lesion of 0.08 % of the pixels) are not grey."""
    paths = sorted((shared_data / "cdd_cesm" / "masks").glob("*.png"))
    assert len(paths) == 9
    for path in paths:
        with pytest.raises(UnsupportedImageError, match=f"{path.name}: is a colour image"):
            read(path)


def _full_range(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    return (a - a.min()) / (a.max() - a.min())


# ----------------------------------------------------------------------------- written copies
def _write(base: np.ndarray, tmp_path, kind: str):
    """Write a copy of the base image; return the path and the RAW values it must read back to."""
    b8 = (base >> 8).astype(np.uint8)
    if kind == "png16":
        path = tmp_path / "Mass_P_1_LEFT_CC.png"
        Image.fromarray(base).save(path)
        return path, base
    if kind == "tiff16":
        path = tmp_path / "img_L_MLO.tif"
        tifffile.imwrite(path, base, photometric="minisblack")
        return path, base
    if kind == "tiff16_deflate":
        path = tmp_path / "img.tiff"
        tifffile.imwrite(path, base, photometric="minisblack", compression="zlib")
        return path, base
    if kind == "tiff16_miniswhite":  # min-is-white: inverted over 0..65535 on reading
        path = tmp_path / "white.tif"
        tifffile.imwrite(path, 65535 - base, photometric="miniswhite")
        return path, base
    if kind == "pgm8":
        path = tmp_path / "mdb.pgm"
        Image.fromarray(b8).save(path)
        return path, b8
    if kind == "png8_rgb_grey":
        path = tmp_path / "rgb.png"
        Image.fromarray(np.stack([b8] * 3, -1)).save(path)
        return path, b8
    if kind == "png16_rgb_grey":
        path = tmp_path / "rgb16.tif"
        tifffile.imwrite(path, np.stack([base] * 3, -1), photometric="rgb")
        return path, base
    if kind == "jpeg_grey":
        path = tmp_path / "g.jpg"
        Image.fromarray(np.stack([b8] * 3, -1)).save(path, quality=95)
        return path, np.asarray(Image.open(path))[..., 0]
    raise ValueError(kind)


KINDS = [
    "png16",
    "tiff16",
    "tiff16_deflate",
    "tiff16_miniswhite",
    "pgm8",
    "png8_rgb_grey",
    "png16_rgb_grey",
    "jpeg_grey",
]


@pytest.mark.parametrize("kind", KINDS)
def test_written_copies_read_back_exactly(base, tmp_path, kind):
    path, expected = _write(base, tmp_path, kind)
    img, meta = read(path, voi="raw")
    assert img.shape == (1, *BASE_SHAPE)
    np.testing.assert_array_equal(img[0], expected.astype(np.float32))
    assert meta["bits_stored"] == 8 * expected.dtype.itemsize
    assert meta["laterality"] == "L"  # from the name where it says so, else from the image
    full, meta_full = read(path, voi="window")
    assert meta_full["voi_mode"] == "full_range"
    np.testing.assert_allclose(full[0], _full_range(expected), atol=1e-6)


def test_name_gives_side_and_view(base, tmp_path):
    path, _ = _write(base, tmp_path, "png16")
    meta = read(path)[1]
    assert (meta["laterality"], meta["laterality_source"], meta["view_position"]) == ("L", "text", "CC")


def test_tinted_grey_within_tolerance_and_colour_refused(base, tmp_path):
    b8 = (base >> 8).astype(np.int16)
    tinted = np.clip(np.stack([b8, b8 - 3, b8 + 4], -1), 0, 255).astype(np.uint8)  # spread 7 levels
    path = tmp_path / "tinted.png"
    Image.fromarray(tinted).save(path)
    img, _ = read(path, voi="raw")
    np.testing.assert_allclose(img[0], tinted.astype(np.float32).mean(-1), atol=1e-4)
    with pytest.raises(UnsupportedImageError, match="colour image"):
        read(path, grey_tolerance=4)
    colour = tinted.copy()
    colour[100:110, 100:110] = [255, 0, 0]  # a red annotation
    Image.fromarray(colour).save(path)
    with pytest.raises(UnsupportedImageError, match=r"tinted\.png.*colour image"):
        read(path)


def test_load_imaged_dict_usage(base, tmp_path):
    path, _ = _write(base, tmp_path, "png16")
    out = LoadImaged(keys="image", reader=MammoImageReader(pixel_spacing=(0.05, 0.05)))({"image": str(path)})
    assert out["image"].shape == (1, *BASE_SHAPE)
    assert out["image"].meta["pixel_spacing"] == [0.05, 0.05]
    assert torch.allclose(out["image"].pixdim, torch.tensor([0.05, 0.05], dtype=torch.float64))


# ----------------------------------------------------------------------------- bad input
def test_truncated_png_and_jpeg(base, tmp_path):
    for kind in ("png16", "jpeg_grey"):
        path, _ = _write(base, tmp_path, kind)
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(TruncatedFileError, match=path.name):
            read(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"not an image at all" * 10)
    with pytest.raises(UnsupportedImageError, match="not a PNG"):
        read(path)


def _png_with_declared_size(width: int, height: int) -> bytes:
    """A valid 1x1 grey PNG whose IHDR is rewritten to declare width x height (CRC fixed)."""
    buf = io.BytesIO()
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(buf, format="PNG")
    raw = bytearray(buf.getvalue())
    ihdr = raw.index(b"IHDR")
    raw[ihdr + 4 : ihdr + 12] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    raw[ihdr + 17 : ihdr + 21] = zlib.crc32(bytes(raw[ihdr : ihdr + 17])).to_bytes(4, "big")
    return bytes(raw)


@pytest.mark.parametrize("size", [(10000, 9000), (60000, 60000)])
def test_absurd_declared_size(tmp_path, size):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_with_declared_size(*size))
    with pytest.raises(ImageTooLargeError, match="huge.png"):
        read(path)


def test_multi_page_tiff_refused(base, tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.stack([base, base]))
    with pytest.raises(UnsupportedImageError, match="2 image planes"):
        read(path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="pixel_spacing"):
        MammoImageReader(pixel_spacing=(0.1, -1))
    with pytest.raises(ValueError, match="voi"):
        MammoImageReader(voi="gamma")
    assert MammoImageReader().verify_suffix(["a.PNG", "b.tiff", "c.jpg", "d.pgm"])
    assert not MammoImageReader().verify_suffix("a.dcm")
