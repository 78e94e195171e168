"""Intensity mammography transforms: VOI window, breast-only normalisation, CLAHE, look and noise."""

from __future__ import annotations

from monai_mammo.transforms.intensity.array import (
    BreastPercentileScale,
    BreastZScore,
    Clahe,
    MammoWindow,
    RandDetectorNoise,
    RandVendorLook,
)
from monai_mammo.transforms.intensity.dictionary import (
    BreastPercentileScaleD,
    BreastPercentileScaled,
    BreastPercentileScaleDict,
    BreastZScoreD,
    BreastZScored,
    BreastZScoreDict,
    ClaheD,
    Clahed,
    ClaheDict,
    MammoWindowD,
    MammoWindowd,
    MammoWindowDict,
    RandDetectorNoiseD,
    RandDetectorNoised,
    RandDetectorNoiseDict,
    RandVendorLookD,
    RandVendorLookd,
    RandVendorLookDict,
)

__all__ = [
    "BreastPercentileScale",
    "BreastPercentileScaleD",
    "BreastPercentileScaleDict",
    "BreastPercentileScaled",
    "BreastZScore",
    "BreastZScoreD",
    "BreastZScoreDict",
    "BreastZScored",
    "Clahe",
    "ClaheD",
    "ClaheDict",
    "Clahed",
    "MammoWindow",
    "MammoWindowD",
    "MammoWindowDict",
    "MammoWindowd",
    "RandDetectorNoise",
    "RandDetectorNoiseD",
    "RandDetectorNoiseDict",
    "RandDetectorNoised",
    "RandVendorLook",
    "RandVendorLookD",
    "RandVendorLookDict",
    "RandVendorLookd",
]
