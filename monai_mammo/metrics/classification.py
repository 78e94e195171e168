"""Image-level classification metrics: ROC curve, AUC, sensitivity at a specificity, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from monai.utils import convert_to_numpy
from scipy.stats import rankdata

from monai_mammo.metrics.bootstrap import ConfidenceInterval, bootstrap_ci

__all__ = [
    "confusion_matrix",
    "roc_auc",
    "roc_auc_with_ci",
    "roc_curve",
    "sensitivity_at_specificity",
    "sensitivity_at_specificity_with_ci",
]

INTERPOLATION_RULES = ("step", "linear")


def binary_inputs(y_true: Any, y_score: Any, score_name: str = "y_score") -> tuple[np.ndarray, np.ndarray]:
    """Validate and flatten binary labels and scores: ``(N,)`` or ``(N, 1)`` each.

    Raises:
        ValueError: for other shapes, different lengths, labels other than 0/1, or non-finite scores.
    """
    y, s = (np.asarray(convert_to_numpy(a, wrap_sequence=True)) for a in (y_true, y_score))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"y_true and {score_name} must be (N,) or (N, 1); got {y.shape} and {s.shape}.")
    if len(y) != len(s):
        raise ValueError(f"y_true has {len(y)} cases but {score_name} has {len(s)}.")
    if y.dtype != bool:
        values = np.unique(y)
        if not np.all(np.isin(values, (0, 1))):
            raise ValueError(f"y_true must hold 0/1 (or bool) labels, got values {values[:10].tolist()}.")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{score_name} holds NaN or inf values.")
    return y.astype(bool), s


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties (NaN with one class only)."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve of a binary task.

    Equals :func:`monai.metrics.compute_roc_auc` (ties count one half) but is computed from ranks
    (Mann-Whitney U), about 3 times faster on 1000 cases, and silent on one-class resamples (NaN): both
    matter inside a bootstrap.

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_score: scores ``(N,)``, higher = more likely positive.

    Returns:
        The AUC in ``[0, 1]``.

    Raises:
        ValueError: for bad inputs (see :func:`binary_inputs`) or when ``y_true`` holds only one class.
    """
    y, s = binary_inputs(y_true, y_score)
    value = _auc(y, s)
    if np.isnan(value):
        raise ValueError(f"the AUC needs both classes in y_true; got {int(y.sum())} positives of {len(y)}.")
    return value


def roc_auc_with_ci(
    y_true: Any,
    y_score: Any,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int | None = 0,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> ConfidenceInterval:
    """AUC with a percentile bootstrap confidence interval (see :func:`bootstrap_ci`).

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_score: scores ``(N,)``.
        n_boot: bootstrap replicates.
        alpha: ``1 - confidence level``.
        seed: random seed.
        groups: patient/exam id per case: resample whole groups.

    Returns:
        ``ConfidenceInterval(auc, low, high)``.
    """
    y, s = binary_inputs(y_true, y_score)
    roc_auc(y, s)  # clear error when one class only
    return bootstrap_ci(_auc, y, s, n_boot=n_boot, alpha=alpha, seed=seed, groups=groups)


def roc_curve(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve at every distinct score (a case is called positive when ``score >= threshold``).

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_score: scores ``(N,)``.

    Returns:
        ``(fpr, tpr, thresholds)``, starting at ``(0, 0)`` with threshold ``inf`` and ending at ``(1, 1)``
        with the lowest score; ``fpr`` and ``tpr`` never decrease.

    Raises:
        ValueError: for bad inputs or one class only.
    """
    y, s = binary_inputs(y_true, y_score)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"the ROC curve needs both classes in y_true; got {n_pos} positives of {len(y)}.")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s_sorted) - 1]
    tps = np.cumsum(y_sorted)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    thresholds = np.r_[np.inf, s_sorted[last_of_tie]]
    return fpr, tpr, thresholds


def curve_value_at(x: np.ndarray, y: np.ndarray, at: float, rule: str) -> float:
    """Value of a non-decreasing curve ``y(x)`` (points sorted by ``x``) at ``at``.

    ``"step"``: the highest ``y`` among the points with ``x <= at`` (an operating point that exists);
    ``"linear"``: from the last point with ``x <= at`` (the highest of equal ``x``) straight to the next.
    Beyond the last point, the last ``y``.
    """
    if rule not in INTERPOLATION_RULES:
        raise ValueError(f"rule must be one of {INTERPOLATION_RULES}, got {rule!r}.")
    i = int(np.searchsorted(x, at + 1e-12, side="right")) - 1
    if i < 0:
        return float("nan")
    if rule == "step" or i + 1 >= len(x) or x[i] >= at:
        return float(y[i])
    frac = (at - x[i]) / (x[i + 1] - x[i])
    return float(y[i] + frac * (y[i + 1] - y[i]))


def _sens_at_spec(y: np.ndarray, s: np.ndarray, specificity: float, rule: str) -> float:
    if not y.any() or y.all():
        return float("nan")
    fpr, tpr, _ = roc_curve(y, s)
    return curve_value_at(fpr, tpr, 1.0 - specificity, rule)


def sensitivity_at_specificity(y_true: Any, y_score: Any, specificity: float, rule: str = "step") -> float:
    """Sensitivity at a required specificity, read off the ROC curve.

    Interpolation rule:

    - ``"step"`` (default): the highest sensitivity among the thresholds whose specificity is at least
      ``specificity`` (``fpr <= 1 - specificity``). It is an operating point a threshold really gives, so
      it never overstates what the model achieves.
    - ``"linear"``: linear interpolation on the ROC curve between the last point with
      ``fpr <= 1 - specificity`` and the next one (what a randomised choice between the two thresholds
      gives on average; common in papers, slightly optimistic).

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_score: scores ``(N,)``.
        specificity: the required specificity, in ``[0, 1]``.
        rule: ``"step"`` or ``"linear"``.

    Returns:
        The sensitivity in ``[0, 1]``.

    Raises:
        ValueError: for bad inputs, one class only, ``specificity`` outside ``[0, 1]`` or an unknown rule.
    """
    if not 0.0 <= specificity <= 1.0:
        raise ValueError(f"specificity must be in [0, 1], got {specificity}.")
    if rule not in INTERPOLATION_RULES:
        raise ValueError(f"rule must be one of {INTERPOLATION_RULES}, got {rule!r}.")
    y, s = binary_inputs(y_true, y_score)
    fpr, tpr, _ = roc_curve(y, s)
    return curve_value_at(fpr, tpr, 1.0 - specificity, rule)


def sensitivity_at_specificity_with_ci(
    y_true: Any,
    y_score: Any,
    specificity: float,
    rule: str = "step",
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int | None = 0,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> ConfidenceInterval:
    """:func:`sensitivity_at_specificity` with a percentile bootstrap confidence interval.

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_score: scores ``(N,)``.
        specificity: the required specificity.
        rule: ``"step"`` or ``"linear"`` (see :func:`sensitivity_at_specificity`).
        n_boot: bootstrap replicates.
        alpha: ``1 - confidence level``.
        seed: random seed.
        groups: patient/exam id per case: resample whole groups.

    Returns:
        ``ConfidenceInterval(sensitivity, low, high)``.
    """
    point = sensitivity_at_specificity(y_true, y_score, specificity, rule)  # validates everything
    y, s = binary_inputs(y_true, y_score)
    ci = bootstrap_ci(
        lambda yy, ss: _sens_at_spec(yy, ss, specificity, rule),
        y,
        s,
        n_boot=n_boot,
        alpha=alpha,
        seed=seed,
        groups=groups,
    )
    return ConfidenceInterval(point, ci.low, ci.high)


def confusion_matrix(
    y_true: Any, y_pred: Any, labels: Sequence[int] | None = None, threshold: float | None = None
) -> np.ndarray:
    """Confusion matrix, rows = true class, columns = predicted class (the scikit-learn layout).

    For a binary task with ``labels=(0, 1)`` it is ``[[TN, FP], [FN, TP]]``.

    Args:
        y_true: integer class labels ``(N,)``.
        y_pred: predicted class labels ``(N,)``, or scores when ``threshold`` is given.
        labels: the classes, in the order of the rows/columns; default: the sorted classes present in
            either array.
        threshold: binarise ``y_pred`` as ``y_pred >= threshold`` first.

    Returns:
        Integer array ``(K, K)``.

    Raises:
        ValueError: for arrays of different lengths or not 1-D, or labels outside ``labels``.
    """
    t, p = (np.asarray(convert_to_numpy(a, wrap_sequence=True)) for a in (y_true, y_pred))
    t = t[:, 0] if t.ndim == 2 and t.shape[1] == 1 else t
    p = p[:, 0] if p.ndim == 2 and p.shape[1] == 1 else p
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be (N,) arrays of class labels, got {t.shape} and {p.shape}."
        )
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} cases but y_pred has {len(p)}.")
    if threshold is not None:
        p = p.astype(np.float64) >= threshold
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    if labels is None:
        classes = np.union1d(np.union1d(t, p), [0, 1]) if len(np.union1d(t, p)) < 2 else np.union1d(t, p)
    else:
        classes = np.asarray(list(labels), dtype=np.int64)
    order = np.argsort(classes, kind="mergesort")
    sorted_classes = classes[order]
    k = len(classes)
    codes = []
    for name, values in (("y_true", t), ("y_pred", p)):
        pos = np.clip(np.searchsorted(sorted_classes, values), 0, k - 1)
        bad = sorted_classes[pos] != values
        if bad.any():
            raise ValueError(
                f"{name} holds labels {np.unique(values[bad]).tolist()} not among {classes.tolist()}."
            )
        codes.append(order[pos])
    return np.bincount(codes[0] * k + codes[1], minlength=k * k).reshape(k, k)
