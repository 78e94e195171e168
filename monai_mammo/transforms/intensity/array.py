"""Intensity mammography transforms (array versions): windowing, breast-only normalisation, CLAHE, look.

This module gathers the array transforms, MONAI-style (``monai_mammo.transforms.intensity.array.X`` in a
bundle config keeps working); each is written in the module of its concern:

- :mod:`~monai_mammo.transforms.intensity.window`: :class:`MammoWindow` (the DICOM VOI window);
- :mod:`~monai_mammo.transforms.intensity.inversion`: :class:`CorrectInvertedExport`,
  :class:`InversionDecision`;
- :mod:`~monai_mammo.transforms.intensity.normalize`: :class:`BreastPercentileScale`, :class:`BreastZScore`,
  :class:`Clahe`;
- :mod:`~monai_mammo.transforms.intensity.augment`: :class:`RandVendorLook`, :class:`RandDetectorNoise`;
- :mod:`~monai_mammo.transforms.intensity.inputs`: how they all take their inputs and give back output.

Input: channel-first 2D images ``(C, H, W)`` (``(1, H, W)`` from ``monai_mammo``'s readers), numpy or torch
on any device. Output: the same container type (numpy in, numpy out; ``MetaTensor`` metadata kept),
``float32`` unless ``dtype`` says otherwise. Intensity transforms are not invertible.

Output ranges:

- :class:`CorrectInvertedExport`: the input's range and dtype (``max + min - x`` if inverted, else unchanged);
- :class:`MammoWindow`: ``[y_min, y_max]`` (``[0, 1]`` by default);
- :class:`BreastPercentileScale`: ``[b_min, b_max]`` (``[0, 1]``) with ``clip=True``;
- :class:`BreastZScore`: zero mean, unit variance inside the breast, ``outside_value`` outside;
- :class:`Clahe`: ``[0, 1]`` (input must be in ``[0, 1]``);
- :class:`RandVendorLook`, :class:`RandDetectorNoise`: ``[0, 1]`` with ``clip=True`` (inputs in ``[0, 1]``).

All but :class:`Clahe` (scikit-image, CPU) run with torch on the input's device.
"""

from __future__ import annotations

from monai_mammo.transforms.intensity.augment import RandDetectorNoise, RandVendorLook
from monai_mammo.transforms.intensity.inversion import CorrectInvertedExport, InversionDecision
from monai_mammo.transforms.intensity.normalize import BreastPercentileScale, BreastZScore, Clahe
from monai_mammo.transforms.intensity.window import MammoWindow

__all__ = [
    "BreastPercentileScale",
    "BreastZScore",
    "Clahe",
    "CorrectInvertedExport",
    "InversionDecision",
    "MammoWindow",
    "RandDetectorNoise",
    "RandVendorLook",
]
