"""CMMD importer on a fixture tree in the TCIA layout (clinical xlsx/csv + DICOM tree)."""

from __future__ import annotations

import json

import pytest

from monai_mammo.data.datalist import FOLDS
from monai_mammo.data.datasets import DatasetLayoutError, prepare_dataset, scan_cmmd


@pytest.mark.parametrize("tree", ["cmmd_tree", "cmmd_tree_csv"])
def test_scan_fixture_tree(tree, request):
    root = request.getfixturevalue(tree)
    result = scan_cmmd(root)
    assert len(result.records) == 13 and result.issue_counts() == {"no_clinical_row": 1}
    records = {r.key: r for r in result.records}
    assert sorted(k for k in records if k.startswith("D1-0003")) == [
        "D1-0003_L_CC",
        "D1-0003_L_MLO",
        "D1-0003_R_CC",
        "D1-0003_R_MLO",
    ]
    assert records["D1-0003_L_CC"].fields["pathology"] == "malignant"
    assert records["D1-0003_R_MLO"].fields["pathology"] == "benign"
    assert records["D1-0003_R_MLO"].fields["abnormality"] == "mass"
    assert (
        records["D2-0001_L_MLO"].fields["subtype"] == "Luminal B"
        and records["D2-0001_L_MLO"].fields["age"] == 61
    )
    assert records["D1-0001_L_CC"].fields["pathology"] == "UNKNOWN"  # no clinical row for that breast
    assert records["D1-0001_R_CC"].patient_id == "D1-0001"


def test_prepare_fixture_tree(cmmd_tree, tmp_path):
    out = prepare_dataset("cmmd", root=cmmd_tree, out=tmp_path / "cmmd.json", workers=1, progress=False)
    data = json.loads(out.read_text())
    assert sum(len(data[f]) for f in FOLDS) == 13
    assert "label" not in data["training"][0] and "boxes" not in data["training"][0]
    pairs = {}
    for fold in FOLDS:
        for item in data[fold]:
            pairs.setdefault(item["patient_id"], set()).add(fold)
    assert len(pairs) == 5 and all(len(folds) == 1 for folds in pairs.values())


def test_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetLayoutError, match="clinicaldata"):
        scan_cmmd(tmp_path)
