"""Patient-level splits, datalist writing/loading and the leak check (monai_mammo.data.datalist)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monai_mammo.data.datalist import (
    FOLDS,
    DatalistError,
    MissingFilesError,
    PatientLeakError,
    load_datalist,
    official_patient_folds,
    split_datalist,
    split_patients,
    tag_source,
    validate_datalist,
    write_datalist,
)
from monai_mammo.io import atomic_write_bytes


def _items(n_patients: int, images_per_patient: int = 4, malignant_every: int = 5) -> list[dict]:
    items = []
    for p in range(n_patients):
        for i in range(images_per_patient):
            # the worst label of a patient is on one image only: stratification must use the maximum
            cls = 2 if (p % malignant_every == 0 and i == images_per_patient - 1) else (1 if p % 2 else 0)
            items.append({"image": f"/data/p{p:03d}_{i}.png", "patient_id": f"p{p:03d}", "class": cls})
    return items


def _patient_folds(folds: dict) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for fold, items in folds.items():
        for item in items:
            seen.setdefault(item["patient_id"], set()).add(fold)
    return seen


def test_split_is_by_patient_stratified_and_sized():
    items = _items(100)
    folds = split_datalist(items, fractions=(0.7, 0.1, 0.2), seed=3)
    assert sum(len(v) for v in folds.values()) == len(items)
    assert all(len(f) == 1 for f in _patient_folds(folds).values())
    patients = {fold: {i["patient_id"] for i in folds[fold]} for fold in FOLDS}
    assert [len(patients[f]) for f in FOLDS] == [70, 10, 20]
    # worst label per patient: 20 patients have a malignant image, spread 14/2/4
    worst = {
        fold: Counter(max(i["class"] for i in folds[fold] if i["patient_id"] == p) for p in patients[fold])
        for fold in FOLDS
    }
    assert [worst[f][2] for f in FOLDS] == [14, 2, 4]


def test_split_is_reproducible_and_order_independent():
    items = _items(40)
    a = split_datalist(items, seed=7)
    b = split_datalist(list(reversed(items)), seed=7)
    c = split_datalist(items, seed=8)
    ids = {fold: sorted(i["image"] for i in a[fold]) for fold in FOLDS}
    assert ids == {fold: sorted(i["image"] for i in b[fold]) for fold in FOLDS}
    assert ids != {fold: sorted(i["image"] for i in c[fold]) for fold in FOLDS}


def test_official_split_is_kept_and_validation_comes_from_training():
    items = _items(30)
    for item in items:
        item["official_split"] = "test" if item["patient_id"] < "p010" else "training"
    folds = split_datalist(items, fractions=(0.8, 0.2, 0.0), seed=0)
    assert {i["patient_id"] for i in folds["test"]} == {f"p{p:03d}" for p in range(10)}
    assert len({i["patient_id"] for i in folds["validation"]}) == 4  # 20 % of the 20 training patients
    assert all(i["official_split"] == "training" for i in folds["validation"])


def test_conflicting_official_folds_send_the_patient_to_test():
    items = [
        {"image": "a", "patient_id": "x", "official_split": "training"},
        {"image": "b", "patient_id": "x", "official_split": "test"},
        {"image": "c", "patient_id": "y", "official_split": "training"},
    ]
    official, conflicts = official_patient_folds(items)
    assert official == {"x": "test", "y": "training"} and conflicts == {"x": ["training", "test"]}
    folds = split_datalist(items, seed=0)
    assert {i["image"] for i in folds["test"]} == {"a", "b"}


def test_split_patients_rejects_bad_input():
    with pytest.raises(DatalistError, match="fractions"):
        split_patients({"a": 0}, fractions=(0.5, -0.1, 0.6))
    with pytest.raises(DatalistError, match="official fold"):
        split_patients({"a": 0}, official={"a": "train"})
    with pytest.raises(DatalistError, match="patient_id"):
        split_datalist([{"image": "x"}])
    with pytest.raises(DatalistError, match="cannot be compared"):
        split_datalist(
            [{"image": "x", "patient_id": "p", "class": 1}, {"image": "y", "patient_id": "p", "class": "a"}]
        )


@settings(max_examples=40, deadline=None)
@given(
    n_patients=st.integers(1, 60),
    per_patient=st.integers(1, 4),
    fractions=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).filter(lambda f: sum(f) > 0.05),
    seed=st.integers(0, 2**16),
)
def test_split_property_no_leak_everything_kept_sizes_close(n_patients, per_patient, fractions, seed):
    items = _items(n_patients, per_patient, malignant_every=3)
    folds = split_datalist(items, fractions=fractions, seed=seed)
    assert sorted(i["image"] for f in FOLDS for i in folds[f]) == sorted(i["image"] for i in items)
    assert all(len(f) == 1 for f in _patient_folds(folds).values())
    total = sum(fractions)
    for fold, share in zip(FOLDS, fractions):
        count = len({i["patient_id"] for i in folds[fold]})
        assert abs(count - n_patients * share / total) < 3.01  # one per stratum (three strata) at most


def test_write_load_roundtrip_relative_paths_and_monai_loader(tmp_path):
    from monai.data import load_decathlon_datalist

    data = tmp_path / "data"
    for name in ("a.png", "a_mask.png", "b.png"):
        atomic_write_bytes(data / name, b"x")
    datalist = {
        "name": "t",
        "training": [{"image": str(data / "a.png"), "label": str(data / "a_mask.png"), "patient_id": "1"}],
        "validation": [],
        "test": [{"image": str(data / "b.png"), "patient_id": "2"}],
    }
    out = write_datalist(datalist, tmp_path / "lists" / "datalist.json")
    stored = json.loads(out.read_text())
    assert stored["training"][0]["image"] == "../data/a.png" and stored["name"] == "t"
    loaded = load_datalist(out, "training")
    assert loaded[0]["image"] == str(data / "a.png") and loaded[0]["label"] == str(data / "a_mask.png")
    assert load_decathlon_datalist(out, data_list_key="test")[0]["image"] == str(data / "b.png")
    assert load_datalist(out, "validation") == []
    report = validate_datalist(out)
    assert report.ok and report.items == {"training": 1, "validation": 0, "test": 1}
    assert not list((tmp_path / "lists").glob(".*.tmp"))  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_validate_refuses_a_patient_in_two_folds(tmp_path):
    datalist = {
        "training": [{"image": "a.png", "patient_id": "W007"}],
        "validation": [{"image": "b.png", "patient_id": "W001"}],
        "test": [{"image": "c.png", "patient_id": "W007"}],
    }
    path = write_datalist(datalist, tmp_path / "d.json")
    with pytest.raises(PatientLeakError) as err:
        validate_datalist(path, check_files=False)
    assert err.value.patient_id == "W007" and err.value.folds == ("training", "test")
    assert "W007" in str(err.value) and "training, test" in str(err.value)
    with pytest.raises(PatientLeakError):
        load_datalist(path, check_files=False)


def test_validate_reports_missing_files_and_load_refuses_them(tmp_path):
    atomic_write_bytes(tmp_path / "a.png", b"x")
    path = write_datalist(
        {
            "training": [
                {"image": "a.png", "patient_id": "1"},
                {"image": "gone.png", "label": "gone_mask.png", "patient_id": "2"},
            ]
        },
        tmp_path / "d.json",
    )
    report = validate_datalist(path)
    assert not report.ok and [Path(p).name for p in report.missing] == ["gone.png", "gone_mask.png"]
    with pytest.raises(MissingFilesError, match="2 file"):
        load_datalist(path)
    assert len(load_datalist(path, check_files=False)) == 2


def test_validate_refuses_malformed_datalists(tmp_path):
    with pytest.raises(DatalistError, match="no fold"):
        validate_datalist({"name": "x"})
    with pytest.raises(DatalistError, match="patient_id"):
        validate_datalist({"training": [{"image": "a"}]}, check_files=False)
    with pytest.raises(DatalistError, match="listed in folds"):
        validate_datalist(
            {"training": [{"image": "a", "patient_id": "1"}], "test": [{"image": "a", "patient_id": "2"}]},
            check_files=False,
        )
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DatalistError, match="not valid JSON"):
        validate_datalist(tmp_path / "bad.json")
    with pytest.raises(DatalistError, match="fold must be"):
        load_datalist(tmp_path / "bad.json", fold="train")


def test_tag_source_merges_two_sources_without_a_shared_patient(tmp_path):
    """Two sources that both number their women from 1: merged as they are, woman 1 leaks; tagged, not."""
    sources = {}
    for source in ("mias", "cesm"):
        folder = tmp_path / source
        for name in ("a.png", "a_mask.png", "b.png"):
            atomic_write_bytes(folder / "images" / name, b"x")
        items = [
            {"image": "images/a.png", "label": "images/a_mask.png", "patient_id": "1", "class": 2, "n": [4]},
            {"image": "images/b.png", "label": "images/a_mask.png", "patient_id": "2", "class": 0},
        ]
        sources[source] = (folder, items)
    (mias_dir, mias), (cesm_dir, cesm) = sources["mias"], sources["cesm"]
    with pytest.raises(PatientLeakError):
        validate_datalist({"training": mias, "test": cesm}, check_files=False)
    merged = {
        "training": tag_source(mias, "mias", mias_dir, keys=("image", "label", "patient_id", "class")),
        "test": tag_source(cesm, "cesm", cesm_dir),
    }
    first = merged["training"][0]
    assert first == {
        "image": str((mias_dir / "images" / "a.png").resolve()),
        "label": str((mias_dir / "images" / "a_mask.png").resolve()),
        "patient_id": "mias:1",
        "class": 2,
        "source": "mias",
    }
    assert list(first) == ["image", "label", "patient_id", "class", "source"]  # the order of keys
    assert merged["test"][0]["n"] == [4] and merged["test"][1]["patient_id"] == "cesm:2"  # keys=None: all
    assert mias[0]["patient_id"] == "1"  # the input is not changed
    path = write_datalist(merged, tmp_path / "merged" / "datalist.json")
    assert validate_datalist(path).ok  # no patient in two folds, every file found from the merged folder
    assert [Path(d["image"]).parent.parent.name for d in load_datalist(path, fold="test")] == ["cesm", "cesm"]
    images_only = tag_source(mias, "mias", mias_dir, keys=("image", "patient_id"), path_keys=("image",))
    assert images_only[1] == {
        "image": str((mias_dir / "images" / "b.png").resolve()),
        "patient_id": "mias:2",
        "source": "mias",
    }
    with pytest.raises(KeyError):
        tag_source([{"image": "a.png", "patient_id": "1"}], "mias", mias_dir)  # no label
    with pytest.raises(KeyError):
        tag_source([{"image": "a.png"}], "mias", mias_dir, path_keys=("image",))  # no patient


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("ddsm_boxes", "ddsm_boxes"),
        ("/data/ddsm_boxes", "ddsm_boxes"),
        (["/data/mini_mias/"], "mini_mias"),
        ([], ""),
        (None, ""),
        ("", ""),
    ],
)
def test_source_name_survives_collation_and_path_resolution(value: object, name: str) -> None:
    from monai_mammo.data.datalist import source_name

    assert source_name(value) == name
