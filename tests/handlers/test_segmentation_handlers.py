"""SegmentationWriter and SegmentationReport on an Ignite engine whose output is what a MONAI evaluator
with decollated postprocessing produces: a list of per-image dictionaries of MetaTensors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor
from PIL import Image

from monai_mammo.handlers import SegmentationReport, SegmentationWriter


def disc(shape: tuple[int, int], centre: tuple[int, int], radius: float) -> torch.Tensor:
    rr, cc = np.ogrid[: shape[0], : shape[1]]
    return torch.from_numpy(((rr - centre[0]) ** 2 + (cc - centre[1]) ** 2 <= radius**2).astype(np.float32))


def item(name: str, prob: torch.Tensor, label: torch.Tensor, patient: str) -> dict:
    meta = {"filename_or_obj": f"/data/{name}.dcm", "pixel_spacing": [0.1, 0.1]}
    return {
        "pred": MetaTensor((prob >= 0.5).float()[None], meta=dict(meta)),
        "prob": MetaTensor(prob[None], meta=dict(meta)),
        "image": MetaTensor(torch.rand(1, *prob.shape), meta=dict(meta)),
        "label": MetaTensor(label[None], meta=dict(meta)),
        "patient_id": patient,
    }


@pytest.fixture()
def images() -> list[dict]:
    shape = (64, 48)
    truth_a = disc(shape, (20, 20), 6)
    truth_b = disc(shape, (40, 30), 5) + disc(shape, (10, 10), 3)
    prob_a = 0.9 * disc(shape, (21, 20), 6)  # found
    # both lesions found (scores 0.8 and 0.2) and a false positive at 0.3
    prob_b = 0.8 * disc(shape, (40, 30), 4) + 0.2 * disc(shape, (10, 10), 2) + 0.3 * disc(shape, (55, 40), 3)
    prob_c = 0.25 * disc(shape, (30, 20), 3)  # a normal image with a false positive at 0.25
    return [
        item("a", prob_a, truth_a, "p1"),
        item("b", prob_b, (truth_b > 0).float(), "p2"),
        item("c", prob_c, torch.zeros(shape), "p3"),
    ]


def run(handler: object, images: list[dict]) -> Engine:
    engine = Engine(lambda e, batch: [images[e.state.iteration - 1]])
    handler.attach(engine)
    engine.run(range(len(images)), max_epochs=1)
    return engine


def test_writer_writes_each_image_and_a_summary(tmp_path: Path, images: list[dict]) -> None:
    run(SegmentationWriter(tmp_path, pred_key="prob", data_root_dir="/data"), images)
    for name in "abc":
        assert {p.name for p in (tmp_path / name).iterdir()} == {
            "mask.nii.gz",
            "mask.png",
            "prob.nii.gz",
            "overlay.png",
            "lesions.csv",
        }
        assert np.asarray(Image.open(tmp_path / name / "mask.png")).shape == (64, 48)
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert [(r["name"], r["n_lesions"]) for r in rows] == [("a", "1"), ("b", "1"), ("c", "0")]
    lesion = next(csv.DictReader((tmp_path / "a" / "lesions.csv").open()))
    assert float(lesion["area_mm2"]) == pytest.approx(int(lesion["area_px"]) * 0.01)


def test_writer_keeps_inputs_that_share_a_name_apart(tmp_path: Path, images: list[dict]) -> None:
    a, b, c = images
    for one, suffix in ((b, "png"), (c, "nii.gz")):  # /data/a.dcm, /data/a.png, /data/a.nii.gz
        for key in ("pred", "prob", "image", "label"):
            one[key].meta["filename_or_obj"] = f"/data/a.{suffix}"
    run(SegmentationWriter(tmp_path, pred_key="prob", data_root_dir="/data"), [a, b, c])
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["a", "a_nii_gz", "a_png"]
    with (tmp_path / "summary.csv").open() as f:
        assert [(r["name"], r["source"], float(r["max_prob"])) for r in csv.DictReader(f)] == [
            ("a", "/data/a.dcm", 0.9),
            ("a_png", "/data/a.png", 0.8),
            ("a_nii_gz", "/data/a.nii.gz", 0.25),
        ]
    peaks = [
        np.asarray(nib.load(tmp_path / n / "prob.nii.gz").dataobj).max() for n in ("a", "a_png", "a_nii_gz")
    ]
    np.testing.assert_allclose(peaks, [0.9, 0.8, 0.25])  # each folder holds its own image's outputs


def test_writer_checks_its_keys(tmp_path: Path, images: list[dict]) -> None:
    with pytest.raises(KeyError, match="nope"):
        run(SegmentationWriter(tmp_path, pred_key="nope"), images)
    with pytest.raises(ValueError, match="threshold"):
        SegmentationWriter(tmp_path, threshold=0.0)


def test_report_dice_and_froc(tmp_path: Path, images: list[dict]) -> None:
    report = SegmentationReport(tmp_path, n_boot=200)
    run(report, images)
    results = json.loads((tmp_path / "metrics.json").read_text())
    assert results["froc"] == json.loads(json.dumps(report.results["froc"]))
    assert results["n_images"] == 3 and results["n_images_with_lesion"] == 2 and results["n_lesions"] == 3
    per_image = {
        r["name"].split("/")[-1]: r for r in csv.DictReader((tmp_path / "metrics_per_image.csv").open())
    }
    assert float(per_image["c.dcm"]["dice"]) == 1.0  # empty truth, empty mask at 0.5
    assert per_image["b.dcm"]["n_detected"] == "2" and per_image["b.dcm"]["n_false_positives"] == "1"
    dice_lesion = results["dice_images_with_lesion"]
    expected = np.mean([float(per_image[n]["dice"]) for n in ("a.dcm", "b.dcm")])
    assert dice_lesion["mean"] == pytest.approx(expected) and dice_lesion["n"] == 2
    assert results["bootstrap"]["by"] == "patient"
    sens = results["froc"]["sensitivity_at_fp_per_image"]
    # scores: lesions 0.9, 0.8, 0.2; false positives 0.3, 0.25 over 3 images. At 0.5 FP/image the best
    # operating point is the threshold 0.3 (1/3 FP per image, 2 of 3 lesions); from 2/3 FP per image all 3.
    expected_sens = {"0.5": 2 / 3, "1": 1.0, "2": 1.0, "4": 1.0}
    assert sens == pytest.approx(expected_sens)
    assert (tmp_path / "froc.csv").is_file() and (tmp_path / "froc.png").is_file()


def test_report_without_lesions_has_no_froc(tmp_path: Path, images: list[dict]) -> None:
    report = SegmentationReport(tmp_path, group_key=None)
    run(report, [images[2]])
    assert report.results["froc"] is None and report.results["bootstrap"]["by"] == "image"
    assert not (tmp_path / "froc.png").exists()


def test_report_thresholds_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="candidate_threshold"):
        SegmentationReport(tmp_path, threshold=0.3, candidate_threshold=0.5)
