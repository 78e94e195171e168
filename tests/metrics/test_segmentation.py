"""dice_per_image (MONAI's Dice per image, empty cases defined) and mean_dice_with_ci."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.metrics import DiceMetric

from monai_mammo.metrics import dice_per_image, mean_dice_with_ci


def _masks():
    pred = np.zeros((4, 16, 16), dtype=np.float32)
    true = np.zeros((4, 16, 16), dtype=np.float32)
    pred[0, :8] = 0.9  # 128 px predicted, 64 px true, 64 overlap -> 2*64/192
    true[0, :4] = 1
    pred[1, 0, 0] = 0.7  # false positive on a normal image -> 0
    # image 2: both empty -> 1
    true[3, 4:8, 4:8] = 1  # missed lesion -> 0
    return pred, true


def test_hand_values():
    pred, true = _masks()
    np.testing.assert_allclose(dice_per_image(pred, true), [2 * 64 / 192, 0.0, 1.0, 0.0], rtol=1e-6)
    dice = dice_per_image(pred, true, ignore_empty=True)
    assert np.isnan(dice[1]) and np.isnan(dice[2]) and dice[3] == 0.0
    # bool masks, channel dimension, torch: same
    np.testing.assert_allclose(
        dice_per_image(torch.from_numpy(pred >= 0.5)[:, None], true[:, None]), dice_per_image(pred, true)
    )


def test_equals_monai_dice_metric_on_lesion_images():
    rng = np.random.default_rng(0)
    pred = (rng.random((6, 1, 32, 32)) > 0.6).astype(np.float32)
    true = (rng.random((6, 1, 32, 32)) > 0.7).astype(np.float32)
    metric = DiceMetric(include_background=True, reduction="none")
    expected = metric(torch.from_numpy(pred), torch.from_numpy(true))[:, 0].numpy()
    np.testing.assert_allclose(dice_per_image(pred, true), expected, rtol=1e-6)


def test_mean_with_ci():
    pred, true = _masks()
    point, low, high = mean_dice_with_ci(pred, true, n_boot=200)
    assert point == pytest.approx((2 * 64 / 192 + 1.0) / 4)
    assert low <= point <= high
    point_ignored, *_ = mean_dice_with_ci(pred, true, ignore_empty=True, n_boot=200)
    assert point_ignored == pytest.approx((2 * 64 / 192 + 0.0) / 2)


def test_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        dice_per_image(np.zeros((2, 8, 8)), np.zeros((2, 8, 9)))
    with pytest.raises(ValueError, match="binary masks"):
        dice_per_image(np.zeros((2, 3, 8, 8)), np.zeros((2, 3, 8, 8)))
