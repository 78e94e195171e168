"""mini-MIAS importer: the fixture tree in the distribution's layout and the real files in ../shared/data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dataset_trees import mini_mias_subset
from PIL import Image

from monai_mammo.data.datalist import FOLDS, load_datalist, validate_datalist
from monai_mammo.data.datasets import prepare_dataset, read_mias_info, report_path, scan_mini_mias
from monai_mammo.data.datasets.records import DatasetLayoutError


def test_read_mias_info_parses_rows_quirks_and_readme_text(mini_mias_tree):
    rows, bad = read_mias_info(mini_mias_tree / "Info.txt")
    assert bad == []
    assert [r.name for r in rows].count("mdb005") == 2
    first = rows[0]
    assert (first.name, first.tissue, first.abnormality, first.severity, first.x, first.y, first.radius) == (
        "mdb001",
        "G",
        "CIRC",
        "B",
        40.0,
        30.0,
        6.0,
    )
    note3 = next(r for r in rows if r.name == "mdb007")
    assert note3.severity == "M" and note3.x is None and note3.radius is None
    assert next(r for r in rows if r.name == "mdb003").severity is None


def test_scan_fixture_tree(mini_mias_tree):
    result = scan_mini_mias(mini_mias_tree)
    records = {r.key: r for r in result.records}
    assert sorted(records) == [f"mdb{n:03d}" for n in range(1, 12)]
    assert result.issue_counts() == {"missing_image": 1, "no_coordinates": 2}
    assert [i["image"] for i in result.issues if i["kind"] == "missing_image"] == ["mdb012"]
    # pairs of films are one woman: odd = right, even = left
    assert records["mdb001"].patient_id == records["mdb002"].patient_id == "W001"
    assert records["mdb003"].patient_id == "W002" != records["mdb002"].patient_id
    assert records["mdb001"].fields["laterality"] == "R" and records["mdb002"].fields["laterality"] == "L"
    # worst severity per image; labels kept without coordinates
    assert records["mdb005"].fields["pathology"] == "malignant" and records["mdb005"].fields["n_lesions"] == 2
    assert records["mdb007"].fields["class"] == 2 and records["mdb007"].mask is None
    assert records["mdb009"].fields["pathology"] == "benign" and records["mdb009"].mask is None
    assert records["mdb003"].fields["class"] == 0 and records["mdb003"].mask is not None


def test_prepare_fixture_tree_draws_circles_from_the_bottom(mini_mias_tree, tmp_path):
    out = prepare_dataset(
        "mini-MIAS", root=mini_mias_tree, out=tmp_path / "mias.json", workers=1, progress=False
    )
    data = json.loads(out.read_text())
    items = {i["image_id"]: i for fold in FOLDS for i in data[fold]}
    assert len(items) == 11 and "label" not in items["mdb007"] and "label" in items["mdb003"]
    mask = np.asarray(Image.open(tmp_path / items["mdb005"]["label"]))
    assert mask.shape == (48, 64) and set(np.unique(mask)) == {0, 1}
    # Info.txt: (10, 20, r 3) and (50, 20, r 5), y from the bottom -> row 48 - 20 = 28
    assert mask[28, 10] == 1 and mask[28, 50] == 1 and mask[20, 10] == 0
    assert mask.sum() == pytest.approx(np.pi * (3**2 + 5**2), rel=0.25)
    assert not np.asarray(Image.open(tmp_path / items["mdb003"]["label"])).any()  # normal: empty mask
    report = json.loads(report_path(out).read_text())
    assert report["issue_counts"] == {"missing_image": 1, "no_coordinates": 2}


def test_missing_info_file_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetLayoutError, match="Info.txt"):
        scan_mini_mias(tmp_path)


# ------------------------------------------------------------------------------- the real files
def test_real_mini_mias(shared_data, tmp_path):
    root = shared_data / "mini_mias"
    out = prepare_dataset(
        "mini_mias", root=root, out=tmp_path / "datalist.json", seed=0, workers=1, progress=False
    )
    data = json.loads(out.read_text())
    report = validate_datalist(out)
    assert sum(report.items.values()) == 216 and sum(report.patients.values()) == 108 and report.ok
    items = [i for fold in FOLDS for i in data[fold]]
    # every woman has both films, in one fold
    by_woman: dict[str, set[str]] = {}
    for item in items:
        by_woman.setdefault(item["patient_id"], set()).add(item["laterality"])
    assert all(sides == {"L", "R"} for sides in by_woman.values())
    # laterality from odd/even numbers agrees with the anatomy: the breast touches its own side's edge
    # (for all but one or two films: mdb151 is a dense film whose bright half is the other one)
    agree = []
    for item in items[::3]:
        image = np.asarray(Image.open(tmp_path / item["image"]), dtype=float)
        agree.append((image[:, :512].mean() > image[:, 512:].mean()) == (item["laterality"] == "L"))
    assert np.mean(agree) > 0.95
    # circle masks, y from the bottom: lesions lie inside the breast (bright), not in the background
    lesion_means = []
    for item in items:
        if item["n_lesions"] and "label" in item:
            mask = np.asarray(Image.open(tmp_path / item["label"])) > 0
            lesion_means.append(np.asarray(Image.open(tmp_path / item["image"]))[mask].mean())
    assert len(lesion_means) == sum(1 for i in items if i["n_lesions"]) and np.median(lesion_means) > 100
    counts = {fold: len(data[fold]) for fold in FOLDS}
    assert counts["training"] > counts["test"] > counts["validation"] > 0


def test_real_mini_mias_with_the_full_table_reports_missing_images(shared_data, tmp_path):
    """README_MIAS.txt holds all 322 rows: the 106 films that are absent are reported and skipped."""
    root = shared_data / "mini_mias"
    result = scan_mini_mias(root, info_file=root / "README_MIAS.txt")
    assert len(result.records) == 216
    counts = result.issue_counts()
    assert counts["missing_image"] == 106
    assert sum(r.fields["n_lesions"] for r in result.records) == len(
        [r for r in read_mias_info(root / "Info.txt")[0] if r.abnormality != "NORM"]
    )


def test_a_datalist_from_the_importer_feeds_a_monai_dataloader(shared_data, tmp_path):
    """What a bundle does with the datalist: LoadImaged, a few transforms, a DataLoader batch."""
    from monai.data import DataLoader, Dataset, PILReader, load_decathlon_datalist
    from monai.transforms import (
        Compose,
        EnsureChannelFirstd,
        LoadImaged,
        Resized,
        ScaleIntensityd,
        SelectItemsd,
    )

    root = mini_mias_subset(shared_data / "mini_mias", tmp_path / "mias", n_images=40)  # 20 women
    out = prepare_dataset(
        "mini_mias",
        root=root,
        out=tmp_path / "dl.json",
        cache_dir=tmp_path / "cache",
        size=(128, 128),
        workers=1,
        progress=False,
    )
    train = load_decathlon_datalist(out, data_list_key="training")
    assert train == load_datalist(out, "training")
    with_mask = [i for i in train if "label" in i][:6]
    transform = Compose(
        [
            LoadImaged(keys=["image", "label"], reader=PILReader(reverse_indexing=False)),
            EnsureChannelFirstd(keys=["image", "label"], channel_dim="no_channel"),
            ScaleIntensityd(keys="image"),
            Resized(keys=["image", "label"], spatial_size=(64, 64), mode=("area", "nearest")),
            SelectItemsd(keys=["image", "label", "class", "patient_id", "laterality"]),
        ]
    )
    batch = next(iter(DataLoader(Dataset(with_mask, transform), batch_size=3)))
    assert tuple(batch["image"].shape) == (3, 1, 64, 64) and tuple(batch["label"].shape) == (3, 1, 64, 64)
    assert batch["image"].max() <= 1 and set(batch["label"].unique().tolist()) <= {0.0, 1.0}
    assert batch["class"].tolist() == [i["class"] for i in with_mask[:3]]
    # the cached 16-bit PNG keeps the anatomy of the 8-bit source
    cached = np.asarray(Image.open(with_mask[0]["image"]))
    assert cached.dtype == np.uint16 and cached.shape == (128, 128) and cached.max() > 30000
