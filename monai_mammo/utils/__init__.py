"""Shared enums and small helpers."""

from __future__ import annotations

from .enums import (
    Laterality,
    MammoMetaKey,
    PhotometricInterpretation,
    PresentationIntent,
    ViewPosition,
    VoiMode,
)

__all__ = [
    "Laterality",
    "MammoMetaKey",
    "PhotometricInterpretation",
    "PresentationIntent",
    "ViewPosition",
    "VoiMode",
]
