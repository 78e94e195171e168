"""PatchClass(d): a patch's class from its lesion mask and its image's class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_mammo.transforms import PatchClass, PatchClassd


def mask_with(rows: slice, cols: slice, size: int = 64) -> np.ndarray:
    mask = np.zeros((1, size, size), dtype=np.uint8)
    mask[0, rows, cols] = 1
    return mask


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize(
    ("mask", "image_class", "expected"),
    [
        (np.zeros((1, 64, 64), np.uint8), 2, 0),  # no lesion: background, whatever the image
        (np.zeros((1, 64, 64), np.uint8), -1, 0),  # unknown pathology still gives background
        (mask_with(slice(30, 34), slice(30, 34)), 2, 2),  # lesion at the centre: the image's class
        (mask_with(slice(30, 34), slice(30, 34)), 1, 1),
        (mask_with(slice(0, 4), slice(0, 4)), 2, -100),  # lesion only near the border: ignored
        (mask_with(slice(30, 34), slice(30, 34)), -1, -100),  # lesion of unknown pathology: ignored
        (mask_with(slice(30, 34), slice(30, 34)), 0, -100),  # a "normal" image with a lesion: ignored
    ],
)
def test_patch_class(mask: np.ndarray, image_class: int, expected: int, as_tensor: bool) -> None:
    value = torch.as_tensor(mask) if as_tensor else mask
    assert PatchClass()(value, image_class) == expected


def test_centre_fraction_sets_the_central_part() -> None:
    mask = mask_with(slice(10, 12), slice(10, 12))  # 10 px from the edge of a 64 px patch
    assert PatchClass(centre_fraction=0.5)(mask, 2) == -100  # centre part starts at 16
    assert PatchClass(centre_fraction=0.75)(mask, 2) == 2  # centre part starts at 8


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_bad_centre_fraction(fraction: float) -> None:
    with pytest.raises(ValueError, match="centre_fraction"):
        PatchClass(centre_fraction=fraction)


def test_dict_version_writes_a_long_scalar() -> None:
    data = {"label": mask_with(slice(30, 34), slice(30, 34)), "class": torch.tensor([2])}
    out = PatchClassd(keys="label", class_key="class", ignore_index=3)(data)
    assert out["label"].dtype == torch.long and int(out["label"]) == 2
    out = PatchClassd(keys="label", output_key="patch_class")(data)
    assert int(out["patch_class"]) == 2 and out["label"].shape == (1, 64, 64)


def test_dict_version_needs_the_class() -> None:
    with pytest.raises(KeyError, match="class"):
        PatchClassd(keys="label")({"label": np.zeros((1, 8, 8))})
