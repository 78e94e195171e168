"""How the intensity transforms take their inputs and give back their output: a float32 torch view of
any image, a checked breast mask on its device, numbers and text from metadata in any of the forms readers
write, and the output converted back to the input's container type (metadata kept)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.config import DtypeLike, NdarrayOrTensor
from monai.data.meta_tensor import MetaTensor
from monai.utils import convert_to_dst_type

from monai_mammo.transforms.checks import check_image_2d

__all__ = [
    "float_tensor",
    "mask_tensor",
    "meta_floats",
    "meta_text",
    "to_output",
]


def float_tensor(img: NdarrayOrTensor) -> torch.Tensor:
    """A plain float32 torch view/copy of ``img`` (metadata dropped; restored by ``convert_to_dst_type``)."""
    t = img.as_tensor() if isinstance(img, MetaTensor) else torch.as_tensor(img)
    return t if t.dtype == torch.float32 else t.float()


def mask_tensor(mask: NdarrayOrTensor, img: NdarrayOrTensor, name: str) -> torch.Tensor:
    """A boolean ``(1, H, W)`` mask on ``img``'s device, checked against ``img``'s shape."""
    check_image_2d(mask, f"{name} (mask)", channels=1, real=False)
    if tuple(mask.shape[1:]) != tuple(img.shape[1:]):
        raise ValueError(
            f"{name}: mask shape {tuple(mask.shape)} does not match image shape {tuple(img.shape)}."
        )
    m = mask.as_tensor() if isinstance(mask, MetaTensor) else torch.as_tensor(mask)
    device = img.device if isinstance(img, torch.Tensor) else torch.device("cpu")
    m = m.to(device) > 0
    if not bool(m.any()):
        raise ValueError(f"{name}: the breast mask is empty.")
    return m


def to_output(out: torch.Tensor, img: NdarrayOrTensor, dtype: DtypeLike | torch.dtype) -> NdarrayOrTensor:
    """``out`` as ``img``'s container type (numpy, torch, ``MetaTensor`` with its metadata) in ``dtype``."""
    return convert_to_dst_type(out, img, dtype=dtype)[0]


def meta_floats(value: Any) -> list[float]:
    """Numbers from a metadata value: number, list, ``"a\\b"`` text or DICOM JSON ``{"Value": [...]}``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return meta_floats(value.get("Value"))
    if isinstance(value, (str, bytes)):
        text = value.decode() if isinstance(value, bytes) else value
        parts = [p for p in text.replace(",", "\\").split("\\") if p.strip()]
        try:
            return [float(p) for p in parts]
        except ValueError:
            return []
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return [
            float(v) for v in np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value).ravel()
        ]
    if isinstance(value, Sequence):
        return [f for v in value for f in meta_floats(v)]
    try:
        return [float(value)]
    except (TypeError, ValueError):
        return []


def meta_text(value: Any) -> str | None:
    """A metadata value as upper-case text (the first of a list, the ``Value`` of DICOM JSON); ``None``."""
    if isinstance(value, Mapping):
        value = value.get("Value")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value).strip().upper()
