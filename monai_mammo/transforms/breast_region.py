"""Breast-region maths on a coarse grid: foreground mask, chest-wall side, pectoral muscle.

A full-field mammogram has 10-20 million pixels, but the outline of the breast is smooth: every
estimate here is made on a block-averaged grid whose longest side has about ``grid_size`` cells
(256 by default, i.e. 17x17 blocks on a 4400-row DICOM), and only the final mask is brought back to
full resolution. The transforms in :mod:`monai_mammo.transforms.spatial.array` wrap these functions;
they are public for users who need the intermediate results.

The algorithms and the failure modes they were built against are described in ``docs/transforms.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

__all__ = [
    "BreastGrid",
    "breast_grid",
    "breast_mask_on_grid",
    "chest_wall_score",
    "image_chest_wall_score",
    "normalise_grid",
    "pectoral_mask_on_grid",
    "upsample_grid_mask",
]


@dataclass
class BreastGrid:
    """A block-averaged copy of an image and the factor that maps it back.

    Attributes:
        values: float32 array ``(h, w)``, the block means (channels averaged).
        factor: the block size; grid cell ``(i, j)`` covers pixels ``[i*f, (i+1)*f) x [j*f, (j+1)*f)``.
        shape: the full-resolution spatial shape ``(H, W)``.
    """

    values: np.ndarray
    factor: int
    shape: tuple[int, int]


def breast_grid(img: torch.Tensor, grid_size: int = 256, name: str = "breast_grid") -> BreastGrid:
    """Block-average a channel-first 2D image ``(C, H, W)`` to a grid of longest side ``<= grid_size``.

    The averaging runs on the tensor's device (``avg_pool2d``); only the small grid is moved to the CPU.

    Args:
        img: a ``(C, H, W)`` tensor of real values (channels are averaged).
        grid_size: the longest side of the grid, at least 16.
        name: the caller (a transform's name), put at the start of error messages.

    Returns:
        the :class:`BreastGrid`.

    Raises:
        ValueError: if ``grid_size < 16`` or the image holds NaN or infinite values.
    """
    if grid_size < 16:
        raise ValueError(f"{name}: grid_size must be >= 16, got {grid_size}.")
    x = img.detach()
    x = x.float() if x.dtype != torch.float32 else x
    if hasattr(x, "as_tensor"):
        x = x.as_tensor()
    height, width = int(x.shape[-2]), int(x.shape[-1])
    factor = max(1, math.ceil(max(height, width) / grid_size))
    x = x.mean(dim=0, keepdim=True) if x.shape[0] > 1 else x
    if factor > 1:
        x = F.avg_pool2d(x[None], kernel_size=factor, stride=factor, ceil_mode=True)[0]
    values = x[0].cpu().numpy().astype(np.float32, copy=False)
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: the image holds NaN or infinite values: cannot compute a breast mask.")
    return BreastGrid(values=values, factor=factor, shape=(height, width))


def normalise_grid(values: np.ndarray, lower: float = 0.5, upper: float = 99.5) -> np.ndarray:
    """Robustly rescale grid values to ``[0, 1]`` between two percentiles (all zeros if constant)."""
    lo, hi = np.percentile(values, [lower, upper])
    if hi <= lo:
        return np.zeros_like(values, dtype=np.float32)
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def breast_mask_on_grid(
    values: np.ndarray,
    threshold_fraction: float = 0.3,
    median_size: int = 3,
    open_iterations: int = 2,
    fill_holes: bool = True,
) -> np.ndarray:
    """The breast foreground of a coarse grid (breast bright on a dark background, MONOCHROME2).

    1. median filter (``median_size`` cells) against detector noise and thin burnt-in lines;
    2. rescale to ``[0, 1]`` between the 0.5th and 99.5th percentiles;
    3. Otsu's threshold ``T`` splits background from tissue; the background level ``b`` is the median of
       the values below ``T``; the mask is ``value > b + threshold_fraction * (T - b)``. Measuring from
       the background level (not from 0) keeps a non-zero or noisy background out; a fraction well below 1
       keeps the faint skin line and the fatty periphery in (Otsu alone cuts them off);
    4. a binary opening (``open_iterations``, 4-connected, edges replicated so that the chest wall is
       not eroded) cuts thin bridges to labels, markers and film edges;
    5. the largest connected component is the breast (labels and markers are smaller and disconnected);
    6. holes are filled (dark fat, skin folds).

    Args:
        values: the grid ``(h, w)``.
        threshold_fraction: where the threshold sits between the background level and Otsu's threshold.
        median_size: the median filter size in cells (1 disables it).
        open_iterations: the opening iterations (0 disables it).
        fill_holes: fill holes of the mask.

    Returns:
        a boolean ``(h, w)`` mask; all true for an image of constant intensity (nothing to separate).
    """
    grid = ndi.median_filter(values, size=median_size) if median_size > 1 else values
    norm = normalise_grid(grid)
    if float(norm.max()) <= 0.0:
        return np.ones(values.shape, dtype=bool)
    otsu = float(threshold_otsu(norm))
    below = norm[norm <= otsu]
    background = float(np.median(below)) if below.size else 0.0
    fg = norm > background + threshold_fraction * (otsu - background)
    if open_iterations > 0:
        pad = open_iterations + 1
        padded = np.pad(fg, pad, mode="edge")
        padded = ndi.binary_opening(
            padded, structure=ndi.generate_binary_structure(2, 1), iterations=open_iterations
        )
        fg = padded[pad:-pad, pad:-pad]
    labels, count = ndi.label(fg)
    if count == 0:
        return np.ones(values.shape, dtype=bool)
    if count > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        fg = labels == int(np.argmax(sizes))
    if fill_holes:
        fg = ndi.binary_fill_holes(fg)
    return fg


def chest_wall_score(mask: np.ndarray, edge_fraction: float = 0.1) -> float:
    """Evidence for the side of the chest wall from a breast mask, in ``[-1, 1]``.

    The breast is widest at the chest wall and tapers to the nipple. Within the mask's bounding box the
    mean mask coverage of the first and last ``edge_fraction`` of the columns are compared:
    ``(left - right) / (left + right)``. Positive: chest wall on the left (a left breast in the standard
    display orientation); negative: on the right; near 0: no evidence (e.g. a breast filling the frame).
    On the 216 mini-MIAS, 4 CBIS-DDSM and 9 CDD-CESM images the sign is right for every image whose
    ``|score| > 0.1``; correct scores have a median of about 0.6.

    Args:
        mask: a boolean ``(h, w)`` breast mask.
        edge_fraction: the fraction of the box width compared on each side.

    Returns:
        the score (0.0 for an empty mask).
    """
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return 0.0
    coverage = mask[:, cols[0] : cols[-1] + 1].mean(axis=0)
    k = max(1, int(round(edge_fraction * coverage.size)))
    left, right = float(coverage[:k].mean()), float(coverage[-k:].mean())
    return 0.0 if left + right == 0 else (left - right) / (left + right)


def image_chest_wall_score(
    img: torch.Tensor,
    grid_size: int = 256,
    edge_fraction: float = 0.1,
    threshold_fraction: float = 0.3,
    name: str = "image_chest_wall_score",
) -> float:
    """The chest-wall evidence of an image: :func:`chest_wall_score` of its breast mask on the coarse grid.

    The one pixel laterality of this package: the readers' ``laterality_from_image`` and
    :class:`~monai_mammo.transforms.CanonicalLaterality` both come here. Measured against
    the earlier reader heuristic (largest bright region, 30 % edge bands): on the 802 DDSM films of
    ``ddsm_boxes`` (chest-wall side known from the scanner's fixed film orientation) this gives 795 right,
    0 wrong, 7 below 0.15 (the earlier one: 606 right, 196 below 0.15); on the 216 mini-MIAS, 4 CBIS-DDSM and
    9 CDD-CESM images both are never wrong and leave the same two mini-MIAS films (a breast filling the film)
    below 0.15.

    Args:
        img: a ``(C, H, W)`` tensor, breast brighter than the background (channels are averaged).
        grid_size: the longest side of the grid (see :func:`breast_grid`).
        edge_fraction: see :func:`chest_wall_score`.
        threshold_fraction: see :func:`breast_mask_on_grid`.
        name: the caller, put at the start of error messages.

    Returns:
        the score in ``[-1, 1]``: positive, chest wall on the left; negative, on the right.

    Raises:
        ValueError: if the image holds NaN or infinite values.
    """
    grid = breast_grid(img, grid_size, name=name)
    mask = breast_mask_on_grid(grid.values, threshold_fraction=threshold_fraction)
    return chest_wall_score(mask, edge_fraction)


def upsample_grid_mask(
    mask: np.ndarray, factor: int, shape: tuple[int, int], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Bring a grid mask back to full resolution by nearest-neighbour repetition (each cell -> its block).

    On the CPU this is a numpy repeat straight to the exact shape (a few ms for a full-field image; torch's
    interpolation is 10-30x slower there); on a GPU, ``repeat_interleave``.

    Args:
        mask: ``(h, w)`` grid mask (bool or uint8).
        factor: the grid block size.
        shape: the full-resolution ``(H, W)``.
        device: where to build the full-resolution mask.

    Returns:
        a tensor ``(H, W)`` of ``mask``'s dtype on ``device``.
    """
    rows = np.full(mask.shape[0], factor)
    rows[-1] = shape[0] - factor * (mask.shape[0] - 1)
    cols = np.full(mask.shape[1], factor)
    cols[-1] = shape[1] - factor * (mask.shape[1] - 1)
    if torch.device(device).type == "cpu":
        return torch.from_numpy(np.repeat(np.repeat(mask, rows, axis=0), cols, axis=1))
    t = torch.from_numpy(np.ascontiguousarray(mask)).to(device)
    rows_t, cols_t = torch.as_tensor(rows, device=t.device), torch.as_tensor(cols, device=t.device)
    return t.repeat_interleave(rows_t, dim=0).repeat_interleave(cols_t, dim=1)


def pectoral_mask_on_grid(
    values: np.ndarray,
    mask: np.ndarray,
    chest_wall_left: bool = True,
    search_height: float = 0.6,
    search_width: float = 0.6,
    min_rows: int = 5,
) -> np.ndarray:
    """The pectoral muscle of an MLO view on a coarse grid, as the triangle above a fitted straight edge.

    With the chest wall on the left, the muscle is a bright wedge at the top-left of the breast whose
    lower edge is close to a straight line. Within the top ``search_height`` and chest-wall
    ``search_width`` fraction of the breast's bounding box:

    1. the smoothed grid is thresholded at Otsu's level of the breast pixels there;
    2. the bright component touching the chest wall at the top of the breast is kept;
    3. for each of its rows, the width of its run from the chest wall gives an edge point;
    4. a straight line is fitted to the edge points (iteratively re-weighted least squares, Huber
       weights), so dense glandular tissue touching the muscle does not drag the edge;
    5. the muscle is the part of the breast mask between the chest wall and that line.

    When no plausible edge is found (fewer than ``min_rows`` edge points, or a line that does not
    narrow downwards, or a wedge covering more than 60% of the breast) the result is empty: a missing
    pectoral mask is safer downstream than a wrong one.

    Args:
        values: the grid ``(h, w)``.
        mask: the boolean breast mask on the same grid.
        chest_wall_left: whether the chest wall is on the left (else the arrays are mirrored first).
        search_height: fraction of the breast height searched from its top.
        search_width: fraction of the breast width searched from the chest wall.
        min_rows: the fewest edge rows accepted for the line fit.

    Returns:
        a boolean ``(h, w)`` mask of the muscle (possibly empty).
    """
    if not chest_wall_left:
        return pectoral_mask_on_grid(
            values[:, ::-1], mask[:, ::-1], True, search_height, search_width, min_rows
        )[:, ::-1].copy()
    empty = np.zeros(mask.shape, dtype=bool)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size < 2 * min_rows or cols.size < 2 * min_rows:
        return empty
    r0, c0 = int(rows[0]), int(cols[0])
    r_end = r0 + max(min_rows, int(search_height * (rows[-1] - r0 + 1)))
    c_end = c0 + max(min_rows, int(search_width * (cols[-1] - c0 + 1)))
    smooth = ndi.gaussian_filter(normalise_grid(values), 1.5)
    roi, roi_mask = smooth[r0:r_end, c0:c_end], mask[r0:r_end, c0:c_end]
    if roi_mask.sum() < 4 * min_rows:
        return empty
    bright = (roi > float(threshold_otsu(roi[roi_mask]))) & roi_mask
    bright = ndi.binary_opening(bright, iterations=1)
    labels, count = ndi.label(bright)
    if count == 0:
        return empty
    corner = labels[: max(3, int(0.15 * labels.shape[0])), : max(3, int(0.1 * labels.shape[1]))]
    ids = np.unique(corner[corner > 0])
    if ids.size == 0:
        return empty
    sizes = ndi.sum(bright, labels, ids)
    wedge = ndi.binary_fill_holes(labels == ids[int(np.argmax(sizes))])
    edge_r, edge_c = [], []
    for r in range(wedge.shape[0]):
        run = wedge[r]
        if not run[:3].any():
            continue
        start = int(np.flatnonzero(run)[0])
        gaps = np.flatnonzero(~run[start:])
        edge_r.append(r)
        edge_c.append(start + (int(gaps[0]) if gaps.size else run.size - start))
    if len(edge_r) < min_rows:
        return empty
    r_arr, c_arr = np.asarray(edge_r, dtype=float), np.asarray(edge_c, dtype=float)
    weights = np.ones_like(r_arr)
    slope, intercept = 0.0, 0.0
    for _ in range(5):
        slope, intercept = np.polyfit(r_arr, c_arr, 1, w=weights)
        residual = c_arr - (intercept + slope * r_arr)
        scale = 1.4826 * float(np.median(np.abs(residual))) + 1e-6
        weights = 1.0 / np.maximum(1.0, np.abs(residual) / (1.5 * scale))
    if slope >= -0.05:
        return empty
    rr, cc = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    muscle = (cc < c0 + intercept + slope * (rr - r0)) & mask & (rr >= r0)
    if muscle.sum() > 0.6 * mask.sum():
        return empty
    return muscle
