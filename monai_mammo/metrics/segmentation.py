"""Per-image Dice of binary lesion masks (on top of :func:`monai.metrics.compute_dice`), with a CI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from monai.metrics import compute_dice
from monai.utils import convert_to_numpy

from monai_mammo.metrics.bootstrap import ConfidenceInterval, bootstrap_ci

__all__ = ["dice_per_image", "mean_dice_with_ci"]


def _as_binary_batch(array: Any, name: str, threshold: float) -> torch.Tensor:
    """``(N, H, W)`` or ``(N, 1, *spatial)`` -> float ``(N, 1, *spatial)`` of 0/1 (``>= threshold``)."""
    data = torch.as_tensor(np.asarray(convert_to_numpy(array, wrap_sequence=True)))
    if data.ndim == 3:
        data = data[:, None]
    if data.ndim < 4 or data.shape[1] != 1:
        raise ValueError(
            f"{name} must be a batch of binary masks (N, H, W) or (N, 1, *spatial), "
            f"got shape {tuple(data.shape)}."
        )
    if data.dtype == torch.bool:
        return data.float()
    return (data.float() >= threshold).float()


def dice_per_image(y_pred: Any, y: Any, threshold: float = 0.5, ignore_empty: bool = False) -> np.ndarray:
    """Dice of each image of a batch of binary masks.

    Computed by :func:`monai.metrics.compute_dice` on the masks binarised at ``threshold``. For an image
    without lesion (empty ground truth): with ``ignore_empty=False`` (default) the Dice is 1 when the
    prediction is empty too and 0 when it is not, so false positives on normal images count; with
    ``ignore_empty=True`` it is NaN (MONAI's default).

    Args:
        y_pred: predicted masks or probabilities, ``(N, H, W)`` or ``(N, 1, *spatial)``.
        y: ground-truth masks, same shape.
        threshold: ``y_pred >= threshold`` (and ``y >= threshold``) is foreground; bool masks are taken as is.
        ignore_empty: NaN instead of 1/0 for images with an empty ground truth.

    Returns:
        Float array ``(N,)``.

    Raises:
        ValueError: for shapes that are not a batch of single-channel masks, or different shapes.
    """
    pred = _as_binary_batch(y_pred, "y_pred", threshold)
    true = _as_binary_batch(y, "y", threshold)
    if pred.shape != true.shape:
        raise ValueError(f"y_pred {tuple(pred.shape)} and y {tuple(true.shape)} must have the same shape.")
    dice = compute_dice(pred, true, include_background=True, ignore_empty=ignore_empty)
    return dice[:, 0].double().numpy()


def _finite_mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def mean_dice_with_ci(
    y_pred: Any,
    y: Any,
    threshold: float = 0.5,
    ignore_empty: bool = False,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int | None = 0,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> ConfidenceInterval:
    """Mean per-image Dice with a percentile bootstrap confidence interval over images (or groups).

    Args:
        y_pred: predicted masks or probabilities, ``(N, H, W)`` or ``(N, 1, *spatial)``.
        y: ground-truth masks, same shape.
        threshold: binarisation threshold (see :func:`dice_per_image`).
        ignore_empty: leave images with an empty ground truth out of the mean.
        n_boot: bootstrap replicates.
        alpha: ``1 - confidence level``.
        seed: random seed.
        groups: patient/exam id per image: resample whole groups.

    Returns:
        ``ConfidenceInterval(mean_dice, low, high)``.
    """
    per_image = dice_per_image(y_pred, y, threshold=threshold, ignore_empty=ignore_empty)
    return bootstrap_ci(_finite_mean, per_image, n_boot=n_boot, alpha=alpha, seed=seed, groups=groups)
