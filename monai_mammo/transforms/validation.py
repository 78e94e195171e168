"""Transforms that refuse unusable inputs with a typed error naming the file: blank images, masks of the
wrong size.

A reader cannot tell an all-black mammogram from an empty lesion mask (both are valid files of one value),
and it reads an image and its mask separately, so these two checks run after ``LoadImaged``, where the
roles of the keys are known. Both raise a :class:`~monai_mammo.data.errors.MammoReadError` subclass naming
the file (from the ``MetaTensor`` metadata), so that a batch job
(:class:`~monai_mammo.data.FailureSkippingDataLoader`) records the file and goes on::

    Compose([
        LoadImaged(keys=["image", "label"], reader=MammoAutoReader()),
        CheckSameSized(keys=["image", "label"]),  # SizeMismatchError naming the mask
        RejectBlankImaged(keys="image"),           # BlankImageError naming the image
        ...
    ])
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.data.meta_tensor import MetaTensor
from monai.transforms import MapTransform, Transform
from monai.utils import ImageMetaKey, TransformBackends

from monai_mammo.data.errors import BlankImageError, SizeMismatchError
from monai_mammo.transforms.checks import check_image_2d

__all__ = [
    "CheckSameSizeD",
    "CheckSameSizeDict",
    "CheckSameSized",
    "RejectBlankImage",
    "RejectBlankImageD",
    "RejectBlankImageDict",
    "RejectBlankImaged",
    "source_name",
]


def source_name(img: Any, default: str) -> str:
    """The file an array was read from (``meta["filename_or_obj"]`` of a ``MetaTensor``), else ``default``.

    Args:
        img: the array.
        default: what to name when the array carries no file name (e.g. ``"key 'image'"``).

    Returns:
        The file name or ``default``.
    """
    if isinstance(img, MetaTensor):
        name = img.meta.get(ImageMetaKey.FILENAME_OR_OBJ)
        if isinstance(name, str) and name:
            return name
    return default


class RejectBlankImage(Transform):
    """Raise :class:`~monai_mammo.data.errors.BlankImageError` for an image whose pixels all have one value.

    An all-black (or all-white) export holds no breast: the breast mask of such an image is the whole
    image (:class:`~monai_mammo.transforms.BreastMask`: nothing to separate), normalisation divides by zero
    and a model's output on it means nothing. The image is returned unchanged otherwise.

    Args:
        min_range: the image is blank when ``max - min <= min_range`` (``0``: exactly constant; raise it to
            also refuse images that are constant up to noise, in the image's own units).

    Raises:
        ValueError: for a negative or non-finite ``min_range``.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(self, min_range: float = 0.0) -> None:
        if not (np.isfinite(min_range) and min_range >= 0):
            raise ValueError(f"min_range must be a finite number >= 0, got {min_range!r}.")
        self.min_range = float(min_range)

    def __call__(self, img: NdarrayOrTensor, name: str | None = None) -> NdarrayOrTensor:
        """Check ``img`` and return it unchanged.

        Args:
            img: ``(C, H, W)`` image (numpy, torch or ``MetaTensor``).
            name: what to call the image in the error when it carries no file name.

        Raises:
            BlankImageError: naming the file (or ``name``) and its single value.
            TypeError/ValueError: for an input that is not a real-valued ``(C, H, W)`` array.
        """
        check_image_2d(img, type(self).__name__, channels=None)
        if isinstance(img, torch.Tensor):
            data = img.detach()
            if data.dtype in (torch.uint16, torch.uint32, torch.uint64):  # aminmax lacks these
                data = data.to(torch.int64)
            lo, hi = (float(v) for v in torch.aminmax(data.reshape(-1)))
        else:
            lo, hi = float(np.min(img)), float(np.max(img))
        if hi - lo <= self.min_range:  # False when NaN: NaN is refused elsewhere, with its own message
            spread = f"every pixel is {lo:g}" if hi == lo else f"its values span only {lo:g}..{hi:g}"
            raise BlankImageError(
                source_name(img, name or "image"),
                f"is blank: {spread} (range {hi - lo:g} <= min_range {self.min_range:g}); there is no breast "
                "to analyse.",
                "check the export (an all-black or all-white image), or leave the file out.",
            )
        return img


class RejectBlankImaged(MapTransform):
    """Dictionary version of :class:`RejectBlankImage`.

    Args:
        keys: image keys (not masks: an empty mask is a valid mask).
        min_range: see ``RejectBlankImage``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key is missing.
    """

    backend = RejectBlankImage.backend

    def __init__(
        self, keys: KeysCollection, min_range: float = 0.0, allow_missing_keys: bool = False
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.checker = RejectBlankImage(min_range)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.checker(d[key], name=f"key {key!r}")
        return d


class CheckSameSized(MapTransform):
    """Raise :class:`~monai_mammo.data.errors.SizeMismatchError` when the arrays under ``keys`` differ in
    spatial size (``shape[1:]``) from the first key's.

    Put it right after ``LoadImaged``: a lesion mask of another size than its mammogram (a mask drawn on a
    resized copy, the CBIS-DDSM ROI masks a few pixels off) would otherwise be resized on its own by the
    next ``Resized`` and silently misaligned, or fail later in a crop with a message that names no file.
    The data are returned unchanged.

    Args:
        keys: the keys to compare, the reference (the image) first, e.g. ``["image", "label"]``.
        allow_missing_keys: do not raise if a key is missing.

    Raises:
        KeyError: if a key is missing.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        reference: tuple[Hashable, Any] | None = None
        for key in self.key_iterator(d):
            shape = getattr(d[key], "shape", None)
            if shape is None or len(shape) < 2:
                raise TypeError(
                    f"{type(self).__name__}, key {key!r}: expects a channel-first array, got "
                    f"{type(d[key]).__name__} of shape {shape}."
                )
            if reference is None:
                reference = (key, d[key])
                continue
            ref_key, ref = reference
            size, ref_size = tuple(int(s) for s in shape[1:]), tuple(int(s) for s in ref.shape[1:])
            if size != ref_size:
                ref_name = source_name(ref, "it")
                raise SizeMismatchError(
                    source_name(d[key], f"key {key!r}"),
                    f"(key {key!r}) has size {size} but {ref_name} (key {ref_key!r}) has {ref_size}; they "
                    "must have the same size.",
                    "draw or resize the mask at its image's size (monai-mammo prepare does), or pair the "
                    "files correctly in the datalist.",
                )
        return d


RejectBlankImageD = RejectBlankImageDict = RejectBlankImaged
CheckSameSizeD = CheckSameSizeDict = CheckSameSized
