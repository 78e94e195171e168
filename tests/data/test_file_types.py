"""sniff_file_type / sniff_file / rename_fix: what a file holds, from its first bytes."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import tifffile
from PIL import Image

from monai_mammo.data.file_types import rename_fix, sniff_file, sniff_file_type


@pytest.mark.parametrize(
    ("relative", "description"),
    [
        ("cbis_ddsm/dicom/1-131.dcm", "a DICOM file"),
        ("mini_mias/images/mdb001.png", "a PNG image"),
        ("cdd_cesm/images/flipped_P99_R_DM_CC.jpg", "a JPEG image"),
    ],
)
def test_real_files_are_recognised(shared_data: Path, relative: str, description: str) -> None:
    found = sniff_file(shared_data / relative)
    assert found is not None and found.description == description
    assert found.matches(shared_data / relative)


def test_written_files_are_recognised(tmp_path: Path) -> None:
    image = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
    tifffile.imwrite(tmp_path / "a.tif", image)
    Image.fromarray((image // 16).astype(np.uint8)).save(tmp_path / "a.pgm")
    nib.save(nib.Nifti1Image(image.astype(np.float32), np.eye(4)), tmp_path / "a.nii")
    nib.save(nib.Nifti1Image(image.astype(np.float32), np.eye(4)), tmp_path / "a.nii.gz")
    found = {name: sniff_file(tmp_path / name) for name in ("a.tif", "a.pgm", "a.nii", "a.nii.gz")}
    assert {k: v.suffixes[0] for k, v in found.items() if v} == {
        "a.tif": ".tif",
        "a.pgm": ".pgm",
        "a.nii": ".nii",
        "a.nii.gz": ".nii.gz",
    }


def test_other_content_is_not_guessed(tmp_path: Path) -> None:
    assert sniff_file_type(b"not a mammogram") is None
    assert sniff_file_type(b"") is None
    assert sniff_file_type(gzip.compress(b"a compressed text file")) is None
    assert sniff_file_type(b"\x1f\x8b" + bytes(40)) is None  # a broken gzip stream
    assert sniff_file(tmp_path / "missing.dcm") is None


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("scan.dcm", b"\xff\xd8\xff\xe0", "rename it to scan.jpg"),
        ("IM0001", b"\x89PNG\r\n\x1a\n", "rename it to IM0001.png"),
        ("case.nii.gz", b"\x00" * 128 + b"DICM", "rename it to case.dcm"),
    ],
)
def test_rename_fix_names_the_file_to_write(name: str, content: bytes, expected: str) -> None:
    found = sniff_file_type(content)
    assert found is not None and rename_fix(name, found).startswith(expected)
