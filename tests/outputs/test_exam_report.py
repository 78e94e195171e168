"""ExamReport: one self-contained folder per exam from a classification and a segmentation run.

The runs' files are written here with the same package functions the two bundles use.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.metrics import ExamAggregator, ViewPrediction
from monai_mammo.outputs import (
    ExamReport,
    exam_folder_name,
    write_classification_outputs,
    write_segmentation_outputs,
)


@pytest.fixture()
def runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two images of exam s1 (left CC with a lesion, right CC normal), written as the two bundles do."""
    inputs, cls_dir, seg_dir = tmp_path / "in", tmp_path / "cls", tmp_path / "seg"
    inputs.mkdir()
    aggregator = ExamAggregator()
    views, rows = [], []
    for name, side, probs, lesion in (
        ("a_L", "L", (0.2, 0.2, 0.6), True),
        ("a_R", "R", (0.8, 0.1, 0.1), False),
    ):
        image = np.full((50, 40), 60, dtype=np.uint8)
        image[:, :30] = 180
        Image.fromarray(image).save(inputs / f"{name}.png")
        heat = np.zeros((50, 40), np.float32)
        heat[10:20, 10:20] = 1.0
        identity = {"exam_id": "s1", "patient_id": "p1", "laterality": side, "view": "CC"}
        write_classification_outputs(
            cls_dir, name, probs, heatmap=heat, image=image, heatmap_class=2, identity=identity
        )
        prob = np.zeros((50, 40), np.float32)
        if lesion:
            prob[12:18, 12:18] = 0.9
        write_segmentation_outputs(seg_dir, name, prob, image=image)
        views.append(ViewPrediction(name=name, probs=probs, **identity))
        rows.append(
            {
                "name": name,
                "source": str(inputs / f"{name}.png"),
                **identity,
                **{f"p_{c}": p for c, p in zip(aggregator.class_names, probs)},
                "predicted_class": aggregator.class_names[int(np.argmax(probs))],
                "label": "",
            }
        )
    breasts, exams = aggregator(views)
    report = {
        "class_names": list(aggregator.class_names),
        "aggregation": aggregator.describe(),
        "heatmap": {"class": "malignant"},
        "images": rows,
        "breasts": [aggregator.breast_row(b) for b in breasts],
        "exams": [aggregator.exam_row(e) for e in exams],
    }
    (cls_dir / "report.json").write_text(json.dumps(report))
    (seg_dir / "failures.json").write_text(json.dumps({"failures": [{"source": "bad.dcm", "error": "E"}]}))
    return cls_dir, seg_dir, tmp_path / "exams"


def test_one_folder_per_exam_with_scores_lesions_and_pictures(runs: tuple[Path, Path, Path]) -> None:
    cls_dir, seg_dir, out = runs
    index = json.loads(ExamReport(cls_dir, seg_dir, out).write().read_text())
    assert index["n_exams"] == 1 and index["failures"]["segmentation"][0]["source"] == "bad.dcm"
    folder = out / "p1_s1"
    report = json.loads((folder / "report.json").read_text())
    assert (
        report["exam"]["malignant"] == pytest.approx(0.6) and report["exam"]["most_suspicious_breast"] == "L"
    )
    images = {i["name"]: i for i in report["images"]}
    assert images["a_L"]["n_lesions"] == 1 and images["a_R"]["n_lesions"] == 0
    lesion = images["a_L"]["lesions"][0]
    assert lesion["max_prob"] == pytest.approx(0.9) and lesion["area_px"] == 36
    for name in images:
        files = images[name]["files"]
        assert set(files) == {
            "heatmap_png",
            "heatmap_overlay_png",
            "lesion_overlay_png",
            "lesion_mask_png",
            "lesions_csv",
            "combined_png",
        }
        for path in files.values():
            assert (folder / path).is_file()
    combined = np.asarray(Image.open(folder / "a_L" / "combined.png"))
    assert combined.shape == (50, 40, 3)
    assert tuple(combined[12, 12]) == (255, 255, 0)  # the lesion outline, in yellow
    assert "| a_L | L | CC |" in (folder / "report.md").read_text()
    assert next(csv.DictReader((out / "index.csv").open()))["n_lesions"] == "1"


def test_reports_are_strict_json_with_unknown_values_as_null(runs: tuple[Path, Path, Path]) -> None:
    """The images have no pixel spacing: a lesion's area in mm² is unknown, which JSON writes as null."""
    cls_dir, seg_dir, out = runs
    ExamReport(cls_dir, seg_dir, out).write()

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    paths = sorted(out.rglob("*.json"))
    assert [p.relative_to(out).as_posix() for p in paths] == ["index.json", "p1_s1/report.json"]
    parsed = {p.name: json.loads(p.read_text(), parse_constant=refuse) for p in paths}
    lesion = next(i for i in parsed["report.json"]["images"] if i["name"] == "a_L")["lesions"][0]
    assert lesion["area_px"] == 36 and lesion["area_mm2"] is None


def test_without_segmentation_the_report_has_no_lesions(runs: tuple[Path, Path, Path]) -> None:
    cls_dir, _, out = runs
    ExamReport(cls_dir, None, out).write()
    report = json.loads((out / "p1_s1" / "report.json").read_text())
    assert all(i["lesions"] is None for i in report["images"])
    assert "combined_png" in report["images"][0]["files"]


def test_missing_classification_report_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="classification report"):
        ExamReport(tmp_path, None, tmp_path / "out").write()


def test_exam_folder_names_are_safe() -> None:
    assert exam_folder_name("mini_mias:W001") == "mini_mias_W001"
    assert exam_folder_name("1.2.840/..") == "1.2.840"
    assert exam_folder_name("::") == "exam"


def test_the_rule_that_grouped_the_exam_is_reported(runs: tuple[Path, Path, Path]) -> None:
    """An exam grouped by patient and study date: its id begins with the patient's, which names the folder."""
    cls_dir, _, out = runs
    report = json.loads((cls_dir / "report.json").read_text())
    for row in report["images"] + report["breasts"] + report["exams"]:
        row["exam_id"] = "p1_20200101"
    report["exams"][0]["grouped_by"] = "PatientID+StudyDate"
    (cls_dir / "report.json").write_text(json.dumps(report))
    index = json.loads(ExamReport(cls_dir, None, out).write().read_text())
    assert [(e["folder"], e["grouped_by"]) for e in index["exams"]] == [
        ("p1_20200101", "PatientID+StudyDate")
    ]
    exam = json.loads((out / "p1_20200101" / "report.json").read_text())
    assert exam["grouped_by"] == "PatientID+StudyDate" and "grouped_by" not in exam["exam"]
    assert "grouped into this exam by PatientID+StudyDate" in (out / "p1_20200101" / "report.md").read_text()


def test_html_pages_are_written_by_default_and_switched_off_by_html_report(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cls_dir, seg_dir, out = runs
    ExamReport(cls_dir, seg_dir, out, limits="research only").write()
    page = (out / "p1_s1" / "report.html").read_text()
    assert page.count('class="view present"') == 2 and page.count("not in this exam") == 2  # no MLO views
    assert 'data-laterality="L" data-view="CC"' in page and "Limits: research only" in page
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched
    assert 'href="p1_s1/report.html"' in (out / "index.html").read_text()
    ExamReport(cls_dir, seg_dir, tmp_path / "plain", html_report=False).write()
    assert not list((tmp_path / "plain").rglob("*.html"))
    assert (tmp_path / "plain" / "p1_s1" / "report.json").is_file()


def test_exams_of_png_views_get_no_dicom_sr_said_once(runs: tuple[Path, Path, Path], caplog) -> None:
    cls_dir, seg_dir, out = runs
    with caplog.at_level("INFO", logger="monai_mammo.outputs.exam_report"):
        ExamReport(cls_dir, seg_dir, out, html_report=False).write()
    assert not list(out.rglob("*.dcm"))
    assert "files" not in json.loads((out / "p1_s1" / "report.json").read_text())
    assert sum("DICOM views only" in r.getMessage() for r in caplog.records) == 1
