"""Copies of a datalist fold as other exports would give it: inverted grey, stretched, processed, 8-bit.

Public mammography dumps seldom hold the hospital's DICOM: they hold PNG/JPEG exports, some with the grey
inverted (MONOCHROME1 written without its inversion), some stretched to a square, with a vendor's
processing baked in. A model that holds on its own test fold can fall on those. :func:`write_export_variants`
writes, for one fold of a datalist, one folder per variant with the images (8-bit PNG), the masks in the
same geometry and a datalist whose fold has the same name, so that a bundle's ``evaluate.json`` runs on it
unchanged (``--datalist OUT/stretched/datalist.json``) and its figures sit beside those of ``plain``:

- ``plain``: the image re-exported as 8-bit PNG, nothing else (the baseline of the others);
- ``inverted``: grey inverted (white background);
- ``stretched``: columns widened by ``stretch`` (default 1.3: a 4:3 portrait image stretched to a
  square); masks (nearest neighbour) and ``xyxy`` boxes alike;
- ``processed``: a strong unsharp mask (sigma a hundredth of the longest side) and gamma 0.8, the look of a
  processed digital image (:class:`~monai_mammo.transforms.RandVendorLook` with fixed parameters).

Images are decoded as training reads them (:func:`~monai_mammo.data.datasets.decode_image`: DICOM through its
VOI window, other files over their full range). A file that cannot be read is left out of the variant's
datalist and listed in ``failures.json``; every file is written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.transforms import Resize
from PIL import Image

from monai_mammo.data.datasets.cache import decode_image, resize_image
from monai_mammo.io.atomic import atomic_write_bytes
from monai_mammo.io.png import encode_png
from monai_mammo.transforms.intensity.augment import RandVendorLook

__all__ = ["EXPORT_VARIANTS", "export_variant", "write_export_variants"]

EXPORT_VARIANTS = ("plain", "inverted", "stretched", "processed")
"""The variants :func:`write_export_variants` writes, in this order."""


def _stretched_size(shape: Sequence[int], factor: float) -> tuple[int, int]:
    return int(shape[0]), max(1, round(int(shape[1]) * factor))


def _stretched_mask(mask: np.ndarray, factor: float) -> np.ndarray:
    resize = Resize(spatial_size=_stretched_size(mask.shape, factor), mode="nearest")
    out = np.asarray(resize(torch.from_numpy(mask[None].astype(np.float32))))[0]
    return out.round().astype(mask.dtype)


def _processed(image: np.ndarray) -> np.ndarray:
    sigma = max(image.shape) / 100.0
    look = RandVendorLook(
        prob=1.0,
        gamma_prob=1.0,
        gamma_range=(0.8, 0.8),
        sigmoid_prob=0.0,
        contrast_prob=0.0,
        unsharp_prob=1.0,
        unsharp_sigma_range=(sigma, sigma),
        unsharp_amount_range=(1.0, 1.0),
    )
    return np.asarray(look(image[None]))[0]


def export_variant(
    image: np.ndarray, variant: str, mask: np.ndarray | None = None, stretch: float = 1.3
) -> tuple[np.ndarray, np.ndarray | None]:
    """One image (and its mask) as ``variant`` would export it.

    Args:
        image: ``(H, W)`` intensities in ``[0, 1]``.
        variant: one of :data:`EXPORT_VARIANTS`.
        mask: optional ``(H, W)`` lesion mask (any integer or boolean type); kept as it is except when
            ``stretched`` (nearest neighbour).
        stretch: the column factor of ``stretched`` (``> 0``).

    Returns:
        The ``uint8`` image and the mask (``None`` when none was given).

    Raises:
        ValueError: for an unknown variant, a stretch factor that is not positive, or arrays that are not 2D
            or do not have the same shape.
    """
    if variant not in EXPORT_VARIANTS:
        raise ValueError(f"variant must be one of {EXPORT_VARIANTS}, got {variant!r}.")
    if not float(stretch) > 0:
        raise ValueError(f"stretch must be > 0, got {stretch}.")
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be (H, W), got shape {image.shape}.")
    if mask is not None and np.shape(mask) != image.shape:
        raise ValueError(f"mask shape {np.shape(mask)} does not match image shape {image.shape}.")
    out = np.clip(image, 0.0, 1.0)
    if variant == "inverted":
        out = 1.0 - out
    elif variant == "stretched":
        out = resize_image(out, _stretched_size(out.shape, stretch))
        if mask is not None:
            mask = _stretched_mask(np.asarray(mask), stretch)
    elif variant == "processed":
        out = _processed(out)
    return np.round(np.clip(out, 0.0, 1.0) * 255).astype(np.uint8), mask


def _stretched_boxes(item: Mapping[str, Any], factor: float) -> list[list[float]]:
    box_format = str(item.get("box_format", "xyxy"))
    if not box_format.startswith("xyxy"):
        raise ValueError(f"boxes in {box_format!r} cannot be stretched (xyxy only).")
    return [[b[0] * factor, b[1], b[2] * factor, b[3]] for b in item["boxes"]]


def _read_mask(path: str) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture)


def write_export_variants(
    datalist: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    fold: str = "test",
    variants: Sequence[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    stretch: float = 1.3,
) -> dict[str, Path]:
    """Write ``fold`` of ``datalist`` once per export variant (see the module's docstring).

    Args:
        datalist: a MONAI datalist JSON; its items' ``image`` (and, when present, ``label``: a PNG/TIFF mask)
            are read, every other key is copied (``boxes`` in ``xyxy`` are stretched with the image).
        out_dir: ``out_dir/<variant>/`` gets ``images/``, ``labels/``, ``datalist.json`` (the fold only,
            under its own name, paths relative to that folder) and ``failures.json``.
        fold: the datalist key to copy.
        variants: some of :data:`EXPORT_VARIANTS` (``None``: all).
        base_dir: the folder relative paths in the datalist start from (default: the datalist's folder).
        stretch: the column factor of ``stretched``.

    Returns:
        variant -> the path of its datalist.

    Raises:
        ValueError: for an unknown variant or a fold the datalist lacks; KeyError: for an item without
            ``image``.
    """
    variants = list(EXPORT_VARIANTS if variants is None else variants)
    unknown = [v for v in variants if v not in EXPORT_VARIANTS]
    if unknown or not variants:
        raise ValueError(f"variants must be some of {EXPORT_VARIANTS}, got {list(variants)}.")
    with open(datalist, encoding="utf-8") as f:
        items = json.load(f).get(fold)
    if not isinstance(items, list):
        raise ValueError(f"{datalist} has no {fold!r} fold.")
    base = Path(base_dir) if base_dir is not None else Path(datalist).parent
    out = Path(out_dir)
    kept: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    failures: dict[str, list[dict[str, str]]] = {v: [] for v in variants}
    for index, item in enumerate(items):
        source = str(base / item["image"])  # an absolute path stays as it is
        name = f"{index:05d}_{Path(source).name.split('.')[0]}.png"
        try:  # read once for every variant
            image = decode_image(source)
            given_mask = _read_mask(str(base / item["label"])) if item.get("label") else None
        except Exception as err:  # one broken file never takes the others down
            for variant in variants:
                failures[variant].append({"image": source, "error": f"{type(err).__name__}: {err}"})
            continue
        for variant in variants:
            folder = out / variant
            try:
                pixels, mask = export_variant(image, variant, given_mask, stretch)
                copy = {**item, "image": f"images/{name}"}
                if mask is not None:
                    atomic_write_bytes(folder / "labels" / name, encode_png(_mask_bytes(mask)))
                    copy["label"] = f"labels/{name}"
                if variant == "stretched" and item.get("boxes"):
                    copy["boxes"] = _stretched_boxes(item, stretch)
                if "size" in item:
                    copy["size"] = list(pixels.shape)
                atomic_write_bytes(folder / "images" / name, encode_png(pixels))
            except Exception as err:
                failures[variant].append({"image": source, "error": f"{type(err).__name__}: {err}"})
                continue
            kept[variant].append(copy)
    written: dict[str, Path] = {}
    for variant in variants:
        folder = out / variant
        document = {"description": f"{fold} fold of {datalist} as a {variant!r} export", fold: kept[variant]}
        atomic_write_bytes(folder / "failures.json", json.dumps(failures[variant], indent=1).encode())
        text = json.dumps(document, indent=1).encode()
        written[variant] = atomic_write_bytes(folder / "datalist.json", text)
    return written


def _mask_bytes(mask: np.ndarray) -> np.ndarray:
    """A mask as ``uint8`` for PNG: labels kept up to 255, a binary mask as 0/255."""
    mask = np.asarray(mask)
    if mask.dtype == bool or mask.max(initial=0) <= 1:
        return (mask > 0).astype(np.uint8) * 255
    if mask.max() > 255:
        raise ValueError(f"a mask with labels above 255 cannot be written as 8-bit PNG (max {mask.max()}).")
    return mask.astype(np.uint8)
