"""The exam's DICOM SR of ``exam_report.json`` (``exam_sr``, on by default): one ``exam_sr.dcm`` per exam of
DICOM views, referencing all its images and holding the lesions and the classifier's image, breast and exam
scores; read back with highdicom and pydicom and valid for dciodvfy; none with ``exam_sr`` off."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest
from bundle_helpers import bundle_workflow

hd = pytest.importorskip("highdicom", reason="the pacs extra (highdicom) is not installed")

from monai_mammo.outputs import ExamReport  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_classification"
SAMPLE_IMAGES = BUNDLE / "sample" / "images"
PROBABILITY_OF_CANCER = hd.sr.CodedConcept("111047", "DCM", "Probability of cancer")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``exam_report.json`` over the sample: one phantom exam of four DICOM views."""
    root = tmp_path_factory.mktemp("exam_sr")
    shutil.copytree(SAMPLE_IMAGES, root / "inputs")
    workflow = bundle_workflow(
        BUNDLE,
        str(BUNDLE / "configs" / "exam_report.json"),
        "inference",
        dataset_dir=str(root / "inputs"),
        output_dir=str(root / "out"),
    )
    assert workflow.parser.get_parsed_content("exam_sr") is True
    workflow.run()
    return root / "out"


def _groups_by_name(sr: object) -> dict[str, object]:
    groups = sr.content.get_image_measurement_groups()  # type: ignore[attr-defined]
    return {g.tracking_identifier: g for g in groups}


def test_one_sr_per_exam_references_its_images_and_holds_the_scores(run: Path, dciodvfy) -> None:
    index = json.loads((run / "exams" / "index.json").read_text())
    assert index["n_exams"] == 1
    folder = run / "exams" / index["exams"][0]["folder"]
    report = json.loads((folder / "report.json").read_text())
    path = folder / "exam_sr.dcm"
    assert report["files"] == {"exam_sr_dcm": "exam_sr.dcm"}
    assert dciodvfy(path) == []
    sources = {str(p.name): pydicom.dcmread(p, stop_before_pixels=True) for p in SAMPLE_IMAGES.glob("*.dcm")}
    uids = {ds.SOPInstanceUID for ds in sources.values()}
    assert len(uids) == 4
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SR" and ds.StudyInstanceUID == next(iter(sources.values())).StudyInstanceUID
    evidence = {
        ref.ReferencedSOPInstanceUID
        for study in ds.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for ref in series.ReferencedSOPSequence
    }
    assert uids <= evidence
    sr = hd.sr.srread(path)
    groups = _groups_by_name(sr)
    # the exam's malignant score: as in report.json
    exam = groups["exam classifier"]
    (malignant,) = exam.get_measurements(name=PROBABILITY_OF_CANCER)
    assert float(malignant.value) == pytest.approx(report["exam"]["malignant"], abs=1e-6)
    abnormal = {m.name.value: float(m.value) for m in exam.get_measurements()}["P_ABNORMAL"]
    assert abnormal == pytest.approx(report["exam"]["abnormal"], abs=1e-6)
    # per breast, and per image (each group referencing its image) with all three class probabilities
    for breast in report["breasts"]:
        (value,) = groups[f"breast {breast['laterality']} classifier"].get_measurements(
            name=PROBABILITY_OF_CANCER
        )
        assert float(value.value) == pytest.approx(breast["p_malignant"], abs=1e-6)
    referenced = set()
    for image in report["images"]:
        group = groups[f"{image['name']} classifier"]
        values = {m.name.meaning: float(m.value) for m in group.get_measurements()}
        assert values["Probability of cancer"] == pytest.approx(image["probabilities"]["malignant"], abs=1e-6)
        assert values["Probability of benign finding"] == pytest.approx(
            image["probabilities"]["benign"], abs=1e-6
        )
        assert values["Probability of normal"] == pytest.approx(image["probabilities"]["normal"], abs=1e-6)
        (source,) = group.source_images
        referenced.add(source.referenced_sop_instance_uid)
    assert referenced == uids
    # the segmentation run's lesions of these images: one box per lesion row
    boxes = [
        g
        for g in sr.content.get_planar_roi_measurement_groups()
        if g.reference_type.meaning == "Image Region"
    ]
    assert len(boxes) == sum(len(i["lesions"] or []) for i in report["images"]) > 0
    # and the segment of each image's SEG (dicom_outputs of the segmentation run)
    segments = [g.referenced_segmentation_frame for g in sr.content.get_planar_roi_measurement_groups()]
    assert len([s for s in segments if s is not None]) == 4


def test_no_sr_with_exam_sr_off(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "exams"
    ExamReport(run / "classification", run / "segmentation", out, html_report=False, exam_sr=False).write()
    assert not list(out.rglob("*.dcm")) and len(list(out.rglob("report.json"))) == 1
