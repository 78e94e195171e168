"""Percentile bootstrap confidence intervals, resampling cases or whole groups (patients, exams)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from monai.utils import convert_to_numpy

from monai_mammo.utils.deprecation import moved_to

__all__ = ["ConfidenceInterval", "bootstrap_ci"]


class ConfidenceInterval(NamedTuple):
    """A point estimate and its confidence interval; unpacks as ``point, low, high``."""

    point: float
    low: float
    high: float


def _group_members(groups: np.ndarray) -> tuple[np.ndarray, int]:
    """Group index of every case, and the number of groups."""
    unique, inverse = np.unique(groups, return_inverse=True)
    return inverse.reshape(-1), len(unique)


def bootstrap_ci(
    metric_fn: Callable[..., Any],
    *arrays: Any,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int | None = 0,
    groups: Sequence[Any] | np.ndarray | None = None,
    min_valid_fraction: float = 0.5,
) -> ConfidenceInterval:
    """Percentile bootstrap confidence interval of ``metric_fn(*arrays)``.

    Each of the ``n_boot`` replicates draws, with replacement, as many cases as there are (or, with
    ``groups``, as many groups as there are, taking every case of each drawn group: a cluster bootstrap, so
    that the images of one patient stay together and the interval is not too narrow), applies ``metric_fn``
    to the resampled arrays, and the interval is the ``alpha / 2`` and ``1 - alpha / 2`` percentiles of the
    replicates. The point estimate is ``metric_fn`` on the full data.

    A replicate on which the metric is undefined (``metric_fn`` returns NaN or inf: e.g. an AUC of a resample
    that holds one class only) is left out, with a warning; if fewer than ``min_valid_fraction`` of the
    replicates are valid, a ``ValueError`` is raised rather than returning a misleading interval.

    Args:
        metric_fn: ``metric_fn(*arrays) -> float``; it must not depend on the order of the cases.
        arrays: one or more arrays (numpy, torch, lists) with the same first dimension (the cases).
        n_boot: number of bootstrap replicates.
        alpha: ``1 - confidence level`` (0.05 for a 95% interval).
        seed: seed of the random generator (``numpy.random.default_rng``); ``None`` for a fresh one.
        groups: one label per case (patient or exam id): resample whole groups instead of cases.
        min_valid_fraction: the least fraction of valid replicates.

    Returns:
        ``ConfidenceInterval(point, low, high)``.

    Raises:
        ValueError: for no arrays, arrays of different lengths, ``groups`` of another length, ``n_boot < 1``,
            ``alpha`` outside ``(0, 1)``, a non-finite point estimate, or too few valid replicates.
    """
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array to resample.")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}.")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
    data = [np.asarray(convert_to_numpy(a, wrap_sequence=True)) for a in arrays]  # also pandas columns
    n = len(data[0])
    for i, a in enumerate(data):
        if a.ndim == 0 or len(a) != n:
            raise ValueError(
                f"all arrays need the same first dimension: arrays[0] has {n}, arrays[{i}] has "
                f"shape {a.shape}."
            )
    if n == 0:
        raise ValueError("bootstrap_ci got empty arrays.")
    point = float(metric_fn(*data))
    if not np.isfinite(point):
        raise ValueError(f"the metric is not finite on the full data ({point}); no interval can be computed.")

    rng = np.random.default_rng(seed)
    if groups is not None:
        group_arr = np.asarray(convert_to_numpy(groups, wrap_sequence=True)).reshape(-1)
        if len(group_arr) != n:
            raise ValueError(f"groups has {len(group_arr)} labels but the arrays have {n} cases.")
        member_of, n_groups = _group_members(group_arr)
    values = np.empty(int(n_boot), dtype=np.float64)
    cases = np.arange(n)
    for b in range(int(n_boot)):
        if groups is None:
            index = rng.integers(0, n, size=n)
        else:
            # every case of a drawn group, as many times as its group was drawn
            draws = np.bincount(rng.integers(0, n_groups, size=n_groups), minlength=n_groups)
            index = np.repeat(cases, draws[member_of])
        values[b] = float(metric_fn(*[a[index] for a in data]))
    valid = np.isfinite(values)
    if valid.mean() < min_valid_fraction:
        raise ValueError(
            f"only {int(valid.sum())} of {n_boot} bootstrap replicates gave a finite metric (too few cases "
            "of one class?); the interval would not be trustworthy."
        )
    if not valid.all():
        warnings.warn(
            f"{int((~valid).sum())} of {n_boot} bootstrap replicates gave a non-finite metric and were "
            "left out.",
            stacklevel=2,
        )
    low, high = np.percentile(values[valid], [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return ConfidenceInterval(point, float(low), float(high))


@moved_to("monai.utils.convert_to_numpy(array, wrap_sequence=True)")
def to_numpy(array: Any, name: str = "array") -> np.ndarray:
    """Deprecated: :func:`monai.utils.convert_to_numpy` with ``wrap_sequence=True``."""
    return np.asarray(convert_to_numpy(array, wrap_sequence=True))
