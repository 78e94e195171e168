"""Synthetic mammograms (phantoms) with lesion masks, DICOM MG writing and a datalist writer.

Seeded and reproducible, from 64 x 64 to full field (4096 x 3328), for tests, demos and offline smoke
runs of the bundles. See ``docs/phantom.md``.
"""

from __future__ import annotations

from .anatomy import BreastDensity
from .dataset import DATALIST_NAME, phantom_item, write_phantom_dataset
from .dicom import MANUFACTURER, phantom_to_dicom, window_for, write_phantom_dicom
from .generator import (
    FULL_FIELD_SHAPE,
    MAX_VALUE,
    Phantom,
    PhantomPatient,
    default_pixel_spacing,
    draw_patient,
    make_exam,
    make_phantom,
)
from .lesions import LesionKind, LesionRecord, LesionSpec, MassMargin, Pathology

__all__ = [
    "DATALIST_NAME",
    "FULL_FIELD_SHAPE",
    "MANUFACTURER",
    "MAX_VALUE",
    "BreastDensity",
    "LesionKind",
    "LesionRecord",
    "LesionSpec",
    "MassMargin",
    "Pathology",
    "Phantom",
    "PhantomPatient",
    "default_pixel_spacing",
    "draw_patient",
    "make_exam",
    "make_phantom",
    "phantom_item",
    "phantom_to_dicom",
    "window_for",
    "write_phantom_dataset",
    "write_phantom_dicom",
]
