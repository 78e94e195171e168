"""Lesions of the phantom: masses (circumscribed or spiculated) and calcification clusters.

A lesion is described once per breast by a :class:`LesionSpec` (kind, pathology, physical size, position
in breast coordinates, shape seed) so that the same lesion appears in the CC and the MLO view of that
breast; :func:`render_mass` and :func:`render_calcifications` draw it into one view, and the generator
records what was drawn as a :class:`LesionRecord` (pixel centre, radius, bounding box).

Ground truth (the lesion mask):

- a mass: its core, where the mass profile reaches half its height (spicules are not in the mask, as in
  the CBIS-DDSM regions of interest, which outline the central mass);
- a calcification cluster: the convex hull of its calcifications (each drawn as a disc at least one pixel
  wide), as radiologists outline a cluster.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from monai_mammo.utils.enums import Pathology, StrEnum

from .texture import power_law_field


class LesionKind(StrEnum):
    """What a phantom lesion is."""

    MASS = "mass"
    CALCIFICATION = "calcification"  # a cluster of calcifications


class MassMargin(StrEnum):
    """Margin of a mass (BI-RADS descriptors the phantom draws)."""

    CIRCUMSCRIBED = "circumscribed"
    SPICULATED = "spiculated"


@dataclass(frozen=True)
class LesionSpec:
    """One lesion of a breast, independent of view and image size.

    Attributes:
        kind: mass or calcification cluster.
        pathology: benign or malignant.
        radius_mm: mass core radius, or calcification cluster radius, in millimetres.
        margin: mass margin (``None`` for calcifications).
        depth: normalised distance from the chest wall along the ray (0 chest wall, 1 skin), or ``None``
            for a random place.
        angle: ray direction in ``[-1, 1]`` (fraction of a right angle; 0 points at the nipple, negative
            upwards), or ``None`` for a random place.
        n_calcifications: number of calcifications of a cluster (0 for masses; 0 for a cluster means 7
            benign or 14 malignant calcifications).
        shape_seed: seed of the lesion's own shape details (lobulation, spicules, calcification layout).
    """

    kind: LesionKind
    pathology: Pathology
    radius_mm: float
    margin: MassMargin | None = None
    depth: float | None = None
    angle: float | None = None
    n_calcifications: int = 0
    shape_seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LesionKind(self.kind))
        object.__setattr__(self, "pathology", Pathology(self.pathology))
        if self.pathology == Pathology.NORMAL:
            raise ValueError("a lesion's pathology must be benign or malignant, got 'normal'.")
        if self.kind == LesionKind.MASS:
            object.__setattr__(self, "margin", MassMargin(self.margin or MassMargin.CIRCUMSCRIBED))
        else:
            if self.margin is not None:
                raise ValueError(f"calcification clusters have no margin, got margin={self.margin!r}.")
            if self.n_calcifications == 0:
                default = 14 if self.pathology == Pathology.MALIGNANT else 7
                object.__setattr__(self, "n_calcifications", default)
            if self.n_calcifications < 3:
                raise ValueError(
                    f"a calcification cluster has at least 3 calcifications, got {self.n_calcifications}."
                )
        if not (0.5 <= float(self.radius_mm) <= 60.0):
            raise ValueError(f"radius_mm must be within [0.5, 60] mm, got {self.radius_mm!r}.")
        if self.depth is not None and not (0.0 < self.depth < 1.0):
            raise ValueError(f"depth must be within (0, 1), got {self.depth!r}.")
        if self.angle is not None and not (-1.0 <= self.angle <= 1.0):
            raise ValueError(f"angle must be within [-1, 1], got {self.angle!r}.")


@dataclass(frozen=True)
class LesionRecord:
    """A lesion as drawn in one image (pixel units, in the image's stored orientation).

    Attributes:
        kind: ``"mass"`` or ``"calcification"``.
        margin: ``"circumscribed"``/``"spiculated"`` for masses, ``None`` for calcification clusters.
        pathology: ``"benign"`` or ``"malignant"``.
        centre: ``(row, col)`` of the lesion centre (mass centre, or centroid of the calcifications).
        radius_px: mean core radius of a mass, or radius of the circle around the calcifications.
        radius_mm: the same in millimetres.
        bbox: ``(row_min, col_min, row_max, col_max)`` of the lesion's mask, maxima exclusive
            (``mask[r0:r1, c0:c1]``; MONAI's ``StandardMode``/xyxy on an ``(H, W)`` array).
        n_calcifications: number of calcifications (0 for a mass).
    """

    kind: str
    margin: str | None
    pathology: str
    centre: tuple[float, float]
    radius_px: float
    radius_mm: float
    bbox: tuple[int, int, int, int]
    n_calcifications: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (tuples become lists)."""
        out = asdict(self)
        out["centre"] = [round(float(v), 2) for v in self.centre]
        out["bbox"] = [int(v) for v in self.bbox]
        out["radius_px"] = round(float(self.radius_px), 2)
        out["radius_mm"] = round(float(self.radius_mm), 2)
        return out

    def flipped(self, cols: int) -> LesionRecord:
        """The record of the horizontally flipped image (``cols`` columns)."""
        r0, c0, r1, c1 = self.bbox
        return LesionRecord(
            kind=self.kind,
            margin=self.margin,
            pathology=self.pathology,
            centre=(self.centre[0], cols - 1 - self.centre[1]),
            radius_px=self.radius_px,
            radius_mm=self.radius_mm,
            bbox=(r0, cols - c1, r1, cols - c0),
            n_calcifications=self.n_calcifications,
        )


def draw_lesion_specs(rng: np.random.Generator, n_lesions: int | None = None) -> list[LesionSpec]:
    """Draw the lesions of one breast.

    Without ``n_lesions``: 50 % of breasts are normal, 35 % have one lesion, 15 % two. Masses are 60 % of
    lesions; spiculated masses are mostly malignant, circumscribed masses mostly benign; calcification
    clusters are malignant in 40 % of cases (pleomorphic, more and finer calcifications).

    Args:
        rng: the random generator.
        n_lesions: number of lesions, or ``None`` to draw it.

    Returns:
        The lesion specifications (positions left random).
    """
    u = rng.random(1)[0]
    count = (0 if u < 0.5 else 1 if u < 0.85 else 2) if n_lesions is None else int(n_lesions)
    specs: list[LesionSpec] = []
    for _ in range(count):
        v = rng.random(5)
        seed = int(rng.integers(0, 2**31 - 1))
        if v[0] < 0.6:
            spiculated = v[1] < 0.45
            malignant = v[2] < (0.85 if spiculated else 0.15)
            specs.append(
                LesionSpec(
                    kind=LesionKind.MASS,
                    pathology=Pathology.MALIGNANT if malignant else Pathology.BENIGN,
                    margin=MassMargin.SPICULATED if spiculated else MassMargin.CIRCUMSCRIBED,
                    radius_mm=float(4.0 + 8.0 * v[3]),
                    shape_seed=seed,
                )
            )
        else:
            malignant = v[2] < 0.4
            n = int(8 + 18 * v[4]) if malignant else int(4 + 7 * v[4])
            specs.append(
                LesionSpec(
                    kind=LesionKind.CALCIFICATION,
                    pathology=Pathology.MALIGNANT if malignant else Pathology.BENIGN,
                    radius_mm=float(3.0 + 4.0 * v[3]),
                    n_calcifications=n,
                    shape_seed=seed,
                )
            )
    return specs


@dataclass
class RenderedLesion:
    """One lesion drawn in a patch of the image.

    Attributes:
        box: ``(row slice, col slice)`` of the patch in the image.
        density: added density (relative units, before thickness scaling for masses).
        mask: ground-truth mask of the lesion in the patch.
        footprint: pixels the lesion touches (mask plus spicules/halo), to keep lesions apart.
        centre: ``(row, col)`` pixel-index coordinates of the centre in the image.
        radius_px: mean radius (core of a mass; circle around a cluster).
        scale_by_thickness: masses get thinner with the breast at the periphery; calcifications do not.
    """

    box: tuple[slice, slice]
    density: np.ndarray
    mask: np.ndarray
    footprint: np.ndarray
    centre: tuple[float, float]
    radius_px: float
    scale_by_thickness: bool = True


def _patch(
    centre: tuple[float, float], half: float, shape: tuple[int, int]
) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """Slices of a square patch around ``centre`` clipped to the image, and pixel offsets from the centre."""
    cy, cx = centre
    r0 = max(int(np.floor(cy - half)), 0)
    r1 = min(int(np.ceil(cy + half)) + 1, shape[0])
    c0 = max(int(np.floor(cx - half)), 0)
    c1 = min(int(np.ceil(cx + half)) + 1, shape[1])
    dy = np.arange(r0, r1, dtype=np.float32) + np.float32(0.5 - cy)
    dx = np.arange(c0, c1, dtype=np.float32) + np.float32(0.5 - cx)
    return slice(r0, r1), slice(c0, c1), dy, dx


def _radial_table(rng: np.random.Generator, irregular: bool) -> np.ndarray:
    """Relative boundary radius over 1024 angles: an oval with lobulation (more for irregular cores)."""
    phi = np.linspace(-np.pi, np.pi, 1025)
    elongation = 0.1 + 0.25 * rng.random()
    table = 1.0 + elongation * np.cos(2.0 * (phi - rng.uniform(-np.pi, np.pi)))
    harmonics = range(3, 13) if irregular else range(3, 7)
    scale = 0.09 if irregular else 0.035
    for k in harmonics:
        table += scale * rng.standard_normal() / np.sqrt(k - 2) * np.cos(k * phi + rng.uniform(-np.pi, np.pi))
    table /= np.sqrt(np.mean(table**2))
    return table.astype(np.float32)


def render_mass(
    spec: LesionSpec, centre: tuple[float, float], spacing_mm: float, shape: tuple[int, int], contrast: float
) -> RenderedLesion:
    """Draw a mass: a lobulated oval core with a sharp (circumscribed) or blurred edge plus spicules.

    Args:
        spec: the lesion (kind mass).
        centre: ``(row, col)`` of the centre, continuous coordinates (pixel ``(i, j)`` spans
            ``[i, i + 1) x [j, j + 1)``).
        spacing_mm: pixel spacing.
        shape: image shape.
        contrast: density added at the core (relative units).

    Returns:
        The :class:`RenderedLesion`.
    """
    rng = np.random.default_rng(spec.shape_seed)
    radius = max(spec.radius_mm / spacing_mm, 2.0)
    spiculated = spec.margin == MassMargin.SPICULATED
    table = _radial_table(rng, irregular=spiculated)
    n_spicules = int(rng.integers(10, 25)) if spiculated else 0
    spicule_angles = np.sort(rng.uniform(-np.pi, np.pi, n_spicules)).astype(np.float32)
    spicule_lengths = (radius * rng.uniform(1.6, 3.2, n_spicules)).astype(np.float32)
    spicule_width = max(rng.uniform(0.3, 0.6) / spacing_mm, 1.0)
    extent = radius * float(table.max()) * 1.3 + 2.0
    if spiculated:
        extent = max(extent, float(spicule_lengths.max()) + 2.0)
    rows, cols, dy, dx = _patch(centre, extent, shape)
    r = np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2)
    phi = np.arctan2(dy[:, None], dx[None, :])
    boundary = np.interp(phi, np.linspace(-np.pi, np.pi, table.size), table).astype(np.float32)
    boundary *= np.float32(radius)
    edge_width = np.float32(max(radius * (0.35 if spiculated else 0.06), 1.0))
    core = np.clip((boundary - r) / edge_width + np.float32(0.5), 0.0, 1.0)
    core = core * core * (np.float32(3.0) - np.float32(2.0) * core)
    mask = core >= 0.5
    dome = np.sqrt(np.clip(np.float32(1.0) - (r / np.maximum(boundary, np.float32(1e-3))) ** 2, 0.0, 1.0))
    density = core * (np.float32(0.45) + np.float32(0.55) * dome)
    # Internal texture, so that the mass is not flat.
    texture = power_law_field((dy.size, dx.size), rng, beta=2.5, max_cycles=16, min_cycles=2.0)
    np.clip(texture, -2.0, 2.0, out=texture)
    density *= np.float32(0.85) + np.float32(0.12) * texture
    footprint = core > 0.02
    if spiculated:
        # Nearest spicule (by angle) of every pixel: distance across and along it.
        index = np.searchsorted(spicule_angles, phi)
        best = np.zeros_like(r)
        for offset in (0, 1):
            k = (index - offset) % n_spicules
            delta = phi - spicule_angles[k]
            along = r * np.cos(delta)
            across = np.abs(r * np.sin(delta))
            length = spicule_lengths[k]
            taper = np.clip(np.float32(1.0) - along / length, 0.0, 1.0)
            width = np.float32(spicule_width) * (np.float32(0.6) + np.float32(1.4) * taper)
            line = np.float32(1.0) / (np.float32(1.0) + (across / width) ** 2)
            line *= taper * (along > 0)
            np.maximum(best, line, out=best)
        spicules = np.float32(1.0) * best * (np.float32(1.0) - core)
        density = density + spicules
        footprint |= spicules > 0.1
    return RenderedLesion(
        box=(rows, cols),
        density=(density * np.float32(contrast)).astype(np.float32),
        mask=mask,
        footprint=footprint,
        centre=(centre[0] - 0.5, centre[1] - 0.5),
        radius_px=float(radius),
        scale_by_thickness=True,
    )


def render_calcifications(
    spec: LesionSpec, centre: tuple[float, float], spacing_mm: float, shape: tuple[int, int], contrast: float
) -> RenderedLesion:
    """Draw a calcification cluster: small bright specks, round and alike (benign) or fine, elongated and
    varied along branching lines (malignant, pleomorphic).

    Calcifications smaller than a pixel are drawn one pixel wide with full contrast (they stay visible at
    small image sizes).

    Args:
        spec: the lesion (kind calcification).
        centre: ``(row, col)`` of the cluster centre, continuous coordinates.
        spacing_mm: pixel spacing.
        shape: image shape.
        contrast: brightness added by a calcification (relative units).

    Returns:
        The :class:`RenderedLesion`.
    """
    from skimage.morphology import convex_hull_image

    rng = np.random.default_rng(spec.shape_seed)
    cluster = max(spec.radius_mm / spacing_mm, 3.0)
    n = int(spec.n_calcifications)
    malignant = spec.pathology == Pathology.MALIGNANT
    if malignant:
        # Points along 1-3 branching segments through the cluster, with jitter.
        n_branches = int(rng.integers(1, 4))
        branch = rng.integers(0, n_branches, n)
        angles = rng.uniform(0, np.pi, n_branches)[branch]
        t = rng.uniform(-1.0, 1.0, n)
        offsets = np.stack([np.sin(angles) * t, np.cos(angles) * t], axis=1) * cluster
        offsets += rng.normal(0.0, 0.15 * cluster, (n, 2))
        sizes_mm = rng.uniform(0.15, 0.5, n)
        aspect = rng.uniform(1.0, 2.5, n)
        amplitude = contrast * rng.uniform(0.6, 1.0, n)
    else:
        radius = cluster * np.sqrt(rng.random(n))
        theta = rng.uniform(-np.pi, np.pi, n)
        offsets = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1)
        sizes_mm = rng.uniform(0.5, 1.1, n) * rng.uniform(0.9, 1.1)
        aspect = rng.uniform(1.0, 1.2, n)
        amplitude = contrast * rng.uniform(0.85, 1.0, n)
    orientation = rng.uniform(0, np.pi, n)
    # Keep the cluster inside its circle.
    norm = np.linalg.norm(offsets, axis=1)
    too_far = norm > cluster
    offsets[too_far] *= (cluster / norm[too_far])[:, None]
    radii = np.maximum(sizes_mm / 2.0 / spacing_mm, 0.5)
    extent = cluster + float(radii.max() * aspect.max()) + 3.0
    rows, cols, dy, dx = _patch(centre, extent, shape)
    density = np.zeros((dy.size, dx.size), dtype=np.float32)
    specks = np.zeros_like(density, dtype=bool)
    for k in range(n):
        ry, rx = offsets[k]
        a = radii[k] * np.sqrt(aspect[k])
        b = radii[k] / np.sqrt(aspect[k])
        half = int(np.ceil(max(a, b) + 2))
        iy = int(np.searchsorted(dy, ry))
        ix = int(np.searchsorted(dx, rx))
        y0, y1 = max(iy - half, 0), min(iy + half + 1, dy.size)
        x0, x1 = max(ix - half, 0), min(ix + half + 1, dx.size)
        if y0 >= y1 or x0 >= x1:
            continue
        py = dy[y0:y1, None] - np.float32(ry)
        px = dx[None, x0:x1] - np.float32(rx)
        c, s = np.float32(np.cos(orientation[k])), np.float32(np.sin(orientation[k]))
        u = (px * c + py * s) / np.float32(a)
        v = (-px * s + py * c) / np.float32(b)
        q = np.sqrt(u * u + v * v)
        # Disc with a one-pixel anti-aliased edge (in units of the small axis).
        speck = np.clip((np.float32(1.0) - q) * np.float32(max(b, 0.5)) + np.float32(0.5), 0.0, 1.0)
        np.maximum(density[y0:y1, x0:x1], speck * np.float32(amplitude[k]), out=density[y0:y1, x0:x1])
        specks[y0:y1, x0:x1] |= speck >= 0.5
        if not specks[y0:y1, x0:x1].any():  # sub-pixel speck: mark its pixel
            cy_, cx_ = min(max(iy, y0), y1 - 1), min(max(ix, x0), x1 - 1)
            specks[cy_, cx_] = True
            density[cy_, cx_] = max(density[cy_, cx_], np.float32(amplitude[k]))
    mask = convex_hull_image(specks) if specks.any() else specks
    ys, xs = np.nonzero(specks)
    if ys.size:
        centroid = (float(ys.mean()) + rows.start, float(xs.mean()) + cols.start)
    else:
        centroid = (centre[0] - 0.5, centre[1] - 0.5)
    spread = (
        float(np.sqrt(((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2).max())) + 1.0 if ys.size else cluster
    )
    return RenderedLesion(
        box=(rows, cols),
        density=density,
        mask=mask,
        footprint=mask | (density > 0),
        centre=centroid,
        radius_px=spread,
        scale_by_thickness=False,
    )
