"""Breast-aware sliding-window inference: MONAI's sliding window, run only on windows touching the breast.

A full-field mammogram is about half background. :func:`monai.inferers.sliding_window_inference` runs the
network on every window of the image; :func:`breast_sliding_window_inference` builds the same window grid with
MONAI's own helpers, keeps per image only the windows that contain at least ``min_overlap_pixels`` breast
pixels, and blends them exactly as MONAI does. Every window that covers a breast pixel is kept (with
``min_overlap_pixels=1``), so inside the breast the result is the same, to float tolerance, as MONAI's.

Memory: with equal window weights (``"constant"`` blending) the count map holds window counts in the smallest
integer type that fits them (``uint8`` for usual overlaps) instead of MONAI's ``float32``, and the output is
normalised and masked in blocks of rows, so no full-size temporary sits beside the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.data.meta_tensor import MetaTensor
from monai.data.utils import compute_importance_map, dense_patch_slices, get_valid_patch_size
from monai.inferers.utils import _compute_coords, _flatten_struct, _get_scan_interval, _pack_struct
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
    resolution than the input) are those of :func:`monai.inferers.sliding_window_inference`, built with
    MONAI's own helpers (``dense_patch_slices``, ``compute_importance_map``, ``_get_scan_interval``). For each
    image of the batch, only the windows holding at least ``min_overlap_pixels`` pixels of ``breast_mask`` are
    run, and the count map is summed over those windows only.

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

    scan_interval = _get_scan_interval(image_size, roi_size, num_spatial_dims, overlap)
    slices = dense_patch_slices(image_size, roi_size, scan_interval, return_slice=True)
    num_win = len(slices)
    keep = select_breast_windows(mask, slices, min_overlap_pixels)  # (B, num_win)
    # MONAI's window order (image-major), restricted to the kept windows
    kept = [(b, w) for b in range(batch_size) for w in range(num_win) if keep[b, w]]
    probe_only = not kept
    if probe_only:  # nothing touches the breast: one call, only to learn the output structure
        kept = [(0, 0)]

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
            if len(importance_map_.shape) == num_spatial_dims:
                importance_map_ = importance_map_[None, None]
        except Exception as e:
            raise RuntimeError(
                f"patch size {valid_p_size}, mode={mode}, sigma_scale={sigma_scale}, device={device}\n"
                "Seems to be OOM. Please try smaller patch size or mode='constant' instead of "
                "mode='gaussian'."
            ) from e
    importance_map_ = convert_data_type(importance_map_, torch.Tensor, device=sw_device, dtype=compute_dtype)[
        0
    ]
    # equal weights ("constant" blending): the count map holds window counts, exact in a small integer type
    unit_weights = bool((importance_map_ == 1).all())
    count_dtype = _window_count_dtype(roi_size, scan_interval) if unit_weights else compute_dtype

    output_image_list: list[torch.Tensor] = []
    count_map_list: list[torch.Tensor] = []
    z_scales: list[list[float] | None] = []
    dict_keys = None
    chunks = range(0, len(kept), sw_batch_size)
    for start in tqdm(chunks) if progress else chunks:
        chunk = kept[start : start + sw_batch_size]
        unravel_slice = [[slice(b, b + 1), slice(None), *slices[w]] for b, w in chunk]
        win_data = torch.cat([inputs[ensure_tuple(s)] for s in unravel_slice]).to(sw_device)
        if condition is not None:
            kwargs["condition"] = torch.cat([condition[ensure_tuple(s)] for s in unravel_slice]).to(sw_device)
        if with_coord:
            seg_prob_out = predictor(win_data, unravel_slice, *args, **kwargs)
        else:
            seg_prob_out = predictor(win_data, *args, **kwargs)
        dict_keys, seg_tuple = _flatten_struct(seg_prob_out)
        w_t = importance_map_
        if len(w_t.shape) == num_spatial_dims:
            w_t = w_t[None, None]
        w_t = w_t.to(dtype=compute_dtype, device=sw_device)

        for ss, seg in enumerate(seg_tuple):
            seg_chns, seg_shape = seg.shape[1], seg.shape[2:]
            z_scale = None
            if seg_shape != roi_size:
                z_scale = [out_w_i / float(in_w_i) for out_w_i, in_w_i in zip(seg_shape, roi_size)]
                w_t = F.interpolate(w_t, seg_shape, mode=_NEAREST_MODE)
            if len(output_image_list) <= ss:
                output_shape = [batch_size, seg_chns]
                output_shape += (
                    [int(_i * _z) for _i, _z in zip(image_size, z_scale)] if z_scale else list(image_size)
                )
                output_image_list.append(torch.zeros(output_shape, dtype=compute_dtype, device=device))
                # one count map per image: each image has its own set of windows
                count_map = torch.zeros([batch_size, 1, *output_shape[2:]], dtype=count_dtype, device=device)
                if not probe_only:
                    w_t_ = 1 if unit_weights else w_t.to(device)
                    for b, w in kept:
                        __s = slices[w]
                        if z_scale is not None:
                            __s = tuple(
                                slice(int(_si.start * z_s), int(_si.stop * z_s))
                                for _si, z_s in zip(__s, z_scale)
                            )
                        count_map[(slice(b, b + 1), slice(None), *__s)] += w_t_
                count_map_list.append(count_map)
                z_scales.append(z_scale)
            if probe_only:
                continue
            seg *= w_t  # in place, as MONAI does: no second copy of the predictions
            _compute_coords(unravel_slice, z_scale, output_image_list[ss], seg.to(device))

    min_count = 1 if unit_weights else torch.finfo(compute_dtype).tiny
    for ss, output_i in enumerate(output_image_list):
        count_map = count_map_list[ss]
        spatial_out = tuple(output_i.shape[2:])
        inside = mask[:, None]
        if restrict_to_mask and inside.shape[2:] != spatial_out:
            # outputs of another resolution: resize the mask like MONAI's weights
            inside = F.interpolate(inside.to(torch.uint8), spatial_out, mode=_NEAREST_MODE) != 0
        values = _outside_values(cval_outside, output_i.shape[1])
        # normalise and fill in blocks of rows: no full-size temporary (a float copy of an integer count map,
        # the fill mask) next to the output
        step = max(1, _BLOCK_ELEMENTS // max(1, math.prod(spatial_out[1:]) * batch_size))
        for first in range(0, spatial_out[0], step):
            rows = (slice(None), slice(None), slice(first, first + step))
            counts = count_map[rows]
            # pixels to set to cval_outside: outside the breast, and/or covered by no kept window
            if restrict_to_mask:
                fill = ~inside[rows].to(device)
                if min_overlap_pixels > 1 or probe_only:
                    fill |= counts == 0
            else:
                fill = counts == 0
            # uncovered pixels hold 0 / tiny = 0 (0 / 1 for integer counts); covered pixels are divided by
            # exactly MONAI's count (sums of ones are exact integers in MONAI's float count map too)
            block = output_i[rows]
            block /= counts.clamp(min=min_count)
            for c, value in enumerate(values):
                block[:, c : c + 1].masked_fill_(fill, value)
        del count_map
    count_map_list.clear()

    if any(pad_size):  # remove the padding, as MONAI does
        for ss, output_i in enumerate(output_image_list):
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
            output_image_list[ss] = output_i[(slice(None), slice(None), *final_slicing)]

    final_output = _pack_struct(output_image_list, dict_keys)
    if temp_meta is not None:
        final_output = convert_to_dst_type(final_output, temp_meta, device=device)[0]
    else:
        final_output = convert_to_dst_type(final_output, inputs, device=device)[0]
    return final_output
