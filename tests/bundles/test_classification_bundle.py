"""The mammo_classification bundle, run the way a user runs it: configs, training, inference with heat maps,
evaluation, multi-process training on gloo, TorchScript export, and the combined exam report.

Training runs on a tiny phantom data set (96 x 80 images fitted into 64 x 64); inference, evaluation, export
and the exam report use the bundle's shipped weights and sample (one phantom screening exam).
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from bundle_helpers import (
    TINY_RUNS,
    bundle_workflow,
    check_first_step_sees,
    check_multi_process_training_on_gloo,
    check_resume_after_the_last_completed_epoch,
    check_torchscript_export,
    check_training_outputs,
    check_workflow_properties,
    inputs_with_corrupt_files,
    run_from_bundle_folder,
    tiny_train_workflow,
    train_once,
)
from ignite.engine import Events
from monai.bundle import ConfigParser, ConfigWorkflow, verify_metadata, verify_net_in_out
from PIL import Image

from monai_mammo.bundle import locate_bundle_root
from monai_mammo.data import MammoDicomReader
from monai_mammo.outputs import ExamReport
from monai_mammo.transforms import BreastMask

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_classification"
CONFIGS = BUNDLE / "configs"
META = str(CONFIGS / "metadata.json")
SCHEMA = REPO / "bundles" / "schema" / "metadata_schema.json"
TRAIN = str(CONFIGS / "train.json")
WHOLE_IMAGE = str(CONFIGS / "train_whole_image.json")
INFERENCE = str(CONFIGS / "inference.json")
SAMPLE_IMAGES = BUNDLE / "sample" / "images"

TINY = TINY_RUNS[BUNDLE.name]


def train_workflow(datalist: Path, output_dir: Path, **override: object) -> ConfigWorkflow:
    return tiny_train_workflow(BUNDLE, datalist, output_dir, **override)


@pytest.fixture(scope="module")
def trained(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of one tiny training epoch."""
    return train_once(BUNDLE, tiny_data, tmp_path_factory.mktemp("train"))


@pytest.fixture(scope="module")
def inference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """Inference over the sample plus a truncated DICOM and a text file named .dcm."""
    inputs = tmp_path_factory.mktemp("inputs")
    good = inputs_with_corrupt_files(SAMPLE_IMAGES, inputs)
    out = tmp_path_factory.mktemp("infer")
    workflow = bundle_workflow(BUNDLE, INFERENCE, "inference", dataset_dir=str(inputs), output_dir=str(out))
    workflow.run()
    workflow.finalize()
    return inputs, out, good


def test_metadata_verifies_against_the_shipped_schema() -> None:
    verify_metadata(meta_file=META, filepath=str(SCHEMA))
    meta = json.loads(Path(META).read_text())
    assert meta["version"] in meta["changelog"]
    assert meta["network_data_format"]["outputs"]["pred"]["channel_def"] == {
        "0": "normal",
        "1": "benign",
        "2": "malignant",
    }


def test_network_matches_the_metadata_in_and_out() -> None:
    verify_net_in_out(net_id="network_def", meta_file=META, config_file=INFERENCE, device="cpu", n=2)


def test_train_and_inference_define_the_same_network_and_preprocessing() -> None:
    train, infer = ConfigParser(), ConfigParser()
    train.read_config(TRAIN)
    infer.read_config(INFERENCE)
    for key in ("network_def", "image_size", "init_features", "growth_rate", "crop_margin", "class_names"):
        assert train[key] == infer[key], key
    train_steps = [t["_target_"].split(".")[-1] for t in train["deterministic_transforms"]]
    infer_steps = [t["_target_"].split(".")[-1] for t in infer["preprocessing"]["transforms"]]
    assert train_steps == infer_steps


def test_bundle_root_is_found_from_the_repository_root_and_from_the_bundle_folder() -> None:
    assert Path(locate_bundle_root("mammo_classification", start=REPO)) == BUNDLE
    assert Path(locate_bundle_root("mammo_classification", start=BUNDLE)) == BUNDLE


def test_train_and_inference_workflows_have_the_required_properties(tiny_data: Path, tmp_path: Path) -> None:
    check_workflow_properties(BUNDLE, tiny_data, tmp_path)


def test_sampler_balances_the_classes(tiny_data: Path, tmp_path: Path) -> None:
    workflow = train_workflow(tiny_data, tmp_path)
    items = workflow.parser.get_parsed_content("train#datalist")
    sampler = workflow.parser.get_parsed_content("train#sampler")
    weight_per_class = Counter()
    for item, weight in zip(items, sampler.weights.tolist()):
        weight_per_class[item["class"]] += weight
    assert len(weight_per_class) >= 2
    assert max(weight_per_class.values()) == pytest.approx(min(weight_per_class.values()))
    # the training fold's random transforms never touch the validation fold
    validation = workflow.parser.get_parsed_content("validate#preprocessing")
    assert not any("Rand" in type(t).__name__ for t in validation.transforms)


def test_one_epoch_of_training_saves_the_best_model_and_the_training_state(trained: Path) -> None:
    state = check_training_outputs(trained)
    assert state["best_model_saver"]["best_epoch"] == 1  # the validation AUC was defined and saved


def test_whole_image_stage_trains_every_place_from_the_patch_weights(
    trained: Path, tiny_data: Path, tmp_path: Path
) -> None:
    """``train.json`` + ``train_whole_image.json``: starts from the given weights (``--pretrained``), the
    trainer's prediction is the evidence map and its label one class per place; it saves a model."""
    workflow = bundle_workflow(
        BUNDLE,
        [TRAIN, WHOLE_IMAGE],
        "train",
        datalist=str(tiny_data),
        output_dir=str(tmp_path / "whole"),
        **{**TINY, "pretrained": str(trained / "model.pt")},
    )
    first: dict[str, torch.Tensor] = {}
    workflow.parser.get_parsed_content("train#trainer").add_event_handler(
        Events.ITERATION_COMPLETED(once=1),
        lambda e: first.update(pred=e.state.output[0]["pred"], label=e.state.output[0]["label"]),
    )
    check_first_step_sees(workflow, trained / "model.pt")
    places = tuple(n // 32 for n in TINY["image_size"])
    assert tuple(first["pred"].shape) == (3, *places)  # softmax over the classes at every place
    assert tuple(first["label"].shape) == places and first["label"].dtype == torch.long
    assert (tmp_path / "whole" / "model.pt").is_file()


def test_interrupted_training_resumes_after_the_last_completed_epoch(tiny_data: Path, tmp_path: Path) -> None:
    check_resume_after_the_last_completed_epoch(
        BUNDLE, tiny_data, tmp_path / "run", "true"
    )  # `--resume true`


def _outside_crop(image: np.ndarray, margin: int = 8, tolerance: int = 3) -> np.ndarray:
    """Pixels outside the breast box plus ``margin`` (the bundle's crop), less a small ``tolerance``."""
    mask = np.asarray(BreastMask()(image))[0] > 0
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    outside = np.ones(mask.shape, dtype=bool)
    pad = margin + tolerance
    outside[max(rows[0] - pad, 0) : rows[-1] + 1 + pad, max(cols[0] - pad, 0) : cols[-1] + 1 + pad] = False
    return outside


def test_inference_writes_heat_maps_in_the_original_geometry_and_reports_corrupt_files(
    inference_run: tuple[Path, Path, list[Path]],
) -> None:
    _, out, good = inference_run
    report = json.loads((out / "failures.json").read_text())
    assert report["n_items"] == 6 and report["n_failed"] == 2
    assert {Path(f["source"]).name for f in report["failures"]} == {"truncated.dcm", "notes.dcm"}
    reader = MammoDicomReader()
    for path in good:
        folder = out / path.stem
        assert {p.name for p in folder.iterdir()} == {"heatmap.png", "overlay.png", "prediction.json"}
        image, _ = reader.get_data(reader.read(path))
        heat = np.asarray(Image.open(folder / "heatmap.png"))
        assert heat.shape == image.shape[1:] and heat.dtype == np.uint8
        # nothing outside the breast crop: the fit, crop and flip were undone in place
        outside = _outside_crop(image)
        assert outside.mean() > 0.05 and heat[outside].max() == 0 and heat[~outside].max() > 0
        record = json.loads((folder / "prediction.json").read_text())
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert record["heatmap_class"] == "malignant"
        assert record["laterality"] in path.stem and record["view"] in path.stem
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert sorted(r["name"] for r in rows) == [p.stem for p in good]
    assert len({r["exam_id"] for r in rows}) == 1  # one StudyInstanceUID: one exam
    breasts = list(csv.DictReader((out / "breasts.csv").open()))
    assert [(b["laterality"], b["views"]) for b in breasts] == [("L", "CC+MLO"), ("R", "CC+MLO")]
    exam = next(csv.DictReader((out / "exams.csv").open()))
    assert float(exam["malignant"]) == pytest.approx(max(float(b["p_malignant"]) for b in breasts), abs=1e-5)
    full = json.loads((out / "report.json").read_text())
    assert full["n_images"] == 4 and full["aggregation"]["view_rule"] == "mean"
    assert not [p for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_inference_on_the_real_cbis_ddsm_films_makes_one_exam_of_two_breasts(
    shared_data: Path, tmp_path: Path
) -> None:
    """The four CBIS-DDSM films of one woman: PatientID is per view (``Mass-Test_P_00173_LEFT_CC``) and every
    image has its own StudyInstanceUID, so only the data set's naming pattern puts them in one exam."""
    out = tmp_path / "classification"
    workflow = bundle_workflow(
        BUNDLE, INFERENCE, "inference", dataset_dir=str(shared_data / "cbis_ddsm"), output_dir=str(out)
    )
    workflow.run()
    workflow.finalize()
    report = json.loads((out / "report.json").read_text())
    assert report["n_images"] == 4 and len(report["exams"]) == 1
    exam = report["exams"][0]
    rule = "CBIS-DDSM PatientID pattern"
    assert (exam["exam_id"], exam["patient_id"], exam["grouped_by"]) == ("P_00173", "P_00173", rule)
    assert [(b["laterality"], b["views"]) for b in report["breasts"]] == [("L", "CC+MLO"), ("R", "CC+MLO")]
    assert {(i["exam_id"], i["grouped_by"]) for i in report["images"]} == {("P_00173", rule)}
    record = json.loads((out / "dicom" / "1-130" / "prediction.json").read_text())
    assert (record["exam_id"], record["laterality"], record["view"], record["grouped_by"]) == (
        "P_00173",
        "L",
        "CC",
        rule,
    )
    exams = tmp_path / "exams"
    index = json.loads(ExamReport(out, None, exams, combined_max_size=256).write().read_text())
    assert index["n_exams"] == 1 and index["exams"][0]["grouped_by"] == rule
    exam_report = json.loads((exams / index["exams"][0]["folder"] / "report.json").read_text())
    assert exam_report["grouped_by"] == rule and len(exam_report["images"]) == 4
    assert [(b["laterality"], b["views"]) for b in exam_report["breasts"]] == [
        ("L", "CC+MLO"),
        ("R", "CC+MLO"),
    ]


def test_evaluation_reports_auc_sensitivity_calibration_per_image_and_exam(tmp_path: Path) -> None:
    workflow = bundle_workflow(
        BUNDLE, [TRAIN, str(CONFIGS / "evaluate.json")], "evaluation", output_dir=str(tmp_path), n_boot=100
    )
    workflow.run()
    workflow.finalize()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    image = metrics["per_image"]
    assert image["n"] == 4 and image["class_counts"] == {"normal": 2, "benign": 0, "malignant": 2}
    auc = image["malignant"]["auc"]
    assert 0.0 <= auc["ci95"][0] <= auc["value"] <= auc["ci95"][1] <= 1.0
    assert set(image["malignant"]["sensitivity_at_specificity"]) == {"0.9", "0.95"}
    assert 0.0 <= image["malignant"]["ece"] <= 1.0
    assert np.asarray(image["confusion_matrix"]["matrix"]).sum() == 4
    assert metrics["per_exam"]["n"] == 1  # one exam: no AUC, said so
    assert (
        metrics["per_exam"]["malignant"]["auc"] is None
        and "both classes" in metrics["per_exam"]["malignant"]["note"]
    )
    assert (tmp_path / "roc_malignant_image.png").is_file()
    assert len((tmp_path / "metrics_per_image.csv").read_text().splitlines()) == 5


def test_multi_process_training_on_gloo(tiny_data: Path, tmp_path: Path) -> None:
    check_multi_process_training_on_gloo(BUNDLE, tiny_data, tmp_path, TINY)


def test_torchscript_export_gives_the_same_output(tmp_path: Path) -> None:
    check_torchscript_export(BUNDLE, tmp_path, (128, 96))


def test_exam_report_runs_from_the_bundle_folder_on_the_sample(tmp_path: Path) -> None:
    """The combined config: segmentation and classification over the sample, one report per exam."""
    run_from_bundle_folder(BUNDLE, "configs/exam_report.json", tmp_path)
    index = json.loads((tmp_path / "exams" / "index.json").read_text())
    assert index["n_exams"] == 1 and index["failures"] == {"classification": [], "segmentation": []}
    folder = tmp_path / "exams" / index["exams"][0]["folder"]
    report = json.loads((folder / "report.json").read_text())
    assert set(report["exam"]) >= {
        "benign",
        "malignant",
        "abnormal",
        "predicted_class",
        "most_suspicious_breast",
    }
    assert len(report["breasts"]) == 2 and len(report["images"]) == 4
    for image in report["images"]:
        assert image["lesions"] is not None  # the segmentation's lesion table, possibly empty
        for key in (
            "heatmap_png",
            "heatmap_overlay_png",
            "lesion_overlay_png",
            "lesion_mask_png",
            "combined_png",
        ):
            assert (folder / image["files"][key]).is_file(), key
        heat = np.asarray(Image.open(folder / image["files"]["heatmap_png"]))
        mask = np.asarray(Image.open(folder / image["files"]["lesion_mask_png"]))
        assert heat.shape == mask.shape  # both in the original geometry
    assert (folder / "report.md").read_text().startswith("# Exam ")


def test_exam_report_of_a_film_without_pixel_spacing_is_strict_json(
    shared_data: Path, tmp_path: Path
) -> None:
    """A real mini-MIAS film (PNG, no pixel spacing) through ``exam_report.json``: its lesions' areas in mm²
    are unknown, and every JSON file of the run (both bundles' and the exam report's) writes them as
    ``null``, never the ``NaN`` that JSON does not have."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    # a film on which the segmentation finds a lesion (a large, bright circumscribed mass)
    shutil.copy(shared_data / "mini_mias" / "images" / "mdb028.png", inputs)
    workflow = bundle_workflow(
        BUNDLE,
        str(CONFIGS / "exam_report.json"),
        "inference",
        dataset_dir=str(inputs),
        output_dir=str(tmp_path / "out"),
    )
    workflow.run()

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    paths = sorted((tmp_path / "out").rglob("*.json"))
    parsed = {
        p.relative_to(tmp_path / "out").as_posix(): json.loads(p.read_text(), parse_constant=refuse)
        for p in paths
    }
    assert {"classification/report.json", "segmentation/failures.json", "exams/index.json"} <= set(parsed)
    reports = [v for k, v in parsed.items() if k.startswith("exams/") and k.endswith("/report.json")]
    assert len(reports) == 1
    lesions = reports[0]["images"][0]["lesions"]
    assert lesions and all(r["area_mm2"] is None and r["area_px"] >= 64 for r in lesions)
