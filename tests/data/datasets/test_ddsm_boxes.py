"""ddsm_boxes importer: the fixture tree in the folder's layout and the real folder in ../shared/data."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from dataset_trees import real_ddsm_boxes_subset
from PIL import Image
from scipy import ndimage

from monai_mammo.cli import main
from monai_mammo.data.datalist import FOLDS, load_datalist
from monai_mammo.data.datasets import (
    BoxMask,
    ddsm_case_id,
    get_dataset,
    prepare_dataset,
    report_path,
    scan_ddsm_boxes,
)
from monai_mammo.data.datasets.records import BOX_FORMAT, DatasetLayoutError


def _extent(mask: np.ndarray) -> list[int]:
    rows, cols = np.nonzero(mask)
    return [int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1]


@pytest.mark.parametrize(
    "name, case",
    [
        ("A_1639_1-LEFT_MLO.png", "A_1639"),
        ("d_4126_1.RIGHT_CC.jpg", "D_4126"),
        ("B_3001_1-RIGHT_CC_jpg.rf.0a1b2c.jpg", "B_3001"),
        ("mdb001.png", None),
        ("P_00001_LEFT_CC.dcm", None),
    ],
)
def test_ddsm_case_id(name, case):
    assert ddsm_case_id(name) == case


def test_scan_fixture_tree(ddsm_boxes_tree):
    result = scan_ddsm_boxes(ddsm_boxes_tree)
    records = {r.key: r for r in result.records}
    assert sorted(records) == [
        "A_0001_1-LEFT_CC",
        "A_0001_1-LEFT_MLO",
        "B_0002_1-RIGHT_CC",
        "C_0003_1-LEFT_MLO",
        "D_0004_1-RIGHT_CC",
    ]
    assert result.issue_counts() == {"bad_box": 2, "box_without_image": 1, "missing_image": 1}
    cc = records["A_0001_1-LEFT_CC"]
    assert cc.patient_id == records["A_0001_1-LEFT_MLO"].patient_id == "A_0001"
    assert cc.boxes == [[10.0, 8.0, 30.0, 20.0], [40.5, 30.5, 50.5, 40.5]]
    assert cc.mask == BoxMask(((10.0, 8.0, 30.0, 20.0), (40.5, 30.5, 50.5, 40.5)))
    assert {
        k: cc.fields[k] for k in ("laterality", "view", "pathology", "class", "malignant", "abnormal")
    } == {
        "laterality": "L",
        "view": "CC",
        "pathology": "malignant",
        "class": 2,
        "malignant": 1,
        "abnormal": 1,
    }
    assert (cc.fields["age"], cc.fields["density"], cc.fields["n_boxes"], cc.fields["n_outlines"]) == (
        61,
        "B",
        2,
        2,
    )
    benign = records["B_0002_1-RIGHT_CC"].fields
    assert (benign["laterality"], benign["pathology"], benign["class"], benign["malignant"]) == (
        "R",
        "benign",
        1,
        0,
    )
    assert benign["density"] == "D" and benign["rf_class"] == "tumor"
    # unknown status: an abnormal image (it has a lesion box) of unknown pathology
    unknown = records["C_0003_1-LEFT_MLO"]
    assert {k: unknown.fields[k] for k in ("pathology", "class", "malignant", "abnormal", "status")} == {
        "pathology": "UNKNOWN",
        "class": -1,
        "malignant": -1,
        "abnormal": 1,
        "status": "unknown",
    }
    assert (unknown.fields["age"], unknown.fields["density"], unknown.fields["n_outlines"]) == (
        -1,
        "UNKNOWN",
        -1,
    )
    assert unknown.mask is not None and unknown.boxes == [[0.0, 0.0, 64.0, 48.0]]
    normal = records["D_0004_1-RIGHT_CC"]
    assert normal.fields["class"] == 0 and normal.fields["abnormal"] == 0 and normal.boxes == []
    assert normal.mask is not None and not normal.mask.render((4, 4))[0].any()


def test_prepare_fixture_tree_draws_ellipses_and_keeps_boxes(ddsm_boxes_tree, tmp_path):
    out = prepare_dataset(
        "ddsm-boxes", root=ddsm_boxes_tree, out=tmp_path / "d.json", workers=1, progress=False
    )
    data = json.loads(out.read_text())
    items = {i["image_id"]: i for fold in FOLDS for i in data[fold]}
    item = items["A_0001_1-LEFT_CC"]
    assert (
        item["boxes"] == [[10.0, 8.0, 30.0, 20.0], [40.5, 30.5, 50.5, 40.5]]
        and item["box_format"] == BOX_FORMAT
    )
    mask = np.asarray(Image.open(tmp_path / item["label"]))
    assert mask.shape == (48, 64) and mask[14, 20] == 1 and mask[35, 45] == 1 and mask[8, 10] == 0
    assert items["D_0004_1-RIGHT_CC"]["boxes"] == [] and "label" in items["D_0004_1-RIGHT_CC"]
    report = json.loads(report_path(out).read_text())
    assert report["issue_counts"] == {"bad_box": 2, "box_without_image": 1, "missing_image": 1}


def test_missing_tables_are_a_clear_error(tmp_path):
    with pytest.raises(DatasetLayoutError, match="images.csv not found"):
        scan_ddsm_boxes(tmp_path)
    (tmp_path / "images.csv").write_text("image,case\n")
    (tmp_path / "boxes.csv").write_text("image,x0,y0,x1,y1\n")
    with pytest.raises(DatasetLayoutError, match="missing column.*case_id"):
        scan_ddsm_boxes(tmp_path)


# ------------------------------------------------------------------------------- the real files
@pytest.fixture(scope="module")
def real_datalist(shared_data, tmp_path_factory):
    root = shared_data / "ddsm_boxes"
    if not (root / "images.csv").is_file():
        pytest.skip(f"{root} has no images.csv")
    out = tmp_path_factory.mktemp("ddsm_boxes") / "datalist.json"
    code = main(["prepare", "ddsm_boxes", "--root", str(root), "--out", str(out), "--no-progress"])
    assert code == 0
    return root, out


def test_real_ddsm_boxes_no_woman_in_two_folds(real_datalist):
    root, out = real_datalist
    data = {fold: load_datalist(out, fold) for fold in FOLDS}  # validates: no patient in two folds
    items = [i for fold in FOLDS for i in data[fold]]
    assert len(items) == 802 and json.loads(report_path(out).read_text())["issue_counts"] == {}
    cases = {fold: {i["patient_id"] for i in data[fold]} for fold in FOLDS}
    assert len(set().union(*cases.values())) == 440
    for a, b in [("training", "validation"), ("training", "test"), ("validation", "test")]:
        assert not cases[a] & cases[b], f"a woman is in both {a} and {b}"
    assert all(i["patient_id"] == ddsm_case_id(i["image_id"]) for i in items)
    assert Counter(i["pathology"] for i in items) == {"malignant": 605, "UNKNOWN": 169, "benign": 28}
    assert all(i["abnormal"] == 1 and len(i["boxes"]) == i["n_boxes"] == 1 for i in items)
    assert Counter(i["view"] for i in items) == {"MLO": 408, "CC": 394}
    assert {i["laterality"] for i in items} == {"L", "R"} and {i["class"] for i in items} == {-1, 1, 2}


def test_real_ddsm_boxes_masks_are_the_ellipses_in_the_boxes(real_datalist):
    _, out = real_datalist
    items = sorted((i for fold in FOLDS for i in load_datalist(out, fold)), key=lambda i: i["image_id"])
    for item in items[::80]:
        mask = np.asarray(Image.open(item["label"]))
        image = Image.open(item["image"])
        assert mask.shape == (image.height, image.width) == tuple(item["size"]) == (640, 640)
        (x0, y0, x1, y1) = item["boxes"][0]
        extent = _extent(mask)
        # the ellipse reaches the middle of each side of its box: its extent is the box, to the pixel
        assert extent[0] - 1 <= x0 <= extent[0] + 1 and extent[2] - 1 <= x1 <= extent[2] + 1, item["image_id"]
        assert extent[1] - 1 <= y0 <= extent[1] + 1 and extent[3] - 1 <= y1 <= extent[3] + 1, item["image_id"]
        assert mask.sum() == pytest.approx(np.pi * (x1 - x0) * (y1 - y0) / 4, rel=0.15)


def test_real_ddsm_boxes_cached_at_half_size(shared_data, tmp_path):
    source = shared_data / "ddsm_boxes"
    if not (source / "images.csv").is_file():
        pytest.skip(f"{source} has no images.csv")
    root = real_ddsm_boxes_subset(source, tmp_path / "subset", ("A_1108", "A_1329"))  # two women, 4 images
    out = prepare_dataset(
        get_dataset("ddsm_boxes").name,
        root=root,
        out=tmp_path / "d.json",
        cache_dir=tmp_path / "cache",
        size=(320, 320),
        workers=1,
        progress=False,
    )
    items = [i for fold in FOLDS for i in load_datalist(out, fold)]
    assert len(items) == 4 and len({i["patient_id"] for i in items}) == 2
    subset_boxes = (root / "boxes.csv").read_text().splitlines()
    boxes = {line.split(",")[0][:-4]: [float(v) for v in line.split(",")[5:9]] for line in subset_boxes[1:]}
    for item in items:
        assert item["original_size"] == [640, 640] and item["size"] == [320, 320]
        assert item["boxes"] == [[v / 2 for v in boxes[item["image_id"]]]]  # in the cached image's pixels
        mask = np.asarray(Image.open(item["label"]))
        expected = BoxMask((tuple(boxes[item["image_id"]]),), image_size=(640, 640)).render((320, 320))[0]
        assert mask.shape == (320, 320) and mask.sum() == pytest.approx(expected.sum(), rel=0.2)
        rim = ndimage.binary_dilation(expected) & ~ndimage.binary_erosion(expected)
        assert not (np.logical_xor(mask, expected) & ~rim).any()  # they differ only on the outline
