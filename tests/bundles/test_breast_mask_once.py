"""Every bundle config computes the breast mask once per image: BreastMaskd runs before CanonicalLateralityd,
which decides on that mask (``mask_key``) and flips it with the image, so that no step computes it again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_mammo.transforms import BreastMaskd, CanonicalLateralityd, CropBreastd

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "bundles").glob("*/configs/*.json"))
# the owner of this file is rewriting it; the strict xfail turns into a failure once it is reordered
NOT_YET: set[str] = set()  # configs still computing the mask twice (none)


def transform_lists(node: Any) -> list[list[dict]]:
    """Every list in a config that holds a BreastMaskd or CanonicalLateralityd entry."""
    found = []
    if isinstance(node, dict):
        for value in node.values():
            found += transform_lists(value)
    elif isinstance(node, list):
        targets = [str(x.get("_target_", "")) for x in node if isinstance(x, dict)]
        if any(t.endswith(("BreastMaskd", "CanonicalLateralityd")) for t in targets):
            found.append([x for x in node if isinstance(x, dict)])
        for value in node:
            found += transform_lists(value)
    return found


def keys_of(entry: dict) -> list[str]:
    keys = entry.get("keys", [])
    return [keys] if isinstance(keys, str) else list(keys)


def mask_computations(transforms: list[dict]) -> list[str]:
    """What in one transform list computes a breast mask: each BreastMaskd, and each CanonicalLateralityd
    that finds no mask computed before it (its ``mask_key``, ``breast_mask`` by default)."""
    computed, masks = [], set()
    for entry in transforms:
        target = str(entry.get("_target_", ""))
        if target.endswith("BreastMaskd"):
            computed.append("BreastMaskd")
            masks.add(entry.get("mask_key", "breast_mask"))
        elif target.endswith("CanonicalLateralityd"):
            mask_key = entry.get("mask_key", "breast_mask")
            if mask_key not in masks:
                computed.append("CanonicalLateralityd")
            elif mask_key not in keys_of(entry):
                computed.append("CanonicalLateralityd (mask left unflipped)")
    return computed


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="not reordered yet"))
        if c.relative_to(REPO / "bundles").as_posix() in NOT_YET
        else c
        for c in CONFIGS
    ],
    ids=lambda c: c.relative_to(REPO / "bundles").as_posix(),
)
def test_each_config_computes_the_breast_mask_once(config: Path) -> None:
    for transforms in transform_lists(json.loads(config.read_text())):
        assert mask_computations(transforms) == ["BreastMaskd"]


def test_the_check_finds_a_second_computation() -> None:
    late = [
        {"_target_": "CanonicalLateralityd", "keys": "image"},
        {"_target_": "BreastMaskd", "keys": "image"},
    ]
    assert mask_computations(late) == ["CanonicalLateralityd", "BreastMaskd"]
    unflipped = late[::-1]
    assert mask_computations(unflipped) == ["BreastMaskd", "CanonicalLateralityd (mask left unflipped)"]


def test_mask_first_gives_the_crop_of_mask_after_and_inverts() -> None:
    """The bundles' order (mask, then laterality on it) crops the flipped image as the old order did."""
    rows, cols = np.mgrid[:128, :96]
    image = ((rows - 64) ** 2 / 50**2 + (cols - 95) ** 2 / 70**2 <= 1).astype(np.float32)  # chest wall right
    image += np.random.default_rng(0).normal(0, 0.02, image.shape).astype(np.float32)
    data = {"image": MetaTensor(torch.from_numpy(image[None].copy()), meta={"laterality": "R"})}
    mask_first = Compose(
        [
            BreastMaskd("image"),
            CanonicalLateralityd(["image", "breast_mask"]),
            CropBreastd(["image", "breast_mask"], mask_key="breast_mask", margin=4),
        ]
    )
    mask_after = Compose(
        [
            CanonicalLateralityd("image"),
            BreastMaskd("image"),
            CropBreastd(["image", "breast_mask"], mask_key="breast_mask", margin=4),
        ]
    )
    a, b = mask_first(dict(data)), mask_after(dict(data))
    assert a["image"].applied_operations[0]["extra_info"]["flipped"] is True
    assert a["image"].shape == b["image"].shape
    np.testing.assert_array_equal(a["image"].numpy(), b["image"].numpy())
    assert (
        a["breast_mask"].numpy() != b["breast_mask"].numpy()
    ).mean() < 0.02  # grid blocks fall differently
    back = mask_first.inverse(a)["image"].numpy()  # the original geometry; zeros outside the crop
    inside = back != 0
    assert back.shape == image[None].shape and inside.mean() > 0.5
    np.testing.assert_array_equal(back[inside], image[None][inside])
