"""patch_training_items: every training image with its lesion mask and integer class."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monai_mammo.data import class_source_weights, patch_training_items


def write(tmp_path: Path, items: list[dict]) -> str:
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps({"training": items, "validation": []}))
    return str(path)


def test_items_keep_keys_mask_and_class(tmp_path: Path) -> None:
    datalist = write(
        tmp_path,
        [
            {"image": "a.png", "label": "a_mask.png", "class": 2, "patient_id": "p1", "site": "x"},
            {"image": "b.png", "label": "b_mask.png", "class": "-1", "patient_id": "p2"},
            {"image": "c.png", "label": "c_mask.png", "patient_id": "p3"},
        ],
    )
    items = patch_training_items(datalist, str(tmp_path), keys=("image", "patient_id"))
    assert [i["class"] for i in items] == [2, -1, -1]
    assert items[0] == {
        "image": str(tmp_path / "a.png"),
        "patient_id": "p1",
        "label": str(tmp_path / "a_mask.png"),
        "class": 2,
    }


def test_items_without_a_mask_are_refused_by_name(tmp_path: Path) -> None:
    datalist = write(
        tmp_path, [{"image": "a.png", "label": "m.png", "class": 0}, {"image": "b.png", "class": 0}]
    )
    with pytest.raises(ValueError, match=r"1 training item\(s\) have no lesion mask.*b\.png"):
        patch_training_items(datalist, str(tmp_path))


def test_an_empty_fold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'validation' list is empty"):
        patch_training_items(
            write(tmp_path, [{"image": "a.png", "label": "m.png"}]), str(tmp_path), fold="validation"
        )


def test_class_source_weights_draw_classes_equally_and_temper_the_largest_source() -> None:
    items = (
        [{"class": 2, "source": "/data/ddsm"}] * 400
        + [{"class": 2, "source": "/data/mias"}] * 25
        + [{"class": 0, "source": "mias"}] * 100
    )
    weights = class_source_weights(items)
    assert sum(weights) == pytest.approx(1.0)
    per_class = {c: sum(w for i, w in zip(items, weights) if i["class"] == c) for c in (0, 2)}
    assert per_class[0] == pytest.approx(0.5) and per_class[2] == pytest.approx(0.5)
    mias_malignant = sum(w for i, w in zip(items, weights) if i["class"] == 2 and "mias" in i["source"])
    # 1/sqrt(n) per image: 25/5 against 400/20 -> a fifth of the malignant draws, not 25/425 = 6 %
    assert mias_malignant / per_class[2] == pytest.approx(5 / 25)
