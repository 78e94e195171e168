"""The :class:`monai.inferers.Merger` of breast-aware sliding-window inference: the kept windows blended with
MONAI's importance map, the output set outside the breast.

:class:`BreastWindowMerger` sums the windows weighted by MONAI's importance map (``"constant"`` or
``"gaussian"``, :func:`monai.data.utils.compute_importance_map`), which :class:`monai.inferers.AvgMerger`
cannot. Memory: with equal weights (``"constant"`` blending) the count map holds window counts in the smallest
integer type that fits them (``uint8`` for usual overlaps, :func:`window_count_dtype`) instead of MONAI's
``float32``, and the output is normalised and set outside the breast in blocks of rows, so no full-size
temporary sits beside the output. Used by
:func:`~monai_mammo.inferers.sliding_window.breast_sliding_window_inference`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from monai.inferers import Merger

__all__ = ["BreastWindowMerger", "outside_values", "window_count_dtype"]

_NEAREST_MODE = "nearest-exact"  # the mode MONAI uses to resize the importance map for zoomed outputs
_BLOCK_ELEMENTS = 1 << 20  # pixels per block when the output is normalised and filled


def window_count_dtype(roi_size: Sequence[int], scan_interval: Sequence[int]) -> torch.dtype:
    """The smallest integer type that holds how many windows of the grid can cover one pixel.

    Along each dimension at most ``ceil(roi / interval)`` windows of the regular grid overlap, plus the last
    window, which :func:`monai.data.utils.dense_patch_slices` shifts back to end at the image's edge; the
    product over dimensions bounds the count.
    """
    bound = 1
    for roi, interval in zip(roi_size, scan_interval):
        bound *= -(-int(roi) // max(int(interval), 1)) + 1
    for dtype in (torch.uint8, torch.int16):
        if bound <= torch.iinfo(dtype).max:
            return dtype
    return torch.int32


def outside_values(cval_outside: float | Sequence[float], channels: int) -> list[float]:
    """One fill value per output channel."""
    if isinstance(cval_outside, (int, float)):
        return [float(cval_outside)] * channels
    values = [float(v) for v in cval_outside]
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise ValueError(
            f"cval_outside has {len(values)} values but the predictor returned {channels} channels; "
            "give one value, or one per output channel."
        )
    return values


class BreastWindowMerger(Merger):
    """Weighted average of the kept windows of each image, set to ``cval_outside`` outside the breast.

    The :class:`monai.inferers.Merger` of
    :func:`~monai_mammo.inferers.sliding_window.breast_sliding_window_inference`. Each window's prediction is
    multiplied by the importance map (resized to the output's resolution as MONAI does) and summed into the
    output of its image; the map itself is summed into that image's count map. :meth:`finalize` divides by the
    counts and fills, in blocks of rows.

    Args:
        merged_shape: ``(1, channels, batch, *spatial)`` as :class:`monai.inferers.PatchInferer` computes it
            from :class:`~monai_mammo.inferers.breast_windows.BreastWindowSplitter`'s locations; the output
            is ``(batch, channels, *spatial)``.
        cropped_shape: unused (padding is removed by the caller, as in MONAI).
        device: device of the output.
        importance_map: the window weights ``(1, 1, *roi)`` on the windows' device.
        unit_weights: the importance map is all ones: counts are exact integers of ``count_dtype``.
        count_dtype: dtype of the count map.
        value_dtype: dtype of the output.
        breast_mask: bool ``(batch, 1, *spatial)`` at the input's resolution.
        cval_outside: the output value outside the breast, one number or one per output channel.
        restrict_to_mask: set every pixel outside ``breast_mask`` to ``cval_outside``; otherwise only the
            pixels that no kept window covers.
        fill_uncovered: with ``restrict_to_mask``, also set the pixels that no kept window covers.
        discard: aggregate nothing (the probe window run only to learn the output's structure).
    """

    def __init__(
        self,
        merged_shape: Sequence[int],
        cropped_shape: Sequence[int] | None = None,
        device: torch.device | str | None = None,
        *,
        importance_map: torch.Tensor,
        unit_weights: bool,
        count_dtype: torch.dtype,
        value_dtype: torch.dtype,
        breast_mask: torch.Tensor,
        cval_outside: float | Sequence[float],
        restrict_to_mask: bool,
        fill_uncovered: bool,
        discard: bool,
    ) -> None:
        super().__init__(merged_shape=merged_shape, cropped_shape=cropped_shape, device=device)
        _, channels, batch, *spatial = self.merged_shape
        self.fill_values = outside_values(cval_outside, channels)
        self.values = torch.zeros([batch, channels, *spatial], dtype=value_dtype, device=device)
        self.counts = torch.zeros([batch, 1, *spatial], dtype=count_dtype, device=device)
        self.importance_map = importance_map
        self.unit_weights = unit_weights
        self.breast_mask = breast_mask
        self.restrict_to_mask = restrict_to_mask
        self.fill_uncovered = fill_uncovered
        self.discard = discard
        self._weights: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]] = {}

    def _weights_for(self, patch_shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """The importance map at the output's resolution: on the windows' device and on the output's."""
        if patch_shape not in self._weights:
            w_t = self.importance_map
            if tuple(w_t.shape[2:]) != patch_shape:
                w_t = F.interpolate(w_t, patch_shape, mode=_NEAREST_MODE)
            self._weights[patch_shape] = (w_t, w_t.to(self.device))
        return self._weights[patch_shape]

    def aggregate(self, values: torch.Tensor, location: Sequence[int]) -> None:
        """Add one window: ``values`` ``(1, channels, 1, *spatial)`` at ``location`` ``(image, *start)``."""
        if self.is_finalized:
            raise ValueError("the merger is already finalized: create a new one to aggregate.")
        if self.discard:
            return
        patch = values[:, :, 0]
        b, *start = (int(v) for v in location)
        where = (slice(b, b + 1), slice(None), *(slice(s, s + n) for s, n in zip(start, patch.shape[2:])))
        if self.unit_weights:
            self.values[where] += patch.to(self.device)
            self.counts[where] += 1
        else:
            w_t, w_out = self._weights_for(tuple(patch.shape[2:]))
            # weighted in the prediction's dtype, as MONAI's in-place ``seg *= w_t`` does
            self.values[where] += (patch * w_t).to(dtype=patch.dtype, device=self.device)
            self.counts[where] += w_out

    def finalize(self) -> torch.Tensor:
        """Divide by the counts and set the pixels outside the breast (see the class); returns the output."""
        if self.is_finalized:
            return self.values
        output, counts = self.values, self.counts
        spatial_out = tuple(output.shape[2:])
        inside = self.breast_mask
        if self.restrict_to_mask and tuple(inside.shape[2:]) != spatial_out:
            # outputs of another resolution: resize the mask like MONAI's weights
            inside = F.interpolate(inside.to(torch.uint8), spatial_out, mode=_NEAREST_MODE) != 0
        min_count = 1 if self.unit_weights else torch.finfo(counts.dtype).tiny
        # normalise and fill in blocks of rows: no full-size temporary (a float copy of an integer count map,
        # the fill mask) next to the output
        step = max(1, _BLOCK_ELEMENTS // max(1, math.prod(spatial_out[1:]) * output.shape[0]))
        for first in range(0, spatial_out[0], step):
            rows = (slice(None), slice(None), slice(first, first + step))
            block_counts = counts[rows]
            # pixels to set to cval_outside: outside the breast, and/or covered by no kept window
            if self.restrict_to_mask:
                fill = ~inside[rows].to(output.device)
                if self.fill_uncovered:
                    fill |= block_counts == 0
            else:
                fill = block_counts == 0
            # uncovered pixels hold 0 / tiny = 0 (0 / 1 for integer counts); covered pixels are divided by
            # exactly MONAI's count (sums of ones are exact integers in MONAI's float count map too)
            block = output[rows]
            block /= block_counts.clamp(min=min_count)
            for c, value in enumerate(self.fill_values):
                block[:, c : c + 1].masked_fill_(fill, value)
        self.counts = torch.empty(0)
        self.is_finalized = True
        return output
