"""MammoAutoReader: the package reader that fits each file, through MONAI's LoadImage."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from monai.transforms import LoadImage
from PIL import Image

from monai_mammo.bundle import MammoAutoReader
from monai_mammo.data import MammoDicomReader, MammoImageReader, MammoNiftiReader, UnsupportedImageError
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
