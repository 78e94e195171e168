"""ClassificationReport: AUC with patient-bootstrap CIs, sensitivity at specificity, confusion matrix, ECE,
per image and per exam, checked against scikit-learn and hand counts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor
from sklearn.metrics import roc_auc_score

from monai_mammo.handlers import ClassificationReport
from monai_mammo.handlers.classification_report import binary_metrics


def cohort(n_patients: int = 30, seed: int = 0) -> list[dict]:
    """Two breasts (one MLO each) per patient, a noisy but informative classifier."""
    rng = np.random.default_rng(seed)
    items = []
    for p in range(n_patients):
        for side in ("L", "R"):
            label = int(rng.choice(3, p=[0.6, 0.25, 0.15]))
            logits = rng.normal(0, 1, 3)
            logits[label] += 1.5
            probs = np.exp(logits) / np.exp(logits).sum()
            meta = {"filename_or_obj": f"/data/p{p}_{side}.png"}
            items.append(
                {
                    "pred": torch.tensor(probs, dtype=torch.float32),
                    "label": torch.tensor(label),
                    "image": MetaTensor(torch.zeros(1, 4, 4), meta=meta),
                    "patient_id": f"p{p}",
                    "laterality": side,
                    "view": "MLO",
                }
            )
    return items


def run(handler: ClassificationReport, items: list[dict]) -> dict:
    engine = Engine(lambda e, batch: [items[e.state.iteration - 1]])
    handler.attach(engine)
    engine.run(range(len(items)), max_epochs=1)
    return handler.results


def test_binary_metrics_match_scikit_learn_and_count_sensitivity() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 0, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.8, 0.5, 0.9, 0.2, 0.7])
    out = binary_metrics(y, s, groups=None, n_boot=200)
    assert out["auc"]["value"] == pytest.approx(roc_auc_score(y, s))
    low, high = out["auc"]["ci95"]
    assert low <= out["auc"]["value"] <= high
    # at specificity 0.9 (at most 0 of 6 negatives above threshold): thresholds above 0.5 -> 3 of 4 positives
    assert out["sensitivity_at_specificity"]["0.9"]["value"] == pytest.approx(0.75)
    assert 0.0 <= out["ece"] <= 1.0 and sum(out["reliability"]["count"]) == 10


def test_one_class_gives_no_auc_but_a_reason() -> None:
    out = binary_metrics([0, 0, 0], [0.1, 0.5, 0.2])
    assert out["auc"] is None and "both classes" in out["note"] and out["ece"] == pytest.approx(0.8 / 3)


def test_report_per_image_and_per_exam(tmp_path: Path) -> None:
    items = cohort()
    results = run(ClassificationReport(tmp_path, n_boot=200, seed=1, data_root_dir="/data"), items)
    labels = np.array([int(i["label"]) for i in items])
    probs = np.stack([i["pred"].numpy() for i in items])
    image = results["per_image"]
    assert image["n"] == 60 and image["n_patients"] == 30
    assert image["malignant"]["auc"]["value"] == pytest.approx(roc_auc_score(labels == 2, probs[:, 2]))
    assert image["abnormal"]["auc"]["value"] == pytest.approx(roc_auc_score(labels > 0, 1 - probs[:, 0]))
    matrix = np.array(image["confusion_matrix"]["matrix"])
    assert matrix.sum() == 60 and matrix[2].sum() == (labels == 2).sum()
    assert np.trace(matrix) == (probs.argmax(1) == labels).sum()
    # exams: both breasts of a patient, label = worst breast, score = max over breasts
    exam_labels = labels.reshape(30, 2).max(1)
    exam_malignant = probs[:, 2].reshape(30, 2).max(1)
    exam = results["per_exam"]
    assert exam["n"] == 30
    assert exam["malignant"]["auc"]["value"] == pytest.approx(roc_auc_score(exam_labels == 2, exam_malignant))
    low, high = exam["malignant"]["auc"]["ci95"]
    assert 0.0 <= low < exam["malignant"]["auc"]["value"] < high <= 1.0
    assert results["bootstrap"]["by"] == "patient"
    assert {p.name for p in tmp_path.iterdir()} == {
        "metrics.json",
        "metrics_per_image.csv",
        "metrics_per_exam.csv",
        "roc_malignant_image.png",
        "roc_abnormal_image.png",
        "roc_malignant_exam.png",
        "roc_abnormal_exam.png",
    }
    saved = json.loads((tmp_path / "metrics.json").read_text())  # strict JSON: no NaN
    assert saved["per_exam"]["malignant"]["auc"]["value"] == pytest.approx(exam["malignant"]["auc"]["value"])
    rows = list(csv.DictReader((tmp_path / "metrics_per_exam.csv").open()))
    assert len(rows) == 30 and rows[0]["exam_id"] == "p0"


def test_patient_bootstrap_is_wider_than_case_bootstrap_for_correlated_views(tmp_path: Path) -> None:
    """Two identical views per patient: resampling images would double-count each patient."""
    items = []
    for item in cohort(20, seed=3)[::2]:
        for view in ("CC", "MLO"):
            items.append({**item, "view": view})
    results = run(ClassificationReport(tmp_path, n_boot=300), items)
    y = np.array([int(i["label"]) == 2 for i in items])
    s = np.array([float(i["pred"][2]) for i in items])
    by_case = binary_metrics(y, s, groups=None, n_boot=300)["auc"]["ci95"]
    by_patient = results["per_image"]["malignant"]["auc"]["ci95"]
    assert by_patient[1] - by_patient[0] > by_case[1] - by_case[0]


def test_bad_inputs_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="question"):
        ClassificationReport(tmp_path, questions={"x": [3]})
    with pytest.raises(ValueError, match="label 4"):
        run(ClassificationReport(tmp_path), [{"pred": torch.rand(3), "label": torch.tensor(4)}])
    with pytest.raises(KeyError, match="label"):
        run(ClassificationReport(tmp_path), [{"pred": torch.rand(3)}])


def test_views_are_grouped_into_women_before_the_exam_metrics(tmp_path: Path) -> None:
    """mini-MIAS PNGs without datalist ids: the file names pair the two breasts of a woman (mdb001 + mdb002),
    so the exam level and the patient bootstrap count women, not films."""
    items = cohort(n_patients=10)
    for i, item in enumerate(items):
        del item["patient_id"], item["laterality"], item["view"]
        item["image"].meta["filename_or_obj"] = f"/data/mdb{i + 1:03d}.png"
    results = run(ClassificationReport(tmp_path, n_boot=50, seed=1, data_root_dir="/data"), items)
    assert results["per_image"]["n"] == 20 and results["per_image"]["n_patients"] == 10
    assert results["per_exam"]["n"] == 10
    exams = list(csv.DictReader((tmp_path / "metrics_per_exam.csv").open()))
    assert exams[0]["exam_id"] == "W001" and exams[0]["breasts"] == "L+R"


def test_per_source_metrics_and_a_score_that_learnt_the_archive(tmp_path: Path) -> None:
    """Two archives: the first report's score follows the class, the second's follows the archive."""
    rng = np.random.default_rng(7)
    items = []
    for p in range(40):
        source = "archive_a" if p % 2 else "archive_b"
        label = 2 if p % 4 < 2 else 0
        items.append(
            {
                "label": torch.tensor(label),
                "image": MetaTensor(
                    torch.zeros(1, 4, 4), meta={"filename_or_obj": f"/data/{source}/p{p}.png"}
                ),
                "patient_id": f"p{p}",
                "source": [f"/data/{source}"],  # collated, and made a path by load_decathlon_datalist
                "class_score": 0.5 * (label == 2) + rng.uniform(0, 0.4),
                "archive_score": 0.5 * (source == "archive_a") + rng.uniform(0, 0.4),
            }
        )

    def with_score(key: str) -> list[dict]:
        return [{**i, "pred": torch.tensor([1 - i[key], 0.0, i[key]], dtype=torch.float32)} for i in items]

    honest = run(ClassificationReport(tmp_path / "honest", n_boot=50), with_score("class_score"))
    assert set(honest["per_source"]) == {"archive_a", "archive_b"}
    assert honest["per_source"]["archive_a"]["n"] == 20
    assert honest["per_source"]["archive_a"]["malignant"]["auc"]["value"] == pytest.approx(1.0)
    shortcut = honest["source_shortcut"]["malignant"]
    assert shortcut["learnt_source"] is False and shortcut["max_within_class_source_auc"] < 0.9
    assert {tuple(p["sources"]) for p in shortcut["pairs"]} == {("archive_a", "archive_b")}

    archive = run(ClassificationReport(tmp_path / "archive", n_boot=50), with_score("archive_score"))
    shortcut = archive["source_shortcut"]["malignant"]
    assert shortcut["learnt_source"] is True and shortcut["max_within_class_source_auc"] == pytest.approx(1.0)
    assert json.loads((tmp_path / "archive" / "metrics.json").read_text())["source_shortcut"]


def test_one_source_gives_no_source_sections(tmp_path: Path) -> None:
    results = run(ClassificationReport(tmp_path, n_boot=50), cohort(10))
    assert "per_source" not in results and "source_shortcut" not in results
