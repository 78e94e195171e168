"""box_records: patients from file names, pathology from class names, the record of a box-annotated image."""

from __future__ import annotations

import pytest

from monai_mammo.data.datasets.box_records import (
    PATIENT_FROM_IMAGE,
    box_record,
    image_pathology,
    label_pathology,
    parse_class_pathology,
    patient_from_name,
    record_key,
    source_stem,
)
from monai_mammo.data.datasets.masks import BoxMask, EmptyMask


@pytest.mark.parametrize(
    "name, stem",
    [
        ("A_1639_1-LEFT_MLO_jpg.rf.3f2a9c0d1e.jpg", "A_1639_1-LEFT_MLO"),
        ("train/images/mdb001_png.rf.AbC123.jpg", "mdb001"),
        ("plain.png", "plain"),
        ("x_jpg_rf_1.jpg", "x_jpg_rf_1"),
    ],
)
def test_source_stem(name, stem):
    assert source_stem(name) == stem


@pytest.mark.parametrize(
    "path, expected",
    [
        ("exp/train/images/A_1639_1-LEFT_MLO_jpg.rf.3f2a.jpg", ("A_1639", "DDSM file name", "L", "MLO")),
        ("exp/images/C_0042_1.RIGHT_CC.png", ("C_0042", "DDSM file name", "R", "CC")),
        ("exp/images/mdb003_jpg.rf.77.jpg", ("W002", "mini-MIAS file name", "R", "MLO")),
        (
            "Mass-Training_P_00001_LEFT_CC/1.3.6/1.3.6.1/1-1.dcm",
            ("P_00001", "CBIS-DDSM file name", "L", "CC"),
        ),
        ("exp/images/1234_jpg.rf.9.jpg", ("1234", PATIENT_FROM_IMAGE, "UNKNOWN", "UNKNOWN")),
    ],
)
def test_patient_from_name(path, expected):
    assert patient_from_name(path) == expected


def test_pathology_from_class_names():
    assert [label_pathology(n) for n in ("Malignant", "cancer", "benign mass", "tumor", "1", "Mass")] == [
        "malignant",
        "malignant",
        "benign",
        "UNKNOWN",
        "UNKNOWN",
        "UNKNOWN",
    ]
    mapping = parse_class_pathology("1=malignant, tumor=Benign,No Finding=normal,x=unknown")
    assert mapping == {"1": "malignant", "tumor": "benign", "No Finding": "normal", "x": "UNKNOWN"}
    assert label_pathology("1", mapping) == "malignant" and label_pathology("benign", mapping) == "benign"
    assert (
        parse_class_pathology({"a": "MALIGNANT"}) == {"a": "malignant"} and parse_class_pathology(None) == {}
    )
    with pytest.raises(ValueError, match="class 'a' maps to 'bad'"):
        parse_class_pathology("a=bad")
    with pytest.raises(ValueError, match="NAME=PATHOLOGY"):
        parse_class_pathology("malignant")
    assert image_pathology([]) == image_pathology(["normal"]) == "normal"
    assert image_pathology(["benign", "UNKNOWN", "malignant"]) == "malignant"
    assert image_pathology(["benign", "benign"]) == "benign"
    assert image_pathology(["benign", "UNKNOWN"]) == "UNKNOWN"


def test_box_record(tmp_path):
    image = tmp_path / "images" / "B_3001_1-RIGHT_CC_jpg.rf.1.jpg"
    record = box_record(
        dataset="yolo_boxes",
        key=record_key("train", "B_3001_1-RIGHT_CC_jpg.rf.1"),
        image=image,
        boxes=[[1, 2, 3, 4], [5, 6, 7, 8], [0, 0, 1, 1]],
        labels=["tumor", "benign", "No Finding"],
        class_pathology={"No Finding": "normal"},
        official_split="training",
    )
    assert record.key == "train_B_3001_1-RIGHT_CC_jpg.rf.1" and record.patient_id == "B_3001"
    assert record.boxes == [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]  # the "normal" box is no lesion
    assert record.mask == BoxMask(((1.0, 2.0, 3.0, 4.0), (5.0, 6.0, 7.0, 8.0)))
    fields = record.fields
    assert (fields["laterality"], fields["view"], fields["patient_source"]) == ("R", "CC", "DDSM file name")
    assert (fields["pathology"], fields["class"], fields["malignant"], fields["abnormal"]) == (
        "UNKNOWN",
        -1,
        -1,
        1,
    )
    assert fields["box_labels"] == ["tumor", "benign"] and fields["n_boxes"] == 2
    assert record.official_split == "training" and record.stratum == -1
    # a table's patient and side win over the file name's; no box: a normal image with an empty mask
    plain = box_record(
        dataset="box_csv",
        key="k",
        image=image,
        boxes=[],
        labels=[],
        patient_id="W9",
        laterality="LEFT",
        view="MLO",
    )
    assert plain.patient_id == "W9" and plain.fields["patient_source"] == "table"
    assert (plain.fields["laterality"], plain.fields["view"], plain.fields["class"]) == ("L", "MLO", 0)
    assert plain.mask == EmptyMask() and plain.boxes == [] and plain.fields["abnormal"] == 0
