"""Lesion candidates of a probability map: connected components with their position, size and scores."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from monai.data.utils import affine_to_spacing
from monai.utils import convert_to_numpy
from scipy import ndimage
from skimage import measure

from monai_mammo.data.mammo_meta import pixel_spacing_pair
from monai_mammo.utils.array_2d import as_2d
from monai_mammo.utils.deprecation import moved_to

__all__ = [
    "DEFAULT_MIN_AREA_MM2",
    "DEFAULT_MIN_AREA_PX",
    "LESION_COLUMNS",
    "lesion_label_map",
    "lesion_table",
    "min_candidate_area_px",
    "pixel_spacing_of",
]

DEFAULT_MIN_AREA_MM2 = 4.0
"""The smallest reportable lesion, in mm² (about 2 x 2 mm): a mass smaller than that is not reported as one
(calcifications are smaller, but this model does not resolve them at its working size)."""

DEFAULT_MIN_AREA_PX = 16
"""The smallest reportable lesion when the pixel spacing is unknown: 4 x 4 pixels of the working image."""

LESION_COLUMNS = (
    "label",
    "centre_row",
    "centre_col",
    "peak_row",
    "peak_col",
    "bbox_row0",
    "bbox_col0",
    "bbox_row1",
    "bbox_col1",
    "area_px",
    "area_mm2",
    "max_prob",
    "mean_prob",
)


def pixel_spacing_of(image: Any, pixel_spacing: Sequence[float] | None = None) -> tuple[float, float]:
    """``(row_mm, col_mm)`` of the pixels of ``image``; NaN when unknown.

    ``pixel_spacing`` when given; else the ``pixel_spacing`` metadata of a MetaTensor (what the
    ``monai_mammo`` readers fill in: the spacing of the file), scaled by how much the image was resized since
    it was read (the ratio of its ``affine`` to its ``original_affine`` spacing: MONAI's ``Resized`` updates
    the first, not the second), so that a working image resized to half the size has pixels twice as large.

    Args:
        image: a map, numpy or torch; a MetaTensor's metadata is used.
        pixel_spacing: ``[row_mm, col_mm]`` (one number for square pixels), overrides the metadata.

    Returns:
        ``(row_mm, col_mm)``, ``(nan, nan)`` when unknown.

    Raises:
        ValueError: for a spacing that is not one or two numbers.
    """
    if pixel_spacing is not None:
        return pixel_spacing_pair(pixel_spacing)
    meta = getattr(image, "meta", None)
    if not isinstance(meta, dict):
        return (math.nan, math.nan)
    row_mm, col_mm = pixel_spacing_pair(meta.get("pixel_spacing"))
    original = meta.get("original_affine")
    affine = meta.get("affine")
    if original is not None and affine is not None:
        scale = affine_to_spacing(convert_to_numpy(affine), r=2) / affine_to_spacing(
            convert_to_numpy(original), r=2
        )
        if np.all(np.isfinite(scale)) and np.all(scale > 0):
            row_mm, col_mm = row_mm * float(scale[0]), col_mm * float(scale[1])
    return row_mm, col_mm


def min_candidate_area_px(
    shape: Sequence[int],
    pixel_spacing: Sequence[float] | None = None,
    min_area_mm2: float | None = DEFAULT_MIN_AREA_MM2,
    min_area_px: float = DEFAULT_MIN_AREA_PX,
    working_size: int | None = None,
) -> float:
    """The smallest lesion candidate kept in a map of ``shape``, in its pixels.

    - pixel spacing known (finite, positive) and ``min_area_mm2`` given: ``min_area_mm2 / (row_mm * col_mm)``;
    - otherwise ``min_area_px`` pixels *of the working image*: a map of longest side ``L`` made from a working
      image of longest side ``working_size`` (e.g. a bundle's ``image_size``: outputs are written in the
      original geometry) holds ``(L / working_size)²`` of its pixels per working pixel. The factor is never
      below 1, so no kept candidate has fewer than ``min_area_px`` pixels of the map either.

    Args:
        shape: ``(H, W)`` of the map.
        pixel_spacing: ``[row_mm, col_mm]`` of the map's pixels (``None`` or NaN: unknown).
        min_area_mm2: the smallest lesion in mm² (``None``: always count in pixels).
        min_area_px: the smallest lesion in pixels of the working image.
        working_size: the longest side of the working image (``None``: the map is the working image).

    Returns:
        The minimum area in pixels of the map (a candidate is kept when its area is at least this).

    Raises:
        ValueError: for a negative minimum or a ``working_size`` below 1.
    """
    if min_area_mm2 is not None and not float(min_area_mm2) >= 0:
        raise ValueError(f"min_area_mm2 must be >= 0 or None, got {min_area_mm2}.")
    if not float(min_area_px) >= 0:
        raise ValueError(f"min_area_px must be >= 0, got {min_area_px}.")
    if working_size is not None and not int(working_size) >= 1:
        raise ValueError(f"working_size must be a positive number of pixels or None, got {working_size}.")
    row_mm, col_mm = pixel_spacing_pair(pixel_spacing)
    if min_area_mm2 is not None and math.isfinite(row_mm):
        return float(min_area_mm2) / (row_mm * col_mm) * (1.0 - 1e-9)  # 1e-9: an area at the minimum stays
    scale = 1.0 if working_size is None else max(int(n) for n in shape) / int(working_size)
    return float(min_area_px) * max(1.0, scale * scale)


def _peak(region: np.ndarray, intensity: np.ndarray) -> tuple[int, int]:
    """``regionprops`` extra property: the region's highest pixel, first in raster order on ties, relative
    to its bounding box (raster order inside the box is the image's raster order)."""
    flat = int(np.argmax(np.where(region, intensity, -np.inf)))
    row, col = divmod(flat, region.shape[1])
    return row, col


def lesion_table(
    prob_map: Any,
    threshold: float = 0.5,
    pixel_spacing: Sequence[float] | None = None,
    min_area_px: float = 1,
    connectivity: int = 2,
    min_area_mm2: float | None = None,
    working_size: int | None = None,
) -> list[dict[str, float | int]]:
    """One row per connected component of ``prob_map >= threshold``.

    Row keys (:data:`LESION_COLUMNS`): ``label`` (1, 2, ... in raster order of the components' first pixel),
    ``centre_row``/``centre_col`` (centroid of the component's pixels, float), ``peak_row``/``peak_col``
    (the pixel of the highest probability, first in raster order on ties; always inside the component),
    ``bbox_row0, bbox_col0, bbox_row1, bbox_col1`` (bounding box, end exclusive), ``area_px``, ``area_mm2``
    (``area_px * row_mm * col_mm``; NaN when the pixel spacing is unknown), ``max_prob`` and ``mean_prob``
    (over the component).

    The components and their properties are :func:`skimage.measure.label` and
    :func:`skimage.measure.regionprops_table` (the peak an extra property). Measured on a smooth 1024 x 820
    map with 24 components it is 12x faster than the ``scipy.ndimage`` version it replaced (16 vs 200 ms);
    on pure noise (22,000 components kept) 3.8x slower, which the bundles avoid by their minimum area:
    components below it are dropped before ``regionprops`` sees them.

    Components smaller than the minimum of :func:`min_candidate_area_px` are dropped (labels stay
    consecutive): ``min_area_mm2`` when given and the pixel spacing is known, else ``min_area_px`` pixels of
    the working image (of longest side ``working_size``; the map itself when ``None``). The defaults keep
    every component; the bundles' writers use :data:`DEFAULT_MIN_AREA_MM2` and :data:`DEFAULT_MIN_AREA_PX`.

    Args:
        prob_map: probability map ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)``, numpy or torch; a
            MetaTensor's ``pixel_spacing`` metadata is used when ``pixel_spacing`` is not given.
        threshold: a pixel belongs to a candidate when its probability is ``>= threshold``.
        pixel_spacing: ``[row_mm, col_mm]`` (one number for square pixels); ``None``: from the metadata
            (:func:`pixel_spacing_of`).
        min_area_px: the smallest component kept when counted in pixels (of the working image).
        connectivity: 1 (4-neighbourhood) or 2 (8-neighbourhood).
        min_area_mm2: the smallest component kept, in mm², when the pixel spacing is known.
        working_size: the longest side of the working image ``min_area_px`` counts in (``None``: the map).

    Returns:
        A list of dicts (JSON/CSV friendly: ints and floats), in label order.

    Raises:
        ValueError: for a map that is not 2D, a bad ``pixel_spacing``, ``connectivity`` or minimum.
    """
    if connectivity not in (1, 2):
        raise ValueError(f"connectivity must be 1 or 2, got {connectivity}.")
    row_mm, col_mm = pixel_spacing_of(prob_map, pixel_spacing)
    prob = as_2d(prob_map, "prob_map").astype(np.float64)
    min_area = min_candidate_area_px(prob.shape, (row_mm, col_mm), min_area_mm2, min_area_px, working_size)
    labels = measure.label(prob >= threshold, connectivity=connectivity)
    area_of = np.bincount(labels.ravel())
    labels[(area_of < min_area)[labels]] = 0  # drop small components first: a noisy map has thousands
    if not labels.any():
        return []
    table = measure.regionprops_table(
        labels,
        intensity_image=prob,
        properties=("area", "centroid", "bbox", "intensity_max", "intensity_mean"),
        extra_properties=(_peak,),
    )
    rows: list[dict[str, float | int]] = []
    for i in range(len(table["area"])):
        area = int(table["area"][i])
        row0, col0 = int(table["bbox-0"][i]), int(table["bbox-1"][i])
        rows.append(
            {
                "label": i + 1,
                "centre_row": float(table["centroid-0"][i]),
                "centre_col": float(table["centroid-1"][i]),
                "peak_row": row0 + int(table["_peak-0"][i]),
                "peak_col": col0 + int(table["_peak-1"][i]),
                "bbox_row0": row0,
                "bbox_col0": col0,
                "bbox_row1": int(table["bbox-2"][i]),
                "bbox_col1": int(table["bbox-3"][i]),
                "area_px": area,
                "area_mm2": area * row_mm * col_mm,
                "max_prob": float(table["intensity_max"][i]),
                "mean_prob": float(table["intensity_mean"][i]),
            }
        )
    return rows


def lesion_label_map(
    shape: Sequence[int],
    mask: Any | None = None,
    circles: Sequence[Sequence[float]] | None = None,
    boxes: Sequence[Sequence[float]] | None = None,
) -> np.ndarray:
    """Ground-truth lesions as a label map: 0 = background, 1..n = one label per lesion.

    - ``mask``: a binary mask (values 0/1 or bool) is split into connected components (8-neighbourhood),
      one lesion each; a mask with other integer values is taken as already labelled (each distinct
      non-zero value is one lesion, relabelled 1..n);
    - ``circles``: ``(row, col, radius)`` in pixels: the pixels whose centre lies within ``radius``;
    - ``boxes``: ``(row0, col0, row1, col1)``, end exclusive.

    Circles and boxes are numbered after the mask's lesions, in the given order; where lesions overlap the
    later one wins.

    Args:
        shape: ``(H, W)`` of the image.
        mask: ground-truth mask ``(H, W)`` or ``(1, H, W)``.
        circles: lesion circles.
        boxes: lesion boxes.

    Returns:
        Integer array ``(H, W)``.

    Raises:
        ValueError: for a mask of another shape, or malformed circles/boxes.
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2:
        raise ValueError(f"shape must be (H, W), got {shape}.")
    out = np.zeros(shape, dtype=np.int32)
    n = 0
    if mask is not None:
        m = as_2d(mask, "mask")
        if m.shape != shape:
            raise ValueError(f"mask shape {m.shape} does not match the map shape {shape}.")
        values = np.unique(m)
        if m.dtype == bool or np.all(np.isin(values, (0, 1))):
            out, n = ndimage.label(m != 0, structure=np.ones((3, 3), dtype=bool))
            out = out.astype(np.int32)
        else:
            nonzero = values[values != 0]
            out[m != 0] = np.searchsorted(nonzero, m[m != 0]) + 1
            n = len(nonzero)
    rr, cc = np.ogrid[: shape[0], : shape[1]]
    for circle in circles or ():
        if len(circle) != 3:
            raise ValueError(f"a circle is (row, col, radius), got {tuple(circle)}.")
        r, c, radius = (float(v) for v in circle)
        n += 1
        out[(rr - r) ** 2 + (cc - c) ** 2 <= radius**2] = n
    for box in boxes or ():
        if len(box) != 4:
            raise ValueError(f"a box is (row0, col0, row1, col1), got {tuple(box)}.")
        r0, c0, r1, c1 = (int(round(float(v))) for v in box)
        n += 1
        out[max(r0, 0) : max(r1, 0), max(c0, 0) : max(c1, 0)] = n
    return out


# the old name of the 2-D helper (now monai_mammo.utils.array_2d.as_2d): still importable, warns when called
as_map_2d = moved_to("monai_mammo.utils.array_2d.as_2d")(as_2d)
