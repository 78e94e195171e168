"""ClassificationWriter on an Ignite engine whose output is what the bundle's evaluator produces: per-image
dictionaries with class probabilities, a heat map and the image in the original geometry."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Engine, Events
from monai.data import MetaTensor
from PIL import Image

from monai_mammo.handlers import ClassificationWriter
from monai_mammo.handlers.classification_writer import view_identity
from monai_mammo.metrics import ExamAggregator


def item(name: str, probs: list[float], meta: dict, shape=(40, 30), **data) -> dict:
    meta = {"filename_or_obj": f"/data/{name}", **meta}
    heat = torch.zeros(1, *shape)
    heat[0, 5:15, 5:15] = 1.0
    return {
        "pred": torch.tensor(probs),
        "cam": MetaTensor(heat, meta=dict(meta)),
        "image": MetaTensor(torch.rand(1, *shape), meta=dict(meta)),
        "label": None,
        **data,
    }


def run(handler: ClassificationWriter, images: list[dict]) -> Engine:
    engine = Engine(lambda e, batch: [images[e.state.iteration - 1]])
    handler.attach(engine)
    engine.run(range(len(images)), max_epochs=1)
    return engine


@pytest.fixture()
def exam_images() -> list[dict]:
    """One DICOM exam (study uid s1, four views) and one PNG with datalist fields only."""
    dicom = {"StudyInstanceUID": "s1", "PatientID": "p1"}
    return [
        item("a_LCC.dcm", [0.2, 0.2, 0.6], {**dicom, "laterality": "L", "view_position": "CC"}),
        item("a_LMLO.dcm", [0.4, 0.2, 0.4], {**dicom, "laterality": "L", "view_position": "MLO"}),
        item("a_RCC.dcm", [0.9, 0.05, 0.05], {**dicom, "laterality": "R", "view_position": "CC"}),
        item("a_RMLO.dcm", [0.7, 0.2, 0.1], {**dicom, "laterality": "R", "view_position": "MLO"}),
        item(
            "mdb001.png",
            [0.1, 0.8, 0.1],
            {},
            patient_id="W001",
            laterality="R",
            view="MLO",
            label=torch.tensor(1),
        ),
    ]


def test_identity_comes_from_the_item_then_the_metadata() -> None:
    meta = {"StudyInstanceUID": "s9", "PatientID": "p9", "laterality": "L", "view_position": "CC"}
    assert view_identity({}, meta, "x") == {
        "exam_id": "s9",
        "patient_id": "p9",
        "laterality": "L",
        "view": "CC",
    }
    item_data = {"exam_id": "e1", "patient_id": "w1", "laterality": "R", "view": "MLO"}
    assert view_identity(item_data, meta, "x") == {
        "exam_id": "e1",
        "patient_id": "w1",
        "laterality": "R",
        "view": "MLO",
    }
    assert view_identity({"patient_id": "w2"}, {}, "x")["exam_id"] == "w2"  # one exam per patient
    assert view_identity({}, {"laterality": "UNKNOWN"}, "x") == {
        "exam_id": "x",
        "patient_id": "x",
        "laterality": "UNKNOWN",
        "view": "UNKNOWN",
    }


def test_per_image_outputs_tables_and_report(tmp_path: Path, exam_images: list[dict]) -> None:
    run(ClassificationWriter(tmp_path, heatmap_class=2, data_root_dir="/data"), exam_images)
    for name in ("a_LCC", "a_RMLO", "mdb001"):
        assert {p.name for p in (tmp_path / name).iterdir()} == {
            "heatmap.png",
            "overlay.png",
            "prediction.json",
        }
        heat = np.asarray(Image.open(tmp_path / name / "heatmap.png"))
        assert heat.shape == (40, 30) and heat[10, 10] == 255 and heat[30, 25] == 0
        assert np.asarray(Image.open(tmp_path / name / "overlay.png")).shape == (40, 30, 3)
    record = json.loads((tmp_path / "a_LCC" / "prediction.json").read_text())
    assert record["exam_id"] == "s1" and record["laterality"] == "L" and record["view"] == "CC"
    assert record["probabilities"] == {"normal": 0.2, "benign": 0.2, "malignant": 0.6}
    assert record["predicted_class"] == "malignant" and record["heatmap_class"] == "malignant"

    rows = list(csv.DictReader((tmp_path / "predictions.csv").open()))
    assert [r["name"] for r in rows] == ["a_LCC", "a_LMLO", "a_RCC", "a_RMLO", "mdb001"]
    assert rows[-1]["exam_id"] == "W001" and rows[-1]["label"] == "benign" and rows[0]["label"] == ""
    breasts = list(csv.DictReader((tmp_path / "breasts.csv").open()))
    assert [(b["exam_id"], b["laterality"], b["views"]) for b in breasts] == [
        ("W001", "R", "MLO"),
        ("s1", "L", "CC+MLO"),
        ("s1", "R", "CC+MLO"),
    ]
    assert float(breasts[1]["p_malignant"]) == pytest.approx(0.5)
    exams = {e["exam_id"]: e for e in csv.DictReader((tmp_path / "exams.csv").open())}
    assert float(exams["s1"]["malignant"]) == pytest.approx(0.5)
    assert exams["s1"]["most_suspicious_breast"] == "L" and exams["s1"]["predicted_class"] == "malignant"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_images"] == 5 and len(report["exams"]) == 2
    assert report["aggregation"] == ExamAggregator().describe()
    assert report["heatmap"]["class"] == "malignant"
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary files left


def test_inputs_sharing_a_name_keep_their_own_folders(tmp_path: Path) -> None:
    images = [item("scan.dcm", [0.5, 0.3, 0.2], {}), item("scan.png", [0.2, 0.3, 0.5], {})]
    run(ClassificationWriter(tmp_path, data_root_dir="/data"), images)
    assert json.loads((tmp_path / "scan" / "prediction.json").read_text())["predicted_class"] == "normal"
    assert (
        json.loads((tmp_path / "scan_png" / "prediction.json").read_text())["predicted_class"] == "malignant"
    )


def test_without_heat_map_only_the_record_is_written(tmp_path: Path) -> None:
    images = [{"pred": MetaTensor(torch.tensor([0.6, 0.3, 0.1]), meta={"filename_or_obj": "/d/x.png"})}]
    run(ClassificationWriter(tmp_path, heatmap_key=None, image_key=None), images)
    assert {p.name for p in (tmp_path / "x").iterdir()} == {"prediction.json"}
    assert json.loads((tmp_path / "report.json").read_text())["heatmap"] is None


def test_missing_keys_and_bad_settings_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="cam"):
        run(ClassificationWriter(tmp_path), [{"pred": torch.rand(3), "image": torch.rand(1, 4, 4)}])
    with pytest.raises(ValueError, match="heatmap_class"):
        ClassificationWriter(tmp_path, heatmap_class=3)
    with pytest.raises(ValueError, match="classes"):
        ClassificationWriter(tmp_path, class_names=("a", "b"), aggregator=ExamAggregator())


def test_views_of_one_woman_are_grouped_when_the_run_completes(tmp_path: Path) -> None:
    """CBIS-DDSM tags: a StudyInstanceUID per image and a PatientID per view. Each image is an exam of its own
    until the run completes; then the naming convention makes one exam, and prediction.json follows."""
    images = [
        item(
            f"1-13{i}.dcm",
            [0.5, 0.3, 0.2],
            {
                "StudyInstanceUID": f"1.3.6.{i}",
                "PatientID": f"Mass-Test_P_00173_{side}_{view}",
                "StudyDate": "20161004",
                "laterality": side[0],
                "view_position": view,
            },
        )
        for i, (side, view) in enumerate((("LEFT", "CC"), ("LEFT", "MLO"), ("RIGHT", "CC"), ("RIGHT", "MLO")))
    ]
    handler = ClassificationWriter(tmp_path, data_root_dir="/data")
    engine = Engine(lambda e, batch: [images[e.state.iteration - 1]])
    handler.attach(engine)
    seen: list[str] = []

    @engine.on(Events.ITERATION_COMPLETED)
    def _first_record(e: Engine) -> None:
        if e.state.iteration == 1:
            seen.append(json.loads((tmp_path / "1-130" / "prediction.json").read_text())["exam_id"])

    engine.run(range(len(images)), max_epochs=1)
    assert seen == ["1.3.6.0"]  # alone, the image is its own study
    rule = "CBIS-DDSM PatientID pattern"
    for i in range(4):
        record = json.loads((tmp_path / f"1-13{i}" / "prediction.json").read_text())
        assert (record["exam_id"], record["patient_id"], record["grouped_by"]) == ("P_00173", "P_00173", rule)
    exams = list(csv.DictReader((tmp_path / "exams.csv").open()))
    assert [(e["exam_id"], e["breasts"], e["grouped_by"]) for e in exams] == [("P_00173", "L+R", rule)]
    breasts = list(csv.DictReader((tmp_path / "breasts.csv").open()))
    assert [(b["laterality"], b["views"]) for b in breasts] == [("L", "CC+MLO"), ("R", "CC+MLO")]
    rows = list(csv.DictReader((tmp_path / "predictions.csv").open()))
    assert {r["grouped_by"] for r in rows} == {rule}
