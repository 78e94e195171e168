"""Breast masks of a batch, for choosing the windows of breast-aware inference."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import ndimage

__all__ = ["BatchBreastMask"]


class BatchBreastMask:
    """:class:`monai_mammo.transforms.BreastMask` applied to each image of a batch, with a safety margin.

    Each image ``(C, H, W)`` of the batch goes through ``BreastMask(**kwargs).on_grid`` (a robust threshold
    on a block-averaged grid: median filter, threshold between the background level and Otsu's threshold,
    opening, largest connected component, holes filled; see ``docs/transforms.md``); the grid mask is then
    dilated by ``margin`` grid cells (so the faint skin line is surely inside) and brought back to full
    resolution with :func:`monai_mammo.transforms.breast_region.upsample_grid_mask`. With the default grid of
    256 cells, one cell is 16 pixels of a 4096-row full-field image.

    This is the default ``mask_fn`` of :class:`monai_mammo.inferers.BreastSlidingWindowInferer`. The images
    must show the breast bright on a dark background (MONOCHROME2, as ``monai_mammo``'s readers return them);
    an image of constant intensity gives a full mask (every window is then run).

    Args:
        margin: dilation of the grid mask, in grid cells (0 for none).
        kwargs: arguments of :class:`monai_mammo.transforms.BreastMask` (``grid_size``,
            ``threshold_fraction``, ``median_size``, ``open_iterations``, ``fill_holes``).

    Raises:
        ValueError: for a negative ``margin``.
    """

    def __init__(self, margin: int = 1, **kwargs: Any) -> None:
        from monai_mammo.transforms import (
            BreastMask,
        )  # imported here: keeps `import monai_mammo.inferers` light

        if int(margin) < 0:
            raise ValueError(f"margin must be >= 0, got {margin}.")
        self.margin = int(margin)
        self.breast_mask = BreastMask(**kwargs)

    def __call__(self, inputs: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Compute the masks.

        Args:
            inputs: a batch of 2D images ``(B, C, H, W)``, numpy or torch.

        Returns:
            Bool tensor ``(B, 1, H, W)`` on the device of ``inputs`` (CPU for numpy).

        Raises:
            ValueError: when ``inputs`` is not a batch of 2D images.
        """
        from monai_mammo.transforms.breast_region import upsample_grid_mask

        if inputs.ndim != 4:
            raise ValueError(
                f"inputs must be a batch of 2D images (B, C, H, W), got shape {tuple(inputs.shape)}."
            )
        device = inputs.device if isinstance(inputs, torch.Tensor) else torch.device("cpu")
        masks = []
        for image in inputs:
            grid, mask = self.breast_mask.on_grid(image)
            if self.margin and mask.any():
                mask = ndimage.binary_dilation(mask, iterations=self.margin)
            masks.append(upsample_grid_mask(mask, grid.factor, grid.shape, device=device))
        return torch.stack(masks)[:, None]
