"""Breast-only intensity normalisation: percentile scaling and z-score inside the breast mask, and CLAHE."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.transforms import Transform
from monai.utils import TransformBackends
from skimage.exposure import equalize_adapthist

from monai_mammo.transforms.checks import check_image_2d, check_unit_range
from monai_mammo.transforms.intensity.inputs import (
    float_tensor,
    mask_tensor,
    to_output,
)
from monai_mammo.transforms.quantiles import masked_quantile
from monai_mammo.transforms.spatial.array import BreastMask

__all__ = [
    "BreastPercentileScale",
    "BreastZScore",
    "Clahe",
]


class BreastPercentileScale(Transform):
    """Scale intensities so that breast-only percentiles map to ``[b_min, b_max]``.

    Percentiles are computed inside the breast mask only (the background, often half the image, would
    otherwise pull the low percentile to the background level) and exactly, with the histogram search of
    :func:`~monai_mammo.transforms.quantiles.masked_quantile` instead of a sort (several times faster than
    ``ScaleIntensityRangePercentiles`` on a full-field image, and no 16-million-element limit).

    Args:
        lower: lower percentile in ``[0, 100]``.
        upper: upper percentile in ``[0, 100]``.
        b_min: output value of the lower percentile.
        b_max: output value of the upper percentile.
        clip: clip the output to ``[b_min, b_max]``.
        mask_fn: computes a breast mask when the call gives none (default ``BreastMask()``).
        dtype: output dtype.

    Raises:
        ValueError: for percentiles out of order or range, an empty mask or a bad shape; TypeError: bad dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        lower: float = 0.5,
        upper: float = 99.5,
        b_min: float = 0.0,
        b_max: float = 1.0,
        clip: bool = True,
        mask_fn: BreastMask | None = None,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        if not 0.0 <= lower < upper <= 100.0:
            raise ValueError(f"need 0 <= lower < upper <= 100, got lower={lower}, upper={upper}.")
        self.lower, self.upper = float(lower), float(upper)
        self.b_min, self.b_max = float(b_min), float(b_max)
        self.clip = clip
        self.mask_fn = mask_fn if mask_fn is not None else BreastMask()
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> NdarrayOrTensor:
        """Scale ``img`` ``(C, H, W)`` by the percentiles of the pixels where ``mask`` is set."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        m = mask_tensor(mask if mask is not None else self.mask_fn(img), img, name)
        x = float_tensor(img)
        lo, hi = (
            float(v) for v in masked_quantile(x, [self.lower / 100.0, self.upper / 100.0], m.expand_as(x))
        )
        if hi <= lo:
            warnings.warn(
                f"{name}: the breast intensities are constant ({lo}); output set to b_min.", stacklevel=2
            )
            out = torch.full_like(x, self.b_min)
        else:
            out = torch.sub(x, lo).mul_((self.b_max - self.b_min) / (hi - lo)).add_(self.b_min)
            if self.clip:
                out = out.clamp_(min(self.b_min, self.b_max), max(self.b_min, self.b_max))
        return to_output(out, img, self.dtype)


class BreastZScore(Transform):
    """Z-score normalisation with mean and standard deviation measured inside the breast only.

    Args:
        outside_value: value written outside the breast (``None``: keep the normalised values there).
        eps: the smallest standard deviation divided by.
        mask_fn: computes a breast mask when the call gives none (default ``BreastMask()``).
        dtype: output dtype.

    Raises:
        ValueError: for an empty mask or a bad shape; TypeError: for a bad dtype.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(
        self,
        outside_value: float | None = 0.0,
        eps: float = 1e-6,
        mask_fn: BreastMask | None = None,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        self.outside_value = outside_value
        self.eps = eps
        self.mask_fn = mask_fn if mask_fn is not None else BreastMask()
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> NdarrayOrTensor:
        """Normalise ``img`` (``(C, H, W)``) with the statistics of the pixels inside ``mask``."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        m = mask_tensor(mask if mask is not None else self.mask_fn(img), img, name).expand(img.shape)
        x = float_tensor(img)
        if x.device.type == "cpu":  # numpy's boolean selection is much faster than torch's on the CPU
            values = x.numpy()[m.numpy()]
            mean, std = float(values.mean(dtype=np.float64)), float(values.std(dtype=np.float64))
        else:
            values = x[m].double()
            mean, std = float(values.mean()), float(values.std(unbiased=False))
        out = torch.sub(x, mean).div_(max(std, self.eps))
        if self.outside_value is not None:
            out = torch.where(m, out, float(self.outside_value))
        return to_output(out, img, self.dtype)


class Clahe(Transform):
    """Contrast-limited adaptive histogram equalisation (scikit-image ``equalize_adapthist``), per channel.

    CPU only (scikit-image); a full-field image takes seconds, so apply it after resizing where possible.

    Args:
        kernel_size: contextual region size (int or ``(h, w)``; default 1/8 of each side).
        clip_limit: clipping limit in ``(0, 1]`` (higher: more contrast).
        nbins: histogram bins.
        outside_value: value written outside the breast mask when a mask is given (``None``: keep).
        dtype: output dtype.

    Raises:
        ValueError: for an input outside ``[0, 1]``, a bad ``clip_limit`` or shape; TypeError: bad dtype.
    """

    backend = [TransformBackends.NUMPY]

    def __init__(
        self,
        kernel_size: int | Sequence[int] | None = None,
        clip_limit: float = 0.01,
        nbins: int = 256,
        outside_value: float | None = 0.0,
        dtype: DtypeLike | torch.dtype = torch.float32,
    ) -> None:
        if not 0.0 < clip_limit <= 1.0:
            raise ValueError(f"clip_limit must be in (0, 1], got {clip_limit}.")
        self.kernel_size = kernel_size
        self.clip_limit = clip_limit
        self.nbins = nbins
        self.outside_value = outside_value
        self.dtype = dtype

    def __call__(self, img: NdarrayOrTensor, mask: NdarrayOrTensor | None = None) -> NdarrayOrTensor:
        """Equalise ``img`` (``(C, H, W)`` in ``[0, 1]``); ``mask`` optionally limits it to the breast."""
        name = type(self).__name__
        check_image_2d(img, name, channels=None)
        x = float_tensor(img)
        check_unit_range(x, name)
        arr = x.detach().cpu().numpy().clip(0.0, 1.0)
        out = np.stack(
            [
                equalize_adapthist(
                    ch, kernel_size=self.kernel_size, clip_limit=self.clip_limit, nbins=self.nbins
                )
                for ch in arr
            ]
        ).astype(np.float32)
        out_t = torch.from_numpy(out).to(x.device)
        if mask is not None and self.outside_value is not None:
            m = mask_tensor(mask, img, name).expand(out_t.shape)
            out_t = out_t.masked_fill(~m, float(self.outside_value))
        return to_output(out_t, img, self.dtype)
