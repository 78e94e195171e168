"""The readers. DICOM reading, split by concern: Pixel Data checks and decoding (``codestream``), grey-scale
maths (``voi``), tag values (``dicom_meta``) and the reader that puts them together (``dicom``); ``auto``:
:class:`MammoAutoReader`, which hands each file to the package reader that fits it."""

from __future__ import annotations

from monai_mammo.data.readers.auto import MammoAutoReader
from monai_mammo.data.readers.codestream import CODEC_FIX, codec_status, codestream_size
from monai_mammo.data.readers.dicom import MammoDicomReader
from monai_mammo.data.readers.voi import VOI_FUNCTIONS, lut_to_unit, window_to_unit

__all__ = [
    "CODEC_FIX",
    "VOI_FUNCTIONS",
    "MammoAutoReader",
    "MammoDicomReader",
    "codec_status",
    "codestream_size",
    "lut_to_unit",
    "window_to_unit",
]
