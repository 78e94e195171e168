"""Shared enums and small helpers."""

from __future__ import annotations

from .enums import (
    Laterality,
    MammoMetaKey,
    Pathology,
    PhotometricInterpretation,
    PresentationIntent,
    ViewPosition,
    VoiMode,
)

__all__ = [
    "Laterality",
    "MammoMetaKey",
    "Pathology",
    "PhotometricInterpretation",
    "PresentationIntent",
    "ViewPosition",
    "VoiMode",
]
