"""CBIS-DDSM importer: the TCIA layout and its quirks (fixture tree), the real sample in ../shared/data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datalist import FOLDS, validate_datalist
from monai_mammo.data.datasets import DatasetLayoutError, prepare_dataset, report_path, scan_cbis_ddsm


def test_scan_fixture_tree_fixes_the_quirks(cbis_tree):
    result = scan_cbis_ddsm(cbis_tree)
    records = {r.key: r for r in result.records}
    assert len(records) == 13  # 15 rows: one film in two tables (merged), one image missing
    counts = result.issue_counts()
    assert counts["missing_image"] == 1 and counts["swapped_crop_roi"] == 1 and counts["merged_film"] == 1
    assert counts["path_resolved"] >= 20  # the new-NBIA folder names never match the CSV paths
    # merged film: mass + calc lesions, both ROI masks, worst pathology, highest BI-RADS
    film = records["P_00001_LEFT_CC"]
    assert film.fields["abnormality"] == "calcification;mass" and film.fields["n_lesions"] == 2
    assert (
        film.fields["pathology"] == "malignant"
        and film.fields["birads"] == "4"
        and film.fields["density"] == "C"
    )
    assert len(film.mask.paths) == 2 and all(p.endswith("1-2.dcm") for p in film.mask.paths)
    # swapped crop/ROI paths: the mask is the full-size file
    swapped = records["P_00001_LEFT_MLO"]
    assert swapped.mask.paths[0].endswith("000001.dcm")
    # BENIGN_WITHOUT_CALLBACK is benign, the raw value is kept; both spellings of the density column read
    callback = records["P_00002_RIGHT_CC"]
    assert (
        callback.fields["pathology"] == "benign"
        and callback.fields["pathology_detail"] == "BENIGN_WITHOUT_CALLBACK"
    )
    assert callback.fields["density"] == "B" and callback.official_split == "test"
    assert records["P_00003_RIGHT_MLO"].official_split == "training"
    assert records["P_00003_LEFT_CC"].official_split == "test"
    assert {r.fields["laterality"] for r in records.values()} == {"L", "R"}


def test_prepare_fixture_tree(cbis_tree, tmp_path):
    out = prepare_dataset("CBIS-DDSM", root=cbis_tree, out=tmp_path / "cbis.json", workers=1, progress=False)
    data = json.loads(out.read_text())
    report = json.loads(report_path(out).read_text())
    # a patient with official training and test films goes to test as a whole
    test_patients = {i["patient_id"] for i in data["test"]}
    assert test_patients == {"P_00002", "P_00003"}
    assert report["issue_counts"]["official_split_conflict"] == 1
    assert all(i["official_split"] == "training" for i in data["training"] + data["validation"])
    assert len(data["validation"]) >= 1 and validate_datalist(out).ok
    items = {i["image_id"]: i for fold in FOLDS for i in data[fold]}
    # the merged mask holds both lesions; the calc ROI (46 x 62) was resized to the film (48 x 64)
    mask = np.asarray(Image.open(tmp_path / items["P_00001_LEFT_CC"]["label"]))
    assert mask.shape == (48, 64) and set(np.unique(mask)) == {0, 1}
    assert mask[10:20, 5:15].all() and mask[32, 35] == 1 and mask[0, 63] == 0
    assert report["issue_counts"]["mask_resized"] == 1
    swapped = np.asarray(Image.open(tmp_path / items["P_00001_LEFT_MLO"]["label"]))
    assert swapped[12:22, 8:18].all() and swapped.sum() == 100


def test_prepare_with_cache_resizes_images_and_masks(cbis_tree, tmp_path):
    out = prepare_dataset(
        "cbis_ddsm",
        root=cbis_tree,
        out=tmp_path / "d.json",
        cache_dir=tmp_path / "cache",
        size=(24, 32),
        workers=1,
        progress=False,
    )
    data = json.loads(out.read_text())
    item = next(i for i in data["training"] if i["image_id"] == "P_00001_LEFT_CC")
    image = np.asarray(Image.open(tmp_path / item["image"]))
    mask = np.asarray(Image.open(tmp_path / item["label"]))
    assert image.dtype == np.uint16 and image.shape == mask.shape == (24, 32)
    assert item["original_size"] == [48, 64] and item["size"] == [24, 32]
    assert (
        image[:, :8].mean() > image[:, -8:].mean()
    )  # a left breast stays on the left (no flip in the cache)
    assert mask[5:10, 3:7].all()


def test_a_table_without_the_columns_is_refused(tmp_path):
    (tmp_path / "mass_case_description_train_set.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetLayoutError, match="missing columns"):
        scan_cbis_ddsm(tmp_path)
    with pytest.raises(DatasetLayoutError, match="no CBIS-DDSM table"):
        scan_cbis_ddsm(tmp_path / "nothing_here")


# ------------------------------------------------------------------------------- the real files
def test_real_cbis_ddsm_sample(shared_data, tmp_path):
    """The shared folder's own labels.csv ("CBIS-DDSM sample" layout): 4 RLE DICOMs of one patient."""
    root = shared_data / "cbis_ddsm"
    result = scan_cbis_ddsm(root)
    records = {r.key: r for r in result.records}
    assert sorted(records) == ["P_00173_LEFT_CC", "P_00173_LEFT_MLO", "P_00173_RIGHT_CC", "P_00173_RIGHT_MLO"]
    right_cc = records["P_00173_RIGHT_CC"]
    assert right_cc.fields["n_lesions"] == 2 and right_cc.fields["mass_shape"] == "OVAL;LOBULATED"
    assert right_cc.fields["birads"] == "3" and right_cc.fields["density"] == "B"
    assert right_cc.fields["pathology"] == "benign" and right_cc.official_split == "test"
    assert all(r.mask is None for r in records.values())

    out = prepare_dataset(
        "cbis_ddsm",
        root=root,
        out=tmp_path / "cbis.json",
        cache_dir=tmp_path / "cache",
        size=(256, 160),
        workers=1,
        progress=False,
    )
    data = json.loads(out.read_text())
    assert [len(data[f]) for f in FOLDS] == [0, 0, 4]  # one patient, officially in the test set
    for item in data["test"]:
        image = np.asarray(Image.open(tmp_path / item["image"]))
        assert image.shape == (256, 160) and image.dtype == np.uint16
        assert item["original_size"][0] > 4000
        # the fact measured on these files: a LEFT breast touches the LEFT edge
        left, right = image[:, :40].mean(), image[:, -40:].mean()
        assert (left > right) == (item["laterality"] == "L")
    # resumed: a second run finds every cached image complete and rewrites nothing
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.png")}
    prepare_dataset(
        "cbis_ddsm",
        root=root,
        out=tmp_path / "cbis.json",
        cache_dir=tmp_path / "cache",
        size=(256, 160),
        workers=1,
        progress=False,
    )
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.png")} == before
    assert json.loads(report_path(out).read_text())["settings"]["resumed"] == 4
