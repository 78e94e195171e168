"""``MaskClassLabeld``: the dictionary frame shared by the transforms that turn a lesion mask and its image's
class into a class label (:class:`~monai_mammo.transforms.PatchClassd`, one label per patch;
:class:`~monai_mammo.transforms.LesionPlaceLabelsd`, one label per place of a whole image)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform

from monai_mammo.transforms.checks import image_class_of

__all__ = ["MaskClassLabeld"]


class MaskClassLabeld(MapTransform):
    """Replace (or add) the ``torch.long`` label ``label_fn(mask, image_class)`` of each mask key.

    Args:
        keys: the lesion-mask key (usually ``"label"``).
        label_fn: the array transform, ``label_fn(mask, image_class) -> int or tensor``.
        class_key: the key holding the image's class.
        output_key: where the label goes (default: over the mask key).
        allow_missing_keys: do not raise if the mask key is missing.

    Raises:
        KeyError: at the call, if ``class_key`` is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        label_fn: Callable[[Any, int], Any],
        class_key: str = "class",
        output_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.label_fn = label_fn
        self.class_key = class_key
        self.output_key = output_key

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        image_class = image_class_of(d, self.class_key, type(self).__name__)
        for key in self.key_iterator(d):
            d[self.output_key or key] = torch.as_tensor(self.label_fn(d[key], image_class), dtype=torch.long)
        return d
