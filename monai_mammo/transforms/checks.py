"""Input checks shared by the mammography transforms: one clear, typed error per kind of bad input."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from monai.utils import convert_to_numpy

__all__ = ["check_image_2d", "check_unit_range", "image_class_of", "key_context", "require_key"]


def _dtype_of(img: Any) -> Any:
    return getattr(img, "dtype", None)


def check_image_2d(img: Any, name: str, channels: int | None = 1, real: bool = True) -> None:
    """Check that ``img`` is a channel-first 2D image ``(C, H, W)``.

    Args:
        img: the array (numpy or torch).
        name: the transform's name, used in the message.
        channels: the required number of channels (``None``: any).
        real: also require a real numeric (not bool, complex or object) dtype.

    Raises:
        TypeError: if ``img`` is not an array, or (``real``) its dtype is not a real number type.
        ValueError: if it is not 3-dimensional, has the wrong number of channels or an empty side.
    """
    if not isinstance(img, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} expects a numpy array or torch tensor, got {type(img).__name__}.")
    shape = tuple(int(s) for s in img.shape)
    if len(shape) != 3:
        raise ValueError(
            f"{name} expects a channel-first 2D image of shape (1, H, W), got shape {shape}; "
            "load with monai_mammo's readers or add EnsureChannelFirst(d)."
        )
    if channels is not None and shape[0] != channels:
        raise ValueError(
            f"{name} expects {channels} channel(s) (shape ({channels}, H, W)), got shape {shape}."
        )
    if min(shape) < 1:
        raise ValueError(f"{name} got an empty image of shape {shape}.")
    if real:
        dtype = _dtype_of(img)
        bad = (
            dtype in (torch.bool, np.bool_)
            or (isinstance(img, torch.Tensor) and (img.is_complex() or img.dtype == torch.bool))
            or (isinstance(img, np.ndarray) and img.dtype.kind not in "iuf")
        )
        if bad:
            raise TypeError(f"{name} expects real numbers (integer or float), got dtype {dtype}.")


def check_unit_range(img: torch.Tensor, name: str, tolerance: float = 1e-3) -> None:
    """Check that the values of ``img`` lie in ``[0, 1]`` (within ``tolerance``).

    Raises:
        ValueError: naming the range found and how to get a ``[0, 1]`` image.
    """
    lo, hi = (float(v) for v in torch.aminmax(img.detach().float()))
    if lo < -tolerance or hi > 1.0 + tolerance:
        raise ValueError(
            f"{name} expects intensities in [0, 1], got [{lo:.4g}, {hi:.4g}]; scale first "
            "(MammoWindow, BreastPercentileScale or ScaleIntensity)."
        )


def require_key(data: Mapping[Hashable, Any], key: Hashable, name: str, hint: str = "") -> Any:
    """``data[key]``, or a ``KeyError`` naming the transform, the key, the keys present and ``hint``."""
    if key not in data:
        msg = f"{name}: key {key!r} is missing from the data (keys: {sorted(map(str, data.keys()))})."
        raise KeyError(f"{msg} {hint}".strip())
    return data[key]


def image_class_of(data: Mapping[Hashable, Any], key: Hashable, name: str) -> int:
    """The image's class under ``key`` as an ``int``.

    The value may be a number, or an array or tensor of one element (on the training device when
    ``DeviceAugmentation`` runs the transform on a batch); a ``KeyError`` naming ``name`` when it is missing.
    """
    return int(convert_to_numpy(require_key(data, key, name)).reshape(-1)[0])


@contextmanager
def key_context(name: str, key: Hashable) -> Iterator[None]:
    """Re-raise a ``ValueError``/``TypeError`` from an array transform with the dictionary key in front."""
    try:
        yield
    except (ValueError, TypeError) as e:
        raise type(e)(f"{name}, key {key!r}: {e}") from e
