"""MammoNiftiReader on NIfTI copies of a real mammogram: the (1, H, W) layout and keys of the DICOM reader."""

from __future__ import annotations

import math

import nibabel as nib
import numpy as np
import pytest
from monai.transforms import LoadImage, LoadImaged
from reader_helpers import BASE_SHAPE, load_image, mg_dataset, save

from monai_mammo.data import (
    ImageTooLargeError,
    MammoDicomReader,
    MammoNiftiReader,
    TruncatedFileError,
    UnsupportedImageError,
)
from monai_mammo.utils.enums import MammoMetaKey


def read(path, **kwargs) -> tuple[np.ndarray, dict]:
    return load_image(MammoNiftiReader(**kwargs), path)


def write_nifti(array: np.ndarray, path, spacing=(0.07, 0.05), unit: str | None = "mm", **header) -> None:
    image = nib.Nifti1Image(array, np.diag([*spacing, 1.0, 1.0]))
    if unit:
        image.header.set_xyzt_units(xyz=unit)
    for key, value in header.items():
        image.header[key] = value
    nib.save(image, str(path))


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("trailing", [False, True])
def test_copy_reads_back_like_the_dicom(base, tmp_path, suffix, trailing):
    array = base[..., None] if trailing else base  # (H, W) or (H, W, 1)
    path = tmp_path / f"case_LEFT_CC{suffix}"
    write_nifti(array, path)
    img, meta = read(path, voi="raw")
    np.testing.assert_array_equal(img[0], base.astype(np.float32))
    for key in MammoMetaKey:
        assert key.value in meta
    assert meta["pixel_spacing"] == pytest.approx([0.07, 0.05])
    np.testing.assert_allclose(meta["affine"], np.diag([0.07, 0.05, 1.0]), rtol=1e-6)
    assert (meta["laterality"], meta["laterality_source"], meta["view_position"]) == ("L", "text", "CC")
    assert meta["bits_stored"] == 16 and meta["photometric_interpretation"] == "MONOCHROME2"
    # same picture as the DICOM copy read by MammoDicomReader, WINDOW falling back to FULL_RANGE in both
    dicom = save(mg_dataset(base), tmp_path / "same.dcm")
    from_dicom = LoadImage(reader=MammoDicomReader(), image_only=True)(str(dicom))
    from_nifti, meta_nifti = read(path)
    assert meta_nifti["voi_mode"] == "full_range"
    np.testing.assert_allclose(from_nifti, from_dicom.numpy(), atol=1e-6)


def test_scaling_units_and_unknown_spacing(base, tmp_path):
    path = tmp_path / "scaled.nii.gz"
    write_nifti(
        base.astype(np.int16) // 2, path, spacing=(70.0, 50.0), unit="micron", scl_slope=2.0, scl_inter=10.0
    )
    img, meta = read(path, voi="raw")
    np.testing.assert_array_equal(img[0], (base.astype(np.int16) // 2).astype(np.float32) * 2 + 10)
    assert meta["pixel_spacing"] == pytest.approx([0.07, 0.05])
    plain = tmp_path / "plain.nii.gz"
    nib.save(nib.Nifti1Image(base, np.eye(4)), str(plain))  # nibabel defaults: zooms 1.0, no unit
    meta = read(plain)[1]
    assert all(math.isnan(v) for v in meta["pixel_spacing"])
    assert meta["laterality_source"] == "image" and meta["laterality"] == "L"


def test_load_imaged(base, tmp_path):
    path = tmp_path / "x.nii.gz"
    write_nifti(base, path)
    out = LoadImaged(keys="image", reader=MammoNiftiReader())({"image": str(path)})
    assert out["image"].shape == (1, *BASE_SHAPE)
    assert float(out["image"].max()) == 1.0


def test_volume_nan_truncated_and_not_nifti(base, tmp_path):
    vol = tmp_path / "vol.nii.gz"
    write_nifti(np.stack([base, base], -1), vol)
    with pytest.raises(UnsupportedImageError, match="vol.nii.gz.*shape"):
        read(vol)
    bad = base.astype(np.float32)
    bad[10, 10] = np.nan
    nan_path = tmp_path / "nan.nii"
    write_nifti(bad, nan_path)
    with pytest.raises(UnsupportedImageError, match="1 NaN or infinite"):
        read(nan_path)
    full = tmp_path / "full.nii"
    write_nifti(base, full)
    cut = tmp_path / "cut.nii"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(TruncatedFileError, match="cut.nii"):
        read(cut)
    text = tmp_path / "text.nii"
    text.write_text("not a nifti file")
    with pytest.raises(UnsupportedImageError, match="not a readable NIfTI"):
        read(text)
    with pytest.raises(ImageTooLargeError):
        read(full, max_pixels=1000)


def test_verify_suffix():
    reader = MammoNiftiReader()
    assert reader.verify_suffix(["a.nii", "b.nii.gz"])
    assert not reader.verify_suffix("a.png")
