"""The exam's DICOM SR (monai_mammo.io.dicom_sr): TID 1500 findings read back with highdicom and pydicom,
valid for dciodvfy, on the classification bundle's four-view phantom exam and a real CBIS-DDSM film."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest

hd = pytest.importorskip("highdicom", reason="the pacs extra (highdicom) is not installed")

from monai_mammo.io.dicom_derived import DerivedAlgorithm, read_source_header  # noqa: E402
from monai_mammo.io.dicom_seg import dicom_segmentation  # noqa: E402
from monai_mammo.io.dicom_sr import ImageFindings, exam_measurement_report, write_dicom_sr  # noqa: E402
from monai_mammo.metrics import lesion_table  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAM = REPO / "bundles" / "mammo_classification" / "sample" / "images"
ALGORITHM = DerivedAlgorithm("Mammography lesion segmentation", "0.1.5")


def _findings(path: Path, spacing: tuple[float, float] | None) -> ImageFindings:
    source = read_source_header(path)
    prob = np.zeros((source.Rows, source.Columns), np.float32)
    prob[60:100, 50:90] = 0.8
    seg = dicom_segmentation(source, {"mass": prob >= 0.5})
    rows = lesion_table(prob, threshold=0.5, pixel_spacing=spacing)
    return ImageFindings(
        source, rows, "mass", seg, 1, 1600 * math.prod(spacing) if spacing else math.nan, 0.8
    )


def test_one_report_per_exam_with_every_view(tmp_path, dciodvfy) -> None:
    images = [_findings(p, (0.1, 0.1)) for p in sorted(EXAM.glob("*.dcm"))]
    path, sr = write_dicom_sr(tmp_path / "sr.dcm", images, algorithm=ALGORITHM)
    assert dciodvfy(path) == []
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SR" and ds.StudyInstanceUID == images[0].source.StudyInstanceUID
    back = hd.sr.srread(path)
    groups = back.content.get_planar_roi_measurement_groups()
    assert len(groups) == 2 * len(images)  # one lesion box and one SEG segment per view
    boxes = [g for g in groups if g.reference_type.meaning == "Image Region"]
    assert {g.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID for g in boxes} == {
        i.source.SOPInstanceUID for i in images
    }
    for group in boxes:
        values = {m.name.meaning: m.value for m in group.get_measurements()}
        assert values["Area"] == pytest.approx(16.0) and values["Probability"] == pytest.approx(0.8)
        assert group.finding_type.meaning == "Mass"
        site = group.finding_sites[0]
        assert site.value.meaning == "Breast" and site.laterality.meaning in {"Right", "Left"}
    segments = [g.referenced_segmentation_frame for g in groups if g.referenced_segmentation_frame]
    assert {s.referenced_sop_instance_uid for s in segments} == {
        i.segmentation.SOPInstanceUID for i in images
    }


def test_a_real_film_without_spacing_has_no_area(shared_data, tmp_path, dciodvfy) -> None:
    film = sorted((shared_data / "cbis_ddsm" / "dicom").glob("*.dcm"))[1]
    path, _ = write_dicom_sr(tmp_path / "sr.dcm", [_findings(film, None)], algorithm=ALGORITHM)
    assert dciodvfy(path) == []
    groups = hd.sr.srread(path).content.get_planar_roi_measurement_groups()
    assert [m.name.meaning for g in groups for m in g.get_measurements()] == ["Probability", "Probability"]


def test_an_sr_is_one_exam(shared_data) -> None:
    films = sorted((shared_data / "cbis_ddsm" / "dicom").glob("*.dcm"))[:2]
    images = [_findings(f, None) for f in films]
    assert images[0].source.StudyInstanceUID != images[1].source.StudyInstanceUID
    with pytest.raises(ValueError, match="one exam"):
        exam_measurement_report(images)
    with pytest.raises(ValueError, match="at least one image"):
        exam_measurement_report([])
