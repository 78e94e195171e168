"""ROC curve, AUC, sensitivity at specificity, confusion matrix: hand-computed values, MONAI agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.metrics import compute_roc_auc

from monai_mammo.metrics import (
    confusion_matrix,
    roc_auc,
    roc_auc_with_ci,
    roc_curve,
    sensitivity_at_specificity,
    sensitivity_at_specificity_with_ci,
)

# hand case: 4 negatives, 4 positives
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0.1, 0.2, 0.3, 0.8, 0.4, 0.6, 0.7, 0.9])
# pairs (pos > neg): 0.4 beats 3, 0.6 beats 3, 0.7 beats 3, 0.9 beats 4 -> 13 / 16


def test_auc_known_values():
    assert roc_auc(Y, S) == pytest.approx(13 / 16)
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_equals_monai_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300) + 0.3 * y, 1)  # many ties
    expected = compute_roc_auc(torch.from_numpy(s), torch.from_numpy(y))
    assert roc_auc(y, s) == pytest.approx(float(expected), abs=1e-12)


def test_auc_agrees_with_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.random(200), 2)
    assert roc_auc(y, s) == pytest.approx(metrics.roc_auc_score(y, s))
    fpr, tpr, _ = roc_curve(y, s)
    fpr_sk, tpr_sk, _ = metrics.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, fpr_sk)
    np.testing.assert_allclose(tpr, tpr_sk)


def test_roc_curve_hand_case():
    fpr, tpr, thr = roc_curve(Y, S)
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(fpr, [0, 0, 0.25, 0.25, 0.25, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(tpr, [0, 0.25, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0])
    # ties form one point
    fpr, tpr, thr = roc_curve([0, 1, 1], [0.5, 0.5, 0.7])
    np.testing.assert_allclose(fpr, [0, 0, 1]) and np.testing.assert_allclose(tpr, [0, 0.5, 1])


@pytest.mark.parametrize(
    "spec, step, linear",
    [
        (1.0, 0.25, 0.25),  # no false positive allowed: only the 0.9 case
        (0.9, 0.25, 0.25),  # fpr <= 0.1: still (0, 0.25); the next point (0.25, 0.25) is flat
        (0.75, 1.0, 1.0),  # fpr <= 0.25 reaches (0.25, 1.0)
        (0.0, 1.0, 1.0),
    ],
)
def test_sensitivity_at_specificity_hand(spec, step, linear):
    assert sensitivity_at_specificity(Y, S, spec) == pytest.approx(step)
    assert sensitivity_at_specificity(Y, S, spec, rule="linear") == pytest.approx(linear)


def test_step_and_linear_differ_on_a_diagonal():
    # a tie between a positive and a negative makes a diagonal ROC segment (0, 0) -> (1, 1)
    y, s = [0, 1], [0.5, 0.5]
    assert sensitivity_at_specificity(y, s, 0.5) == 0.0  # no threshold gives spec >= 0.5 with sens > 0
    assert sensitivity_at_specificity(y, s, 0.5, rule="linear") == pytest.approx(0.5)
    y, s = [0, 0, 1, 1, 1, 0], [0.1, 0.2, 0.6, 0.6, 0.9, 0.6]
    # points: (0,0) (0,1/3) [0.9] (1/3,1) [0.6] ...; spec 5/6 -> fpr 1/6: linear halfway from 1/3 to 1
    assert sensitivity_at_specificity(y, s, 5 / 6) == pytest.approx(1 / 3)
    assert sensitivity_at_specificity(y, s, 5 / 6, rule="linear") == pytest.approx(2 / 3)


def test_cis_contain_point_and_use_groups():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 400)
    s = rng.random(400) + 0.8 * y
    auc = roc_auc_with_ci(y, s, n_boot=300)
    assert auc.low < auc.point < auc.high and auc.point == pytest.approx(roc_auc(y, s))
    sens = sensitivity_at_specificity_with_ci(y, s, 0.9, n_boot=300)
    assert sens.low <= sens.point <= sens.high
    assert sens.point == sensitivity_at_specificity(y, s, 0.9)
    # four images per patient sharing their score: patient resampling gives a wider interval
    patients = np.repeat(np.arange(100), 4)
    y_p, s_p = np.repeat(y[:100], 4), np.repeat(s[:100], 4)
    grouped = roc_auc_with_ci(y_p, s_p, n_boot=300, groups=patients)
    naive = roc_auc_with_ci(y_p, s_p, n_boot=300)
    assert grouped.point == naive.point
    assert grouped.high - grouped.low > 1.4 * (naive.high - naive.low)


def test_confusion_matrix():
    cm = confusion_matrix([0, 1, 1, 0, 1], [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(cm, [[1, 1], [1, 2]])  # [[TN, FP], [FN, TP]]
    np.testing.assert_array_equal(confusion_matrix(Y, S, threshold=0.5), [[3, 1], [1, 3]])
    np.testing.assert_array_equal(confusion_matrix([0, 0], [0, 0]), [[2, 0], [0, 0]])
    np.testing.assert_array_equal(
        confusion_matrix([2, 2, 1], [2, 0, 1], labels=[2, 1, 0]), [[1, 0, 1], [0, 1, 0], [0, 0, 0]]
    )
    with pytest.raises(ValueError, match="not among"):
        confusion_matrix([0, 3], [0, 1], labels=[0, 1])


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: roc_auc([0, 0, 0], [0.1, 0.2, 0.3]), "both classes"),
        (lambda: roc_auc([0, 2, 1], [0.1, 0.2, 0.3]), "0/1"),
        (lambda: roc_auc([0, 1], [0.1, np.nan]), "NaN"),
        (lambda: roc_auc([0, 1, 1], [0.1, 0.2]), "cases"),
        (lambda: sensitivity_at_specificity(Y, S, 1.2), "specificity"),
        (lambda: sensitivity_at_specificity(Y, S, 0.9, rule="cubic"), "rule"),
    ],
)
def test_bad_input(call, error):
    with pytest.raises(ValueError, match=error):
        call()
