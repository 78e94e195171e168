"""One 2-D image ``(H, W)`` as numpy, from the channel-first data of a single 2-D mammogram, map or mask."""

from __future__ import annotations

from typing import Any

import numpy as np
from monai.utils import convert_to_numpy

__all__ = ["as_2d"]


def as_2d(array: Any, name: str = "array") -> np.ndarray:
    """``array`` as a numpy ``(H, W)`` array on the CPU (:func:`monai.utils.convert_to_numpy`), its leading
    axes of length 1 (the channel, a batch of one) dropped.

    Args:
        array: ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)``; numpy, torch (also on a GPU; a MetaTensor's
            metadata is dropped) or nested lists.
        name: the argument's name, for the message.

    Returns:
        The ``(H, W)`` array (a view where no conversion was needed).

    Raises:
        ValueError: for any other shape (several channels or images, a 1-D or 3-D array), naming ``name``.
    """
    data = np.asarray(convert_to_numpy(array, wrap_sequence=True))
    plane = data
    while plane.ndim > 2 and plane.shape[0] == 1:
        plane = plane[0]
    if plane.ndim != 2:
        raise ValueError(
            f"{name} must be one 2D image (H, W), (1, H, W) or (1, 1, H, W), got shape {data.shape}."
        )
    return plane
