"""``LesionPlaceLabels`` / ``LesionPlaceLabelsd``: a class label for every place of a lesion-evidence map.

:class:`~monai_mammo.networks.LesionEvidenceDenseNet` gives class logits at every place of its feature map,
one place per ``cell_size`` x ``cell_size`` input pixels. Trained on patches, it sees a few background patches
of each image; trained on whole images with one label per place, every place of every image teaches it, so
the lesion-like background it would call suspicious (the hard negatives) is in every batch, and the
background of a cancer film is background as much as a normal film's. This transform turns a whole image's
lesion mask and the image's class into those labels:

- **background** (0): no lesion pixel in the place;
- **the image's class** (e.g. 1 benign, 2 malignant): lesion pixels cover at least ``min_fraction`` of the
  place, or the place is the one a lesion covers most (so that a lesion smaller than a place still has one);
- ``ignore_index`` (left out of the loss): a place only touched by a lesion, and every lesion place of an
  image whose class is unknown or not a lesion class (its background places still count).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import Transform
from monai.utils import convert_to_numpy
from scipy import ndimage

from monai_mammo.transforms.mask_class_label import MaskClassLabeld

__all__ = ["LesionPlaceLabels", "LesionPlaceLabelsD", "LesionPlaceLabelsDict", "LesionPlaceLabelsd"]


class LesionPlaceLabels(Transform):
    """The ``(*spatial / cell_size)`` ``torch.long`` place labels of a channel-first lesion mask.

    Args:
        cell_size: input pixels per place along each axis (32 for MONAI's DenseNet); every spatial size of
            the mask must be a multiple of it.
        lesion_classes: image classes that a lesion stands for (others give ``ignore_index`` on the lesion).
        min_fraction: the share of a place that lesion pixels must cover for it to take the image's class,
            in (0, 1].
        ignore_index: label of the places the loss should skip
            (``torch.nn.CrossEntropyLoss(ignore_index=...)``).

    Raises:
        ValueError: for a ``cell_size`` below 1, a ``min_fraction`` outside (0, 1], a mask without a channel
            axis, or a spatial size that is not a multiple of ``cell_size``.
    """

    def __init__(
        self,
        cell_size: int = 32,
        lesion_classes: Sequence[int] = (1, 2),
        min_fraction: float = 0.25,
        ignore_index: int = -100,
    ) -> None:
        if int(cell_size) < 1:
            raise ValueError(f"LesionPlaceLabels: cell_size must be >= 1, got {cell_size}.")
        if not 0.0 < float(min_fraction) <= 1.0:
            raise ValueError(f"LesionPlaceLabels: min_fraction must be in (0, 1], got {min_fraction}.")
        self.cell_size = int(cell_size)
        self.lesion_classes = {int(c) for c in lesion_classes}
        self.min_fraction = float(min_fraction)
        self.ignore_index = int(ignore_index)

    def __call__(self, mask: Any, image_class: int) -> torch.Tensor:  # type: ignore[override]
        """The place labels.

        Args:
            mask: the channel-first lesion mask of the whole image (``> 0``: lesion).
            image_class: the class of the image.
        """
        lesion = convert_to_numpy(mask) > 0
        if lesion.ndim < 2:
            raise ValueError(
                f"LesionPlaceLabels: the mask needs a channel and spatial axes, got shape {lesion.shape}."
            )
        lesion = lesion.any(axis=0)
        if any(n % self.cell_size for n in lesion.shape):
            raise ValueError(
                f"LesionPlaceLabels: the spatial size {lesion.shape} is not a multiple of cell_size "
                f"{self.cell_size}; resize or pad the image (e.g. ResizeToFitd) first."
            )
        grid = tuple(n // self.cell_size for n in lesion.shape)
        blocks = lesion.reshape(
            *[v for n in grid for v in (n, self.cell_size)]
        )  # (g0, c, g1, c, ...): one block per place
        fraction = blocks.mean(axis=tuple(range(1, 2 * len(grid), 2)))
        labels = np.zeros(grid, dtype=np.int64)
        touched = fraction > 0
        if not touched.any():
            return torch.from_numpy(labels)
        positive = fraction >= self.min_fraction
        components, n = ndimage.label(lesion)
        place_of_pixel = np.ravel_multi_index(
            tuple(axis // self.cell_size for axis in np.nonzero(components)), grid
        )
        component_of_pixel = components[components > 0]
        for index in range(1, n + 1):  # the place a lesion covers most stands for it, however small
            counts = np.bincount(place_of_pixel[component_of_pixel == index], minlength=fraction.size)
            positive[np.unravel_index(int(np.argmax(counts)), grid)] = True
        lesion_label = int(image_class) if int(image_class) in self.lesion_classes else self.ignore_index
        labels[touched] = self.ignore_index
        labels[positive] = lesion_label
        return torch.from_numpy(labels)


class LesionPlaceLabelsd(MaskClassLabeld):
    """Dictionary version of :class:`LesionPlaceLabels`: replaces (or adds) the place labels of a whole image.

    Args:
        keys: the lesion-mask key (usually ``"label"``).
        class_key: the key holding the image's class.
        output_key: where the ``(*spatial / cell_size)`` ``torch.long`` labels go (default: over the mask
            key).
        cell_size, lesion_classes, min_fraction, ignore_index: see :class:`LesionPlaceLabels`.
        allow_missing_keys: do not raise if the mask key is missing.

    Raises:
        KeyError: if ``class_key`` is missing.
    """

    def __init__(
        self,
        keys: KeysCollection = "label",
        class_key: str = "class",
        output_key: str | None = None,
        cell_size: int = 32,
        lesion_classes: Sequence[int] = (1, 2),
        min_fraction: float = 0.25,
        ignore_index: int = -100,
        allow_missing_keys: bool = False,
    ) -> None:
        self.place_labels = LesionPlaceLabels(cell_size, lesion_classes, min_fraction, ignore_index)
        super().__init__(keys, self.place_labels, class_key, output_key, allow_missing_keys)


LesionPlaceLabelsD = LesionPlaceLabelsDict = LesionPlaceLabelsd
