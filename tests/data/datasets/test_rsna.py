"""RSNA Screening Mammography 2023 importer on a fixture tree in the competition layout."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datalist import FOLDS
from monai_mammo.data.datasets import DatasetLayoutError, prepare_dataset, scan_rsna


def test_scan_fixture_tree(rsna_tree):
    result = scan_rsna(rsna_tree)
    assert len(result.records) == 40 and result.issues == []
    by_pathology = {}
    for record in result.records:
        by_pathology.setdefault(record.fields["pathology"], set()).add(record.patient_id)
    assert by_pathology["malignant"] == {"10006", "10019"} and by_pathology["benign"] == {"10032"}
    record = next(r for r in result.records if r.key == "10006_462822612")
    assert record.fields["cancer"] == 1 and record.fields["malignant"] == 1 and record.fields["birads"] == "0"
    assert record.fields["density"] == "B" and record.fields["age"] == 50 and record.fields["site_id"] == 2
    assert record.fields["difficult_negative_case"] == 0
    unknown = next(r for r in result.records if r.patient_id == "10123")
    assert unknown.fields["age"] == -1 and unknown.fields["birads"] == "1"
    assert next(r for r in result.records if r.patient_id == "10110").fields["density"] == "UNKNOWN"


def test_prepare_splits_by_patient_and_stratifies(rsna_tree, tmp_path):
    out = prepare_dataset(
        "rsna",
        root=rsna_tree,
        out=tmp_path / "rsna.json",
        cache_dir=tmp_path / "c",
        workers=1,
        progress=False,
    )
    data = json.loads(out.read_text())
    patients = {f: {i["patient_id"] for i in data[f]} for f in FOLDS}
    assert [len(patients[f]) for f in FOLDS] == [7, 1, 2]
    cancer = {f: {i["patient_id"] for i in data[f] if i["cancer"] == 1} for f in FOLDS}
    assert len(cancer["training"]) >= 1 and sum(len(v) for v in cancer.values()) == 2
    # MONOCHROME1 (patient 10045) is inverted by the reader: dense tissue bright in the cache
    item = next(i for f in FOLDS for i in data[f] if i["patient_id"] == "10045" and i["laterality"] == "L")
    image = np.asarray(Image.open(tmp_path / item["image"]), dtype=float)
    assert image[:, :16].mean() < image[:, -16:].mean()  # stored bright-is-low: shown inverted


def test_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetLayoutError, match="train.csv"):
        scan_rsna(tmp_path)
