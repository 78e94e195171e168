"""MammoAutoReader: the package reader that fits each file, through MONAI's LoadImage."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from monai.transforms import LoadImage, LoadImaged
from PIL import Image

from monai_mammo.data import (
    MammoAutoReader,
    MammoDicomReader,
    MammoImageReader,
    MammoNiftiReader,
    MammoReadError,
    NotDicomError,
    UnsupportedImageError,
    silence_unused_reader_notices,
)
from monai_mammo.data.phantom import make_phantom, write_phantom_dicom


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mixed")
    phantom = make_phantom((80, 64), seed=0)
    mask = (phantom.lesion_mask * 255).astype(np.uint8)
    Image.fromarray(mask).save(root / "mask.png")
    nib.save(nib.Nifti1Image(phantom.image.astype(np.float32), np.eye(4)), root / "img.nii.gz")
    (root / "table.csv").write_text("a,b\n")
    return {
        "dcm": write_phantom_dicom(phantom, root / "img.dcm"),
        "nosuffix": write_phantom_dicom(phantom, root / "IM0001"),
        "png": root / "mask.png",
        "nifti": root / "img.nii.gz",
        "csv": root / "table.csv",
    }


@pytest.mark.parametrize(
    ("kind", "reader"),
    [
        ("dcm", MammoDicomReader),
        ("nosuffix", MammoDicomReader),
        ("png", MammoImageReader),
        ("nifti", MammoNiftiReader),
    ],
)
def test_each_file_goes_to_its_reader(files: dict[str, Path], kind: str, reader: type) -> None:
    auto = MammoAutoReader()
    assert isinstance(auto.reader_for(files[kind]), reader)
    image = LoadImage(reader=auto)(str(files[kind]))
    assert tuple(image.shape[-2:]) == (80, 64)


def test_unsupported_file_raises_the_typed_error_through_load_image(files: dict[str, Path]) -> None:
    auto = MammoAutoReader()
    assert not auto.verify_suffix(files["csv"])
    with pytest.raises(UnsupportedImageError, match="table.csv"):
        LoadImage(reader=auto)(str(files["csv"]))


def test_files_of_one_item_need_one_reader(files: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedImageError, match="different readers"):
        LoadImage(reader=MammoAutoReader())([str(files["dcm"]), str(files["png"])])


def test_configured_readers_are_used(files: dict[str, Path]) -> None:
    raw = MammoAutoReader(image=MammoImageReader(voi="raw"))
    assert float(LoadImage(reader=raw)(str(files["png"])).max()) in (0.0, 255.0)


@pytest.mark.parametrize(
    ("kind", "name", "error", "found", "rename"),
    [
        ("jpeg", "scan.dcm", NotDicomError, "a JPEG image", "scan.jpg"),
        ("png", "scan.dcm", NotDicomError, "a PNG image", "scan.png"),
        ("nifti", "scan.dcm", NotDicomError, "a NIfTI image", "scan.nii.gz"),
        ("dcm", "scan.png", UnsupportedImageError, "a DICOM file", "scan.dcm"),
        ("dcm", "scan.jpg", UnsupportedImageError, "a DICOM file", "scan.dcm"),
    ],
)
def test_a_file_named_as_another_type_is_told_to_be_renamed(
    files: dict[str, Path], tmp_path: Path, kind: str, name: str, error: type, found: str, rename: str
) -> None:
    path = tmp_path / name
    if kind == "jpeg":
        Image.fromarray(np.full((40, 30), 128, np.uint8)).save(path, format="JPEG")
    else:
        path.write_bytes(files[kind].read_bytes())
    with pytest.raises(error) as info:
        LoadImage(reader=MammoAutoReader())(str(path))
    message = str(info.value)
    assert found in message and f"rename it to {rename}" in message
    assert "Reader" not in message  # the fix is about the file, not about Python classes


def test_unrecognised_content_names_no_class(tmp_path: Path) -> None:
    path = tmp_path / "garbage.dcm"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(MammoReadError) as info:
        LoadImage(reader=MammoAutoReader())(str(path))
    assert "not a DICOM file" in str(info.value) and "Reader" not in str(info.value)


def test_unused_reader_notices_are_silenced_and_other_warnings_kept(caplog: pytest.LogCaptureFixture) -> None:
    silence_unused_reader_notices()
    silence_unused_reader_notices()  # twice is harmless
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("default")
        silence_unused_reader_notices()  # re-installs its filter inside this block
        LoadImaged(keys="image", reader=MammoAutoReader())  # registers MONAI's default readers too
        warnings.warn("a real warning", UserWarning, stacklevel=1)
        logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").warning("a real problem")
    shown = [str(w.message) for w in caught]
    assert not [m for m in shown if "nvImageCodec" in m] and "a real warning" in shown
    assert "nvImageCodec is not available" not in caplog.text and "a real problem" in caplog.text
