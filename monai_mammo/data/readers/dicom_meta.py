"""DICOM tag values a mammogram reader needs: numbers, stored range, pixel spacing, view, tag conflicts.

Small functions on a ``pydicom.Dataset``, shared by :class:`~monai_mammo.data.readers.dicom.MammoDicomReader`
and the VOI maths of :mod:`monai_mammo.data.readers.voi`. The text side (laterality and view from file names
and descriptions, the metadata dict every reader fills) is :mod:`monai_mammo.data.mammo_meta`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pydicom
from pydicom.multival import MultiValue

from monai_mammo.data.mammo_meta import pixel_spacing_pair, view_from_dicom_value, view_from_text
from monai_mammo.utils.enums import Laterality, ViewPosition

__all__ = [
    "DICOM_META_TAGS",
    "dicom_floats",
    "first_float",
    "int_tag",
    "pixel_spacing",
    "scalar_tags",
    "stored_range",
    "tag_conflicts",
    "view",
]

# scalar tags copied into the metadata, with their value when absent
DICOM_META_TAGS: dict[str, Any] = {
    "Modality": "",
    "SOPClassUID": "",
    "SOPInstanceUID": "",
    "PatientID": "",
    "StudyInstanceUID": "",
    "StudyDate": "",
    "SeriesInstanceUID": "",
    "SeriesDescription": "",
    "Rows": 0,
    "Columns": 0,
    "BitsAllocated": 0,
    "BitsStored": 0,
    "PixelRepresentation": 0,
}

# views that are variants of one projection: a View Code Sequence may name the variant, View Position the base
_VIEW_FAMILY = {
    ViewPosition.XCCL: ViewPosition.CC,
    ViewPosition.XCCM: ViewPosition.CC,
    ViewPosition.FB: ViewPosition.CC,
    ViewPosition.LMO: ViewPosition.MLO,
    ViewPosition.SIO: ViewPosition.MLO,
    ViewPosition.LM: ViewPosition.ML,
}


def int_tag(ds: pydicom.Dataset, keyword: str, default: int = 0) -> int:
    """An integer tag (US/IS), ``default`` when absent or empty; the first value of a multi-valued one.

    Raises:
        ValueError: when the value is not an integer (a garbled IS string).
    """
    value = ds.get(keyword)
    if value is None or value == "":
        return default
    if isinstance(value, (list, tuple, MultiValue)):
        if not value:
            return default
        value = value[0]
    if isinstance(value, (bytes, bytearray)):  # an element pydicom kept raw (unknown VR)
        raise ValueError(f"{keyword} holds raw bytes {bytes(value[:8])!r}, not a number")
    return int(value)


def dicom_floats(value: object) -> list[float]:
    """A DICOM DS/IS value (single or multi-valued) as a list of floats; [] when absent or not numeric."""
    if value is None or value == "":
        return []
    values: Iterable[Any] = value if isinstance(value, (list, tuple, MultiValue)) else [value]
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return []


def first_float(value: object, default: float) -> float:
    """The first number of a DS/IS value, ``default`` when there is none."""
    values = dicom_floats(value)
    return values[0] if values else default


def stored_range(ds: pydicom.Dataset) -> tuple[int, int]:
    """The possible stored values ``(lo, hi)`` from Bits Stored and Pixel Representation."""
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 16)
    if int(ds.get("PixelRepresentation") or 0) == 1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def pixel_spacing(ds: pydicom.Dataset) -> list[float] | None:
    """``[row_mm, column_mm]`` from Pixel Spacing, else Imager Pixel Spacing, else Nominal Scanned Pixel
    Spacing; ``None`` when none is usable (each read by
    :func:`~monai_mammo.data.mammo_meta.pixel_spacing_pair`, but only a two-valued tag counts)."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing"):
        values = dicom_floats(ds.get(keyword))
        if len(values) != 2:
            continue
        row, column = pixel_spacing_pair(values)
        if math.isfinite(row):
            return [row, column]
    return None


def view(ds: pydicom.Dataset, texts: list[object]) -> ViewPosition:
    """View from ViewPosition, else the View Code Sequence meaning, else text."""
    found = view_from_dicom_value(ds.get("ViewPosition"))
    if found is ViewPosition.UNKNOWN:
        for item in ds.get("ViewCodeSequence") or []:
            found = view_from_dicom_value(item.get("CodeMeaning"))
            if found is not ViewPosition.UNKNOWN:
                break
    if found is ViewPosition.UNKNOWN:
        found = view_from_text(*texts)
    return found


def tag_conflicts(ds: pydicom.Dataset) -> list[str]:
    """What contradicts itself in the laterality and view tags, one sentence each (empty: nothing).

    Image Laterality against Laterality (both known and different breasts), and View Position against the
    View Code Sequence (different projections; a variant such as XCCL counts as its base view CC).
    """
    causes = []
    sides = {
        keyword: Laterality.parse(ds.get(keyword))
        for keyword in ("ImageLaterality", "Laterality")
        if ds.get(keyword) not in (None, "")
    }
    known = {k: v for k, v in sides.items() if v is not Laterality.UNKNOWN}
    if len(set(known.values())) > 1:
        found = ", ".join(f"{k} {v.value}" for k, v in known.items())
        causes.append(f"names both breasts ({found}).")
    position = view_from_dicom_value(ds.get("ViewPosition"))
    codes = [view_from_dicom_value(item.get("CodeMeaning")) for item in ds.get("ViewCodeSequence") or []]
    coded = next((v for v in codes if v is not ViewPosition.UNKNOWN), ViewPosition.UNKNOWN)
    if ViewPosition.UNKNOWN not in (position, coded) and _VIEW_FAMILY.get(
        position, position
    ) != _VIEW_FAMILY.get(coded, coded):
        causes.append(f"has View Position {position.value} but its View Code Sequence says {coded.value}.")
    return causes


def scalar_tags(ds: pydicom.Dataset) -> dict[str, Any]:
    """The :data:`DICOM_META_TAGS` of ``ds`` (their defaults when absent), the Transfer Syntax UID, Rescale
    Slope/Intercept and VOI LUT Function: small, collatable values."""
    meta: dict[str, Any] = {}
    for keyword, default in DICOM_META_TAGS.items():
        value = ds.get(keyword)
        meta[keyword] = type(default)(value) if value not in (None, "") else default
    meta["TransferSyntaxUID"] = str(ds.file_meta.get("TransferSyntaxUID", ""))
    meta["VOILUTFunction"] = str(ds.get("VOILUTFunction") or "")
    meta["RescaleSlope"] = first_float(ds.get("RescaleSlope"), 1.0)
    meta["RescaleIntercept"] = first_float(ds.get("RescaleIntercept"), 0.0)
    return meta
