"""Which way round a mammogram's grey scale is: image evidence for an export with inverted grey values.

A mammogram is displayed with the breast bright on a dark background (MONOCHROME2, what ``monai_mammo``'s
readers return). A MONOCHROME1 image exported to PNG/JPEG without its photometric interpretation applied
shows the opposite: a white background and a dark breast. Public dumps hold both kinds side by side, often
also stretched to a square and re-encoded as JPEG, so the evidence here uses the pixels only and no
geometry that a stretch would change.

The background (air) is a large region of near-constant value; the breast is textured (glandular
tissue, vessels, the intensity roll-off towards the skin line). Which of the two is bright decides the
polarity. :func:`inversion_evidence` measures that on the block-averaged grid of
:func:`~monai_mammo.transforms.breast_region.breast_grid` with four cues, each in ``[-1, 1]`` and positive
when the image looks inverted:

- ``plateau``: the grey level where flat cells (low local standard deviation) are most common is the
  background level; in a correctly displayed image most of the rest lies above it, in an inverted one
  below it. Fails when a flat fatty breast fills the frame (the fat plateau is then the mode).
- ``edge_sides``: at the strongest edges (the skin line, label and film borders), the flatness of the
  dark side is compared with that of the bright side (``edge_offset`` cells away along the gradient); at
  the skin line the background side is the flat one. Labels and film borders, flat on both sides, add
  little.
- ``dark_end`` and ``dark_end_wide``: the local standard deviation of the darkest 5% (10%) of the cells
  is compared with that of the brightest 5% (10%): the background end of the grey range is flat, the
  tissue end textured. Holds for most frame-filling breasts (their darkest cells are still the background
  slivers); fooled by flat white strips beside the film.

Every cue, hence the score, changes sign when the grey values are reflected (``max + min - x``):
nothing assumes film, a border, a label position or a value of the background (0, 255 or anything).
The cues fail on different images, so their mean is the score. Measured on every real image of
``../shared/data`` (216 mini-MIAS and 802 DDSM films, 9 CDD-CESM digital JPEGs, 4 CBIS-DDSM DICOMs), as
given, stretched to a square and re-encoded as JPEG, upright and inverted (6186 images): none scores
beyond ``0.1`` on the wrong side, the median ``|score|`` is 0.8, and the 18 below 0.1 are films where the
breast fills the frame (mini-MIAS mdb151, DDSM A_1160_1-RIGHT_CC, ...). ``docs/transforms.md`` has the
figures.

When the reader knew the photometric interpretation, the pixels need not be judged:
:func:`reader_photometric` tells from the metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from monai_mammo.data.mammo_meta import parse_photometric
from monai_mammo.transforms.breast_region import normalise_grid
from monai_mammo.utils.enums import MammoMetaKey, PhotometricInterpretation

__all__ = ["InversionEvidence", "inversion_evidence", "reader_photometric"]

# keys only monai_mammo's DICOM reader writes: its image is display-ready whatever the file's photometric
_DICOM_READER_KEYS = ("SOPClassUID", "TransferSyntaxUID")


@dataclass
class InversionEvidence:
    """What :func:`inversion_evidence` measured on one image.

    Attributes:
        score: the mean of the cues, in ``[-1, 1]``: positive when the image looks inverted (bright
            background, dark breast), negative when it looks correctly displayed, near 0 when the image does
            not tell (a constant image gives exactly 0).
        cues: each cue's value (``plateau``, ``edge_sides``, ``dark_end``, ``dark_end_wide``), same sign
            convention.
    """

    score: float
    cues: dict[str, float] = field(default_factory=dict)


def _local_std(values: np.ndarray, window: int) -> np.ndarray:
    mean = ndi.uniform_filter(values, window)
    return np.sqrt(np.maximum(ndi.uniform_filter(values * values, window) - mean * mean, 0.0))


def _ratio(a: float, b: float, eps: float = 1e-6) -> float:
    """``(a - b) / (a + b)`` for non-negative ``a``, ``b``; 0 when both vanish."""
    return float((a - b) / (a + b + eps))


def _plateau_cue(norm: np.ndarray, std: np.ndarray, flat_eps: float, bins: int, delta: float) -> float:
    """Below-minus-above fraction around the most common level of the flat cells (inverted: positive)."""
    hist, _ = np.histogram(norm, bins=bins, range=(0.0, 1.0), weights=1.0 / (std + flat_eps))
    hist = ndi.gaussian_filter1d(hist.astype(np.float64), 1.0, mode="constant")
    level = (int(np.argmax(hist)) + 0.5) / bins
    above, below = float(np.mean(norm > level + delta)), float(np.mean(norm < level - delta))
    return _ratio(below, above, 1e-9)


def _edge_sides_cue(
    norm: np.ndarray, std: np.ndarray, percentile: float, offset: float, sigma: float
) -> float:
    """Texture of the dark side minus the bright side of the strongest edges (inverted: positive)."""
    smooth = ndi.gaussian_filter(norm, sigma)
    gy, gx = ndi.sobel(smooth, 0), ndi.sobel(smooth, 1)
    magnitude = np.hypot(gx, gy)
    threshold = max(float(np.percentile(magnitude, percentile)), 1e-6)
    rows, cols = np.nonzero(magnitude > threshold)
    if rows.size == 0:
        return 0.0
    weight = magnitude[rows, cols]
    uy, ux = gy[rows, cols] / weight, gx[rows, cols] / weight  # towards the bright side
    bright = ndi.map_coordinates(std, [rows + offset * uy, cols + offset * ux], order=1, mode="nearest")
    dark = ndi.map_coordinates(std, [rows - offset * uy, cols - offset * ux], order=1, mode="nearest")
    return _ratio(float(np.sum(weight * dark)), float(np.sum(weight * bright)), 1e-12)


def _dark_end_cue(norm: np.ndarray, std: np.ndarray, fraction: float) -> float:
    """Texture of the darkest minus the brightest ``fraction`` of the cells (inverted: positive)."""
    low, high = np.percentile(norm, [100.0 * fraction, 100.0 * (1.0 - fraction)])
    return _ratio(float(np.median(std[norm <= low])), float(np.median(std[norm >= high])))


def inversion_evidence(
    values: np.ndarray,
    median_size: int = 3,
    window: int = 5,
    flat_eps: float = 0.01,
    bins: int = 64,
    delta: float = 0.05,
    edge_percentile: float = 90.0,
    edge_offset: float = 5.0,
    edge_sigma: float = 1.5,
    dark_fractions: tuple[float, float] = (0.05, 0.10),
) -> InversionEvidence:
    """How strongly a coarse mammogram grid looks inverted (bright background), from its pixels alone.

    The grid (e.g. :func:`~monai_mammo.transforms.breast_region.breast_grid` ``.values``, longest side
    about 256 cells) is median filtered (``median_size``), rescaled to ``[0, 1]`` between its 0.5th and
    99.5th percentiles, and its local standard deviation over ``window`` x ``window`` cells measures
    texture. The four cues of the module docstring are computed on that and averaged. Defaults were
    chosen on the real images of ``../shared/data`` (see the module docstring for what they give).

    Args:
        values: the ``(h, w)`` grid.
        median_size: median filter size in cells (1 disables it).
        window: the local standard deviation window in cells.
        flat_eps: the plateau cue weighs each cell by ``1 / (std + flat_eps)``.
        bins: histogram bins of the plateau cue.
        delta: the plateau cue counts cells more than ``delta`` above or below the plateau level.
        edge_percentile: the edge cue uses cells whose gradient magnitude exceeds this percentile.
        edge_offset: how far (cells) on each side of an edge the texture is read.
        edge_sigma: Gaussian smoothing (cells) before the gradient.
        dark_fractions: the two fractions of darkest/brightest cells compared by the dark-end cues.

    Returns:
        the :class:`InversionEvidence`.

    Raises:
        ValueError: if ``values`` is not a finite 2D array.
    """
    grid = np.asarray(values, dtype=np.float32)
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"inversion_evidence: expects a non-empty (h, w) grid, got shape {grid.shape}.")
    if not np.isfinite(grid).all():
        raise ValueError("inversion_evidence: the grid holds NaN or infinite values.")
    if median_size > 1:
        grid = ndi.median_filter(grid, size=median_size)
    norm = normalise_grid(grid).astype(np.float64)
    std = _local_std(norm, window)
    cues = {
        "plateau": _plateau_cue(norm, std, flat_eps, bins, delta),
        "edge_sides": _edge_sides_cue(norm, std, edge_percentile, edge_offset, edge_sigma),
        "dark_end": _dark_end_cue(norm, std, dark_fractions[0]),
        "dark_end_wide": _dark_end_cue(norm, std, dark_fractions[1]),
    }
    return InversionEvidence(score=float(np.mean(list(cues.values()))), cues=cues)


def reader_photometric(meta: Mapping[Any, Any]) -> PhotometricInterpretation | None:
    """The photometric interpretation a ``monai_mammo`` reader found in the file and already applied.

    ``MONOCHROME1`` in ``meta["photometric_interpretation"]`` means the reader read it from the file (a DICOM
    tag, a TIFF MinIsWhite tag) and inverted the image; ``MONOCHROME2`` counts only for a DICOM read by
    :class:`~monai_mammo.data.MammoDicomReader` (its metadata has ``SOPClassUID`` / ``TransferSyntaxUID``).
    A PNG or JPEG carries no such information (the image reader writes ``MONOCHROME2`` by default), nor does a
    TIFF tagged MinIsBlack (exporters write it whatever the pixels are), nor the raw tags of other readers.

    Args:
        meta: the image's metadata.

    Returns:
        the interpretation, or ``None`` when the metadata does not settle it.
    """
    photometric = parse_photometric(meta.get(MammoMetaKey.PHOTOMETRIC.value))
    if photometric is PhotometricInterpretation.MONOCHROME1:
        return photometric
    if photometric is PhotometricInterpretation.MONOCHROME2 and any(k in meta for k in _DICOM_READER_KEYS):
        return photometric
    return None
