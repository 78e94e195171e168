"""INbreast importer on a fixture tree in the distributed layout (AllDICOMs, AllXML plists, INbreast.csv)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datalist import FOLDS
from monai_mammo.data.datasets import DatasetLayoutError, prepare_dataset, read_inbreast_rois, scan_inbreast


def test_read_rois_from_an_osirix_plist(inbreast_tree):
    rois = read_inbreast_rois(inbreast_tree / "AllXML" / "22614236.xml")
    assert [r["name"] for r in rois] == ["Mass", "Calcification"]
    assert rois[0]["points"] == [(10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0)]
    with pytest.raises(ValueError, match="OsiriX"):
        read_inbreast_rois(inbreast_tree / "AllXML" / "50997304.xml")


def test_scan_fixture_tree(inbreast_tree):
    result = scan_inbreast(inbreast_tree)
    records = {r.key: r for r in result.records}
    assert sorted(records) == [
        "20586908",
        "20586934",
        "22614236",
        "22614266",
        "24055274",
        "24055355",
        "50997304",
        "50997334",
    ]
    assert result.issue_counts() == {"bad_xml": 1, "unlisted_image": 1}
    mass = records["22614236"]
    assert mass.patient_id == "8d0b9620c53c0268" and mass.fields["birads"] == "4a" and mass.stratum == 4
    assert mass.fields["density"] == "C" and mass.fields["laterality"] == "L" and mass.fields["view"] == "CC"
    assert mass.fields["findings"] == "Mass;Calcification" and mass.fields["age"] == 52
    assert records["22614266"].fields["findings"] == "Spiculated Region"  # the pectoral muscle is no lesion
    assert records["50997304"].mask is None  # unreadable XML: no mask rather than a wrong one
    assert type(records["20586908"].mask).__name__ == "EmptyMask"  # no XML: nothing annotated


def test_prepare_draws_polygons_and_points(inbreast_tree, tmp_path):
    out = prepare_dataset(
        "inbreast", root=inbreast_tree, out=tmp_path / "inb.json", workers=1, progress=False
    )
    data = json.loads(out.read_text())
    items = {i["image_id"]: i for f in FOLDS for i in data[f]}
    mask = np.asarray(Image.open(tmp_path / items["22614236"]["label"]))
    assert mask[10:21, 10:21].all() and mask[:, 25:35].sum() == 0
    assert mask[30, 40] == 1 and 20 <= mask[25:36, 35:46].sum() <= 40  # a point ROI becomes a small disc
    assert "label" not in items["50997304"]
    pairs = {}
    for fold in FOLDS:
        for item in data[fold]:
            pairs.setdefault(item["patient_id"], set()).add(fold)
    assert all(len(folds) == 1 for folds in pairs.values())


def test_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetLayoutError, match="INbreast.csv"):
        scan_inbreast(tmp_path)
