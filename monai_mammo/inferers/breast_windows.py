"""The windows of breast-aware sliding-window inference: which windows of MONAI's grid touch the breast,
the :class:`monai.inferers.Splitter` that yields them, and the wrapper that calls the network on them.

:class:`BreastWindowSplitter` yields the windows of ``sliding_window_inference``'s grid
(:func:`monai.data.utils.dense_patch_slices`: the last window shifted back to end at the image's edge).
:class:`monai.inferers.SlidingWindowSplitter` pads the image's end instead, so its grid differs whenever
``size - roi`` is not a multiple of the step, and its ``filter_fn`` sees one patch for all images of the
batch, where each image here has its own windows. To pack the kept windows of all images densely into
calls of ``sw_batch_size``, a window's location is ``(image index, *spatial start)``: the splitter treats
the batch index as a leading coordinate (patches ``(1, C, 1, *roi)``), and :class:`WindowPredictor` drops
that unit axis before the network and adds it back to the outputs. Used by
:func:`~monai_mammo.inferers.sliding_window.breast_sliding_window_inference`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.data.meta_tensor import MetaTensor
from monai.inferers import Splitter
from monai.utils import convert_data_type

__all__ = [
    "BreastWindowSplitter",
    "Window",
    "WindowPredictor",
    "as_batch_mask",
    "scan_interval",
    "select_breast_windows",
]

Window = tuple[int, tuple[slice, ...]]  # (image index in the batch, spatial slices of the window)


def as_batch_mask(breast_mask: Any, inputs: torch.Tensor) -> torch.Tensor:
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


def scan_interval(
    image_size: Sequence[int], roi_size: Sequence[int], overlap: Sequence[float]
) -> tuple[int, ...]:
    """The step between windows along each dimension, as ``sliding_window_inference`` takes it.

    ``int(roi * (1 - overlap))`` (at least 1), or the whole ``roi`` along a dimension where the window spans
    the image. This is the rule of MONAI's (private) ``monai.inferers.utils._getscan_interval``, restated
    here so that the grid is MONAI's without importing a private name.
    """
    steps = []
    for image, roi, o in zip(image_size, roi_size, overlap):
        steps.append(int(roi) if roi == image else max(int(roi * (1 - o)), 1))
    return tuple(steps)


class BreastWindowSplitter(Splitter):
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


class WindowPredictor:
    """Calls ``predictor`` on a batch of windows from :class:`BreastWindowSplitter`, as MONAI calls it.

    Drops the unit axis the splitter adds, moves the windows to ``sw_device``, windows ``condition`` alongside
    them, passes their coordinates with ``with_coord``, and adds the unit axis back to every output (tensor,
    tuple or dict) so that :class:`monai.inferers.PatchInferer` sees locations and outputs of the same rank.
    """

    def __init__(
        self,
        predictor: Callable[..., Any],
        splitter: BreastWindowSplitter,
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
