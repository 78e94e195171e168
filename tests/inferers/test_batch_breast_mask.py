"""BatchBreastMask: BreastMask per image of a batch, plus a margin; real mini-MIAS lesions lie inside."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from monai_mammo.inferers import BatchBreastMask
from monai_mammo.transforms import BreastMask


def _mias(shared_data, name):
    return np.asarray(
        Image.open(shared_data / "mini_mias" / "images" / f"{name}.png").convert("L"), np.float32
    )


def _mias_lesions(shared_data, n):
    """The first n mini-MIAS images with lesion coordinates: (name, row, col)."""
    rows = []
    for line in (shared_data / "mini_mias" / "Info.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 7 and (shared_data / "mini_mias" / "images" / f"{parts[0]}.png").exists():
            rows.append((parts[0], 1024 - int(parts[5]), int(parts[4])))  # y counts from the bottom
    return rows[:n]


def test_batch_equals_breast_mask_per_image_without_margin(shared_data):
    batch = torch.from_numpy(np.stack([_mias(shared_data, "mdb001"), _mias(shared_data, "mdb002")]))[:, None]
    masks = BatchBreastMask(margin=0)(batch)
    assert masks.shape == (2, 1, 1024, 1024) and masks.dtype == torch.bool
    for b in range(2):
        assert torch.equal(masks[b], BreastMask()(batch[b]).bool())
    # numpy in, torch out; same masks
    assert torch.equal(BatchBreastMask(margin=0)(batch.numpy()), masks)


def test_margin_grows_the_mask(shared_data):
    batch = torch.from_numpy(_mias(shared_data, "mdb001"))[None, None]
    tight = BatchBreastMask(margin=0)(batch)
    wide = BatchBreastMask(margin=2)(batch)
    assert torch.all(wide[tight]) and wide.sum() > tight.sum()
    # two grid cells of 4 px (grid 256 on 1024 rows): at most ~8 px wider along the skin line
    assert wide.sum() - tight.sum() < 0.05 * 1024 * 1024


def test_lesions_inside_and_background_outside(shared_data):
    masker = BatchBreastMask()
    lesions = _mias_lesions(shared_data, 12)
    images = torch.from_numpy(np.stack([_mias(shared_data, name) for name, _, _ in lesions]))[:, None]
    masks = masker(images)[:, 0].numpy()
    for mask, (name, row, col) in zip(masks, lesions):
        assert mask[row, col], f"lesion of {name} at ({row}, {col}) outside the breast mask"
        assert 0.1 < mask.mean() < 0.8, name


def test_constant_image_full_mask_and_errors():
    assert BatchBreastMask()(torch.zeros(2, 1, 64, 48)).all()
    with pytest.raises(ValueError, match="margin"):
        BatchBreastMask(margin=-1)
    with pytest.raises(ValueError, match="batch of 2D images"):
        BatchBreastMask()(torch.zeros(1, 64, 64))
