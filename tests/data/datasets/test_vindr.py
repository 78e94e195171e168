"""VinDr-Mammo importer on a fixture tree in the PhysioNet layout."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datalist import FOLDS
from monai_mammo.data.datasets import DatasetLayoutError, prepare_dataset, scan_vindr


def test_scan_fixture_tree(vindr_tree):
    result = scan_vindr(vindr_tree)
    assert len(result.records) == 23 and result.issue_counts() == {"missing_image": 1}
    records = {r.key: r for r in result.records}
    finding = records["010b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"]  # study 1, L CC
    assert finding.boxes == [[10.5, 8.0, 30.0, 20.5], [40.0, 5.0, 50.0, 15.0]]
    assert finding.fields["box_labels"] == ["Mass", "Suspicious Calcification;Mass"]
    assert finding.fields["box_birads"] == ["4", "4"] and finding.fields["birads"] == "4"
    assert finding.fields["findings"] == "Mass;Suspicious Calcification" and finding.stratum == 4
    plain = records["000b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"]
    assert plain.boxes == [] and plain.fields["findings"] == "No Finding" and plain.fields["density"] == "C"
    assert plain.fields["pathology"] == "UNKNOWN" and plain.fields["class"] == -1
    assert plain.patient_id == plain.fields["study_id"] and plain.official_split == "training"
    assert plain.fields["laterality"] == "L" and plain.fields["view"] == "CC"
    assert plain.fields["original_size"] == [48, 64]


def test_prepare_keeps_the_official_split_and_scales_boxes(vindr_tree, tmp_path):
    out = prepare_dataset(
        "VinDr-Mammo",
        root=vindr_tree,
        out=tmp_path / "vindr.json",
        cache_dir=tmp_path / "cache",
        size=(24, 32),
        workers=1,
        progress=False,
    )
    data = json.loads(out.read_text())
    assert {i["official_split"] for i in data["test"]} == {"test"} and len(data["test"]) == 7
    assert {i["official_split"] for i in data["training"] + data["validation"]} == {"training"}
    assert len({i["patient_id"] for i in data["validation"]}) == 1  # 1 of 4 training studies
    item = next(i for f in FOLDS for i in data[f] if i["image_id"].startswith("010b"))
    assert item["boxes"] == [[5.25, 4.0, 15.0, 10.25], [20.0, 2.5, 25.0, 7.5]]  # halved with the image
    image = np.asarray(Image.open(tmp_path / item["image"]))
    assert image.shape == (24, 32) and image.dtype == np.uint16


def test_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetLayoutError, match="breast-level_annotations.csv"):
        scan_vindr(tmp_path)
