"""Breast-aware sliding-window inference: MONAI's ``PatchInferer`` over MONAI's sliding-window grid, run
only on the windows that touch the breast.

A full-field mammogram is about half background. :func:`monai.inferers.sliding_window_inference` runs the
network on every window of the image; :func:`breast_sliding_window_inference` runs it on the windows of
the same grid that contain at least ``min_overlap_pixels`` breast pixels of their image, and blends them
exactly as MONAI does. Every window that covers a breast pixel is kept (with ``min_overlap_pixels=1``), so
inside the breast the result is the same, to float tolerance, as MONAI's.

Built on MONAI's public patch-inference API: :class:`monai.inferers.PatchInferer` batches the windows, calls
the network and creates one merger per output (tensor, tuple or dict, also at another resolution). The two
pieces MONAI has no public class for live beside this module, one concern each:
:mod:`~monai_mammo.inferers.breast_windows` (the windows that touch the breast, the
:class:`monai.inferers.Splitter` that yields them and the network wrapper) and
:mod:`~monai_mammo.inferers.window_merger` (the :class:`monai.inferers.Merger` that blends them with MONAI's
importance map). This module checks the arguments, pads and unpads as MONAI does and puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.data.meta_tensor import MetaTensor
from monai.data.utils import compute_importance_map, dense_patch_slices, get_valid_patch_size
from monai.inferers import PatchInferer
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

from monai_mammo.inferers import breast_windows
from monai_mammo.inferers.breast_windows import (
    BreastWindowSplitter,
    Window,
    WindowPredictor,
    as_batch_mask,
    scan_interval,
)
from monai_mammo.inferers.window_merger import BreastWindowMerger, window_count_dtype
from monai_mammo.utils.deprecation import moved_names

tqdm, _ = optional_import("tqdm", name="tqdm")

__all__ = ["breast_sliding_window_inference"]

# old name -> its new module (the name is unchanged)
_MOVED = {"select_breast_windows": "monai_mammo.inferers.breast_windows"}


__getattr__, __dir__ = moved_names(__name__, _MOVED, globals())


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
    mask = as_batch_mask(breast_mask, inputs)
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
    interval = scan_interval(image_size, roi_size, overlap)
    slices = dense_patch_slices(image_size, roi_size, interval, return_slice=True)
    keep = breast_windows.select_breast_windows(mask, slices, min_overlap_pixels)  # (B, num_win)
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

    splitter = BreastWindowSplitter(windows, roi_size)
    n_calls = -(-len(windows) // sw_batch_size)
    bar = tqdm(total=n_calls) if progress else None
    inferer = PatchInferer(
        splitter=splitter,
        merger_cls=BreastWindowMerger,
        batch_size=sw_batch_size,
        match_spatial_shape=False,  # padding is removed below, as MONAI does
        device=device,
        importance_map=importance_map_,
        unit_weights=unit_weights,
        count_dtype=window_count_dtype(roi_size, interval) if unit_weights else compute_dtype,
        value_dtype=compute_dtype,
        breast_mask=mask[:, None],
        cval_outside=cval_outside,
        restrict_to_mask=restrict_to_mask,
        fill_uncovered=min_overlap_pixels > 1 or probe_only,
        discard=probe_only,
    )
    predict = WindowPredictor(predictor, splitter, sw_device, with_coord, condition, bar)
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
