"""A fast breast mask of a batch of images, for choosing the windows of breast-aware inference."""

from __future__ import annotations

import math

import numpy as np
import torch
from monai.data.meta_tensor import MetaTensor
from monai.utils import convert_data_type
from scipy import ndimage

__all__ = ["ThresholdBreastMask"]


class ThresholdBreastMask:
    """Breast mask of each image of a batch by a robust intensity threshold (breast brighter than background).

    For each image (channels averaged), on a grid subsampled so that its longest side has at most
    ``grid_size`` cells:

    1. ``lo`` and ``hi`` are the 0.5th and 99.5th percentiles of the intensities; the threshold is
       ``lo + fraction * (hi - lo)``, so it does not depend on the intensity scale (raw 12-bit, [0, 1],
       z-scores);
    2. the pixels above it form the mask; with ``keep_largest`` only its largest connected component is kept
       (drops film labels and markers), with ``fill_holes`` dark fat inside the breast is filled in;
    3. the mask is dilated by ``margin`` grid cells (a safety margin at the skin line) and brought back to
       full resolution by nearest-neighbour repetition.

    An image of constant intensity (``hi == lo``) gives a full mask: every window is then run, as in plain
    sliding-window inference. The images must show the breast bright on a dark background (MONOCHROME2, as
    ``monai_mammo``'s readers return them).

    Args:
        fraction: where the threshold sits between ``lo`` and ``hi``, in ``(0, 1)``.
        keep_largest: keep only the largest connected component.
        fill_holes: fill holes inside the mask.
        margin: dilation of the mask, in grid cells (0 for none).
        grid_size: the longest side of the subsampled grid the mask is computed on.

    Raises:
        ValueError: for ``fraction`` outside ``(0, 1)``, a negative ``margin`` or ``grid_size < 8``.
    """

    def __init__(
        self,
        fraction: float = 0.05,
        keep_largest: bool = True,
        fill_holes: bool = True,
        margin: int = 2,
        grid_size: int = 512,
    ) -> None:
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}.")
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}.")
        if grid_size < 8:
            raise ValueError(f"grid_size must be >= 8, got {grid_size}.")
        self.fraction = float(fraction)
        self.keep_largest = keep_largest
        self.fill_holes = fill_holes
        self.margin = int(margin)
        self.grid_size = int(grid_size)

    def _one(self, grid: np.ndarray, spatial: tuple[int, ...], step: int) -> np.ndarray:
        """The full-resolution mask ``spatial`` of one image from its subsampled grid."""
        lo, hi = np.percentile(grid, [0.5, 99.5])
        if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
            return np.ones(spatial, dtype=bool)
        small = grid > lo + self.fraction * (hi - lo)
        if self.keep_largest and small.any():
            labels, n = ndimage.label(small)
            if n > 1:
                sizes = np.bincount(labels.ravel())
                sizes[0] = 0
                small = labels == int(np.argmax(sizes))
        if self.fill_holes:
            small = ndimage.binary_fill_holes(small)
        if self.margin and small.any():
            small = ndimage.binary_dilation(small, iterations=self.margin)
        index = np.ix_(*[np.minimum(np.arange(n) // step, small.shape[i] - 1) for i, n in enumerate(spatial)])
        return np.asarray(small[index], dtype=bool)

    def __call__(self, inputs: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Compute the masks.

        Args:
            inputs: a batch ``(B, C, *spatial)``, numpy or torch.

        Returns:
            Bool tensor ``(B, 1, *spatial)`` on the device of ``inputs`` (CPU for numpy).

        Raises:
            ValueError: when ``inputs`` has fewer than 3 dimensions.
        """
        if inputs.ndim < 3:
            raise ValueError(f"inputs must be a batch (B, C, *spatial), got shape {tuple(inputs.shape)}.")
        data = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        spatial = tuple(int(n) for n in inputs.shape[2:])
        step = max(1, math.ceil(max(spatial) / self.grid_size))
        # subsample before any copy: only the small grid leaves the device
        grid = data[(slice(None), slice(None)) + (slice(None, None, step),) * len(spatial)]
        grids = convert_data_type(grid, np.ndarray, dtype=np.float32)[0].mean(axis=1)
        masks = np.stack([self._one(g, spatial, step) for g in grids])[:, None]
        device = inputs.device if isinstance(inputs, torch.Tensor) else "cpu"
        return torch.from_numpy(masks).to(device)
