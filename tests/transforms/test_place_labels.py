"""LesionPlaceLabels(d): a class label per 32 x 32 place of a whole image, from its lesion mask and class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_mammo.transforms import LesionPlaceLabels, LesionPlaceLabelsd


def mask_of(*boxes: tuple[slice, slice], shape: tuple[int, int] = (64, 96)) -> np.ndarray:
    mask = np.zeros((1, *shape), dtype=np.uint8)
    for rows, cols in boxes:
        mask[0, rows, cols] = 1
    return mask


@pytest.mark.parametrize("as_tensor", [False, True])
def test_places_of_a_large_and_a_small_lesion(as_tensor: bool) -> None:
    """A 35 x 40 lesion covers two places by more than a quarter and touches two more; a 2 x 2 lesion in
    another place still gets that place."""
    mask = mask_of((slice(5, 40), slice(10, 50)), (slice(60, 62), slice(90, 92)))
    labels = LesionPlaceLabels(32, ignore_index=3)(torch.as_tensor(mask) if as_tensor else mask, 2)
    assert labels.dtype == torch.long and labels.shape == (2, 3)
    assert labels.tolist() == [[2, 2, 0], [3, 3, 2]]


@pytest.mark.parametrize(
    ("image_class", "expected"),
    [
        (1, [[1, 1, 0], [-100, -100, 1]]),  # benign: the same places, the benign class
        (-1, [[-100, -100, 0], [-100, -100, -100]]),  # unknown pathology: lesion places left out
        (0, [[-100, -100, 0], [-100, -100, -100]]),  # a "normal" image with a lesion: left out
    ],
)
def test_lesion_places_take_the_image_class_or_are_ignored(image_class: int, expected: list) -> None:
    mask = mask_of((slice(5, 40), slice(10, 50)), (slice(60, 62), slice(90, 92)))
    assert LesionPlaceLabels(32)(mask, image_class).tolist() == expected


def test_normal_image_is_background_everywhere() -> None:
    labels = LesionPlaceLabels(32)(np.zeros((1, 512, 416), np.uint8), 0)
    assert labels.shape == (16, 13) and not labels.any()


def test_min_fraction_and_cell_size() -> None:
    mask = mask_of((slice(0, 20), slice(0, 32)), shape=(32, 64))  # 20 of 32 rows of the first place
    assert LesionPlaceLabels(32, min_fraction=0.25)(mask, 2).tolist() == [[2, 0]]  # 0.625 >= 0.25
    # 16-pixel places: the first row full, the second a quarter (4 of 16 rows): touched, left out
    assert LesionPlaceLabels(16, min_fraction=0.5)(mask, 2).tolist() == [[2, 2, 0, 0], [-100, -100, 0, 0]]


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"cell_size": 0}, "cell_size"), ({"min_fraction": 0.0}, "min_fraction")]
)
def test_bad_arguments_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LesionPlaceLabels(**kwargs)


def test_bad_masks_refused() -> None:
    with pytest.raises(ValueError, match="multiple of cell_size"):
        LesionPlaceLabels(32)(np.zeros((1, 50, 64)), 2)
    with pytest.raises(ValueError, match="channel"):
        LesionPlaceLabels(32)(np.zeros(64), 2)


def test_dictionary_version() -> None:
    mask = mask_of((slice(5, 40), slice(10, 50)))
    out = LesionPlaceLabelsd(keys="label", class_key="class", output_key="places", ignore_index=3)(
        {"label": mask, "class": torch.tensor([2])}
    )
    assert out["places"].tolist() == [[2, 2, 0], [3, 3, 0]]
    assert out["label"] is mask  # kept when an output key is given
    with pytest.raises(KeyError, match="class"):
        LesionPlaceLabelsd(keys="label")({"label": mask})
