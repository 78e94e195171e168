"""box_csv importer: box tables the tests write (VinDr's finding table, real ddsm_boxes rows, a bare list)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dataset_trees import breast_image, real_ddsm_boxes_subset, write_png

from monai_mammo.data.datalist import FOLDS, load_datalist
from monai_mammo.data.datasets import DatasetLayoutError, prepare_dataset, scan_box_csv, scan_ddsm_boxes

VINDR_HEADER = (
    "study_id,series_id,image_id,laterality,view_position,height,width,breast_birads,breast_density,"
    "finding_categories,finding_birads,xmin,ymin,xmax,ymax,split\n"
)
CASES = ("A_1108", "B_3012", "A_1745")


def build_vindr_findings(root: Path) -> Path:
    """VinDr-Mammo's finding_annotations.csv layout: two studies, a 'No Finding' row, a two-box image."""
    rows = [
        "s1,se1,img_a,L,CC,48,64,BI-RADS 4,DENSITY C,\"['Mass']\",BI-RADS 4,10.5,8,30,20.5,training",
        "s1,se1,img_a,L,CC,48,64,BI-RADS 4,DENSITY C,\"['Suspicious Calcification', 'Mass']\",BI-RADS 4,"
        "40,5,50,15,training",
        "s1,se2,img_b,R,MLO,48,64,BI-RADS 1,DENSITY C,\"['No Finding']\",,,,,,training",
        "s2,se3,img_c,R,CC,48,64,BI-RADS 5,DENSITY B,\"['Mass']\",BI-RADS 5,1,2,20,30,test",
        "s2,se3,img_gone,L,CC,48,64,BI-RADS 5,DENSITY B,\"['Mass']\",BI-RADS 5,1,2,20,30,test",
    ]
    for study, image, side in (("s1", "img_a", "L"), ("s1", "img_b", "R"), ("s2", "img_c", "R")):
        write_png(root / "images" / study / f"{image}.png", breast_image(side, dtype=np.uint8))
    (root / "finding_annotations.csv").write_text(VINDR_HEADER + "\n".join(rows) + "\n")
    return root


def test_vindr_style_finding_table(tmp_path):
    root = build_vindr_findings(tmp_path / "vindr")
    result = scan_box_csv(root)
    records = {r.fields["image_id"]: r for r in result.records}
    assert sorted(records) == ["img_a", "img_b", "img_c"]
    assert result.issue_counts() == {"missing_image": 1, "study_as_patient": 1}
    assert result.info["columns"]["image"] == "image_id" and result.info["columns"]["patient"] == "study_id"
    a = records["img_a"]
    assert a.patient_id == records["img_b"].patient_id == "s1" and a.fields["patient_source"] == "table"
    assert a.boxes == [[10.5, 8.0, 30.0, 20.5], [40.0, 5.0, 50.0, 15.0]]
    assert a.fields["box_labels"] == ["Mass", "Suspicious Calcification;Mass"]
    assert (a.fields["laterality"], a.fields["view"], a.official_split) == ("L", "CC", "training")
    assert (a.fields["pathology"], a.fields["abnormal"]) == ("UNKNOWN", 1)
    b = records["img_b"]  # the 'No Finding' row: an image without lesions
    assert b.boxes == [] and b.fields["pathology"] == "normal" and b.fields["class"] == 0
    assert records["img_c"].official_split == "test" and records["img_c"].fields["laterality"] == "R"
    out = prepare_dataset("box_csv", root=root, out=tmp_path / "d.json", workers=1, progress=False)
    items = {i["image_id"]: (fold, i) for fold in FOLDS for i in load_datalist(out, fold)}
    assert items["img_a"][0] == items["img_b"][0] == "training" and items["img_c"][0] == "test"


def test_real_ddsm_rows_as_a_box_table(shared_data, tmp_path):
    source = shared_data / "ddsm_boxes"
    if not (source / "boxes.csv").is_file():
        pytest.skip(f"{source} has no boxes.csv")
    root = real_ddsm_boxes_subset(source, tmp_path / "ddsm", CASES)
    with pytest.raises(DatasetLayoutError, match=r"several CSV tables \(boxes.csv, images.csv\).*table="):
        scan_box_csv(root)
    result = scan_box_csv(root, table="boxes.csv", label_column="rf_class", class_pathology="tumor=benign")
    assert result.issue_counts() == {} and result.info["patient_ids"] == {"table": 5}
    assert result.info["columns"]["box"] == ["x0", "y0", "x1", "y1"]
    dedicated = {r.fields["image_id"]: r for r in scan_ddsm_boxes(root).records}
    for record in result.records:  # the same images, women, sides, views and boxes as the ddsm_boxes importer
        twin = dedicated[record.fields["image_id"]]
        assert (record.patient_id, record.boxes) == (twin.patient_id, twin.boxes)
        assert (record.fields["laterality"], record.fields["view"]) == (
            twin.fields["laterality"],
            twin.fields["view"],
        )
    benign = next(r for r in result.records if r.patient_id == "A_1745")
    assert benign.fields["pathology"] == "benign" and benign.fields["box_labels"] == ["tumor"]


def test_bare_list_xywh_patients_from_file_names(tmp_path):
    root = tmp_path / "bare"
    for name in ("A_0001_1-LEFT_CC.png", "A_0001_1-LEFT_MLO.png", "scan7.png"):
        write_png(root / "pics" / name, breast_image("L", dtype=np.uint8))
    (root / "boxes.csv").write_text(
        "file,x,y,w,h,class\n"
        "pics/A_0001_1-LEFT_CC.png,10,8,20,12,malignant\n"
        "pics\\A_0001_1-LEFT_MLO.png,5,5,10,10,benign\n"
        "pics/scan7.png,1,1,4,4,benign\n"
        "pics/scan7.png,1,1,0,4,benign\n"
    )
    with pytest.raises(DatasetLayoutError, match="no xyxy box columns.*box_columns="):
        scan_box_csv(root)
    result = scan_box_csv(root, box_format="xywh")
    records = {r.fields["image_id"]: r for r in result.records}
    assert records["A_0001_1-LEFT_CC"].boxes == [[10.0, 8.0, 30.0, 20.0]]
    assert records["A_0001_1-LEFT_CC"].patient_id == records["A_0001_1-LEFT_MLO"].patient_id == "A_0001"
    assert records["A_0001_1-LEFT_MLO"].fields["view"] == "MLO"  # from the file name
    assert records["A_0001_1-LEFT_CC"].fields["pathology"] == "malignant"
    assert records["scan7"].patient_id == "scan7" and records["scan7"].fields["patient_source"] == "image"
    assert result.issue_counts() == {"bad_box": 1, "image_level_patients": 1}
    named = scan_box_csv(root, box_columns="x, y, w, h", box_format="xywh", image_column="FILE")
    assert [r.boxes for r in named.records] == [r.boxes for r in result.records]
    with pytest.raises(DatasetLayoutError, match="missing column.*patient"):
        scan_box_csv(root, box_format="xywh", patient_column="patient")
    with pytest.raises(ValueError, match="box_format must be one of xyxy, xywh"):
        scan_box_csv(root, box_format="cxcywh")
    with pytest.raises(ValueError, match="four columns"):
        scan_box_csv(root, box_columns="x,y,w")
