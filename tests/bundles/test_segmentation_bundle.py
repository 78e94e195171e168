"""The mammo_lesion_segmentation bundle, run the way a user runs it: configs, training, inference, evaluation,
multi-process training on gloo, TorchScript export.

Training runs on a tiny phantom data set (96 x 80 images, 32-pixel patches); inference, evaluation and export
use the bundle's shipped weights and sample.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
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
from monai.bundle import ConfigWorkflow, verify_metadata, verify_net_in_out
from monai.utils import optional_import
from PIL import Image
from scipy import ndimage

from monai_mammo.bundle import locate_bundle_root
from monai_mammo.data import MammoDicomReader

HAS_HIGHDICOM = optional_import("highdicom")[1]

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_lesion_segmentation"
CONFIGS = BUNDLE / "configs"
META = str(CONFIGS / "metadata.json")
SCHEMA = REPO / "bundles" / "schema" / "metadata_schema.json"
TRAIN = str(CONFIGS / "train.json")
SAMPLE_IMAGES = BUNDLE / "sample" / "images"

TINY = TINY_RUNS[BUNDLE.name]


def train_workflow(datalist: Path, output_dir: Path, **override: object) -> ConfigWorkflow:
    return tiny_train_workflow(BUNDLE, datalist, output_dir, **override)


@pytest.fixture(scope="module")
def trained(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of one tiny training epoch."""
    return train_once(BUNDLE, tiny_data, tmp_path_factory.mktemp("train"))


def test_metadata_verifies_against_the_shipped_schema() -> None:
    verify_metadata(meta_file=META, filepath=str(SCHEMA))


def test_metadata_without_version_is_rejected(tmp_path: Path) -> None:
    meta = json.loads(Path(META).read_text())
    del meta["version"]
    bad = tmp_path / "metadata.json"
    bad.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="version"):
        verify_metadata(meta_file=str(bad), filepath=str(SCHEMA))


def test_network_matches_the_metadata_in_and_out() -> None:
    verify_net_in_out(
        net_id="network_def", meta_file=META, config_file=str(CONFIGS / "inference.json"), device="cpu", n=8
    )


def test_bundle_root_is_found_from_the_repository_root_and_from_the_bundle_folder(tmp_path: Path) -> None:
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=REPO)) == BUNDLE
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=BUNDLE)) == BUNDLE


def test_train_and_inference_workflows_have_the_required_properties(tiny_data: Path, tmp_path: Path) -> None:
    check_workflow_properties(BUNDLE, tiny_data, tmp_path)


def test_one_epoch_of_training_saves_the_best_model_and_the_training_state(trained: Path) -> None:
    check_training_outputs(trained)


def test_training_starts_from_pretrained_weights(trained: Path, tiny_data: Path, tmp_path: Path) -> None:
    """``--pretrained model.pt`` fine-tunes: the first step sees the given weights, not a fresh network."""
    workflow = train_workflow(tiny_data, tmp_path / "tuned", pretrained=str(trained / "model.pt"))
    check_first_step_sees(workflow, trained / "model.pt")


def test_interrupted_training_resumes_after_the_last_completed_epoch(tiny_data: Path, tmp_path: Path) -> None:
    second = check_resume_after_the_last_completed_epoch(BUNDLE, tiny_data, tmp_path / "run", True)
    assert second.parser.get_parsed_content("validate#best_model_saver").best_epoch in (1, 2)


def test_training_leaves_out_unreadable_films_and_lists_them(tiny_data: Path, tmp_path: Path) -> None:
    """A truncated film and a missing mask in the training split: the run trains on the rest and says so."""
    datalist = json.loads(tiny_data.read_text())
    root = tiny_data.parent
    cut = tmp_path / "cut.dcm"
    cut.write_bytes((root / datalist["training"][0]["image"]).read_bytes()[:2000])
    datalist["training"][0]["image"] = str(cut)
    datalist["training"][1]["label"] = str(tmp_path / "deleted_mask.png")
    edited = root / "datalist_with_bad_films.json"
    edited.write_text(json.dumps(datalist))
    out = tmp_path / "run"
    workflow = train_workflow(edited, out)
    workflow.run()
    workflow.finalize()
    assert len(workflow.parser.get_parsed_content("train#dataset")) == 2
    report = json.loads((out / "training_failures.json").read_text())
    assert (report["n_items"], report["n_failed"]) == (4, 2)
    by_index = {f["index"]: f for f in report["failures"]}
    assert by_index[0]["error"] == "TruncatedFileError" and str(cut) in by_index[0]["message"]
    assert by_index[1]["error"] == "FileNotFoundError" and "deleted_mask.png" in by_index[1]["source"]
    assert json.loads((out / "validation_failures.json").read_text())["n_failed"] == 0
    assert (out / "model.pt").is_file()


def test_resume_without_a_checkpoint_fails_clearly(tiny_data: Path, tmp_path: Path) -> None:
    workflow = train_workflow(tiny_data, tmp_path / "none", resume=True)
    with pytest.raises(RuntimeError) as info:  # MONAI's config parser wraps the handler's error
        workflow.run()
    causes = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any(isinstance(e, FileNotFoundError) and "cannot resume" in str(e) for e in causes)


def _far_from_breast(image: np.ndarray, margin: int = 12) -> np.ndarray:
    """Pixels at least ``margin`` pixels away from anything brighter than the background."""
    from scipy import ndimage

    low = np.percentile(image, 5)
    breast = image > low + 0.05 * (image.max() - low)
    return ~ndimage.binary_dilation(breast, iterations=margin)


def test_inference_writes_outputs_in_the_original_geometry_and_reports_corrupt_files(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    good = inputs_with_corrupt_files(SAMPLE_IMAGES, inputs)
    out = tmp_path / "out"
    workflow = bundle_workflow(
        BUNDLE, str(CONFIGS / "inference.json"), "inference", dataset_dir=str(inputs), output_dir=str(out)
    )
    workflow.run()
    workflow.finalize()

    report = json.loads((out / "failures.json").read_text())
    assert report["n_items"] == 4 and report["n_failed"] == 2
    failed = {Path(f["source"]).name: f for f in report["failures"]}
    assert set(failed) == {"truncated.dcm", "notes.dcm"}
    assert all(f["error"].endswith("Error") and f["message"] for f in failed.values())

    from monai_mammo.data import MammoDicomReader

    for path in good:
        folder = out / path.stem
        expected = {"mask.nii.gz", "mask.png", "prob.nii.gz", "overlay.png", "lesions.csv"}
        expected |= {"seg.dcm"} if HAS_HIGHDICOM else set()  # dicom_outputs: on for DICOM inputs
        assert {p.name for p in folder.iterdir()} == expected
        image, _ = MammoDicomReader().get_data(MammoDicomReader().read(path))
        mask_png = np.asarray(Image.open(folder / "mask.png"))
        assert mask_png.shape == image.shape[1:]
        assert set(np.unique(mask_png)) <= {0, 255}
        prob = np.asarray(nib.load(folder / "prob.nii.gz").dataobj)
        assert prob.shape == image.shape[1:] and prob.dtype == np.float32
        assert 0.0 <= prob.min() and prob.max() <= 1.0
        assert (np.asarray(nib.load(folder / "mask.nii.gz").dataobj) == (mask_png > 0)).all()
        # far from the breast the probability is zero: the flip, crop and resize were undone in place
        outside = _far_from_breast(image[0])
        assert outside.mean() > 0.1
        assert prob[outside].max() < 1e-3
        assert prob[~outside].max() > 1e-3
        header = (folder / "lesions.csv").read_text().splitlines()[0]
        assert header.startswith("label,centre_row,centre_col")
    assert len((out / "summary.csv").read_text().splitlines()) == 1 + len(good)
    assert not [p for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def strict_json_loads(text: str) -> object:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity``, as RFC 8259 parsers do."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_inference_reports_no_lesion_below_the_minimum_size_and_writes_strict_json(
    shared_data: Path, tmp_path: Path
) -> None:
    """The phantoms (512 x 416, pixel spacing known) and two real mini-MIAS films (1024 x 1024 PNG, no
    spacing): no lesion below 4 mm², resp. below 16 pixels of the 512-pixel working image (64 of the film's
    own pixels), while the probability maps do hold smaller specks (the mask keeps them)."""
    inputs = tmp_path / "inputs"
    shutil.copytree(SAMPLE_IMAGES, inputs)
    films = ("mdb002", "mdb003")
    for name in films:
        shutil.copy(shared_data / "mini_mias" / "images" / f"{name}.png", inputs)
    out = tmp_path / "out"
    workflow = bundle_workflow(
        BUNDLE, str(CONFIGS / "inference.json"), "inference", dataset_dir=str(inputs), output_dir=str(out)
    )
    assert workflow.parser.get_parsed_content("min_lesion_area_mm2") == 4.0
    assert workflow.parser.get_parsed_content("min_lesion_area_px") == 16
    workflow.run()
    workflow.finalize()
    summary = {r["name"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert set(summary) == {p.stem for p in SAMPLE_IMAGES.glob("*.dcm")} | set(films)
    specks = 0
    for name, row in summary.items():
        lesions = list(csv.DictReader((out / name / "lesions.csv").open()))
        assert int(row["n_lesions"]) == len(lesions)
        mask = np.asarray(Image.open(out / name / "mask.png")) > 0
        components, n = ndimage.label(mask, structure=np.ones((3, 3)))
        sizes = np.bincount(components.ravel())[1:]
        if name in films:
            assert mask.shape == (1024, 1024)
            assert all(math.isnan(float(r["area_mm2"])) for r in lesions)  # no pixel spacing
            assert all(int(r["area_px"]) >= 64 for r in lesions), name
            kept = sizes >= 64
        else:
            assert all(float(r["area_mm2"]) >= 4.0 for r in lesions), name
            reader = MammoDicomReader()
            _, meta = reader.get_data(reader.read(inputs / f"{name}.dcm"))
            row_mm, col_mm = (float(v) for v in meta["pixel_spacing"])
            kept = sizes * row_mm * col_mm >= 4.0
        assert sorted(int(r["area_px"]) for r in lesions) == sorted(sizes[kept].tolist())
        specks += int((~kept).sum())
    assert specks > 0  # the probability maps do hold candidates below the minimum
    assert any(int(r["n_lesions"]) for r in summary.values())
    for path in out.rglob("*.json"):
        strict_json_loads(path.read_text())


def test_evaluation_reports_dice_with_a_confidence_interval_and_froc(tiny_data: Path, tmp_path: Path) -> None:
    workflow = bundle_workflow(
        BUNDLE,
        [TRAIN, str(CONFIGS / "evaluate.json")],
        "evaluation",
        datalist=str(tiny_data),
        output_dir=str(tmp_path),
        n_boot=200,
    )
    workflow.run()
    workflow.finalize()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    test_items = json.loads(tiny_data.read_text())["test"]
    assert metrics["n_images"] == len(test_items)
    for key in ("dice_images_with_lesion", "dice_all_images"):
        low, high = metrics[key]["ci95"]
        assert 0.0 <= metrics[key]["mean"] <= 1.0
        assert np.isnan(low) or low <= metrics[key]["mean"] <= high
    if metrics["n_lesions"]:
        assert set(metrics["froc"]["sensitivity_at_fp_per_image"]) == {"0.5", "1", "2", "4"}
        assert (tmp_path / "froc.png").is_file()
    rows = (tmp_path / "metrics_per_image.csv").read_text().splitlines()
    assert len(rows) == 1 + len(test_items)


def test_multi_process_training_on_gloo(tiny_data: Path, tmp_path: Path) -> None:
    check_multi_process_training_on_gloo(BUNDLE, tiny_data, tmp_path, TINY)


def test_torchscript_export_gives_the_same_output(tmp_path: Path) -> None:
    check_torchscript_export(BUNDLE, tmp_path, (96, 64))


def test_main_command_runs_from_the_bundle_folder(tmp_path: Path) -> None:
    """The README's main command, with the output sent to a temporary folder."""
    run_from_bundle_folder(BUNDLE, "configs/inference.json", tmp_path)
    names = sorted(p.stem for p in SAMPLE_IMAGES.glob("*.dcm")) + (["dicom_sr"] if HAS_HIGHDICOM else [])
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(names)
    assert json.loads((tmp_path / "failures.json").read_text())["n_failed"] == 0


@pytest.mark.parametrize("value, shown", [("false", False), ("true", True), (False, False), (True, True)])
def test_progress_flag_from_the_command_line(value: object, shown: bool) -> None:
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_config(TRAIN)
    parser["progress"] = value  # `--progress false` arrives as the text "false"
    handlers = parser["train"]["handlers"]
    (bar,) = (
        i for i, h in enumerate(handlers) if isinstance(h, dict) and h["_target_"].endswith("ProgressBar")
    )
    assert parser.get_parsed_content(f"train#handlers#{bar}#_disabled_") is (not shown)
