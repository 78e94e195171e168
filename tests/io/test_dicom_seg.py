"""DICOM SEG of lesion masks (monai_mammo.io.dicom_seg), on the bundle's phantom DICOMs and real CBIS-DDSM
films: read back with highdicom and pydicom, checked with dciodvfy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

hd = pytest.importorskip("highdicom", reason="the pacs extra (highdicom) is not installed")

from monai_mammo.io.dicom_derived import DerivedAlgorithm, read_source_header  # noqa: E402
from monai_mammo.io.dicom_seg import dicom_segmentation, write_dicom_seg  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "bundles" / "mammo_lesion_segmentation" / "sample" / "images"
ALGORITHM = DerivedAlgorithm("Mammography lesion segmentation", "0.1.5", parameters={"threshold": "0.5"})


def _masks(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """A probability map with two blobs, and its mask at 0.5."""
    prob = np.zeros((rows, cols), np.float32)
    prob[rows // 4 : rows // 4 + 40, cols // 3 : cols // 3 + 30] = 0.7
    prob[rows // 2 : rows // 2 + 10, cols // 2 : cols // 2 + 12] = 0.95
    return prob, prob >= 0.5


def _sources(shared: Path | None) -> list[Path]:
    files = sorted(SAMPLE.glob("*.dcm"))
    if shared is not None:
        files += sorted((shared / "cbis_ddsm" / "dicom").glob("*.dcm"))[:1]
    return files


@pytest.mark.parametrize("which", ["phantom", "cbis_ddsm"])
def test_binary_seg_references_its_source_and_reads_back(which, request, tmp_path, dciodvfy) -> None:
    files = _sources(request.getfixturevalue("shared_data") if which == "cbis_ddsm" else None)
    path = files[-1] if which == "cbis_ddsm" else files[0]
    source = read_source_header(path)
    assert source is not None
    prob, mask = _masks(int(source.Rows), int(source.Columns))
    out, seg = write_dicom_seg(
        tmp_path / "seg.dcm", source, {"mass": mask, "lesion": prob >= 0.9}, algorithm=ALGORITHM
    )

    assert dciodvfy(out) == []
    ds = pydicom.dcmread(out)
    assert ds.Modality == "SEG" and ds.SegmentationType == "BINARY"
    for key in ("StudyInstanceUID", "PatientID", "PatientName", "AccessionNumber"):
        assert ds[key].value == source[key].value
    assert ds.SeriesInstanceUID != source.SeriesInstanceUID and ds.SOPInstanceUID != source.SOPInstanceUID
    ref_series = ds.ReferencedSeriesSequence[0]
    assert ref_series.SeriesInstanceUID == source.SeriesInstanceUID
    assert ref_series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    assert (ds.Rows, ds.Columns) == (source.Rows, source.Columns)
    # the segments: coded classes, the breast of the source's side, the algorithm with the bundle version
    mass, lesion = ds.SegmentSequence
    assert mass.SegmentedPropertyTypeCodeSequence[0].CodeValue == "4147007"  # SCT Mass
    assert lesion.SegmentedPropertyTypeCodeSequence[0].CodeValue == "52988006"  # SCT Lesion
    assert mass.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    region = mass.AnatomicRegionSequence[0]
    assert region.CodeValue == "76752008"  # Breast
    side = str(source.get("ImageLaterality") or source.get("Laterality"))
    assert region.AnatomicRegionModifierSequence[0].CodeMeaning == {"R": "Right", "L": "Left"}[side]
    algo = mass.SegmentationAlgorithmIdentificationSequence[0]
    assert (algo.AlgorithmName, algo.AlgorithmVersion) == ("Mammography lesion segmentation", "0.1.5")
    assert mass.SegmentAlgorithmType == "AUTOMATIC"
    assert ds.ContentDescription.startswith(side)
    assert ds.PatientOrientation == source.get("PatientOrientation", "") or ds.PatientOrientation == ""

    # highdicom reads it back to the very masks, in the source's geometry
    back = hd.seg.segread(out)
    pixels = back.get_pixels_by_source_instance([source.SOPInstanceUID], combine_segments=False)
    assert pixels.shape == (1, source.Rows, source.Columns, 2)
    assert np.array_equal(pixels[0, ..., 0] > 0, mask)
    assert np.array_equal(pixels[0, ..., 1] > 0, prob >= 0.9)
    assert seg.SOPInstanceUID == back.SOPInstanceUID


def test_fractional_seg_keeps_the_probabilities(tmp_path, dciodvfy) -> None:
    source = read_source_header(sorted(SAMPLE.glob("*.dcm"))[0])
    prob, _ = _masks(int(source.Rows), int(source.Columns))
    out, _ = write_dicom_seg(tmp_path / "prob_seg.dcm", source, [prob], fractional=True, algorithm=ALGORITHM)
    assert dciodvfy(out) == []
    ds = pydicom.dcmread(out)
    assert ds.SegmentationType == "FRACTIONAL" and ds.SegmentationFractionalType == "PROBABILITY"
    back = hd.seg.segread(out)
    values = back.get_pixels_by_source_instance([source.SOPInstanceUID], rescale_fractional=True)[0, ..., 0]
    np.testing.assert_allclose(values, prob, atol=0.5 / 255 + 1e-6)


def test_uids_are_new_for_every_seg(tmp_path) -> None:
    source = read_source_header(sorted(SAMPLE.glob("*.dcm"))[0])
    _, mask = _masks(int(source.Rows), int(source.Columns))
    segs = [dicom_segmentation(source, {"lesion": mask}) for _ in range(3)]
    uids = {s.SOPInstanceUID for s in segs} | {s.SeriesInstanceUID for s in segs}
    assert len(uids) == 6
    series = hd.UID()
    shared = [dicom_segmentation(source, {"lesion": mask}, series_instance_uid=series) for _ in range(2)]
    assert {s.SeriesInstanceUID for s in shared} == {series}


def test_bad_inputs_are_refused_with_the_reason(tmp_path) -> None:
    source = read_source_header(sorted(SAMPLE.glob("*.dcm"))[0])
    with pytest.raises(ValueError, match=r"original geometry"):
        dicom_segmentation(source, {"lesion": np.zeros((10, 10), np.uint8)})
    with pytest.raises(ValueError, match="lesion class must be one of"):
        dicom_segmentation(source, {"tumour": np.zeros((source.Rows, source.Columns), np.uint8)})
    with pytest.raises(ValueError, match="at least one"):
        dicom_segmentation(source, {})
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert read_source_header(png) is None
    assert not list(tmp_path.glob("*.dcm"))


def test_algorithm_from_bundle_metadata() -> None:
    meta = REPO / "bundles" / "mammo_lesion_segmentation" / "configs" / "metadata.json"
    import json

    expected = json.loads(meta.read_text())
    algo = DerivedAlgorithm.from_metadata(meta, {"threshold": 0.5})
    assert (algo.name, algo.version) == (expected["name"], expected["version"])
    assert algo.parameters == {"threshold": "0.5"}
    with pytest.raises(ValueError, match="metadata.json"):
        DerivedAlgorithm.from_metadata(REPO / "pyproject.toml")
