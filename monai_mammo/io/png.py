"""``encode_png``: the PNG bytes of an 8-bit image, for :func:`~monai_mammo.io.atomic_write_bytes` to write.

The one PNG encoder of the package: the per-image outputs of a run, the exam report pages, the converted
data sets and the bundles' samples all encode through it.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

__all__ = ["encode_png"]


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of a ``(H, W)`` or ``(H, W, 3)`` uint8 array."""
    if array.dtype != np.uint8:
        raise TypeError(f"encode_png expects uint8, got {array.dtype}.")
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
