"""dicom_seg_answer: the DICOM SEG that the MONAI Label segmentation task returns for
``result_extension=.dcm``, on the segmentation bundle's sample DICOMs; read back with highdicom and checked
with dciodvfy."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pydicom
import pytest

from monai_mammo.io.dicom_derived import DerivedAlgorithm
from monai_mammo.label.dicom_answer import dicom_seg_answer

hd = pytest.importorskip("highdicom", reason="the pacs extra (highdicom) is not installed")

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "mammo_lesion_segmentation"
SOURCE = BUNDLE / "sample" / "images" / "phantom-11-0000_L_CC.dcm"


def _prob(source: pydicom.Dataset) -> np.ndarray:
    prob = np.zeros((int(source.Rows), int(source.Columns)), np.float32)
    prob[40:60, 30:55] = 0.8
    prob[100:104, 10:12] = 0.3  # below the threshold
    return prob


@pytest.mark.parametrize("fractional", [False, True])
def test_the_answer_is_a_seg_of_the_request_image(fractional: bool, dciodvfy) -> None:
    source = pydicom.dcmread(SOURCE, stop_before_pixels=True)
    algorithm = DerivedAlgorithm.from_metadata(BUNDLE / "configs" / "metadata.json", {"threshold": 0.5})
    prob = _prob(source)
    path = Path(dicom_seg_answer(SOURCE, prob[None], 0.5, algorithm, "mass", fractional=fractional))
    try:
        assert path.suffix == ".dcm" and dciodvfy(path) == []
        seg = hd.seg.segread(path)
        assert seg.SegmentationType == ("FRACTIONAL" if fractional else "BINARY")
        assert seg.StudyInstanceUID == source.StudyInstanceUID
        ref = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        assert ref == source.SOPInstanceUID
        segment = seg.SegmentSequence[0]
        assert segment.SegmentedPropertyTypeCodeSequence[0].CodeValue == "4147007"  # SNOMED CT mass
        assert segment.SegmentationAlgorithmIdentificationSequence[0].AlgorithmName == algorithm.name
        pixels = seg.get_pixels_by_source_instance([source.SOPInstanceUID])[0, ..., 0]
        if fractional:
            assert np.allclose(pixels, prob, atol=1 / 255)
        else:
            assert np.array_equal(pixels > 0, prob >= 0.5)
    finally:
        path.unlink()


def test_a_png_request_is_refused_with_the_extensions_that_work(tmp_path: Path) -> None:
    png = BUNDLE.parents[1] / "docs" / "_static" / "phantom_cc_mlo.png"
    shutil.copy(png, tmp_path / "view.png")
    algorithm = DerivedAlgorithm(name="mammo_lesion_segmentation", version="0")
    before = set(Path(tempfile.gettempdir()).glob("*.dcm"))
    with pytest.raises(ValueError, match=r"not a DICOM image.*\.png or \.nii\.gz"):
        dicom_seg_answer(tmp_path / "view.png", np.zeros((8, 8), np.float32), 0.5, algorithm)
    assert set(Path(tempfile.gettempdir()).glob("*.dcm")) == before


def test_a_map_of_another_size_is_refused_and_leaves_no_file() -> None:
    source = pydicom.dcmread(SOURCE, stop_before_pixels=True)
    algorithm = DerivedAlgorithm(name="mammo_lesion_segmentation", version="0")
    before = set(Path(tempfile.gettempdir()).glob("*.dcm"))
    with pytest.raises(ValueError, match="original geometry"):
        dicom_seg_answer(
            SOURCE, np.zeros((int(source.Rows) // 2, int(source.Columns)), np.float32), 0.5, algorithm
        )
    assert set(Path(tempfile.gettempdir()).glob("*.dcm")) == before
