"""group_exams: which mammograms make one exam, one rule at a time on synthetic metadata, then on the names
and tags of the real files beside the project."""

from __future__ import annotations

import csv
from pathlib import Path

import pydicom
import pytest

from monai_mammo.data.exam_grouping import (
    ExamEvidence,
    group_exams,
    id_names_a_view,
    match_naming_convention,
)

FOUR_VIEWS = (("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO"))
WORDS = {"L": "LEFT", "R": "RIGHT"}


def exams_of(images: list[ExamEvidence]) -> dict[str, list[str]]:
    """exam id -> the names of its images."""
    out: dict[str, list[str]] = {}
    for image, assignment in zip(images, group_exams(images)):
        out.setdefault(assignment.exam_id, []).append(image.name)
    return out


def rules_of(images: list[ExamEvidence]) -> set[str]:
    return {a.grouped_by for a in group_exams(images)}


@pytest.mark.parametrize(
    ("name", "dataset", "patient", "laterality", "view"),
    [
        ("Mass-Test_P_00173_LEFT_CC", "CBIS-DDSM", "P_00173", "L", "CC"),
        ("Calc-Training_P_00005_RIGHT_CC_1", "CBIS-DDSM", "P_00005", "R", "CC"),
        ("A_1639_1-LEFT_MLO", "DDSM", "A_1639", "L", "MLO"),
        ("C_0012_1.RIGHT_CC", "DDSM", "C_0012", "R", "CC"),
        ("mdb001", "mini-MIAS", "W001", "R", "MLO"),
        ("mdb002", "mini-MIAS", "W001", "L", "MLO"),
        ("mdb322", "mini-MIAS", "W161", "L", "MLO"),
        ("22678622_61b13c59bcba149e_MG_R_CC_ANON", "INbreast", "61b13c59bcba149e", "R", "CC"),
        ("flipped_P132_R_DM_MLO", "CDD-CESM", "P132", "R", "MLO"),
    ],
)
def test_public_naming_conventions_name_the_woman_side_and_view(
    name: str, dataset: str, patient: str, laterality: str, view: str
) -> None:
    found = match_naming_convention(name)
    assert found is not None
    assert (found.dataset, found.patient_id, found.laterality, found.view) == (
        dataset,
        patient,
        laterality,
        view,
    )


@pytest.mark.parametrize("name", ["P_00173", "1-130", "mdb1", "patient-7", "", "Mass-Test_P_00173_LEFT"])
def test_other_names_follow_no_convention(name: str) -> None:
    assert match_naming_convention(name) is None


def test_an_id_naming_a_side_or_view_is_per_image() -> None:
    assert id_names_a_view("Mass-Test_P_00173_LEFT_CC") and id_names_a_view("jane_rmlo")
    assert not id_names_a_view("P_00173") and not id_names_a_view("A1B2C3") and not id_names_a_view("R-1234")


def test_a_datalist_exam_id_is_taken_as_it_is() -> None:
    images = [
        ExamEvidence("a", exam_id="e1", study_uid="u1", dicom_patient_id="p1"),
        ExamEvidence("b", exam_id="e2", study_uid="u1", dicom_patient_id="p1"),
    ]
    assert exams_of(images) == {"e1": ["a"], "e2": ["b"]}
    assert rules_of(images) == {"datalist exam_id"}
    assert group_exams(images)[0].patient_id == "p1"


def test_a_study_uid_shared_by_several_images_comes_first() -> None:
    images = [
        ExamEvidence(
            f"v{i}", study_uid="1.2.3", dicom_patient_id="p1", study_date="20200101", laterality=s, view=v
        )
        for i, (s, v) in enumerate(FOUR_VIEWS)
    ]
    images.append(ExamEvidence("other", study_uid="1.2.4", dicom_patient_id="p1", study_date="20200101"))
    assignments = group_exams(images)
    assert exams_of(images) == {"1.2.3": ["v0", "v1", "v2", "v3"], "1.2.4": ["other"]}  # its own study
    assert {a.grouped_by for a in assignments} == {"StudyInstanceUID"}
    assert {a.patient_id for a in assignments} == {"p1"}
    assert [(a.laterality, a.view) for a in assignments[:4]] == list(FOUR_VIEWS)


def test_patient_id_and_study_date_group_images_with_a_uid_each() -> None:
    images = [
        ExamEvidence(f"{d}{i}", study_uid=f"{d}.{i}", dicom_patient_id="p1", study_date=d)
        for d in ("20200101", "20210101")
        for i in range(4)
    ]
    groups = exams_of(images)
    assert sorted(groups) == ["p1_20200101", "p1_20210101"]  # two exams of one woman
    assert all(len(names) == 4 for names in groups.values())
    assert rules_of(images) == {"PatientID+StudyDate"}
    undated = [ExamEvidence(f"u{i}", study_uid=f"u.{i}", dicom_patient_id="p2") for i in range(2)]
    assert exams_of(undated) == {"p2": ["u0", "u1"]} and rules_of(undated) == {"PatientID"}


def test_the_datalist_patient_id_groups_before_the_dicom_patient_id() -> None:
    images = [ExamEvidence("mdb001", patient_id="W001"), ExamEvidence("mdb002", patient_id="W001")]
    assert exams_of(images) == {"W001": ["mdb001", "mdb002"]} and rules_of(images) == {"patient_id"}
    tagged = [
        ExamEvidence("a", patient_id="w9", dicom_patient_id="anon-1", study_uid="1"),
        ExamEvidence("b", patient_id="w9", dicom_patient_id="anon-2", study_uid="2"),
    ]
    assert exams_of(tagged) == {"w9": ["a", "b"]}


def cbis_views(patient: str = "P_00173", kind: str = "Mass-Test", date: str | None = "20161004") -> list:
    return [
        ExamEvidence(
            f"{kind}_{patient}_{s}_{v}",
            study_uid=f"1.3.6.{kind}.{patient}.{s}{v}",
            dicom_patient_id=f"{kind}_{patient}_{WORDS[s]}_{v}",
            study_date=date,
            laterality=s,
        )
        for s, v in FOUR_VIEWS
    ]


def test_a_per_view_patient_id_is_read_by_the_data_set_convention() -> None:
    """CBIS-DDSM: one StudyInstanceUID per image and a PatientID per view; the view comes from the name."""
    images = cbis_views() + cbis_views("P_00005", "Calc-Training", "20160720")
    assignments = group_exams(images)
    assert sorted(exams_of(images)) == ["P_00005", "P_00173"]
    assert {a.grouped_by for a in assignments} == {"CBIS-DDSM PatientID pattern"}
    assert [(a.patient_id, a.laterality, a.view) for a in assignments[:4]] == [
        ("P_00173", s, v) for s, v in FOUR_VIEWS
    ]
    # one film in the mass and the calcification tables, converted on other days: one woman, one exam
    both = cbis_views("P_00005", "Mass-Training", "20160801") + cbis_views(
        "P_00005", "Calc-Training", "20160720"
    )
    assert list(exams_of(both)) == ["P_00005"]


def test_a_per_view_patient_id_without_a_convention_is_not_a_woman() -> None:
    images = [
        ExamEvidence(
            f"x{i}", study_uid=f"u{i}", dicom_patient_id=f"jane_{WORDS[s]}_{v}", study_date="20200101"
        )
        for i, (s, v) in enumerate(FOUR_VIEWS)
    ]
    assignments = group_exams(images)
    assert exams_of(images) == {f"u{i}": [f"x{i}"] for i in range(4)}  # nothing says they belong together
    assert {a.grouped_by for a in assignments} == {"StudyInstanceUID"}
    assert assignments[0].patient_id == "jane_LEFT_CC"  # the best there is


def test_file_names_and_folders_group_files_without_tags() -> None:
    mias = [ExamEvidence(f"mdb00{i}", source=f"/data/mias/mdb00{i}.png") for i in (1, 2, 3, 4)]
    assert exams_of(mias) == {"W001": ["mdb001", "mdb002"], "W002": ["mdb003", "mdb004"]}
    assert rules_of(mias) == {"mini-MIAS file name pattern"}
    assert [(a.laterality, a.view) for a in group_exams(mias)[:2]] == [("R", "MLO"), ("L", "MLO")]
    ddsm = [
        ExamEvidence(f"d{i}", source=f"/ddsm/images/A_1639_1-{WORDS[s]}_{v}.png")
        for i, (s, v) in enumerate(FOUR_VIEWS)
    ]
    assert list(exams_of(ddsm)) == ["A_1639"] and rules_of(ddsm) == {"DDSM file name pattern"}
    # the TCIA tree names the case folder, not the file
    tcia = [
        ExamEvidence(
            f"c{i}",
            study_uid=f"u{i}",
            source=f"/cbis/Mass-Training_P_00001_{WORDS[s]}_{v}/1.3.6/1.3.7/1-1.dcm",
        )
        for i, (s, v) in enumerate(FOUR_VIEWS)
    ]
    assignments = group_exams(tcia)
    assert list(exams_of(tcia)) == ["P_00001"] and rules_of(tcia) == {"CBIS-DDSM file name pattern"}
    assert [(a.laterality, a.view) for a in assignments] == list(FOUR_VIEWS)


def test_a_study_date_separates_the_exams_of_a_data_set_with_repeat_exams() -> None:
    """INbreast file names name the woman but not the exam; its StudyDate does."""
    images = [
        ExamEvidence(
            f"{n}",
            source=f"/inbreast/{n}_61b13c59bcba149e_MG_{s}_{v}_ANON.dcm",
            study_date=d,
            study_uid=f"{n}",
        )
        for n, (s, v), d in zip(range(4), FOUR_VIEWS[:2] * 2, ["20080101"] * 2 + ["20100101"] * 2)
    ]
    assert exams_of(images) == {
        "61b13c59bcba149e_20080101": ["0", "1"],
        "61b13c59bcba149e_20100101": ["2", "3"],
    }
    assert rules_of(images) == {"INbreast file name pattern"}


def test_images_grouped_by_their_study_do_not_pull_in_another_study_of_the_day() -> None:
    images = [
        ExamEvidence("a", study_uid="X", dicom_patient_id="p1", study_date="20200101"),
        ExamEvidence("b", study_uid="X", dicom_patient_id="p1", study_date="20200101"),
        ExamEvidence("c", study_uid="Y", dicom_patient_id="p1", study_date="20200101"),
    ]
    assert exams_of(images) == {"X": ["a", "b"], "Y": ["c"]}


def test_an_image_alone_keeps_the_first_rule_that_applies() -> None:
    [alone] = group_exams([ExamEvidence("x", study_uid="s9", dicom_patient_id="p9")])
    assert (alone.exam_id, alone.patient_id, alone.grouped_by) == ("s9", "p9", "StudyInstanceUID")
    [bare] = group_exams([ExamEvidence("x")])
    assert (bare.exam_id, bare.patient_id, bare.grouped_by, bare.laterality) == ("x", "x", "image", "UNKNOWN")
    assert group_exams([]) == []


def test_real_cbis_ddsm_tags_make_one_exam(shared_data: Path) -> None:
    files = sorted((shared_data / "cbis_ddsm" / "dicom").glob("*.dcm"))
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    assert len({h.StudyInstanceUID for h in headers}) == 4 and len({h.PatientID for h in headers}) == 4
    images = [
        ExamEvidence(
            f.stem,
            study_uid=h.StudyInstanceUID,
            dicom_patient_id=h.PatientID,
            study_date=h.StudyDate,
            source=str(f),
            laterality=h.get("Laterality") or "UNKNOWN",
        )
        for f, h in zip(files, headers)
    ]
    assignments = group_exams(images)
    assert {(a.exam_id, a.patient_id, a.grouped_by) for a in assignments} == {
        ("P_00173", "P_00173", "CBIS-DDSM PatientID pattern")
    }
    labels = {r["file"]: r for r in csv.DictReader((shared_data / "cbis_ddsm" / "labels.csv").open())}
    for f, a in zip(files, assignments):
        row = labels[f"dicom/{f.name}"]
        assert (a.patient_id, a.laterality, a.view) == (row["patient_id"], row["breast"][0], row["view"])


def test_real_mini_mias_and_ddsm_names_group_by_woman(shared_data: Path) -> None:
    mias = sorted((shared_data / "mini_mias").rglob("mdb*.png"))
    images = [ExamEvidence(p.stem, source=str(p)) for p in mias]
    groups = exams_of(images)
    assert len(mias) == 216 and len(groups) == 108 and {len(v) for v in groups.values()} == {2}
    rows = list(csv.DictReader((shared_data / "ddsm_boxes" / "images.csv").open()))
    images = [ExamEvidence(r["image"], source=f"images/{r['image']}") for r in rows]
    assignments = group_exams(images)
    assert [a.exam_id for a in assignments] == [r["case_id"] for r in rows]
    assert [(a.laterality, a.view) for a in assignments] == [(r["laterality"][0], r["view"]) for r in rows]
