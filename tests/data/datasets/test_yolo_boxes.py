"""yolo_boxes importer: YOLO folders the tests write (real ddsm_boxes films, Roboflow-style; synthetic)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from dataset_trees import breast_image, write_png
from PIL import Image

from monai_mammo.cli import main
from monai_mammo.data.datalist import FOLDS, load_datalist
from monai_mammo.data.datasets import (
    DatasetLayoutError,
    read_yolo_labels,
    read_yolo_names,
    report_path,
    scan_yolo_boxes,
)

CASES = ("A_1108", "B_3012", "A_1745")  # class '1' L CC+MLO, class '1' R CC+MLO, class 'tumor' R MLO


def _ddsm_rows(source: Path) -> list[dict[str, str]]:
    lines = (source / "boxes.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    return [r for r in rows if r["case_id"] in CASES]


def _yolo_line(cls: int, box: list[float], rows: int, cols: int) -> str:
    x0, y0, x1, y1 = box
    values = ((x0 + x1) / 2 / cols, (y0 + y1) / 2 / rows, (x1 - x0) / cols, (y1 - y0) / rows)
    return f"{cls} " + " ".join(f"{v:.9f}" for v in values)


def _write(
    root: Path, images: str, labels: str, stem: str, pixels: np.ndarray, lines: list[str] | None
) -> None:
    (root / images).mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).convert("RGB").save(root / images / f"{stem}.jpg", quality=95)
    if lines is not None:
        (root / labels).mkdir(parents=True, exist_ok=True)
        (root / labels / f"{stem}.txt").write_text("".join(line + "\n" for line in lines))


def build_roboflow_export(source: Path, root: Path, layout: str = "roboflow") -> dict[str, list[float]]:
    """A Roboflow-style export: 6 real DDSM films (train/valid/test), one rotated copy, 3 synthetic images.

    ``layout="ultralytics"`` writes images/<split>/ and labels/<split>/ instead of <split>/images/.

    Returns:
        the expected boxes (pixel corners) per exported stem.
    """

    def folders(split: str) -> tuple[str, str]:
        return (
            (f"{split}/images", f"{split}/labels")
            if layout == "roboflow"
            else (f"images/{split}", f"labels/{split}")
        )

    expected: dict[str, list[float]] = {}
    splits = {"A_1108": "train", "B_3012": "valid", "A_1745": "test"}
    for n, row in enumerate(_ddsm_rows(source)):
        pixels = np.asarray(Image.open(source / "images" / row["image"]))
        box = [float(row[k]) for k in ("x0", "y0", "x1", "y1")]
        stem = f"{row['image'][:-4]}_jpg.rf.{n:04x}beef"
        cls = 0 if row["rf_class"] == "1" else 1
        _write(root, *folders(splits[row["case_id"]]), stem, pixels, [_yolo_line(cls, box, *pixels.shape)])
        expected[stem] = box
        if n == 0:  # Roboflow's augmented copy: the film turned 90 degrees clockwise, its box with it
            rows, cols = pixels.shape
            turned = [rows - box[3], box[0], rows - box[1], box[2]]
            stem = f"{row['image'][:-4]}_jpg.rf.{n:04x}f00d"
            _write(
                root, *folders("train"), stem, np.rot90(pixels, k=-1), [_yolo_line(cls, turned, cols, rows)]
            )
            expected[stem] = turned
    # synthetic images without a known naming convention
    synthetic = breast_image("L", rows=96, cols=64, seed=1, dtype=np.uint8)
    _write(
        root,
        *folders("train"),
        "1234_jpg.rf.aa",
        synthetic,
        [
            "1 0.5 0.25 0.5 0.25",  # 16..48 x 12..36
            "0 0.1 0.1 0.2 0.1 0.2 0.3 0.1 0.3",  # a polygon: its bounding box 6.4..12.8 x 9.6..28.8
            "0 12 30 40 20",  # pixels, not normalised: left out
            "2 0.5 0.5 0.1 0.1",  # a class data.yaml does not name
            "nonsense",
        ],
    )
    expected["1234_jpg.rf.aa"] = [16.0, 12.0, 48.0, 36.0, 6.4, 9.6, 12.8, 28.8, 28.8, 43.2, 35.2, 52.8]
    _write(root, *folders("valid"), "scan_0042", synthetic, [])  # empty label file: no lesion
    _write(root, *folders("test"), "scan_0043", synthetic, None)  # no label file: no lesion, reported
    expected["scan_0042"] = expected["scan_0043"] = []
    (root / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\nnames: ['1', 'tumor']\n"
        "\nroboflow:\n  workspace: x\n  license: CC BY 4.0\n"
    )
    return expected


@pytest.fixture
def ddsm_source(shared_data: Path) -> Path:
    source = shared_data / "ddsm_boxes"
    if not (source / "boxes.csv").is_file():
        pytest.skip(f"{source} has no boxes.csv")
    return source


def test_read_yolo_labels_and_names(tmp_path):
    (tmp_path / "a.txt").write_text(
        "0 0.5 0.5 0.2 0.4\n\n1 0.1 0.2 0.3 0.2 0.2 0.4\n3 1.5 0.5 0.1 0.1\nx y\n"
    )
    boxes, problems = read_yolo_labels(tmp_path / "a.txt")
    assert boxes[0] == (0, 0.5, 0.5, 0.2, 0.4)
    assert boxes[1][0] == 1 and np.allclose(boxes[1][1:], (0.2, 0.3, 0.2, 0.2))
    assert len(boxes) == 2 and len(problems) == 2
    assert "a.txt:4" in problems[0] and "not normalised" in problems[0] and "a.txt:5" in problems[1]
    (tmp_path / "list.yaml").write_text("names: [benign, malignant]\n")
    (tmp_path / "dict.yaml").write_text("names:\n  0: mass\n  3: calcification\n")
    assert read_yolo_names(tmp_path / "list.yaml") == {0: "benign", 1: "malignant"}
    assert read_yolo_names(tmp_path / "dict.yaml") == {0: "mass", 3: "calcification"}
    (tmp_path / "bad.yaml").write_text("names: [a, b\n")
    with pytest.raises(DatasetLayoutError, match="bad.yaml: not a YAML file"):
        read_yolo_names(tmp_path / "bad.yaml")


@pytest.mark.parametrize("layout", ["roboflow", "ultralytics"])
def test_scan_an_export_of_real_ddsm_films(ddsm_source, tmp_path, layout):
    root = tmp_path / "export"
    expected = build_roboflow_export(ddsm_source, root, layout)
    result = scan_yolo_boxes(root)
    records = {Path(r.image).stem: r for r in result.records}
    assert sorted(records) == sorted(expected) and len(records) == 9
    for stem, box in expected.items():  # normalised and back: the pixel corners of the source table
        got = [v for b in records[stem].boxes for v in b]
        assert np.allclose(got, box, atol=1e-4), stem
    assert result.issue_counts() == {
        "bad_label_line": 2,
        "image_level_patients": 1,
        "no_label_file": 1,
        "unknown_class": 1,
    }
    assert next(i for i in result.issues if i["kind"] == "image_level_patients")["images"] == 3
    # the woman from DDSM's file names; the rotated copy stays with its film
    ddsm = [r for r in result.records if r.fields["patient_source"] == "DDSM file name"]
    assert len(ddsm) == 6 and {r.patient_id for r in ddsm} == set(CASES)
    for r in ddsm:
        assert Path(r.image).name.startswith(r.patient_id + "_")
        assert r.fields["laterality"] in ("L", "R") and r.fields["view"] in ("CC", "MLO")
    assert Counter(r.official_split for r in ddsm) == {"training": 3, "validation": 2, "test": 1}
    # class names '1'/'tumor' say nothing of pathology: lesions of unknown pathology
    assert {r.fields["pathology"] for r in ddsm} == {"UNKNOWN"}
    assert {r.fields["abnormal"] for r in ddsm} == {1}
    assert Counter(label for r in ddsm for label in r.fields["box_labels"]) == {"1": 5, "tumor": 1}
    synthetic = records["1234_jpg.rf.aa"]
    assert synthetic.patient_id == "1234" and synthetic.fields["box_labels"] == ["tumor", "1", "2"]
    for stem in ("scan_0042", "scan_0043"):
        assert records[stem].boxes == [] and records[stem].fields["pathology"] == "normal"
    assert result.info["box_classes"] == {"0": "1", "1": "tumor"}


def test_prepare_an_export_through_the_cli(ddsm_source, tmp_path):
    root = tmp_path / "export"
    build_roboflow_export(ddsm_source, root)
    out = tmp_path / "yolo" / "datalist.json"
    code = main(
        [
            "prepare",
            "roboflow",
            "--root",
            str(root),
            "--out",
            str(out),
            "--no-progress",
            "--workers",
            "1",
            "--option",
            "class_pathology=1=malignant,tumor=benign",
        ]
    )
    assert code == 0
    data = {fold: load_datalist(out, fold) for fold in FOLDS}  # validates: no patient in two folds
    items = {Path(i["image"]).stem: i for fold in FOLDS for i in data[fold]}
    assert len(items) == 9
    turned = [i for s, i in items.items() if s.endswith("f00d")][0]
    original = items[turned["image_id"].replace("f00d", "beef")]
    fold_of = {Path(i["image"]).stem: fold for fold in FOLDS for i in data[fold]}
    assert fold_of[Path(turned["image"]).stem] == fold_of[Path(original["image"]).stem]  # one woman, one fold
    assert turned["pathology"] == original["pathology"] == "malignant" and turned["class"] == 2
    tumor = next(i for i in items.values() if i["image_id"].startswith("A_1745"))
    assert (tumor["pathology"], tumor["patient_id"], tumor["laterality"]) == ("benign", "A_1745", "R")
    mask = np.asarray(Image.open(turned["label"]))
    x0, y0, x1, y1 = turned["boxes"][0]
    assert mask[int((y0 + y1) / 2), int((x0 + x1) / 2)] == 1 and mask.sum() > 0
    assert turned["box_format"] == "xyxy_corner_px"
    report = json.loads(report_path(out).read_text())
    assert report["issue_counts"]["image_level_patients"] == 1


def test_no_images_folder_is_a_clear_error(tmp_path):
    write_png(tmp_path / "pics" / "a.png", breast_image(dtype=np.uint8))
    with pytest.raises(DatasetLayoutError, match="no image below an 'images' folder"):
        scan_yolo_boxes(tmp_path)
