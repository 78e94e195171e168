"""Breast-aware sliding-window inference: MONAI's ``PatchInferer`` over MONAI's sliding-window grid, run
only on the windows that touch the breast.

A full-field mammogram is about half background. :func:`monai.inferers.sliding_window_inference` runs the
network on every window of the image; :func:`breast_sliding_window_inference` runs it on the windows of
the same grid that contain at least ``min_overlap_pixels`` breast pixels of their image, and blends them
exactly as MONAI does. Every window that covers a breast pixel is kept (with ``min_overlap_pixels=1``), so
inside the breast the result is the same, to float tolerance, as MONAI's.

Built on MONAI's public patch-inference API: :class:`monai.inferers.PatchInferer` batches the windows, calls
the network and creates one merger per output (tensor, tuple or dict, also at another resolution); this module
adds the two pieces MONAI has no public class for:

- :class:`_BreastWindowSplitter` (a :class:`monai.inferers.Splitter`) yields the windows of
  ``sliding_window_inference``'s grid (:func:`monai.data.utils.dense_patch_slices`: the last window shifted
  back to end at the image's edge). :class:`monai.inferers.SlidingWindowSplitter` pads the image's end
  instead, so its grid differs whenever ``size - roi`` is not a multiple of the step, and its ``filter_fn``
  sees one patch for all images of the batch, where each image here has its own windows. To pack the kept
  windows of all images densely into calls of ``sw_batch_size``, a window's location is
  ``(image index, *spatial start)``: the splitter treats the batch index as a leading coordinate (patches
  ``(1, C, 1, *roi)``), the network wrapper drops that unit axis before the network and adds it back to the
  outputs.
- :class:`_BreastWindowMerger` (a :class:`monai.inferers.Merger`) sums the windows weighted by MONAI's
  importance map (``"constant"`` or ``"gaussian"``, :func:`monai.data.utils.compute_importance_map`), which
  :class:`monai.inferers.AvgMerger` cannot. Memory: with equal weights (``"constant"`` blending) the count map
  holds window counts in the smallest integer type that fits them (``uint8`` for usual overlaps) instead of
  MONAI's ``float32``, and the output is normalised and set outside the breast in blocks of rows, so no
  full-size temporary sits beside the output.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.data.meta_tensor import MetaTensor
from monai.data.utils import compute_importance_map, dense_patch_slices, get_valid_patch_size
from monai.inferers import Merger, PatchInferer, Splitter
from monai.utils import (
    BlendMode,
    PytorchPadMode,
    convert_data_type,
    convert_to_dst_type,
    ensure_tuple,
    ensure_tuple_rep,
    fall_back_tuple,
    look_up_option,
    optional_import,
)

tqdm, _ = optional_import("tqdm", name="tqdm")

__all__ = ["breast_sliding_window_inference", "select_breast_windows"]

_NEAREST_MODE = "nearest-exact"  # the mode MONAI uses to resize the importance map for zoomed outputs
_BLOCK_ELEMENTS = 1 << 20  # pixels per block when the output is normalised and filled

Window = tuple[int, tuple[slice, ...]]  # (image index in the batch, spatial slices of the window)


def _as_batch_mask(breast_mask: Any, inputs: torch.Tensor) -> torch.Tensor:
    """Return ``breast_mask`` as a bool tensor of shape ``(batch, *spatial)`` on the device of ``inputs``.

    Accepted shapes: ``(B, 1, *spatial)``, ``(B, *spatial)``, ``(1, 1, *spatial)``, ``(1, *spatial)`` and
    ``spatial`` alone; a mask of batch size 1 is used for every image of the batch.
    """
    if breast_mask is None:
        raise ValueError(
            "breast_mask is required: pass a (B, 1, *spatial) mask of the breast (non-zero = breast)."
        )
    mask = convert_data_type(breast_mask, torch.Tensor, wrap_sequence=True)[0]
    if isinstance(mask, MetaTensor):
        mask = mask.as_tensor()
    batch, spatial = inputs.shape[0], tuple(inputs.shape[2:])
    nsp = len(spatial)
    shape = tuple(mask.shape)
    if shape[-nsp:] != spatial:
        raise ValueError(
            f"breast_mask spatial shape {shape[-nsp:] if len(shape) >= nsp else shape} does not match the "
            f"inputs' spatial shape {spatial} (inputs shape {tuple(inputs.shape)}, mask shape {shape})."
        )
    lead = shape[:-nsp]
    if len(lead) == 2:
        if lead[1] != 1:
            raise ValueError(f"breast_mask must have one channel, got shape {shape}.")
        mask = mask[:, 0]
    elif len(lead) == 0:
        mask = mask[None]
    elif len(lead) != 1:
        raise ValueError(
            f"breast_mask must be (B, 1, *spatial), (B, *spatial) or spatial; got shape {shape}."
        )
    if mask.shape[0] not in (1, batch):
        raise ValueError(
            f"breast_mask batch size {mask.shape[0]} does not match the inputs' batch size {batch}."
        )
    mask = mask.to(device=inputs.device)
    mask = mask if mask.dtype == torch.bool else mask != 0
    if mask.shape[0] != batch:
        mask = mask.expand(batch, *spatial)
    return mask


def select_breast_windows(
    breast_mask: torch.Tensor, slices: Sequence[Sequence[slice]], min_overlap_pixels: int = 1
) -> np.ndarray:
    """Which windows touch the breast, per image.

    Args:
        breast_mask: bool tensor ``(B, *spatial)`` (already padded like the inputs).
        slices: the spatial slices of every window (from :func:`monai.data.utils.dense_patch_slices`).
        min_overlap_pixels: a window is kept for an image when it holds at least this many breast pixels.

    Returns:
        Bool array ``(B, n_windows)``: ``True`` where the window is run for that image.
    """
    if not slices:
        return np.zeros((breast_mask.shape[0], 0), dtype=bool)
    dims = tuple(range(1, breast_mask.ndim))
    # reductions over views (no copies of the windows); one device->host copy below, not one per window
    counts = torch.stack([breast_mask[(slice(None), *s)].sum(dim=dims) for s in slices], dim=1)
    return (counts >= min_overlap_pixels).cpu().numpy()


def _window_count_dtype(roi_size: Sequence[int], scan_interval: Sequence[int]) -> torch.dtype:
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


def _outside_values(cval_outside: float | Sequence[float], channels: int) -> list[float]:
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


def _scan_interval(
    image_size: Sequence[int], roi_size: Sequence[int], overlap: Sequence[float]
) -> tuple[int, ...]:
    """The step between windows along each dimension, as ``sliding_window_inference`` takes it.

    ``int(roi * (1 - overlap))`` (at least 1), or the whole ``roi`` along a dimension where the window spans
    the image. This is the rule of MONAI's (private) ``monai.inferers.utils._get_scan_interval``, restated
    here so that the grid is MONAI's without importing a private name.
    """
    steps = []
    for image, roi, o in zip(image_size, roi_size, overlap):
        steps.append(int(roi) if roi == image else max(int(roi * (1 - o)), 1))
    return tuple(steps)


class _BreastWindowSplitter(Splitter):
    """The kept windows of ``sliding_window_inference``'s grid over a batch, as a MONAI ``Splitter``.

    Yields ``(patch, location)`` in MONAI's window order (image-major) for the ``(image, slices)`` pairs it
    is given: ``patch`` is the window of that image with a unit axis after the channels, ``(1, C, 1, *roi)``,
    and ``location`` is ``(image index, *window start)``, so that :class:`monai.inferers.PatchInferer` hands
    the image index on to the merger. The coordinates of every yielded window are also queued in
    :attr:`issued` (as ``[slice(b, b + 1), slice(None), *slices]``, MONAI's ``with_coord`` form) for the
    network wrapper, which takes them out in the same order (``PatchInferer`` without ``buffer_size`` calls
    the network on each batch as soon as it is drawn from this generator).

    Args:
        windows: the windows to yield, ``(image index, spatial slices)``.
        roi_size: the window size.
    """

    def __init__(self, windows: Sequence[Window], roi_size: Sequence[int]) -> None:
        super().__init__(patch_size=tuple(roi_size))
        self.windows = list(windows)
        self.issued: deque[list[slice]] = deque()

    def get_input_shape(self, inputs: torch.Tensor) -> tuple:
        """``(batch, *spatial)``: the batch index is the leading coordinate of a location."""
        return (inputs.shape[0], *inputs.shape[2:])

    def get_padded_shape(self, inputs: torch.Tensor) -> tuple:
        """The same as :meth:`get_input_shape`: images smaller than the window are padded before the split."""
        return self.get_input_shape(inputs)

    def __call__(self, inputs: torch.Tensor) -> Iterator[tuple[torch.Tensor, tuple[int, ...]]]:
        for b, spatial in self.windows:
            coords = [slice(b, b + 1), slice(None), *spatial]
            self.issued.append(coords)
            yield inputs[tuple(coords)].unsqueeze(2), (b, *(s.start for s in spatial))


class _BreastWindowMerger(Merger):
    """Weighted average of the kept windows of each image, set to ``cval_outside`` outside the breast.

    The :class:`monai.inferers.Merger` of :func:`breast_sliding_window_inference`. Each window's prediction is
    multiplied by the importance map (resized to the output's resolution as MONAI does) and summed into the
    output of its image; the map itself is summed into that image's count map. :meth:`finalize` divides by the
    counts and fills, in blocks of rows.

    Args:
        merged_shape: ``(1, channels, batch, *spatial)`` as :class:`monai.inferers.PatchInferer` computes it
            from :class:`_BreastWindowSplitter`'s locations; the output is ``(batch, channels, *spatial)``.
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
        self.fill_values = _outside_values(cval_outside, channels)
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


class _WindowPredictor:
    """Calls ``predictor`` on a batch of windows from :class:`_BreastWindowSplitter`, as MONAI calls it.

    Drops the unit axis the splitter adds, moves the windows to ``sw_device``, windows ``condition`` alongside
    them, passes their coordinates with ``with_coord``, and adds the unit axis back to every output (tensor,
    tuple or dict) so that :class:`monai.inferers.PatchInferer` sees locations and outputs of the same rank.
    """

    def __init__(
        self,
        predictor: Callable[..., Any],
        splitter: _BreastWindowSplitter,
        sw_device: torch.device | str,
        with_coord: bool,
        condition: torch.Tensor | None,
        progress: Any,
    ) -> None:
        self.predictor = predictor
        self.splitter = splitter
        self.sw_device = sw_device
        self.with_coord = with_coord
        self.condition = condition
        self.progress = progress

    def __call__(self, windows: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        coords = [self.splitter.issued.popleft() for _ in range(windows.shape[0])]
        win_data = windows[:, :, 0].to(self.sw_device)
        if self.condition is not None:
            kwargs["condition"] = torch.cat([self.condition[tuple(c)] for c in coords]).to(self.sw_device)
        if self.with_coord:
            out = self.predictor(win_data, coords, *args, **kwargs)
        else:
            out = self.predictor(win_data, *args, **kwargs)
        if self.progress is not None:
            self.progress.update(1)
        if isinstance(out, torch.Tensor):
            return out.unsqueeze(2)
        if isinstance(out, Mapping):
            return {k: v.unsqueeze(2) for k, v in out.items()}
        return tuple(v.unsqueeze(2) for v in out)


def breast_sliding_window_inference(
    inputs: torch.Tensor | MetaTensor,
    breast_mask: torch.Tensor | np.ndarray,
    roi_size: Sequence[int] | int,
    sw_batch_size: int,
    predictor: Callable[..., torch.Tensor | Sequence[torch.Tensor] | dict[Any, torch.Tensor]],
    overlap: Sequence[float] | float = 0.25,
    mode: BlendMode | str = BlendMode.CONSTANT,
    sigma_scale: Sequence[float] | float = 0.125,
    padding_mode: PytorchPadMode | str = PytorchPadMode.CONSTANT,
    cval: float = 0.0,
    min_overlap_pixels: int = 1,
    cval_outside: float | Sequence[float] = 0.0,
    restrict_to_mask: bool = True,
    sw_device: torch.device | str | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
    roi_weight_map: torch.Tensor | None = None,
    with_coord: bool = False,
    *args: Any,
    **kwargs: Any,
) -> torch.Tensor | tuple[torch.Tensor, ...] | dict[Any, torch.Tensor]:
    """Sliding-window inference that runs ``predictor`` only on the windows that touch the breast.

    The window grid, the padding of images smaller than ``roi_size``, the importance map (``"constant"`` or
    ``"gaussian"``), the blending and the output structure (tensor, tuple or dict, outputs of another
    resolution than the input) are those of :func:`monai.inferers.sliding_window_inference`, built on MONAI's
    public API (:class:`monai.inferers.PatchInferer` for batching, network calls and one merger per output;
    ``dense_patch_slices`` and ``compute_importance_map`` for the grid and the weights; see the module). For
    each image of the batch, only the windows holding at least ``min_overlap_pixels`` pixels of
    ``breast_mask`` are run, and the count map is summed over those windows only. Outputs of another
    resolution are placed as ``PatchInferer`` places them, at ``round(start * zoom)`` where MONAI takes
    ``int(start * zoom)``: the two agree whenever ``overlap * roi_size * zoom`` is an integer, which MONAI
    recommends for such outputs.

    Inside the breast the result equals MONAI's to float tolerance when ``min_overlap_pixels=1``: every window
    that covers a breast pixel is kept, so the same predictions are summed with the same weights in the same
    order (differences come only from the network seeing the windows in other mini-batches). Outside the
    breast:

    - ``restrict_to_mask=True`` (default): every pixel outside ``breast_mask`` is set to ``cval_outside``, so
      the output there does not depend on the window layout;
    - ``restrict_to_mask=False``: pixels outside the breast that a kept window covers hold the blend of the
      kept windows (not MONAI's value near the breast edge, since fewer windows contribute); pixels that no
      kept window covers are set to ``cval_outside``.

    No pixel is left undefined (NaN). With ``min_overlap_pixels > 1`` a breast pixel may be covered by no kept
    window: it is set to ``cval_outside`` too, and the equality with MONAI holds only where all windows
    covering a pixel were kept.

    Choose ``cval_outside`` for what the network returns: ``0`` for a foreground probability (the default), a
    large negative value (e.g. ``-1e4``) for logits that a sigmoid follows, or one value per output channel
    for a softmax output (e.g. ``(1.0, 0.0)`` for background/lesion probabilities).

    If no window of the whole batch touches the breast, ``predictor`` is called once, on the first window of
    the first image, only to learn the output's structure and size; the output is then ``cval_outside``
    everywhere.

    Args:
        inputs: input images, ``(B, C, *spatial)`` (channel-first, with a batch dimension).
        breast_mask: the breast, non-zero inside: ``(B, 1, *spatial)``, ``(B, *spatial)`` or ``spatial``; a
            mask of batch size 1 (or without a batch dimension) is used for every image. numpy or torch, any
            dtype.
        roi_size: the window size; non-positive components take the image size (as in MONAI).
        sw_batch_size: the number of windows per ``predictor`` call. The kept windows of all images of the
            batch are packed densely into calls of this size.
        predictor: the network, called as ``predictor(windows, *args, **kwargs)`` (or
            ``predictor(windows, coords, *args, **kwargs)`` with ``with_coord``); it returns a tensor, a tuple
            or a dict of tensors ``(N, M, *spatial')``.
        overlap: overlap between neighbouring windows along each spatial dimension, in ``[0, 1)``.
        mode: ``"constant"`` (equal weights) or ``"gaussian"`` (less weight at window edges) blending.
        sigma_scale: the Gaussian's standard deviation as a fraction of the window size (``"gaussian"`` mode).
        padding_mode: how ``inputs`` smaller than ``roi_size`` are padded (``torch.nn.functional.pad`` modes).
        cval: the fill value of ``"constant"`` padding.
        min_overlap_pixels: a window is run for an image when it contains at least this many breast pixels
            (at least 1).
        cval_outside: the output value outside the breast (see above): one number, or one per output channel.
        restrict_to_mask: set every pixel outside ``breast_mask`` to ``cval_outside`` (see above).
        sw_device: device of the windows given to ``predictor``; defaults to the device of ``inputs``.
        device: device of the stitched output; defaults to the device of ``inputs``.
        progress: show a ``tqdm`` progress bar over the ``predictor`` calls.
        roi_weight_map: a precomputed importance map for a window (as in MONAI).
        with_coord: pass the windows' coordinates to ``predictor`` as its second argument: a list, one entry
            per window, ``[slice(b, b + 1), slice(None), *spatial slices]`` in the (padded) input.
        args: further positional arguments for ``predictor``.
        kwargs: further keyword arguments for ``predictor``. ``condition`` (a tensor shaped like ``inputs``)
            is windowed alongside ``inputs`` as in MONAI.

    Returns:
        The stitched prediction, shaped like MONAI's result: a tensor (a :class:`monai.data.MetaTensor` with
        the metadata of ``inputs`` when ``inputs`` is one), a tuple or a dict of them, on ``device``.

    Raises:
        ValueError: for inputs without batch/channel dimensions, a ``roi_size`` of the wrong length, an
            ``overlap`` outside ``[0, 1)``, ``sw_batch_size < 1``, ``min_overlap_pixels < 1``, a
            ``breast_mask`` whose shape does not fit ``inputs``, or ``cval_outside`` with the wrong number of
            values.
    """
    num_spatial_dims = len(inputs.shape) - 2
    if num_spatial_dims < 1:
        raise ValueError(f"inputs must be (B, C, *spatial), got shape {tuple(inputs.shape)}.")
    if isinstance(roi_size, Sequence) and len(roi_size) != num_spatial_dims:
        raise ValueError(
            f"roi_size {tuple(roi_size)} has {len(roi_size)} dimensions but inputs of shape "
            f"{tuple(inputs.shape)} have {num_spatial_dims} spatial dimensions (expected (B, C, *spatial))."
        )
    overlap = ensure_tuple_rep(overlap, num_spatial_dims)
    for o in overlap:
        if o < 0 or o >= 1:
            raise ValueError(f"overlap must be >= 0 and < 1, got {overlap}.")
    if int(sw_batch_size) < 1:
        raise ValueError(f"sw_batch_size must be >= 1, got {sw_batch_size}.")
    if int(min_overlap_pixels) < 1:
        raise ValueError(f"min_overlap_pixels must be >= 1, got {min_overlap_pixels}.")
    sw_batch_size, min_overlap_pixels = int(sw_batch_size), int(min_overlap_pixels)
    compute_dtype = inputs.dtype

    batch_size, _, *image_size_ = inputs.shape
    device = device or inputs.device
    sw_device = sw_device or inputs.device
    condition = kwargs.pop("condition", None)

    temp_meta = None
    if isinstance(inputs, MetaTensor):
        temp_meta = MetaTensor([]).copy_meta_from(inputs, copy_attr=False)
    inputs = convert_data_type(inputs, torch.Tensor, wrap_sequence=True)[0]
    mask = _as_batch_mask(breast_mask, inputs)
    roi_size = fall_back_tuple(roi_size, image_size_)

    # pad images smaller than the window exactly as MONAI does; the mask is padded with "no breast"
    image_size = tuple(max(image_size_[i], roi_size[i]) for i in range(num_spatial_dims))
    pad_size: list[int] = []
    for k in range(len(inputs.shape) - 1, 1, -1):
        diff = max(roi_size[k - 2] - inputs.shape[k], 0)
        half = diff // 2
        pad_size.extend([half, diff - half])
    if any(pad_size):
        pad_mode = look_up_option(padding_mode, PytorchPadMode)
        inputs = F.pad(inputs, pad=pad_size, mode=pad_mode, value=cval)
        if condition is not None:
            condition = F.pad(condition, pad=pad_size, mode=pad_mode, value=cval)
        mask = F.pad(mask, pad=pad_size, mode="constant", value=False)

    # MONAI's grid, and per image the windows that touch the breast, in MONAI's (image-major) order
    interval = _scan_interval(image_size, roi_size, overlap)
    slices = dense_patch_slices(image_size, roi_size, interval, return_slice=True)
    keep = select_breast_windows(mask, slices, min_overlap_pixels)  # (B, num_win)
    windows: list[Window] = [(int(b), slices[w]) for b, w in zip(*np.nonzero(keep))]
    probe_only = not windows
    if probe_only:  # nothing touches the breast: one call, only to learn the output structure
        windows = [(0, slices[0])]

    # window-level importance map, as in MONAI
    valid_patch_size = get_valid_patch_size(image_size, roi_size)
    if valid_patch_size == roi_size and roi_weight_map is not None:
        importance_map_ = roi_weight_map
    else:
        try:
            valid_p_size = ensure_tuple(valid_patch_size)
            importance_map_ = compute_importance_map(
                valid_p_size, mode=mode, sigma_scale=sigma_scale, device=sw_device, dtype=compute_dtype
            )
        except Exception as e:
            raise RuntimeError(
                f"patch size {valid_p_size}, mode={mode}, sigma_scale={sigma_scale}, device={device}\n"
                "Seems to be OOM. Please try smaller patch size or mode='constant' instead of "
                "mode='gaussian'."
            ) from e
    importance_map_ = convert_data_type(importance_map_, torch.Tensor, device=sw_device, dtype=compute_dtype)[
        0
    ]
    if importance_map_.ndim == num_spatial_dims:
        importance_map_ = importance_map_[None, None]
    # equal weights ("constant" blending): the count map holds window counts, exact in a small integer type
    unit_weights = bool((importance_map_ == 1).all())

    splitter = _BreastWindowSplitter(windows, roi_size)
    n_calls = -(-len(windows) // sw_batch_size)
    bar = tqdm(total=n_calls) if progress else None
    inferer = PatchInferer(
        splitter=splitter,
        merger_cls=_BreastWindowMerger,
        batch_size=sw_batch_size,
        match_spatial_shape=False,  # padding is removed below, as MONAI does
        device=device,
        importance_map=importance_map_,
        unit_weights=unit_weights,
        count_dtype=_window_count_dtype(roi_size, interval) if unit_weights else compute_dtype,
        value_dtype=compute_dtype,
        breast_mask=mask[:, None],
        cval_outside=cval_outside,
        restrict_to_mask=restrict_to_mask,
        fill_uncovered=min_overlap_pixels > 1 or probe_only,
        discard=probe_only,
    )
    predict = _WindowPredictor(predictor, splitter, sw_device, with_coord, condition, bar)
    try:
        merged = inferer(inputs, predict, *args, **kwargs)
    finally:
        if bar is not None:
            bar.close()

    # PatchInferer returns a tensor, a list (tuple outputs) or a dict; MONAI gives a tensor, a tuple or a dict
    # with sorted keys
    dict_keys = sorted(merged) if isinstance(merged, dict) else None
    if dict_keys is not None:
        output_list = [merged[k] for k in dict_keys]
    else:
        output_list = [merged] if isinstance(merged, torch.Tensor) else list(merged)

    if any(pad_size):  # remove the padding, as MONAI does
        for ss, output_i in enumerate(output_list):
            zoom_scale = [
                _shape_d / _roi_size_d for _shape_d, _roi_size_d in zip(output_i.shape[2:], roi_size)
            ]
            final_slicing: list[slice] = []
            for sp in range(num_spatial_dims):
                si = num_spatial_dims - sp - 1
                slice_dim = slice(
                    int(round(pad_size[sp * 2] * zoom_scale[si])),
                    int(round((pad_size[sp * 2] + image_size_[si]) * zoom_scale[si])),
                )
                final_slicing.insert(0, slice_dim)
            output_list[ss] = output_i[(slice(None), slice(None), *final_slicing)]

    final_output: Any
    if dict_keys is not None:
        final_output = dict(zip(dict_keys, output_list))
    else:
        final_output = output_list[0] if len(output_list) == 1 else tuple(output_list)
    if temp_meta is not None:
        final_output = convert_to_dst_type(final_output, temp_meta, device=device)[0]
    else:
        final_output = convert_to_dst_type(final_output, inputs, device=device)[0]
    return final_output
