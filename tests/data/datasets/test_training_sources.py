"""The bundles' shared training sources: real CDD-CESM images with masks, classes, sides; split by woman."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datasets.training_sources import (
    build_training_folds,
    compact_copy,
    write_training_datalists,
)


def test_cdd_cesm_and_phantoms_merge_into_patient_disjoint_folds(shared_data: Path, tmp_path: Path) -> None:
    folds = build_training_folds(shared_data, tmp_path, sources=["cdd_cesm"], phantoms=8, seed=0)
    assert set(folds) == {"cdd_cesm", "phantom"}
    cesm = [i for f in folds["cdd_cesm"].values() for i in f]
    assert len(cesm) == len(list((shared_data / "cdd_cesm" / "images").glob("*.jpg")))
    for item in cesm:
        mask = np.asarray(Image.open(item["label"]))
        assert set(np.unique(mask)) <= {0, 1}
        assert item["class"] in (0, 1, 2) and (item["class"] > 0) == bool(mask.any())
        assert item["laterality"] in ("L", "R") and item["view"] in ("CC", "MLO")
        assert item["patient_id"].startswith("cdd_cesm:P") and item["source"] == "cdd_cesm"
    patients = {
        f: {i["patient_id"] for s in folds.values() for i in s[f]} for f in ("training", "validation", "test")
    }
    assert not patients["training"] & patients["test"] and not patients["validation"] & patients["test"]

    counts = write_training_datalists(folds, tmp_path, "mammo_test")
    assert counts["cdd_cesm"]["training"] == len(folds["cdd_cesm"]["training"])
    merged = json.loads((tmp_path / "datalist.json").read_text())
    assert len(merged["test"]) == sum(len(s["test"]) for s in folds.values())
    assert json.loads((tmp_path / "test_all.json").read_text())["test"] == merged["test"]
    for (
        source,
        source_folds,
    ) in folds.items():  # a per-source test datalist wherever the source has a test fold
        assert (tmp_path / f"test_{source}.json").is_file() == bool(source_folds["test"])

    small = json.loads(
        compact_copy(tmp_path / "datalist.json", tmp_path / "compact", max_side=96).read_text()
    )
    assert [len(small[f]) for f in ("training", "test")] == [len(merged[f]) for f in ("training", "test")]
    for item, original in zip(small["training"], merged["training"]):
        image = Image.open(tmp_path / "compact" / item["image"])
        mask = np.asarray(Image.open(tmp_path / "compact" / item["label"]))
        assert image.mode == "L" and max(image.size) <= 96 and mask.shape == image.size[::-1]
        assert item["class"] == original["class"] and "breast_mask" not in item


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown source"):
        build_training_folds(tmp_path, tmp_path, sources=["vindr"])
