"""bootstrap_ci: percentile intervals, narrowing with n, cluster (group) resampling, invalid replicates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_mammo.metrics import ConfidenceInterval, bootstrap_ci


def test_point_and_interval_of_a_mean():
    x = np.random.default_rng(0).normal(0.0, 1.0, 400)
    ci = bootstrap_ci(np.mean, x, n_boot=2000)
    assert isinstance(ci, ConfidenceInterval)
    point, low, high = ci
    assert point == pytest.approx(x.mean())
    assert low < point < high
    # the percentile interval of a mean is close to +-1.96 standard errors
    assert high - low == pytest.approx(2 * 1.96 * x.std() / np.sqrt(len(x)), rel=0.12)


def test_interval_narrows_with_more_cases():
    rng = np.random.default_rng(1)
    widths = []
    for n in (25, 400, 6400):
        _, low, high = bootstrap_ci(np.mean, rng.normal(0.0, 1.0, n), n_boot=500)
        widths.append(high - low)
    assert widths[0] > 2.5 * widths[1] > 2.5 * 2.5 * widths[2]


def test_seeded_replay_and_torch_inputs():
    x = np.random.default_rng(2).random(100)
    assert bootstrap_ci(np.median, x, seed=5) == bootstrap_ci(np.median, torch.from_numpy(x), seed=5)
    assert bootstrap_ci(np.median, x, seed=5) != bootstrap_ci(np.median, x, seed=6)


def test_several_arrays_resampled_together():
    rng = np.random.default_rng(3)
    a = rng.random(200)
    b = a + 0.01  # paired: the difference is constant in every replicate
    point, low, high = bootstrap_ci(lambda u, v: float(np.mean(v - u)), a, b, n_boot=200)
    assert point == pytest.approx(0.01) and low == pytest.approx(0.01) and high == pytest.approx(0.01)


def test_group_bootstrap_equals_bootstrap_of_group_values():
    # 30 patients, 4 identical images each: resampling patients is resampling the 30 patient values
    patient_values = np.random.default_rng(4).random(30)
    images = np.repeat(patient_values, 4)
    patients = np.repeat(np.arange(30), 4)
    shuffled = np.random.default_rng(5).permutation(len(images))
    by_group = bootstrap_ci(np.mean, images[shuffled], groups=patients[shuffled], n_boot=300, seed=9)
    by_patient = bootstrap_ci(np.mean, patient_values, n_boot=300, seed=9)
    np.testing.assert_allclose(by_group, by_patient, rtol=1e-12)
    # resampling images as if independent understates the uncertainty
    naive = bootstrap_ci(np.mean, images, n_boot=300, seed=9)
    assert (naive.high - naive.low) < 0.7 * (by_group.high - by_group.low)


def test_undefined_replicates_left_out_or_refused():
    y = np.array([1] + [0] * 9)

    def needs_positive(v):
        return float(v.mean()) if v.any() else float("nan")

    with pytest.warns(UserWarning, match="left out"):
        point, low, high = bootstrap_ci(needs_positive, y, n_boot=300)
    assert low <= point <= high
    # one positive in 100: about 1 - 1/e = 63% of the replicates hold it
    with pytest.raises(ValueError, match="replicates"):
        bootstrap_ci(needs_positive, np.array([1] + [0] * 99), n_boot=300, min_valid_fraction=0.9)


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        ((), {}, "at least one array"),
        ((np.ones(3), np.ones(4)), {}, "same first dimension"),
        ((np.ones(3),), {"alpha": 1.5}, "alpha"),
        ((np.ones(3),), {"n_boot": 0}, "n_boot"),
        ((np.ones(3),), {"groups": [1, 2]}, "groups"),
        ((np.full(3, np.nan),), {}, "not finite"),
    ],
)
def test_bad_input(args, kwargs, error):
    with pytest.raises(ValueError, match=error):
        bootstrap_ci(np.mean, *args, **kwargs)


def test_to_numpy_old_name_still_works_with_a_deprecation_warning() -> None:
    from monai_mammo.metrics.bootstrap import to_numpy

    with pytest.warns(DeprecationWarning, match="convert_to_numpy"):
        np.testing.assert_array_equal(to_numpy([torch.tensor(1.0), 2.0], "x"), [1.0, 2.0])
