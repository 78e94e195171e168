"""Shared enums and small helpers."""

from __future__ import annotations

from .enums import (
    InversionMetaKey,
    InversionSource,
    Laterality,
    MammoMetaKey,
    Pathology,
    PhotometricInterpretation,
    PresentationIntent,
    ViewPosition,
    VoiMode,
)

__all__ = [
    "InversionMetaKey",
    "InversionSource",
    "Laterality",
    "MammoMetaKey",
    "Pathology",
    "PhotometricInterpretation",
    "PresentationIntent",
    "ViewPosition",
    "VoiMode",
]
