"""Bounding boxes that follow the geometric transforms of a mammogram (flip to canonical side, crop).

Boxes follow MONAI's detection convention (:mod:`monai.data.box_utils`): an ``(N, 4)`` array whose
coordinates run along the image array's spatial axes, so in the default ``StandardMode``
(``"xyxy"``) a box is ``[start_0, start_1, end_0, end_1]`` = ``[row0, col0, row1, col1]`` in pixels,
with exclusive ends. Any other MONAI box mode can be given as ``box_mode``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from monai.data.box_utils import StandardMode, convert_box_mode, convert_box_to_standard_mode

__all__ = ["flip_boxes_along", "translate_boxes"]


def _check_boxes(boxes: Any, name: str) -> None:
    if not isinstance(boxes, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{name}: boxes must be a numpy array or torch tensor, got {type(boxes).__name__}.")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name}: boxes must have shape (N, 4) (2D MONAI boxes), got {tuple(boxes.shape)}.")


def flip_boxes_along(boxes: Any, spatial_size: Sequence[int], axis: int = 1, box_mode: Any = None) -> Any:
    """Mirror boxes as ``Flip(spatial_axis=axis)`` mirrors an image of ``spatial_size``.

    Args:
        boxes: ``(N, 4)`` boxes in ``box_mode`` (MONAI ``StandardMode`` if ``None``).
        spatial_size: the image's ``(H, W)``.
        axis: the spatial axis flipped (1: columns, a left-right mirror).
        box_mode: a MONAI box mode (class, instance or string such as ``"xyxy"``, ``"xywh"``, ``"ccwh"``).

    Returns:
        the flipped boxes, same type and mode as ``boxes``.

    Raises:
        TypeError/ValueError: for boxes that are not an ``(N, 4)`` array.
    """
    _check_boxes(boxes, "flip_boxes_along")
    # imported here: monai.apps.detection takes seconds to import and only box users need it
    from monai.apps.detection.transforms.box_ops import flip_boxes

    std = convert_box_to_standard_mode(boxes, mode=box_mode)
    out = flip_boxes(std, spatial_size=list(spatial_size), flip_axes=axis)
    return convert_box_mode(out, src_mode=StandardMode, dst_mode=box_mode) if box_mode is not None else out


def translate_boxes(boxes: Any, offset: Sequence[float], box_mode: Any = None) -> Any:
    """Add ``offset`` (one value per spatial axis) to every box corner (a crop uses ``-start``).

    Boxes are not clipped, so a translation is undone exactly by the opposite one.

    Args:
        boxes: ``(N, 4)`` boxes in ``box_mode`` (MONAI ``StandardMode`` if ``None``).
        offset: ``(d0, d1)`` in pixels.
        box_mode: a MONAI box mode.

    Returns:
        the moved boxes, same type and mode as ``boxes``.
    """
    _check_boxes(boxes, "translate_boxes")
    std = convert_box_to_standard_mode(boxes, mode=box_mode)
    shift = [float(offset[0]), float(offset[1]), float(offset[0]), float(offset[1])]
    if isinstance(std, torch.Tensor):
        out = std + torch.as_tensor(
            shift, dtype=std.dtype if std.is_floating_point() else torch.float32, device=std.device
        )
    else:
        out = std + np.asarray(shift, dtype=std.dtype if std.dtype.kind == "f" else np.float32)
    return convert_box_mode(out, src_mode=StandardMode, dst_mode=box_mode) if box_mode is not None else out
