"""ThresholdBreastMask on real mammograms: lesions lie inside, background outside, scale-free."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from monai_mammo.inferers import ThresholdBreastMask


def _mias_lesions(shared_data, n):
    """The first n mini-MIAS images with lesion coordinates: (name, row, col)."""
    rows = []
    for line in (shared_data / "mini_mias" / "Info.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 7 and (shared_data / "mini_mias" / "images" / f"{parts[0]}.png").exists():
            rows.append((parts[0], 1024 - int(parts[5]), int(parts[4])))  # y counts from the bottom
    return rows[:n]


def test_lesions_inside_mask_and_corners_outside(shared_data):
    lesions = _mias_lesions(shared_data, 8)
    assert len(lesions) == 8
    masker = ThresholdBreastMask()
    for name, row, col in lesions:
        image = np.asarray(
            Image.open(shared_data / "mini_mias" / "images" / f"{name}.png").convert("L"), np.float32
        )
        mask = masker(torch.from_numpy(image)[None, None])[0, 0].numpy()
        assert mask.shape == image.shape and mask.dtype == bool
        assert mask[row, col], f"lesion of {name} at ({row}, {col}) outside the breast mask"
        assert 0.1 < mask.mean() < 0.8, name
        # the breast touches one side edge; the opposite side's corners are background
        assert not (mask[0, 0] and mask[0, -1] and mask[-1, 0] and mask[-1, -1]), name


def test_intensity_scale_free_and_batched(shared_data):
    image = np.asarray(
        Image.open(shared_data / "mini_mias" / "images" / "mdb001.png").convert("L"), np.float32
    )
    x = torch.from_numpy(image)[None, None]
    masker = ThresholdBreastMask()
    batch = torch.cat([x, x * 16.0 + 100.0, (x - x.mean()) / x.std()])
    masks = masker(batch)
    assert masks.shape == (3, 1, 1024, 1024)
    assert torch.equal(masks[0], masks[1]) and torch.equal(masks[0], masks[2])
    # numpy in, torch out
    assert torch.equal(masker(batch.numpy())[0], masks[0])


def test_constant_image_gives_full_mask():
    assert ThresholdBreastMask()(torch.zeros(2, 1, 40, 30)).all()


def test_margin_grows_mask():
    x = torch.zeros(1, 1, 64, 64)
    x[..., 20:40, 20:40] = 1.0
    tight = ThresholdBreastMask(margin=0)(x)
    wide = ThresholdBreastMask(margin=3)(x)
    assert tight.sum() == 400
    assert wide.sum() > tight.sum() and torch.all(wide[tight])


def test_largest_component_and_holes():
    x = torch.zeros(1, 1, 64, 64)
    x[..., 10:50, 10:50] = 1.0
    x[..., 25:30, 25:30] = 0.0  # dark fat inside the breast
    x[..., 58:61, 58:61] = 1.0  # a film marker
    mask = ThresholdBreastMask(margin=0)(x)[0, 0]
    assert mask[27, 27] and not mask[59, 59]
    keep_all = ThresholdBreastMask(margin=0, keep_largest=False, fill_holes=False)(x)[0, 0]
    assert keep_all[59, 59] and not keep_all[27, 27]


@pytest.mark.parametrize("kwargs", [{"fraction": 0.0}, {"fraction": 1.0}, {"margin": -1}, {"grid_size": 4}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ThresholdBreastMask(**kwargs)


def test_needs_batch():
    with pytest.raises(ValueError, match="batch"):
        ThresholdBreastMask()(torch.zeros(64, 64))
