"""Spatial mammography transforms: canonical laterality, breast/pectoral masks, crop, fit, patches, affine."""

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
from monai_mammo.transforms.spatial.fast_affine import FastRandAffineD, FastRandAffined, FastRandAffineDict

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
    "FastRandAffineD",
    "FastRandAffineDict",
    "FastRandAffined",
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
