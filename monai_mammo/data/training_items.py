"""The training items of a patch-trained classifier (each image with its lesion mask and class) and their
sampling weights."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from monai.data import load_decathlon_datalist

from monai_mammo.data.datalist import source_name

__all__ = ["class_source_weights", "patch_training_items"]


def patch_training_items(
    datalist: str, dataset_dir: str, keys: Sequence[str] = ("image",), fold: str = "training"
) -> list[dict[str, Any]]:
    """The items of ``fold`` with ``keys``, their lesion mask (``label``) and their integer ``class``.

    Patches of every class are cut from the same images (see :class:`~monai_mammo.transforms.PatchClassd`), so
    every item needs a lesion mask, a normal image's being empty. Items of unknown class (``class`` -1 or
    missing) are kept: they give background patches only.

    Args:
        datalist: a MONAI datalist JSON (items with ``image``, ``label`` = lesion mask path, ``class``).
        dataset_dir: the folder relative paths in it start from.
        keys: other item keys to keep when present (patient id, laterality, ...).
        fold: the datalist key to read.

    Raises:
        ValueError: when the fold is empty or items have no lesion mask (the first few are named).
    """
    items = load_decathlon_datalist(datalist, data_list_key=fold, base_dir=dataset_dir)
    if not items:
        raise ValueError(f"{datalist}: the {fold!r} list is empty.")
    missing = [str(d.get("image", "?")) for d in items if not d.get("label")]
    if missing:
        raise ValueError(
            f"{datalist}: {len(missing)} {fold} item(s) have no lesion mask under 'label' "
            f"(e.g. {missing[:3]}); the classifier is trained on patches cut from each image and its mask "
            "(an empty mask for a normal image). The bundle's scripts/prepare_training_data.py writes such "
            "a datalist."
        )
    return [
        dict({k: d[k] for k in keys if k in d}, label=d["label"], **{"class": int(d.get("class", -1))})
        for d in items
    ]


def class_source_weights(
    items: Sequence[Mapping[str, Any]], class_key: str = "class", source_key: str = "source"
) -> list[float]:
    """Sampling weights that draw every class equally and, within a class, temper the largest source.

    A class is drawn with probability ``1 / classes``; within it, an image of a source with ``n`` images of
    that class weighs ``1 / sqrt(n)``. Plain class balancing lets one archive stand for a class (here 418 DDSM
    malignant films against 23 mini-MIAS ones), which teaches the archive's look; full balancing by source
    would repeat a source's one or two images of a class hundreds of times. The square root sits between.

    Args:
        items: the training items (a dataset's ``data``).
        class_key: the key of the class.
        source_key: the key of the source (items without one share a source).

    Returns:
        One weight per item (for ``torch.utils.data.WeightedRandomSampler``), summing to 1.
    """
    groups = Counter((item.get(class_key), source_name(item.get(source_key))) for item in items)
    raw = [1.0 / math.sqrt(groups[(i.get(class_key), source_name(i.get(source_key)))]) for i in items]
    per_class: dict[Any, float] = defaultdict(float)
    for item, weight in zip(items, raw):
        per_class[item.get(class_key)] += weight
    return [w / (per_class[i.get(class_key)] * len(per_class)) for i, w in zip(items, raw)]
