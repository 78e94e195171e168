"""``ScaleAveraging``: test-time augmentation over scales, as a network wrapper any MONAI inferer can call.

The network is run on its input resized by each of ``scales`` (1.0 is the input as it is); every output is
resized back to the input's size and all are averaged. A mammogram's scale in the working image depends on
how it was exported: the bundles resize the longest side to a fixed size, so an image stretched sideways,
or one with more background around the breast, shows its lesions smaller than the training images did.
Seeing each window also enlarged makes the prediction less dependent on that scale. Wrapped around the
network (not the whole image), it works window by window inside a sliding-window inferer, so the windows,
their blending and any breast mask stay exactly as without it. Resized sizes are rounded to a multiple of
``size_multiple`` (16 for a UNet with four stride-2 levels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from monai_mammo.inferers.wrapped_output import same_size_output

__all__ = ["ScaleAveraging"]


class ScaleAveraging:
    """Average a network's output over resized copies of its input.

    Args:
        network: the model or any callable ``network(x, *args, **kwargs)`` returning a tensor for a batch
            ``(B, C, *spatial)`` whose output has the input's spatial size (any size the network accepts).
        scales: the factors (``> 0``), one network call each; ``1.0`` runs the input unchanged.
        size_multiple: every resized spatial size is rounded to a multiple of this (at least one multiple).

    Example:
        .. code-block:: python

            inferer = BreastSlidingWindowInferer(roi_size=(512, 512), scales=[1.0, 1.25])
            # or, around any network and inferer:
            logits = SlidingWindowInferer((512, 512))(image, ScaleAveraging(net, scales=[1.0, 1.25]))

    Outputs are resized back bilinearly (nearest for integer outputs is not meaningful: use it on logits or
    probabilities).
    """

    def __init__(
        self, network: Callable[..., Any], scales: Sequence[float] = (1.0, 1.25), size_multiple: int = 16
    ) -> None:
        if not callable(network):
            raise TypeError(f"network must be callable, got {type(network).__name__}.")
        self.network = network
        self.scales = self.validated_scales(scales)
        if int(size_multiple) < 1:
            raise ValueError(f"size_multiple must be >= 1, got {size_multiple}.")
        self.size_multiple = int(size_multiple)

    @staticmethod
    def validated_scales(scales: Sequence[float] | float | None) -> tuple[float, ...]:
        """``scales`` as a tuple (``None`` -> empty); raises ``ValueError`` unless every factor is > 0."""
        if scales is None:
            return ()
        values = (float(scales),) if isinstance(scales, (int, float)) else tuple(float(s) for s in scales)
        if any(not s > 0 for s in values):
            raise ValueError(f"scales must be positive factors, got {scales}.")
        return values

    def scaled_size(self, size: Sequence[int], scale: float) -> list[int]:
        """The spatial size a window of ``size`` is resized to at ``scale``."""
        m = self.size_multiple
        return [max(m, round(n * scale / m) * m) for n in size]

    def __call__(self, inputs: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Run the network at every scale and return the mean output, at the input's size.

        Args:
            inputs: a batch ``(B, C, *spatial)`` with two or three spatial dimensions.
            args: further positional arguments for the network (not resized).
            kwargs: further keyword arguments for the network (not resized).

        Raises:
            ValueError: no scales, or an output whose spatial size differs from the network's input.
            TypeError: the network returned something other than a tensor.
        """
        if not self.scales:
            raise ValueError("ScaleAveraging needs at least one scale.")
        size = list(inputs.shape[2:])
        mode = "bilinear" if len(size) == 2 else "trilinear"
        total: torch.Tensor | None = None
        for scale in self.scales:
            new = self.scaled_size(size, scale)
            x = inputs if new == size else self._resize(inputs, new, mode, antialias=scale < 1)
            y = same_size_output(self.network(x, *args, **kwargs), x, "ScaleAveraging")
            y = y if new == size else self._resize(y, size, mode, antialias=False)
            total = y if total is None else total + y
        assert total is not None
        return total / len(self.scales)

    @staticmethod
    def _resize(x: torch.Tensor, size: Sequence[int], mode: str, antialias: bool) -> torch.Tensor:
        plain = x.as_tensor() if hasattr(x, "as_tensor") else x
        smooth = antialias and mode == "bilinear"  # torch anti-aliases bilinear and bicubic only
        out = F.interpolate(plain.float(), size=list(size), mode=mode, align_corners=False, antialias=smooth)
        return out.to(plain.dtype)
