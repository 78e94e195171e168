"""expected_calibration_error and reliability_bins on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from monai_mammo.metrics import expected_calibration_error, reliability_bins


def test_hand_computed_ece():
    # bins of 0.1: 0.05 -> bin 0 (acc 0, conf .05), 0.15 -> bin 1 (acc 0, conf .15), 0.95 x2 -> bin 9 (acc .5)
    y = [0, 0, 1, 0]
    p = [0.05, 0.15, 0.95, 0.95]
    assert expected_calibration_error(y, p) == pytest.approx(0.25 * 0.05 + 0.25 * 0.15 + 0.5 * 0.45)
    conf, acc, count = reliability_bins(y, p)
    np.testing.assert_array_equal(count, [1, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    assert np.isnan(conf[2]) and acc[9] == 0.5


def test_calibrated_and_edges():
    assert expected_calibration_error([1, 0, 0, 0], [0.25] * 4) == 0.0
    # p = 1.0 falls in the last bin; p = 0.1 opens bin 1
    _, _, count = reliability_bins([1, 0, 1], [1.0, 0.1, 0.0], n_bins=10)
    assert count[9] == 1 and count[1] == 1 and count[0] == 1
    assert expected_calibration_error([1, 0], [1.0, 0.0]) == 0.0
    assert expected_calibration_error([0, 1], [1.0, 0.0]) == 1.0


def test_well_calibrated_sample_has_small_ece():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    y = rng.random(20000) < p
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.15


@pytest.mark.parametrize("p, error", [([0.5, 1.5], r"\[0, 1\]"), ([0.5, np.nan], "NaN")])
def test_bad_probabilities(p, error):
    with pytest.raises(ValueError, match=error):
        expected_calibration_error([0, 1], p)


def test_agrees_with_monai_off_the_bin_edges():
    """Off the bin edges our ECE is MONAI's CalibrationErrorMetric (float32 there); on an edge MONAI's bins
    put the score in the lower bin (why calibration.py keeps its own, see its docstring)."""
    torch = pytest.importorskip("torch")
    from monai.metrics import CalibrationErrorMetric, calibration_binning

    rng = np.random.default_rng(1)
    p = rng.random(5000)
    y = rng.random(5000) < p**1.5
    metric = CalibrationErrorMetric(num_bins=10)
    metric(torch.as_tensor(p)[None, None], torch.as_tensor(y, dtype=torch.float64)[None, None])
    assert expected_calibration_error(y, p) == pytest.approx(float(metric.aggregate()), abs=1e-6)
    _, _, theirs = calibration_binning(torch.tensor([[[0.5]]]), torch.tensor([[[1.0]]]), num_bins=10)
    assert reliability_bins([1], [0.5])[2][5] == 1 and theirs[0, 0, 4] == 1
