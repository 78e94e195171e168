"""Bounding boxes that follow the geometric transforms of a mammogram (flip to canonical side, crop, resize).

Boxes follow MONAI's detection convention (:mod:`monai.data.box_utils`): an ``(N, 4)`` array whose
coordinates run along the image array's spatial axes, so in the default ``StandardMode``
(``"xyxy"``) a box is ``[start_0, start_1, end_0, end_1]`` = ``[row0, col0, row1, col1]`` in pixels,
with exclusive ends (pixel corners: the box ``[0, 0, H, W]`` is the whole image). Any other MONAI box mode
can be given as ``box_mode``.

A datalist written by :func:`monai_mammo.data.datasets.prepare_dataset` stores boxes the other way round,
as image tools do: ``[x0, y0, x1, y1]`` with x the column (``box_format`` ``"xyxy_corner_px"``).
:class:`ConvertDatalistBoxesd` turns them into MONAI's order after loading (and back on ``inverse``);
:class:`~monai_mammo.transforms.CanonicalLateralityd` and :class:`~monai_mammo.transforms.CropBreastd` move
boxes under their ``box_keys``, :class:`~monai_mammo.transforms.ResizeToFitd` scales them, and
:class:`ResizeBoxd` makes them follow MONAI's ``Resized``. The maths is MONAI's (``flip_boxes``,
``resize_boxes``, ``swapaxes_boxes`` of :mod:`monai.apps.detection.transforms.box_ops`; a translation is
ours, see :func:`translate_boxes`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data.box_utils import StandardMode, convert_box_mode, convert_box_to_standard_mode
from monai.data.meta_tensor import MetaTensor
from monai.transforms import InvertibleTransform, MapTransform
from monai.transforms.inverse import TraceKeys

from monai_mammo.transforms.checks import key_context, require_key

__all__ = [
    "ConvertDatalistBoxesD",
    "ConvertDatalistBoxesDict",
    "ConvertDatalistBoxesd",
    "ResizeBoxD",
    "ResizeBoxDict",
    "ResizeBoxd",
    "flip_boxes_along",
    "scale_boxes",
    "swap_box_axes",
    "translate_boxes",
]


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

    Not MONAI's ``apply_affine_to_boxes`` with a translation matrix (issue 13, measured with MONAI 1.6.1): it
    computes in ``float32`` and casts back to the input's dtype, so ``float64`` boxes near 3000 px move up to
    1.3e-4 px off, and integer boxes are truncated (``[10, 20]`` moved by ``(0.3, -1234.7)`` gives
    ``[10, -1214]``); here the sum keeps ``float64`` and makes integer boxes ``float32``. MONAI's
    ``spatial_crop_boxes`` clips to the crop, which would make a crop's undo lose the box's outside part.

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


def scale_boxes(boxes: Any, src_size: Sequence[int], dst_size: Sequence[int], box_mode: Any = None) -> Any:
    """Scale boxes as a resize from ``src_size`` to ``dst_size`` scales the image (MONAI's ``resize_boxes``).

    Exact for pixel-corner boxes and MONAI's ``Resize`` (``align_corners=False``): the image's ``[0, src]``
    maps onto ``[0, dst]`` along each axis.

    Args:
        boxes: ``(N, 4)`` boxes in ``box_mode`` (MONAI ``StandardMode`` if ``None``).
        src_size: the image's ``(H, W)`` before the resize.
        dst_size: its ``(H, W)`` after.
        box_mode: a MONAI box mode.

    Returns:
        the scaled boxes, same type and mode as ``boxes``.

    Raises:
        TypeError/ValueError: for boxes that are not an ``(N, 4)`` array, or a size that is not two positive
            numbers.
    """
    _check_boxes(boxes, "scale_boxes")
    for name, size in (("src_size", src_size), ("dst_size", dst_size)):
        if len(size) != 2 or min(float(s) for s in size) <= 0:
            raise ValueError(f"scale_boxes: {name} must be two positive sizes (H, W), got {list(size)!r}.")
    from monai.apps.detection.transforms.box_ops import resize_boxes

    std = convert_box_to_standard_mode(boxes, mode=box_mode)
    if not (std.is_floating_point() if isinstance(std, torch.Tensor) else std.dtype.kind == "f"):
        std = std.float() if isinstance(std, torch.Tensor) else std.astype(np.float32)
    out = resize_boxes(std, [int(s) for s in src_size], [int(s) for s in dst_size])
    return convert_box_mode(out, src_mode=StandardMode, dst_mode=box_mode) if box_mode is not None else out


def swap_box_axes(boxes: Any) -> Any:
    """Swap the two coordinates of every box corner (its own inverse).

    A datalist's ``[x0, y0, x1, y1]`` (x the column) becomes MONAI's ``[row0, col0, row1, col1]``, and back.

    Args:
        boxes: ``(N, 4)`` numpy array or torch tensor, or a list of ``[x0, y0, x1, y1]`` lists (read as
            ``float32``; ``[]`` gives ``(0, 4)``).

    Returns:
        the swapped boxes: same type for arrays and tensors, a ``float32`` numpy array for a list.

    Raises:
        TypeError/ValueError: for something that is not a list of boxes or an ``(N, 4)`` array.
    """
    if isinstance(boxes, (list, tuple)):
        try:
            boxes = np.asarray(boxes, dtype=np.float32) if len(boxes) else np.zeros((0, 4), np.float32)
        except (TypeError, ValueError) as e:
            raise ValueError(f"swap_box_axes: boxes must be [x0, y0, x1, y1] lists, got {boxes!r}.") from e
    _check_boxes(boxes, "swap_box_axes")
    from monai.apps.detection.transforms.box_ops import swapaxes_boxes

    return swapaxes_boxes(boxes, 0, 1)


class ConvertDatalistBoxesd(MapTransform, InvertibleTransform):
    """Datalist boxes (``[[x0, y0, x1, y1], ...]``, x the column) -> MONAI's ``(N, 4)`` boxes, and back.

    :func:`~monai_mammo.data.datasets.prepare_dataset` writes boxes in the datalist as image tools do, in the
    pixels of the image the item points at, with ``box_format`` ``"xyxy_corner_px"``. MONAI's detection
    transforms and this package's box-aware transforms order a box's coordinates by array axis
    (``[row0, col0, row1, col1]``, ``StandardMode``): this transform converts after ``LoadImaged`` (and
    ``inverse`` converts back, e.g. predicted boxes mapped to the datalist's convention).

    Args:
        keys: the box keys (default ``"boxes"``).
        format_key: the item key stating the boxes' convention; a value other than ``"xyxy_corner_px"`` is
            refused (``None``: not checked).
        dtype: the output dtype.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: a missing key; ValueError: boxes of another ``box_format`` or not ``(N, 4)``.
    """

    def __init__(
        self,
        keys: KeysCollection = "boxes",
        format_key: str | None = "box_format",
        dtype: torch.dtype = torch.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        from monai_mammo.data.datasets.records import BOX_FORMAT  # the datalist's convention, stated once

        self.box_format = BOX_FORMAT
        self.format_key = format_key
        self.dtype = dtype

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        name = type(self).__name__
        given = d.get(self.format_key) if self.format_key is not None else None
        if given is not None and str(given) != self.box_format:
            raise ValueError(
                f"{name}: {self.format_key!r} is {given!r}; this transform reads {self.box_format!r} boxes "
                "([x0, y0, x1, y1], x the column, pixel corners)."
            )
        for key in self.key_iterator(d):
            with key_context(name, key):
                boxes = d[key]
                if isinstance(boxes, (np.ndarray, torch.Tensor)):
                    boxes = torch.as_tensor(boxes)
                d[key] = torch.as_tensor(swap_box_axes(boxes), dtype=self.dtype)
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """Back to the datalist's ``[x0, y0, x1, y1]`` order (keys that are absent are skipped)."""
        d = dict(data)
        for key in self.keys:
            if key in d:
                with key_context(type(self).__name__, key):
                    d[key] = swap_box_axes(d[key])
        return d


class ResizeBoxd(MapTransform, InvertibleTransform):
    """Boxes follow the resize last applied to a reference image (MONAI's ``Resized``), and back.

    Put it right after ``Resized``: it reads the image's size before the resize from the ``Resize`` record
    of ``box_ref_image_key`` (a ``MetaTensor``, ``track_meta`` on) and its size now, and scales the boxes with
    MONAI's ``resize_boxes`` (so ``size_mode="longest"`` and any interpolation mode work). ``inverse``
    scales them back with the same record, before ``Resized`` pops it. Keeping the numbers in the record,
    not in this transform's arguments, means the boxes cannot drift from the image when ``Resized`` changes.

    Args:
        box_keys: keys of ``(N, 4)`` boxes (MONAI axis order, see the module docstring).
        box_ref_image_key: the image key that ``Resized`` resized.
        box_mode: MONAI box mode of the boxes (``StandardMode`` if ``None``).
        allow_missing_keys: do not raise if a box key is missing.

    Raises:
        KeyError: a missing key; ValueError: a reference image whose last operation is not a resize.
    """

    def __init__(
        self,
        box_keys: KeysCollection = "boxes",
        box_ref_image_key: str = "image",
        box_mode: Any = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(box_keys, allow_missing_keys)
        self.box_ref_image_key = box_ref_image_key
        self.box_mode = box_mode

    def _sizes(self, d: Mapping[Hashable, Any]) -> tuple[list[int], list[int]]:
        name = type(self).__name__
        ref = require_key(d, self.box_ref_image_key, name, "(the boxes are resized with its record).")
        ops = ref.applied_operations if isinstance(ref, MetaTensor) else []
        if not ops or ops[-1].get(TraceKeys.CLASS_NAME) != "Resize":
            last = ops[-1].get(TraceKeys.CLASS_NAME) if ops else "none (not a MetaTensor, or no record)"
            raise ValueError(
                f"{name}: the last operation on {self.box_ref_image_key!r} is {last}, not a Resize; put "
                f"{name} right after Resized and keep track_meta on."
            )
        return [int(s) for s in ops[-1][TraceKeys.ORIG_SIZE]], [int(s) for s in ref.shape[1:]]

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        src, dst = self._sizes(d)
        for key in self.key_iterator(d):
            with key_context(type(self).__name__, key):
                d[key] = scale_boxes(d[key], src, dst, self.box_mode)
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """Scale the boxes back (keys that are absent are skipped; the ``Resize`` record is left in place)."""
        d = dict(data)
        present = [k for k in self.keys if k in d]
        if present:
            src, dst = self._sizes(d)
            for key in present:
                d[key] = scale_boxes(d[key], dst, src, self.box_mode)
        return d


ConvertDatalistBoxesD = ConvertDatalistBoxesDict = ConvertDatalistBoxesd
ResizeBoxD = ResizeBoxDict = ResizeBoxd
