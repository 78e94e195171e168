"""Calibration of predicted probabilities: expected calibration error.

Why not :func:`monai.metrics.calibration_binning` / ``CalibrationErrorMetric`` (MONAI 1.6; issue 13, measured
with MONAI 1.6.1): they bin differently and in ``float32``. Their boundaries are ``float32``
``linspace(0, 1 + eps)`` searched with ``torch.bucketize``, so a probability on a bin edge falls into the
lower bin with either ``right`` setting (10 bins: 0.1 -> bin 0, 0.5 -> bin 4, 0.9 -> bin 8; and 0.3 -> bin 2
with ``right=False`` but bin 3 with ``right=True``), not the documented ``[left, right)``; and they sum in
``float32`` (ECE 1.7e-7 off ours on 20,000 random cases). Here the bins are exactly ``[k/n, (k+1)/n)`` in
``float64`` (``numpy.bincount``; the last bin closed, as ``numpy.histogram``), which matters because scores
on an edge are common (0.5 = sigmoid(0), rounded scores) and move the ECE by whole cases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monai_mammo.metrics.classification import binary_inputs

__all__ = ["expected_calibration_error", "reliability_bins"]


def reliability_bins(y_true: Any, y_prob: Any, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin mean predicted probability, observed positive fraction and count (a reliability diagram).

    Bins are ``n_bins`` equal-width intervals of ``[0, 1]``: ``[k/n, (k+1)/n)``, the last one closed.

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_prob: predicted probabilities of the positive class ``(N,)``, in ``[0, 1]``.
        n_bins: number of bins.

    Returns:
        ``(confidence, accuracy, count)``, each ``(n_bins,)``; empty bins hold NaN, NaN, 0.

    Raises:
        ValueError: for bad inputs, probabilities outside ``[0, 1]`` or ``n_bins < 1``.
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}.")
    y, p = binary_inputs(y_true, y_prob, "y_prob")
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise ValueError(f"y_prob must be probabilities in [0, 1], got range [{p.min()}, {p.max()}].")
    n_bins = int(n_bins)
    index = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(index, weights=p, minlength=n_bins) / count
        accuracy = np.bincount(index, weights=y.astype(np.float64), minlength=n_bins) / count
    return confidence, accuracy, count


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10) -> float:
    """Expected calibration error of binary probabilities.

    ``ECE = sum_b (n_b / N) * |mean(y in b) - mean(p in b)|`` over ``n_bins`` equal-width bins of the
    predicted probability of the positive class (see :func:`reliability_bins`). 0 for a perfectly calibrated
    model; the fraction of cases that would have to change their probability to make it so, roughly.

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_prob: predicted probabilities of the positive class ``(N,)``.
        n_bins: number of bins.

    Returns:
        The ECE in ``[0, 1]``.

    Raises:
        ValueError: for bad or empty inputs (see :func:`reliability_bins`).
    """
    confidence, accuracy, count = reliability_bins(y_true, y_prob, n_bins)
    total = count.sum()
    if total == 0:
        raise ValueError("expected_calibration_error got no cases.")
    filled = count > 0
    return float(np.sum(count[filled] / total * np.abs(accuracy[filled] - confidence[filled])))
