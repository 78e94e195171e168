"""Spatial mammography transforms: canonical laterality, breast/pectoral masks, crop, fit, lesion patches."""

from __future__ import annotations

from monai_mammo.transforms.spatial.array import (
    BreastMask,
    CanonicalLaterality,
    CropBreast,
    LateralityDecision,
    PectoralMask,
    ResizeToFit,
)
from monai_mammo.transforms.spatial.dictionary import (
    BreastMaskD,
    BreastMaskd,
    BreastMaskDict,
    CanonicalLateralityD,
    CanonicalLateralityd,
    CanonicalLateralityDict,
    CropBreastD,
    CropBreastd,
    CropBreastDict,
    PectoralMaskD,
    PectoralMaskd,
    PectoralMaskDict,
    RandLesionPatchD,
    RandLesionPatchd,
    RandLesionPatchDict,
    ResizeToFitD,
    ResizeToFitd,
    ResizeToFitDict,
)

__all__ = [
    "BreastMask",
    "BreastMaskD",
    "BreastMaskDict",
    "BreastMaskd",
    "CanonicalLaterality",
    "CanonicalLateralityD",
    "CanonicalLateralityDict",
    "CanonicalLateralityd",
    "CropBreast",
    "CropBreastD",
    "CropBreastDict",
    "CropBreastd",
    "LateralityDecision",
    "PectoralMask",
    "PectoralMaskD",
    "PectoralMaskDict",
    "PectoralMaskd",
    "RandLesionPatchD",
    "RandLesionPatchDict",
    "RandLesionPatchd",
    "ResizeToFit",
    "ResizeToFitD",
    "ResizeToFitDict",
    "ResizeToFitd",
]
