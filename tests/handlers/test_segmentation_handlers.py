"""SegmentationWriter and SegmentationReport on an Ignite engine whose output is what a MONAI evaluator
with decollated postprocessing produces: a list of per-image dictionaries of MetaTensors."""

from __future__ import annotations

import csv
import json
import math
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


def item(
    name: str, prob: torch.Tensor, label: torch.Tensor, patient: str, spacing: list[float] | None = None
) -> dict:
    """0.6 mm pixels by default: the smallest synthetic lesion below (13 pixels) is 4.7 mm², above the 4 mm²
    minimum lesion size of the handlers."""
    meta = {
        "filename_or_obj": f"/data/{name}.dcm",
        "pixel_spacing": [0.6, 0.6] if spacing is None else spacing,
    }
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
    assert float(lesion["area_mm2"]) == pytest.approx(int(lesion["area_px"]) * 0.36)


def specks(shape: tuple[int, int] = (64, 48)) -> torch.Tensor:
    """A lesion (a disc of 113 pixels) and specks of 1, 3, 12 and 30 pixels."""
    prob = 0.9 * disc(shape, (20, 20), 6)
    prob[50, 5] = 0.7
    prob[50, 10:13] = 0.7
    prob[40:43, 40:44] = 0.7
    prob[55:60, 30:36] = 0.7
    return prob


@pytest.mark.parametrize(
    "spacing, kwargs, areas",
    [
        ([0.6, 0.6], {}, [113, 12, 30]),  # 4 mm² = 11.1 pixels of 0.36 mm²
        ([0.3, 0.3], {}, [113]),  # 4 mm² = 44.4 pixels of 0.09 mm²
        ([0.3, 0.3], {"min_area_mm2": None, "min_area_px": 12}, [113, 12, 30]),
        (None, {}, [113, 30]),  # no spacing: 16 pixels
        (None, {"working_size": 32}, [113]),  # 16 pixels of a 32-pixel working image: 36 of these
        (None, {"working_size": 128}, [113, 30]),  # never fewer than 16 pixels of the written image
        ([0.6, 0.6], {"min_area_mm2": 0.0, "min_area_px": 0}, [113, 1, 3, 12, 30]),
    ],
)
def test_writer_reports_no_lesion_below_the_minimum_size(
    tmp_path: Path, spacing: list[float] | None, kwargs: dict, areas: list[int]
) -> None:
    one = item(
        "s", specks(), torch.zeros(64, 48), "p1", spacing=[math.nan, math.nan] if spacing is None else spacing
    )
    run(SegmentationWriter(tmp_path, pred_key="prob", data_root_dir="/data", **kwargs), [one])
    rows = list(csv.DictReader((tmp_path / "s" / "lesions.csv").open()))
    assert sorted(int(r["area_px"]) for r in rows) == sorted(areas)
    assert [r["label"] for r in rows] == [str(i) for i in range(1, len(areas) + 1)]
    summary = next(csv.DictReader((tmp_path / "summary.csv").open()))
    assert summary["n_lesions"] == str(len(areas))
    mask = np.asarray(Image.open(tmp_path / "s" / "mask.png")) > 0
    assert mask.sum() == 113 + 1 + 3 + 12 + 30  # the mask keeps every pixel above the threshold


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
    with pytest.raises(ValueError, match="min_area_mm2"):
        SegmentationWriter(tmp_path, min_area_mm2=-1.0)
    with pytest.raises(ValueError, match="working_size"):
        SegmentationWriter(tmp_path, working_size=0)


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


def test_report_image_auc_from_the_maximum_probability(tmp_path: Path, images: list[dict]) -> None:
    """Maxima 0.9 and 0.8 (lesions) against 0.25 (none): AUC 1; with a none-image at 0.85, above b: 3/4."""
    report = SegmentationReport(tmp_path / "1", n_boot=100)
    run(report, images)
    per_image = list(csv.DictReader((tmp_path / "1" / "metrics_per_image.csv").open()))
    assert [float(r["max_prob"]) for r in per_image] == pytest.approx([0.9, 0.8, 0.25])
    image_auc = json.loads((tmp_path / "1" / "metrics.json").read_text())["image_auc"]
    assert image_auc["auc"] == 1.0 and image_auc["n_with_lesion"] == 2 and image_auc["n_without"] == 1
    bright_normal = item("d", 0.85 * disc((64, 48), (30, 20), 3), torch.zeros(64, 48), "p4")
    report = SegmentationReport(tmp_path / "2", n_boot=100)
    run(report, [*images, bright_normal])
    image_auc = report.results["image_auc"]
    assert image_auc["auc"] == pytest.approx(0.75) and image_auc["ci95"][0] <= 0.75 <= image_auc["ci95"][1]
    report = SegmentationReport(tmp_path / "3", n_boot=100)
    run(report, images[:2])
    assert report.results["image_auc"] is None  # every image has a lesion


def test_report_leaves_out_candidates_below_the_minimum_size(tmp_path: Path, images: list[dict]) -> None:
    """Specks of 1, 3, 12 and 30 pixels (0.36, 1.1, 4.3 and 10.8 mm²) beside image a's lesion: false
    positives only from 4 mm² on, as the writer lists them; all four without a minimum."""
    truth = disc((64, 48), (20, 20), 6)
    speckled = [item("s", specks(), truth, "p1"), *images[1:]]
    per_image = {}
    for kwargs in ({}, {"min_area_mm2": None, "min_area_px": 1}):
        report = SegmentationReport(tmp_path / str(len(per_image)), group_key=None, n_boot=50, **kwargs)
        run(report, speckled)
        per_image[len(per_image)] = report.rows[0]
    assert per_image[0]["n_detected"] == 1 and per_image[0]["n_false_positives"] == 2
    assert per_image[1]["n_detected"] == 1 and per_image[1]["n_false_positives"] == 4
    assert report.results["froc"]["min_area_mm2"] is None


def test_report_counts_in_pixels_of_the_evaluated_map_and_in_its_own_spacing(tmp_path: Path) -> None:
    """Without spacing: 16 pixels of the map. With the reader's spacing and an affine of a resize: the
    resized pixels' size (0.3 mm read, resized to half: 0.6 mm, 0.36 mm² a pixel)."""
    truth = disc((64, 48), (20, 20), 6)
    unknown = item("u", specks(), truth, "p1", spacing=[math.nan, math.nan])
    resized = item("r", specks(), truth, "p1", spacing=[0.3, 0.3])
    resized["prob"].meta["original_affine"] = np.diag([0.3, 0.3, 1.0])
    resized["prob"].affine = torch.diag(torch.tensor([0.6, 0.6, 1.0], dtype=torch.float64))
    report = SegmentationReport(tmp_path, group_key=None, n_boot=50)
    run(report, [unknown, resized])
    assert [r["n_false_positives"] for r in report.rows] == [1, 2]  # 30 px; 12 and 30 px (4.3, 10.8 mm²)


def test_report_box_hits_beside_peak_hits(tmp_path: Path) -> None:
    """A candidate in the corner of a loose box: missed by peak hits, found by box hits; both reported."""
    truth = torch.zeros(64, 48)
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(48.0), indexing="ij")
    truth[((yy - 29.5) / 10) ** 2 + ((xx - 20.5) / 6) ** 2 <= 1] = (
        1  # an ellipse in the box [20, 40) x [15, 27)
    )
    prob = torch.zeros(64, 48)
    prob[20:25, 15:20] = 0.8  # 25 px in the box's corner, outside the ellipse
    report = SegmentationReport(tmp_path, group_key=None, n_boot=50, hit_rules=["peak", "box"])
    run(report, [item("loose", prob, truth, "p1", spacing=[math.nan, math.nan])])
    results = json.loads((tmp_path / "metrics.json").read_text())
    assert results["froc"]["hit_rule"] == "peak" and results["froc"] == results["froc_by_hit_rule"]["peak"]
    assert results["froc_by_hit_rule"]["peak"]["sensitivity_at_fp_per_image"]["1"] == 0.0
    box = results["froc_by_hit_rule"]["box"]
    assert box["sensitivity_at_fp_per_image"]["1"] == 1.0 and box["sensitivity_ci95"]["1"] == [1.0, 1.0]
    assert report.rows[0]["n_false_positives"] == 1  # the per-image table follows the first rule
    with pytest.raises(ValueError, match="hit_rules"):
        SegmentationReport(tmp_path, hit_rules=["iou"])


def test_report_without_lesions_has_no_froc(tmp_path: Path, images: list[dict]) -> None:
    report = SegmentationReport(tmp_path, group_key=None)
    run(report, [images[2]])
    assert report.results["froc"] is None and report.results["bootstrap"]["by"] == "image"
    assert not (tmp_path / "froc.png").exists()


def test_report_thresholds_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="candidate_threshold"):
        SegmentationReport(tmp_path, threshold=0.3, candidate_threshold=0.5)
