"""``BreastSlidingWindowInferer``: a drop-in :class:`monai.inferers.SlidingWindowInferer` for mammograms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from monai.inferers import SlidingWindowInferer
from monai.utils import BlendMode, PytorchPadMode

from monai_mammo.inferers.breast_mask import BatchBreastMask
from monai_mammo.inferers.flip_averaging import FlipAveraging
from monai_mammo.inferers.scale_averaging import ScaleAveraging
from monai_mammo.inferers.sliding_window import breast_sliding_window_inference

__all__ = ["BreastSlidingWindowInferer"]

MaskFn = Callable[[torch.Tensor], "torch.Tensor | np.ndarray"]


def default_mask_fn() -> MaskFn:
    """The mask function used when none is given: :class:`BatchBreastMask` with its defaults."""
    return BatchBreastMask()


class BreastSlidingWindowInferer(SlidingWindowInferer):
    """Sliding-window inferer that runs the network only on the windows touching the breast.

    A subclass of :class:`monai.inferers.SlidingWindowInferer` with the same window grid, padding and
    blending; it calls :func:`monai_mammo.inferers.breast_sliding_window_inference`. Call it as

    - ``inferer(inputs, network, breast_mask=mask)`` with a mask ``(B, 1, *spatial)`` (non-zero = breast), or
    - ``inferer(inputs, network)``, as :class:`monai.engines.SupervisedEvaluator` does: the mask is then
      ``mask_fn(inputs)``.

    Args:
        roi_size: the window size; non-positive components take the image size.
        sw_batch_size: windows per network call (the kept windows of all images are packed densely).
        overlap: overlap between neighbouring windows, in ``[0, 1)``.
        mode: ``"constant"`` or ``"gaussian"`` blending.
        sigma_scale: Gaussian standard deviation as a fraction of the window size.
        padding_mode: padding of images smaller than ``roi_size``.
        cval: fill value of ``"constant"`` padding.
        sw_device: device of the windows given to the network (default: the device of ``inputs``).
        device: device of the output (default: the device of ``inputs``).
        progress: show a ``tqdm`` progress bar.
        cache_roi_weight_map: precompute the window importance map once (as MONAI's inferer does).
        cpu_thresh: stitch on the CPU when the image has more pixels than this (as MONAI's inferer does).
        with_coord: pass window coordinates to the network as its second argument.
        min_overlap_pixels: a window is run when it holds at least this many breast pixels.
        cval_outside: the output value outside the breast: one number or one per output channel (``0`` suits
            probabilities; use a large negative number for logits followed by a sigmoid).
        restrict_to_mask: set every output pixel outside the breast mask to ``cval_outside``.
        mask_fn: ``mask_fn(inputs) -> (B, 1, *spatial)`` mask used when no ``breast_mask`` is passed;
            default: :class:`monai_mammo.inferers.BatchBreastMask` (:class:`monai_mammo.transforms.BreastMask`
            on each image, dilated by one grid cell).
        flip_axes: test-time augmentation: spatial axes along which every window is also run mirrored, the
            outputs averaged (:class:`monai_mammo.inferers.FlipAveraging`); ``None`` or empty runs each window
            once. ``[0]`` (vertical) suits images in canonical laterality.
        scales: test-time augmentation: factors every window is also run resized by, the outputs resized
            back and averaged (:class:`monai_mammo.inferers.ScaleAveraging`, sizes rounded to multiples of
            16); ``None`` or empty runs each window at its own size. With ``flip_axes`` too, every flip runs
            at every scale.

    Example:
        .. code-block:: python

            inferer = BreastSlidingWindowInferer(roi_size=(512, 512), sw_batch_size=4, overlap=0.25)
            with torch.inference_mode():
                prob = inferer(image[None], lambda x: torch.sigmoid(net(x)), breast_mask=mask[None])
    """

    def __init__(
        self,
        roi_size: Sequence[int] | int,
        sw_batch_size: int = 1,
        overlap: Sequence[float] | float = 0.25,
        mode: BlendMode | str = BlendMode.CONSTANT,
        sigma_scale: Sequence[float] | float = 0.125,
        padding_mode: PytorchPadMode | str = PytorchPadMode.CONSTANT,
        cval: float = 0.0,
        sw_device: torch.device | str | None = None,
        device: torch.device | str | None = None,
        progress: bool = False,
        cache_roi_weight_map: bool = False,
        cpu_thresh: int | None = None,
        with_coord: bool = False,
        min_overlap_pixels: int = 1,
        cval_outside: float | Sequence[float] = 0.0,
        restrict_to_mask: bool = True,
        mask_fn: MaskFn | None = None,
        flip_axes: Sequence[int] | None = None,
        scales: Sequence[float] | None = None,
    ) -> None:
        super().__init__(
            roi_size=roi_size,
            sw_batch_size=sw_batch_size,
            overlap=overlap,
            mode=mode,
            sigma_scale=sigma_scale,
            padding_mode=padding_mode,
            cval=cval,
            sw_device=sw_device,
            device=device,
            progress=progress,
            cache_roi_weight_map=cache_roi_weight_map,
            cpu_thresh=cpu_thresh,
            with_coord=with_coord,
        )
        if int(min_overlap_pixels) < 1:
            raise ValueError(f"min_overlap_pixels must be >= 1, got {min_overlap_pixels}.")
        if mask_fn is not None and not callable(mask_fn):
            raise TypeError(f"mask_fn must be callable, got {type(mask_fn).__name__}.")
        self.min_overlap_pixels = int(min_overlap_pixels)
        self.cval_outside = cval_outside
        self.restrict_to_mask = restrict_to_mask
        self.mask_fn: MaskFn = mask_fn if mask_fn is not None else default_mask_fn()
        self.flip_axes = FlipAveraging.validated_axes(flip_axes)
        self.scales = ScaleAveraging.validated_scales(scales)

    def __call__(
        self,
        inputs: torch.Tensor,
        network: Callable[..., torch.Tensor | Sequence[torch.Tensor] | dict[Any, torch.Tensor]],
        *args: Any,
        breast_mask: torch.Tensor | np.ndarray | None = None,
        **kwargs: Any,
    ) -> torch.Tensor | tuple[torch.Tensor, ...] | dict[Any, torch.Tensor]:
        """Run breast-aware sliding-window inference.

        Args:
            inputs: a batch ``(B, C, *spatial)``.
            network: the model (or any callable on a batch of windows).
            args: further positional arguments for ``network``.
            breast_mask: the breast mask ``(B, 1, *spatial)``; when ``None``, ``mask_fn(inputs)`` is used.
            kwargs: further keyword arguments for ``network``; ``device`` overrides the output device and
                ``condition`` is windowed alongside ``inputs``, as in MONAI's inferer.

        Returns:
            The stitched prediction (see :func:`monai_mammo.inferers.breast_sliding_window_inference`).
        """
        condition = kwargs.get("condition", None)
        if condition is not None and condition.shape != inputs.shape:
            raise ValueError(
                f"`condition` must match shape of `inputs` ({inputs.shape}), but got {condition.shape}"
            )
        device = kwargs.pop("device", self.device)
        if device is None and self.cpu_thresh is not None and inputs.shape[2:].numel() > self.cpu_thresh:
            device = "cpu"  # stitch in cpu memory if image is too large
        if breast_mask is None:
            breast_mask = self.mask_fn(inputs)
        if self.scales:
            network = ScaleAveraging(network, self.scales)
        if self.flip_axes:
            network = FlipAveraging(network, self.flip_axes)
        return breast_sliding_window_inference(
            inputs,
            breast_mask,
            self.roi_size,
            self.sw_batch_size,
            network,
            self.overlap,
            self.mode,
            self.sigma_scale,
            self.padding_mode,
            self.cval,
            self.min_overlap_pixels,
            self.cval_outside,
            self.restrict_to_mask,
            self.sw_device,
            device,
            self.progress,
            self.roi_weight_map,
            self.with_coord,
            *args,
            **kwargs,
        )
