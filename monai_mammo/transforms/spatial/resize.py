"""``ResizeToFit``: fit a mammogram into a fixed size keeping its aspect ratio (invertible).

Its own module so that ``spatial/array.py`` stays one size; importable from
:mod:`monai_mammo.transforms.spatial.array` and :mod:`monai_mammo.transforms` as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.data.meta_obj import get_track_meta
from monai.transforms import InvertibleTransform, Resize, SpatialPad
from monai.transforms.inverse import TraceKeys
from monai.utils import TransformBackends, convert_to_tensor

from monai_mammo.transforms.checks import check_image_2d

__all__ = ["ResizeToFit"]


class ResizeToFit(InvertibleTransform):
    """Resize a 2D image to fit inside ``spatial_size`` keeping its aspect ratio, then pad it to that size.

    A breast crop is usually much taller than wide (rows/columns about 1.5-2 on mini-MIAS films, 3-4 on
    CBIS-DDSM scans), so resizing it straight to a fixed ``(H, W)`` would stretch the tissue sideways by a
    different factor for every image. This transform scales the image by ``min(H / h, W / w)`` (MONAI's
    ``Resize``, anti-aliased when shrinking) and pads the bottom and right edges with ``pad_value``
    (MONAI's ``SpatialPad``, ``method="end"``): after :class:`CanonicalLaterality` the chest wall stays on
    the left edge and the padding goes beyond the nipple. Every image of a batch then has the same shape,
    one scale per image is kept, and ``inverse`` (e.g. through ``Invertd``) crops the padding away and
    resizes back to the original size, so a heat map made on the network input lands on the original
    pixels.

    Args:
        spatial_size: the output ``(H, W)``.
        mode: interpolation mode of ``torch.nn.functional.interpolate`` (``"bilinear"`` for images,
            ``"nearest"`` for masks).
        anti_aliasing: smooth before shrinking (as ``skimage.transform.resize``; ignored for ``"nearest"``).
        pad_value: the value of the padded pixels.
        dtype: the dtype of the resampling (MONAI's ``Resize``); the output keeps it.

    Raises:
        ValueError: for a bad ``spatial_size``, or an input that is not a ``(C, H, W)`` array.

    Example:
        .. code-block:: python

            fit = ResizeToFit((512, 416))
            out = fit(crop)            # (1, 512, 416); the breast keeps its proportions
            back = fit.inverse(out)    # the crop's own size again
    """

    backend = [TransformBackends.TORCH]

    def __init__(
        self,
        spatial_size: Sequence[int],
        mode: str = "bilinear",
        anti_aliasing: bool = True,
        pad_value: float = 0.0,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        values = [spatial_size] if isinstance(spatial_size, (int, np.integer)) else list(spatial_size)
        size = tuple(int(s) for s in (values * 2 if len(values) == 1 else values))
        if len(size) != 2 or min(size) < 1:
            raise ValueError(
                f"ResizeToFit: spatial_size must be two positive sizes (H, W), got {spatial_size!r}."
            )
        self.spatial_size: tuple[int, int] = (size[0], size[1])
        self.mode = mode
        self.anti_aliasing = bool(anti_aliasing) and not mode.startswith("nearest")
        self.pad_value = float(pad_value)
        self.dtype = dtype

    def fitted_size(self, shape: Sequence[int]) -> tuple[int, int]:
        """The ``(h, w)`` an image of spatial shape ``shape`` is resized to before padding.

        Args:
            shape: the input's ``(H, W)``.

        Returns:
            The resized ``(h, w)``, each at least 1 and at most the output size.
        """
        rows, cols = int(shape[0]), int(shape[1])
        scale = min(self.spatial_size[0] / rows, self.spatial_size[1] / cols)
        return (
            min(self.spatial_size[0], max(1, round(rows * scale))),
            min(self.spatial_size[1], max(1, round(cols * scale))),
        )

    def _resize(self, img: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        if tuple(int(s) for s in img.shape[1:]) == size:
            return img
        resizer = Resize(size, mode=self.mode, anti_aliasing=self.anti_aliasing, dtype=self.dtype)
        with resizer.trace_transform(False):
            return resizer(img)

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        """Resize ``img`` (``(C, H, W)``) to fit, pad it to ``spatial_size``; record both for ``inverse``."""
        check_image_2d(img, type(self).__name__, channels=None, real=False)
        data = convert_to_tensor(img, track_meta=get_track_meta())
        orig = (int(data.shape[1]), int(data.shape[2]))
        fitted = self.fitted_size(orig)
        out = self._resize(data, fitted)
        if fitted != self.spatial_size:
            padder = SpatialPad(self.spatial_size, method="end", value=self.pad_value)
            with padder.trace_transform(False):
                out = padder(out)
        self.push_transform(out, orig_size=orig, extra_info={"fitted_size": list(fitted)})
        return out

    def inverse(self, data: torch.Tensor) -> torch.Tensor:
        """Crop the padding away and resize back to the original size (pops the recorded operation)."""
        transform = self.pop_transform(data)
        orig = tuple(int(s) for s in transform[TraceKeys.ORIG_SIZE])
        fitted = tuple(int(s) for s in transform[TraceKeys.EXTRA_INFO]["fitted_size"])
        out = data[:, : fitted[0], : fitted[1]]
        return self._resize(out, (orig[0], orig[1]))
