"""``FlipAveraging``: test-time augmentation by flips, as a network wrapper any MONAI inferer can call.

The network is run on the input and on its mirror image along each given spatial axis; every mirrored
prediction is flipped back and all are averaged. Wrapped around the network (not the whole image), it works
window by window inside a sliding-window inferer, so the windows, their blending and any breast mask stay
exactly as without it. Only spatial outputs of the input's size can be flipped back: a network that returns
a tuple or dict, or an output of another size, is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from monai_mammo.inferers.wrapped_output import same_size_output

__all__ = ["FlipAveraging"]


class FlipAveraging:
    """Average a network's output over the input and its flips along ``spatial_axes``.

    Args:
        network: the model or any callable ``network(x, *args, **kwargs)`` returning a tensor for a batch
            ``(B, C, *spatial)`` whose output has the same spatial size.
        spatial_axes: spatial axes to flip (0 = the first spatial axis, the rows of a 2D image), one extra
            network call each; an empty sequence calls the network once, unchanged.

    Example:
        .. code-block:: python

            inferer = BreastSlidingWindowInferer(roi_size=(512, 512))
            logits = inferer(image, FlipAveraging(net, spatial_axes=[0]))

    Only flips the network was trained with are sensible: after ``CanonicalLateralityd`` (chest wall on the
    left) that is the vertical flip, axis 0.
    """

    def __init__(self, network: Callable[..., Any], spatial_axes: Sequence[int] | int = (0,)) -> None:
        if not callable(network):
            raise TypeError(f"network must be callable, got {type(network).__name__}.")
        self.network = network
        self.spatial_axes = self.validated_axes(spatial_axes)

    @staticmethod
    def validated_axes(spatial_axes: Sequence[int] | int | None) -> tuple[int, ...]:
        """``spatial_axes`` as a tuple (``None`` -> empty); raises ``ValueError`` unless distinct and >= 0."""
        if spatial_axes is None:
            return ()
        axes = (spatial_axes,) if isinstance(spatial_axes, int) else tuple(int(a) for a in spatial_axes)
        if any(a < 0 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"spatial_axes must be distinct non-negative integers, got {spatial_axes}.")
        return axes

    def __call__(self, inputs: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Run the network on ``inputs`` and on each flip of it, and return the mean output.

        Args:
            inputs: a batch ``(B, C, *spatial)``.
            args: further positional arguments for the network (not flipped).
            kwargs: further keyword arguments for the network (not flipped).

        Raises:
            ValueError: an axis beyond the input's spatial dimensions, or an output whose spatial size
                differs from the input's (it cannot be flipped back).
            TypeError: the network returned something other than a tensor.
        """
        n_spatial = inputs.ndim - 2
        if any(a >= n_spatial for a in self.spatial_axes):
            raise ValueError(
                f"spatial_axes {self.spatial_axes} out of range for an input with {n_spatial} spatial "
                "dimensions."
            )
        total = same_size_output(self.network(inputs, *args, **kwargs), inputs, "FlipAveraging")
        for axis in self.spatial_axes:
            dims = [axis + 2]
            flipped = same_size_output(
                self.network(torch.flip(inputs, dims), *args, **kwargs), inputs, "FlipAveraging"
            )
            total = total + torch.flip(flipped, dims)
        return total / (1 + len(self.spatial_axes))
