"""``PatchClass`` / ``PatchClassd``: the class of a patch from its lesion mask and its image's class.

Training a classifier on patches (see :class:`~monai_mammo.networks.LesionEvidenceDenseNet`) needs one label
per patch, drawn from the same images for every class, so the network learns lesions and not the archive an
image came from. After :class:`~monai_mammo.transforms.RandLesionPatchd` has cut patches from an image and its
lesion mask, a patch is

- **the image's class** (e.g. 1 benign, 2 malignant) when lesion pixels lie in its central part
  (``centre_fraction`` of its size each way),
- **background** (0) when it holds no lesion pixel at all,
- ``ignore_index`` (left out of the loss) when a lesion is only near its border, or when the image's class is
  unknown or not a lesion class (an image of unknown pathology still gives background patches).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monai.config import KeysCollection
from monai.transforms import Transform
from monai.utils import convert_to_numpy

from monai_mammo.transforms.mask_class_label import MaskClassLabeld

__all__ = ["PatchClass", "PatchClassD", "PatchClassDict", "PatchClassd"]


class PatchClass(Transform):
    """The class of one patch (an ``int``) from its lesion mask and the class of its image.

    Args:
        lesion_classes: image classes that a lesion in the patch stands for (others give ``ignore_index``).
        centre_fraction: size of the central part, as a fraction of the patch size along each axis (0, 1].
        ignore_index: label of patches the loss should skip (``torch.nn.CrossEntropyLoss(ignore_index=...)``).

    Raises:
        ValueError: for a ``centre_fraction`` outside (0, 1] or a mask with no spatial axis.
    """

    def __init__(
        self, lesion_classes: Sequence[int] = (1, 2), centre_fraction: float = 0.5, ignore_index: int = -100
    ) -> None:
        if not 0.0 < centre_fraction <= 1.0:
            raise ValueError(f"PatchClass: centre_fraction must be in (0, 1], got {centre_fraction}.")
        self.lesion_classes = {int(c) for c in lesion_classes}
        self.centre_fraction = float(centre_fraction)
        self.ignore_index = int(ignore_index)

    def __call__(self, mask: Any, image_class: int) -> int:  # type: ignore[override]
        """The patch's class.

        Args:
            mask: the channel-first lesion mask of the patch (``> 0``: lesion).
            image_class: the class of the image the patch was cut from.
        """
        lesion = convert_to_numpy(mask) > 0
        if lesion.ndim < 2:
            raise ValueError(
                f"PatchClass: the mask needs a channel and spatial axes, got shape {lesion.shape}."
            )
        lesion = lesion.reshape(-1, *lesion.shape[-(lesion.ndim - 1) :]).any(axis=0)
        if not lesion.any():
            return 0
        centre = tuple(
            slice(
                int(round(n * (1 - self.centre_fraction) / 2)),
                n - int(round(n * (1 - self.centre_fraction) / 2)),
            )
            for n in lesion.shape
        )
        if lesion[centre].any() and int(image_class) in self.lesion_classes:
            return int(image_class)
        return self.ignore_index


class PatchClassd(MaskClassLabeld):
    """Dictionary version of :class:`PatchClass`: replaces (or adds) a scalar class label per patch.

    Args:
        keys: the lesion-mask key of the patch (usually ``"label"``).
        class_key: the key holding the image's class.
        output_key: where the scalar ``torch.long`` label goes (default: over the mask key).
        lesion_classes, centre_fraction, ignore_index: see :class:`PatchClass`.
        allow_missing_keys: do not raise if the mask key is missing.

    Raises:
        KeyError: if ``class_key`` is missing.
    """

    def __init__(
        self,
        keys: KeysCollection = "label",
        class_key: str = "class",
        output_key: str | None = None,
        lesion_classes: Sequence[int] = (1, 2),
        centre_fraction: float = 0.5,
        ignore_index: int = -100,
        allow_missing_keys: bool = False,
    ) -> None:
        self.patch_class = PatchClass(lesion_classes, centre_fraction, ignore_index)
        super().__init__(keys, self.patch_class, class_key, output_key, allow_missing_keys)


PatchClassD = PatchClassDict = PatchClassd
