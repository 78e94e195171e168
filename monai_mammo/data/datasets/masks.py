"""Lesion mask descriptions and their rendering to pixel masks.

An importer describes each image's lesion mask without drawing it (drawing needs the image size, and
is done in parallel by :mod:`monai_mammo.data.datasets.cache`): circles (mini-MIAS), polygons (INbreast
OsiriX ROIs), mask files to merge (CBIS-DDSM ROI masks), weak masks from lesion boxes (the ellipse inscribed
in each box: DDSM boxes, YOLO exports) or an empty mask (a normal image). Every spec is
a small picklable dataclass with ``render(shape)`` returning a ``uint8`` array of 0/1, plus a ``describe()``
used to detect changed inputs when a cache is resumed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monai_mammo.data.datasets.files import read_pixels
from monai_mammo.data.errors import UnsupportedImageError

POINT_RADIUS = 3
"""Radius (pixels) of the disc drawn for a polygon ROI with fewer than three points (a marked point)."""


@dataclass(frozen=True)
class EmptyMask:
    """The mask of an image without lesions (all zeros)."""

    def render(self, shape: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
        """Draw the mask.

        Args:
            shape: (rows, columns) of the image.

        Returns:
            (uint8 mask of zeros, notes).
        """
        return np.zeros(shape, dtype=np.uint8), []

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description (cache invalidation)."""
        return {"kind": "empty"}


@dataclass(frozen=True)
class CircleMask:
    """Filled circles, e.g. the mini-MIAS "circle enclosing the abnormality".

    Attributes:
        circles: ``(x, y, radius)`` in pixels: ``x`` the column, ``y`` the row counted from the top, or from
            the bottom edge when ``y_from_bottom`` (mini-MIAS: row = rows - y).
        y_from_bottom: ``y`` is measured upwards from the bottom edge of the image.
    """

    circles: tuple[tuple[float, float, float], ...]
    y_from_bottom: bool = False

    def render(self, shape: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
        """Draw the circles: the pixels whose centre lies within the radius (at least the centre pixel).

        Args:
            shape: (rows, columns) of the image.

        Returns:
            (uint8 mask of 0/1, notes about circles whose centre lies outside the image).
        """
        mask = np.zeros(shape, dtype=np.uint8)
        rows, cols = np.ogrid[: shape[0], : shape[1]]
        notes = []
        for x, y, radius in self.circles:
            row = shape[0] - y if self.y_from_bottom else y
            if not (0 <= row < shape[0] and 0 <= x < shape[1]):
                notes.append(f"circle centre (row {row}, column {x}) lies outside the {list(shape)} image")
            inside = (rows - row) ** 2 + (cols - x) ** 2 <= max(float(radius), 0.5) ** 2
            mask[inside] = 1
        return mask, notes

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description (cache invalidation)."""
        return {
            "kind": "circles",
            "circles": [list(c) for c in self.circles],
            "y_from_bottom": self.y_from_bottom,
        }


@dataclass(frozen=True)
class PolygonMask:
    """Filled polygons in pixel coordinates, e.g. INbreast ROIs (``Point_px``).

    Attributes:
        polygons: each a sequence of ``(x, y)`` = (column, row) vertices. A polygon with fewer than three
            vertices (a marked point, typical of single calcifications) is drawn as discs of radius
            :data:`POINT_RADIUS` around its vertices.
    """

    polygons: tuple[tuple[tuple[float, float], ...], ...]

    def render(self, shape: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
        """Draw the polygons (interior and outline).

        Args:
            shape: (rows, columns) of the image.

        Returns:
            (uint8 mask of 0/1, notes).
        """
        from skimage.draw import disk, polygon, polygon_perimeter

        mask = np.zeros(shape, dtype=np.uint8)
        for vertices in self.polygons:
            if not vertices:
                continue
            xs = np.array([v[0] for v in vertices], dtype=float)
            ys = np.array([v[1] for v in vertices], dtype=float)
            if len(vertices) < 3:
                for x, y in zip(xs, ys):
                    rr, cc = disk((y, x), POINT_RADIUS, shape=shape)
                    mask[rr, cc] = 1
                continue
            rr, cc = polygon(ys, xs, shape=shape)
            mask[rr, cc] = 1
            rr, cc = polygon_perimeter(np.round(ys), np.round(xs), shape=shape, clip=False)
            mask[rr, cc] = 1
        return mask, []

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description (cache invalidation)."""
        return {"kind": "polygons", "polygons": [[list(v) for v in p] for p in self.polygons]}


@dataclass(frozen=True)
class MaskFiles:
    """The union of binary mask files (e.g. one CBIS-DDSM ROI mask per abnormality).

    A mask whose size differs from the image is resized to it with nearest-neighbour interpolation and
    the resize is reported in the notes (a known CBIS-DDSM quirk); a file that is not a two-valued image
    is refused, as it is probably a cropped image filed as a mask.

    Attributes:
        paths: the mask files (DICOM or any image PIL reads).
    """

    paths: tuple[str, ...]

    def render(self, shape: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
        """Read, binarise (> 0), resize where needed and merge the masks.

        Args:
            shape: (rows, columns) of the image.

        Returns:
            (uint8 mask of 0/1, notes naming resized masks).

        Raises:
            UnsupportedImageError: a mask file with more than two distinct values.
            MammoReadError: an unreadable mask file.
        """
        mask = np.zeros(shape, dtype=np.uint8)
        notes = []
        for path in self.paths:
            pixels = read_pixels(path)
            values = np.unique(pixels)
            if values.size > 2:
                raise UnsupportedImageError(
                    path,
                    f"is filed as a lesion mask but has {values.size} distinct values (a mask has "
                    "two); it is "
                    "probably a cropped image.",
                    "check the data set's CSV (mask and crop paths swapped?).",
                )
            binary = (pixels > values.min()) if values.size == 2 else np.zeros(pixels.shape, dtype=bool)
            if values.size == 1 and values[0] > 0:
                binary = np.ones(pixels.shape, dtype=bool)
            if binary.shape != tuple(shape):
                notes.append(
                    f"mask {path} of size {list(binary.shape)} resized to the image size {list(shape)}"
                )
                binary = resize_nearest(binary.astype(np.uint8), shape).astype(bool)
            mask[binary] = 1
        return mask, notes

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description (cache invalidation)."""
        return {"kind": "files", "paths": list(self.paths)}


@dataclass(frozen=True)
class BoxMask:
    """Weak lesion masks from boxes: the filled ellipse inscribed in each box.

    A box says where a lesion is, not its outline; the inscribed ellipse is the usual weak mask (it keeps the
    box corners, which are rarely lesion, out of the foreground). Coordinates are **pixel corners**: pixel
    ``(row r, column c)`` covers ``[c, c + 1) x [r, r + 1)``, so the box ``(0, 0, columns, rows)`` is the
    whole image, and a pixel is inside when its centre ``(c + 0.5, r + 0.5)`` lies in the ellipse (at least
    the pixel holding the box centre, for boxes thinner than a pixel).

    Attributes:
        boxes: ``(x0, y0, x1, y1)`` per box: ``x`` the column, ``y`` the row counted from the top.
        image_size: ``(rows, columns)`` of the image the boxes were drawn on. When ``render`` is asked for
            another shape (a mask drawn directly at a training size), the boxes are scaled to it. ``None``:
            the boxes are in pixels of whatever shape is rendered, the case of
            :mod:`~monai_mammo.data.datasets.cache`, which draws at the source size and resizes the mask
            itself.
    """

    boxes: tuple[tuple[float, float, float, float], ...]
    image_size: tuple[int, int] | None = None

    def render(self, shape: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
        """Draw the ellipses.

        Args:
            shape: (rows, columns) of the mask.

        Returns:
            (uint8 mask of 0/1, notes about empty or inverted boxes and boxes outside the image).
        """
        mask = np.zeros(shape, dtype=np.uint8)
        sy = sx = 1.0
        if self.image_size is not None:
            sy, sx = shape[0] / float(self.image_size[0]), shape[1] / float(self.image_size[1])
        rows = np.arange(shape[0], dtype=float)[:, None] + 0.5
        cols = np.arange(shape[1], dtype=float)[None, :] + 0.5
        notes = []
        for box in self.boxes:
            x0, y0, x1, y1 = (float(v) for v in box)
            if x1 < x0 or y1 < y0:
                notes.append(f"box {list(box)} has x1 < x0 or y1 < y0 (not x0 y0 x1 y1?); corners swapped")
                x0, x1, y0, y1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
            x0, x1, y0, y1 = x0 * sx, x1 * sx, y0 * sy, y1 * sy
            if x1 <= 0 or y1 <= 0 or x0 >= shape[1] or y0 >= shape[0]:
                notes.append(f"box {list(box)} lies outside the {list(shape)} image")
                continue
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            ax, ay = max((x1 - x0) / 2, 0.5), max((y1 - y0) / 2, 0.5)
            mask[((cols - cx) / ax) ** 2 + ((rows - cy) / ay) ** 2 <= 1.0] = 1
        return mask, notes

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description (cache invalidation)."""
        return {
            "kind": "box_ellipses",
            "boxes": [list(b) for b in self.boxes],
            "image_size": list(self.image_size) if self.image_size is not None else None,
        }


MaskSpec = EmptyMask | CircleMask | PolygonMask | MaskFiles | BoxMask
"""Any lesion mask description."""


def resize_nearest(mask: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Resize a 2D label array with nearest-neighbour interpolation (pixel centres aligned).

    Args:
        mask: 2D array.
        shape: (rows, columns) wanted.

    Returns:
        The resized array, same dtype.
    """
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * mask.shape[0] / shape[0]).astype(int), mask.shape[0] - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * mask.shape[1] / shape[1]).astype(int), mask.shape[1] - 1)
    return mask[rows[:, None], cols[None, :]]


def colour_lesion_masks(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """The malignant (red) and benign (green) pixels of a colour-coded lesion mask file, as CDD-CESM ships.

    A pixel is red when its red channel is above 127 and exceeds both other channels by more than 64; green
    alike. Grey (the image showing through), white, black and yellow pixels are neither. Both bundles build
    their CDD-CESM training data with this rule (the class of an image, its 0/1 lesion mask).

    Args:
        path: the mask image (any file Pillow reads; converted to RGB).

    Returns:
        ``(malignant, benign)``: two boolean ``(H, W)`` arrays.
    """
    from PIL import Image

    colour = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    red, green, blue = colour[..., 0], colour[..., 1], colour[..., 2]
    malignant = (red > 127) & (red - np.maximum(green, blue) > 64)
    benign = (green > 127) & (green - np.maximum(red, blue) > 64)
    return malignant, benign


__all__ = [
    "POINT_RADIUS",
    "BoxMask",
    "CircleMask",
    "EmptyMask",
    "MaskFiles",
    "MaskSpec",
    "PolygonMask",
    "colour_lesion_masks",
    "resize_nearest",
]
