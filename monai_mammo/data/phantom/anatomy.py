"""Breast outline, pectoral muscle and fibroglandular tissue of a phantom mammogram.

Everything here works in the project's canonical orientation: chest wall on the LEFT image edge, nipple
pointing right (a LEFT breast as stored by CBIS-DDSM). :mod:`.generator` flips the result horizontally
for a RIGHT breast.

Geometry. The skin outline is a curve ``col = x_b(row)`` (a superellipse for CC; for MLO an oblique upper
edge running off the top of the image, the point of greatest depth, and the inframammary fold). It is
turned into a polar table ``R(theta)`` around a centre on the chest wall, from which every pixel gets a
normalised radius ``rho = r / R(theta)`` (``rho <= 1`` inside the breast) and its distance to the skin,
``(R - r) / sqrt(1 + (R'/R)**2)`` (exact to first order), without a distance transform.

Tissue. Intensities are in relative units (0 .. 1 of the 12-bit range) and add up as in a log-processed
("for presentation") image: background, plus compressed thickness times a fat-to-gland mixture, plus the
skin line and the pectoral muscle. The glandular fraction is a thresholded ``1/f**3`` field under a smooth
envelope (subcutaneous and retromammary fat stay fat), with Cooper's ligaments and fibrous strands from
the zero-crossings of a second field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monai_mammo.utils.enums import StrEnum, ViewPosition

from .texture import power_law_field, ridge_lines

_N_THETA = 4096


class BreastDensity(StrEnum):
    """BI-RADS breast composition categories (5th edition letters)."""

    A = "A"  # almost entirely fatty
    B = "B"  # scattered areas of fibroglandular density
    C = "C"  # heterogeneously dense
    D = "D"  # extremely dense

    @classmethod
    def parse(cls, value: object) -> BreastDensity:
        """Map ``"A"``..``"D"``, ``1``..``4`` or a name (``fatty``, ``scattered``, ``heterogeneous``,
        ``dense``) to a member.

        Raises:
            ValueError: any other value.
        """
        if isinstance(value, cls):
            return value
        text = str(value).strip().upper()
        names = {
            "1": cls.A,
            "FATTY": cls.A,
            "2": cls.B,
            "SCATTERED": cls.B,
            "3": cls.C,
            "HETEROGENEOUS": cls.C,
            "HETEROGENEOUSLY DENSE": cls.C,
            "4": cls.D,
            "DENSE": cls.D,
            "EXTREMELY DENSE": cls.D,
        }
        if text in cls.__members__:
            return cls[text]
        if text in names:
            return names[text]
        raise ValueError(
            f"density must be one of A, B, C, D (or fatty, scattered, heterogeneous, dense), got {value!r}."
        )

    @property
    def dense_fraction_range(self) -> tuple[float, float]:
        """Range of the fibroglandular area fraction drawn for this category."""
        return {"A": (0.06, 0.18), "B": (0.2, 0.36), "C": (0.4, 0.56), "D": (0.6, 0.75)}[self.value]


@dataclass(frozen=True)
class BreastShape:
    """Shape parameters of one breast (shared by its CC and MLO views), in relative units.

    Attributes:
        area_fraction: target fraction of the image covered by the breast (before the outline wobble).
        cc_centre: CC: row of the nipple axis, as a fraction of the image height.
        cc_half_height: CC: half the breast's extent along the chest wall, fraction of the height.
        cc_exponent: CC: superellipse exponent (2 = ellipse; larger is boxier).
        mlo_top: MLO: column where the skin crosses the top edge, as a fraction of the greatest depth.
        mlo_apex: MLO: row of greatest depth, fraction of the height.
        mlo_fold: MLO: row of the inframammary fold on the chest wall, fraction of the height (> 1: the
            fold is below the image).
        mlo_upper_exponent: MLO: curvature of the upper skin line (1 = straight).
        mlo_exponent: MLO: superellipse exponent of the lower curve.
        pectoral_top: MLO: pectoral muscle width along the top edge, fraction of ``mlo_top``'s column.
        pectoral_side: MLO: pectoral height along the chest wall, fraction of the height.
        pectoral_exponent: MLO: ``> 1`` bulges the muscle edge towards the nipple, ``< 1`` hollows it.
        wobble: four (amplitude, phase) pairs of a low-order modulation of the skin line.
        nipple: (row offset as a fraction of the height, height as a fraction of the depth) of the nipple.
        fat_rim_mm: thickness of the subcutaneous fat layer.
        edge_mm: width of the peripheral zone where the compressed thickness falls off.
    """

    area_fraction: float
    cc_centre: float
    cc_half_height: float
    cc_exponent: float
    mlo_top: float
    mlo_apex: float
    mlo_fold: float
    mlo_upper_exponent: float
    mlo_exponent: float
    pectoral_top: float
    pectoral_side: float
    pectoral_exponent: float
    wobble: tuple[tuple[float, float], ...]
    nipple: tuple[float, float]
    fat_rim_mm: float
    edge_mm: float


def draw_breast_shape(rng: np.random.Generator) -> BreastShape:
    """Draw the shape of one breast (always the same number of draws from ``rng``).

    Args:
        rng: the random generator.

    Returns:
        A :class:`BreastShape`.
    """
    u = rng.random(20)
    half_height = 0.36 + 0.09 * u[2]
    centre = 0.5 + (u[1] - 0.5) * 2.0 * min(0.04, 0.48 - half_height)
    return BreastShape(
        area_fraction=0.42 + 0.11 * u[0],
        cc_centre=float(centre),
        cc_half_height=float(half_height),
        cc_exponent=1.9 + 0.6 * u[3],
        mlo_top=0.3 + 0.25 * u[4],
        mlo_apex=0.52 + 0.13 * u[5],
        mlo_fold=0.86 + 0.14 * u[6],
        mlo_upper_exponent=1.4 + 1.0 * u[7],
        mlo_exponent=1.9 + 0.6 * u[8],
        pectoral_top=0.7 + 0.25 * u[9],
        pectoral_side=0.36 + 0.2 * u[10],
        pectoral_exponent=0.95 + 0.45 * u[11],
        wobble=tuple((0.02 * (u[12 + k] - 0.5) / (k + 1) ** 0.5, 2 * np.pi * u[16 + k]) for k in range(4)),
        nipple=(float((u[13] - 0.5) * 0.04), 0.008 + 0.01 * u[14]),
        fat_rim_mm=3.0 + 6.0 * u[15],
        edge_mm=12.0 + 12.0 * u[19],
    )


@dataclass
class BreastGeometry:
    """The skin outline of one view, as a polar table around a centre on the chest wall (column 0).

    Attributes:
        rows: image rows.
        cols: image columns.
        centre_row: row of the polar centre (on the chest wall, ``x = 0``), in pixels.
        theta: uniform grid of angles in ``[-pi/2, pi/2]`` (0 points at the nipple, negative upwards).
        radius: skin radius ``R(theta)`` in pixels.
        normal_scale: ``1 / sqrt(1 + (R'/R)**2)``, turns a radial depth into a distance to the skin.
        curve_rows: rows (pixels) of the sampled skin curve.
        curve_cols: columns (pixels) of the sampled skin curve.
    """

    rows: int
    cols: int
    centre_row: float
    theta: np.ndarray
    radius: np.ndarray
    normal_scale: np.ndarray
    curve_rows: np.ndarray
    curve_cols: np.ndarray

    def radius_at(self, theta: np.ndarray | float) -> np.ndarray:
        """``R(theta)`` in pixels (linear interpolation in the table)."""
        return np.interp(theta, self.theta, self.radius)

    def point(self, depth: float, angle: float) -> tuple[float, float]:
        """Pixel ``(row, col)`` at normalised radius ``depth`` along the ray at ``angle`` (radians)."""
        r = depth * float(self.radius_at(angle))
        return self.centre_row + r * np.sin(angle), r * np.cos(angle)

    def polar(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-pixel normalised radius, distance to the skin and radius to the chest-wall centre.

        Pixel ``(i, j)`` has its centre at ``(i + 0.5, j + 0.5)``; the chest wall is the line ``x = 0``.

        Returns:
            ``(rho, edge_px, r_px)``, ``float32`` arrays of the image shape: ``rho <= 1`` inside the breast;
            ``edge_px`` is the signed distance to the skin in pixels (positive inside); ``r_px`` the
            distance to the polar centre.
        """
        y = np.arange(self.rows, dtype=np.float32) + np.float32(0.5 - self.centre_row)
        x = np.arange(self.cols, dtype=np.float32) + np.float32(0.5)
        theta = np.arctan2(y[:, None], x[None, :])
        r = np.sqrt(y[:, None] ** 2 + x[None, :] ** 2)
        radius = np.interp(theta, self.theta, self.radius).astype(np.float32)
        scale = np.interp(theta, self.theta, self.normal_scale).astype(np.float32)
        rho = r / radius
        edge = radius
        edge -= r
        edge *= scale
        return rho, edge, r


def _cc_curve(shape: BreastShape, rows: int) -> tuple[np.ndarray, np.ndarray, float]:
    """CC skin curve (rows in pixels, columns in units of the depth) and the polar centre row."""
    centre = shape.cc_centre * rows
    half = shape.cc_half_height * rows
    phi = np.linspace(-np.pi / 2, np.pi / 2, 2049)
    y = centre + half * np.sin(phi)
    s = np.abs(np.sin(phi))
    x = np.clip(1.0 - s**shape.cc_exponent, 0.0, 1.0) ** (1.0 / shape.cc_exponent)
    return y, x, centre


def _mlo_curve(shape: BreastShape, rows: int) -> tuple[np.ndarray, np.ndarray, float]:
    """MLO skin curve (rows in pixels, columns in units of the depth) and the polar centre row."""
    apex = shape.mlo_apex * rows
    fold = max(shape.mlo_fold * rows, apex + 0.2 * rows)
    top = shape.mlo_top
    above = np.linspace(-3.0 * rows, 0.0, 301)[:-1]
    upper = np.linspace(0.0, apex, 1025)[:-1]
    lower_u = np.sin(np.linspace(0.0, np.pi / 2, 1025))
    lower = apex + (fold - apex) * lower_u
    x_above = np.full_like(above, top)
    x_upper = top + (1.0 - top) * (1.0 - (1.0 - upper / apex) ** shape.mlo_upper_exponent)
    x_lower = np.clip(1.0 - lower_u**shape.mlo_exponent, 0.0, 1.0) ** (1.0 / shape.mlo_exponent)
    y = np.concatenate([above, upper, lower])
    x = np.concatenate([x_above, x_upper, x_lower])
    return y, x, apex - 0.06 * rows


def breast_geometry(shape: BreastShape, view: ViewPosition, rows: int, cols: int) -> BreastGeometry:
    """The skin outline of one view of a breast, scaled so the breast covers ``shape.area_fraction``.

    Args:
        shape: the breast's shape parameters.
        view: ``ViewPosition.CC`` or ``ViewPosition.MLO`` (other views are drawn as CC).
        rows: image rows.
        cols: image columns.

    Returns:
        The :class:`BreastGeometry`.
    """
    if view == ViewPosition.MLO:
        y, x, centre = _mlo_curve(shape, rows)
    else:
        y, x, centre = _cc_curve(shape, rows)
    # Low-order wobble and the nipple bump, as relative changes of the depth.
    y_lo, y_hi = max(float(y.min()), 0.0), float(y.max())
    t = (y - y_lo) / max(y_hi - y_lo, 1.0)
    wobble = np.ones_like(x)
    for k, (amp, phase) in enumerate(shape.wobble):
        wobble += amp * np.sin(np.pi * (k + 1) * t + phase)
    x = x * wobble
    nipple_row = y[np.argmax(x)] + shape.nipple[0] * rows
    x = x + shape.nipple[1] / (1.0 + ((y - nipple_row) / (0.012 * rows)) ** 2) ** 2
    # Scale the depth so that the area inside the image matches the target fraction.
    image_rows = np.arange(rows) + 0.5
    order = np.argsort(y, kind="stable")
    unit = np.interp(image_rows, y[order], x[order], left=0.0, right=0.0)
    depth = shape.area_fraction * rows / max(float(unit.sum()), 1e-6)
    depth = min(depth, 0.93 / max(float(x.max()), 1e-6))
    x_px = x * depth * cols
    # Polar table around the centre on the chest wall.
    theta = np.arctan2(y - centre, np.maximum(x_px, 0.0))
    radius = np.hypot(y - centre, np.maximum(x_px, 0.0))
    theta = np.maximum.accumulate(theta)
    keep = np.concatenate([[True], np.diff(theta) > 1e-9])
    grid = np.linspace(-np.pi / 2, np.pi / 2, _N_THETA)
    radius_grid = np.interp(grid, theta[keep], radius[keep])
    slope = np.gradient(radius_grid, grid)
    normal_scale = 1.0 / np.sqrt(1.0 + (slope / np.maximum(radius_grid, 1e-6)) ** 2)
    return BreastGeometry(
        rows=rows,
        cols=cols,
        centre_row=float(centre),
        theta=grid,
        radius=radius_grid,
        normal_scale=normal_scale,
        curve_rows=y,
        curve_cols=x_px,
    )


@dataclass(frozen=True)
class TissueParameters:
    """Intensity levels of one breast (relative units of the 12-bit range).

    Attributes:
        background: mean background level.
        fat: fat at full compressed thickness.
        gland: fibroglandular tissue at full thickness.
        min_thickness: relative thickness left at the skin (peripheral fall-off floor).
        skin: extra brightness of the skin line.
        skin_mm: skin line thickness.
        strands: brightness of Cooper's ligaments and fibrous strands in fat, as a glandular fraction.
        strand_mm: typical strand half-width in millimetres.
        pectoral: pectoral muscle brightness above fat.
        noise: standard deviation of the quantum noise.
        dense_fraction: fraction of the breast area that is fibroglandular.
        texture_angle: direction of the tissue's stretch (radians from the column axis).
    """

    background: float
    fat: float
    gland: float
    min_thickness: float
    skin: float
    skin_mm: float
    strands: float
    strand_mm: float
    pectoral: float
    noise: float
    dense_fraction: float
    texture_angle: float


def draw_tissue_parameters(rng: np.random.Generator, density: BreastDensity) -> TissueParameters:
    """Draw intensity levels for a breast of the given density (fixed number of draws from ``rng``).

    Args:
        rng: the random generator.
        density: the BI-RADS category.

    Returns:
        The :class:`TissueParameters`.
    """
    u = rng.random(12)
    lo, hi = density.dense_fraction_range
    return TissueParameters(
        background=0.015 + 0.015 * u[0],
        fat=0.2 + 0.07 * u[1],
        gland=0.55 + 0.1 * u[2],
        min_thickness=0.42 + 0.12 * u[3],
        skin=0.05 + 0.04 * u[4],
        skin_mm=1.2 + 0.8 * u[5],
        strands=0.08 + 0.1 * u[6],
        strand_mm=0.25 + 0.2 * u[7],
        pectoral=0.45 + 0.15 * u[8],
        noise=0.004 + 0.003 * u[9],
        dense_fraction=lo + (hi - lo) * u[10],
        texture_angle=0.25 * (u[11] - 0.5),
    )


@dataclass
class Anatomy:
    """The rendered anatomy of one view (canonical orientation), before lesions and noise.

    Attributes:
        intensity: ``float32`` image in relative units (background included).
        breast_mask: ``bool`` mask of the breast (skin line included, pectoral muscle included).
        pectoral_mask: ``bool`` mask of the pectoral muscle (all ``False`` for CC).
        thickness: relative compressed thickness (0 outside the breast), to scale lesion contrast.
        rho: normalised radius (``<= 1`` inside the breast).
        edge_px: distance to the skin in pixels (positive inside).
        geometry: the skin outline.
    """

    intensity: np.ndarray
    breast_mask: np.ndarray
    pectoral_mask: np.ndarray
    thickness: np.ndarray
    rho: np.ndarray
    edge_px: np.ndarray
    geometry: BreastGeometry


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """In place: clip to [0, 1] and apply ``3x^2 - 2x^3``."""
    np.clip(x, 0.0, 1.0, out=x)
    x *= x * (np.float32(3.0) - np.float32(2.0) * x)
    return x


def _pectoral(
    shape: BreastShape, geometry: BreastGeometry, spacing_mm: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, tuple[slice, slice]]:
    """Pectoral muscle (canonical top-left corner): soft membership and brightness in its bounding box."""
    rows, cols = geometry.rows, geometry.cols
    top_row = np.searchsorted(geometry.curve_rows, 0.0)
    skin_top = float(geometry.curve_cols[min(top_row, geometry.curve_cols.size - 1)])
    width = max(shape.pectoral_top * skin_top, 4.0)
    height = max(shape.pectoral_side * rows, 4.0)
    q = shape.pectoral_exponent
    box = (
        slice(0, min(rows, int(np.ceil(height * 1.1)) + 2)),
        slice(0, min(cols, int(np.ceil(width * 1.1)) + 2)),
    )
    y = (np.arange(box[0].stop, dtype=np.float32) + np.float32(0.5)) / np.float32(height)
    x = (np.arange(box[1].stop, dtype=np.float32) + np.float32(0.5)) / np.float32(width)
    yq = y ** np.float32(q)
    xq = x ** np.float32(q)
    s = yq[:, None] + xq[None, :]
    # |grad s| in pixels, to turn (1 - s) into a distance to the muscle edge.
    gy = np.float32(q) * yq / np.maximum(y, np.float32(1e-6)) / np.float32(height)
    gx = np.float32(q) * xq / np.maximum(x, np.float32(1e-6)) / np.float32(width)
    grad = np.sqrt(gy[:, None] ** 2 + gx[None, :] ** 2) + np.float32(1e-6)
    edge_px = (np.float32(1.0) - s) / grad
    soft = max(0.6 / spacing_mm, 1.0)
    member = _smoothstep(edge_px / np.float32(soft) + np.float32(0.5))
    # Brighter towards the corner (thicker muscle), fibre striations parallel to the edge.
    level = np.float32(0.8) + np.float32(0.2) * np.clip(np.float32(1.0) - s, 0.0, 1.0)
    stripes = power_law_field((64, 64), rng, beta=2.0, max_cycles=16)[0]
    coord = np.clip(s, 0.0, 1.0) * np.float32(stripes.size - 1)
    level *= np.float32(1.0) + np.float32(0.02) * np.interp(coord, np.arange(stripes.size), stripes).astype(
        np.float32
    )
    return member, level, box


def render_anatomy(
    shape: BreastShape,
    tissue: TissueParameters,
    view: ViewPosition,
    rows: int,
    cols: int,
    spacing_mm: float,
    rng: np.random.Generator,
) -> Anatomy:
    """Render the breast outline, pectoral muscle and tissue texture of one view (canonical orientation).

    The number of values drawn from ``rng`` does not depend on the image size, so a seed gives the same
    anatomy at every resolution.

    Args:
        shape: the breast's shape.
        tissue: the breast's intensity levels and density.
        view: CC or MLO.
        rows: image rows.
        cols: image columns.
        spacing_mm: pixel spacing in millimetres (sets the physical widths of skin, fat rim, edges).
        rng: the random generator.

    Returns:
        The :class:`Anatomy`.
    """
    geometry = breast_geometry(shape, view, rows, cols)
    rho, edge_px, r_px = geometry.polar()
    f32 = np.float32
    # Random fields (drawn first, always in the same order).
    angle = tissue.texture_angle + (0.35 if view == ViewPosition.MLO else 0.0)
    texture = power_law_field((rows, cols), rng, beta=3.0, min_cycles=2.0, anisotropy=1.6, angle=angle)
    fine = power_law_field((rows, cols), rng, beta=2.5, min_cycles=14.0, anisotropy=1.8, angle=angle)
    lobules = power_law_field(
        (rows, cols), rng, beta=3.0, min_cycles=6.0, max_cycles=24, anisotropy=1.4, angle=angle
    )
    envelope_noise = power_law_field((rows, cols), rng, beta=3.0, max_cycles=6)
    breast = edge_px >= 0
    # Soft inside weight (anti-aliased skin edge) and compressed thickness.
    inside = np.clip(edge_px + f32(0.5), 0.0, 1.0)
    edge_mm = edge_px * f32(spacing_mm)
    thickness = _smoothstep(edge_mm * f32(1.0 / shape.edge_mm))
    thickness *= f32(1.0 - tissue.min_thickness)
    thickness += f32(tissue.min_thickness)
    thickness *= inside
    # Glandular envelope: fat under the skin and along the chest wall, less tissue far from the centre.
    envelope = _smoothstep((edge_mm - f32(shape.fat_rim_mm)) * f32(1.0 / 12.0))
    chest_mm = (np.arange(cols, dtype=np.float32) + f32(0.5)) * f32(spacing_mm / 15.0)
    envelope *= _smoothstep(chest_mm)[None, :]
    envelope *= f32(1.0) - f32(0.6) * _smoothstep((rho - f32(0.45)) * f32(1.0 / 0.5))
    envelope *= np.clip(f32(1.0) + f32(0.6) * envelope_noise, 0.15, 1.8)
    pectoral_mask = np.zeros((rows, cols), dtype=bool)
    muscle = None
    if view == ViewPosition.MLO:
        member, level, box = _pectoral(shape, geometry, spacing_mm, rng)
        muscle = (member, level, box)
        envelope[box] *= np.clip(f32(1.0) - f32(1.3) * member, 0.0, 1.0)
    # Fibroglandular fraction: a soft threshold of the texture under the envelope, set so that the dense
    # area matches the target density, with fine mottling inside the dense tissue.
    score = texture
    score += f32(1.8) * (envelope - f32(1.0))
    sample = score[::4, ::4][breast[::4, ::4]]
    threshold = float(np.quantile(sample, 1.0 - tissue.dense_fraction)) if sample.size else 0.0
    gland = score
    gland -= f32(threshold)
    gland *= f32(1.0 / 2.5)
    gland += f32(0.5)
    gland = _smoothstep(gland)
    gland *= f32(0.8) + f32(0.2) * np.clip(fine, -2.0, 2.0)
    if muscle is not None:
        gland[muscle[2]] *= f32(1.0) - muscle[0]
    # Cooper's ligaments / fibrous strands around fat lobules: zero-crossings of a band-limited field,
    # in fat, about strand_mm wide whatever the pixel size.
    step = max(1, rows // 256)
    gradient = float(np.std(np.diff(lobules[::step, :], axis=1)))
    strands = ridge_lines(lobules, max(gradient * tissue.strand_mm / spacing_mm, 1e-3))
    strands *= strands
    strands *= f32(tissue.strands)
    fat = f32(1.0) - np.clip(gland, 0.0, 1.0)
    fat *= fat
    strands *= fat
    strands *= _smoothstep(edge_mm * f32(1.0 / 3.0))
    if muscle is not None:
        strands[muscle[2]] *= f32(1.0) - muscle[0]
    gland += strands
    # Intensity: background + thickness * (fat .. gland) + skin (+ pectoral).
    intensity = gland
    intensity *= f32(tissue.gland - tissue.fat)
    intensity += f32(tissue.fat)
    intensity *= thickness
    skin_px = max(tissue.skin_mm / spacing_mm, 1.0)
    skin = np.clip(f32(skin_px + 0.5) - edge_px, 0.0, 1.0)
    skin *= inside
    intensity += f32(tissue.skin) * skin
    intensity += f32(tissue.background)
    if view == ViewPosition.MLO:
        weight = member * inside[box]
        intensity[box] += f32(tissue.pectoral) * level * weight
        pectoral_mask[box] = (member >= 0.5) & breast[box]
    return Anatomy(
        intensity=intensity,
        breast_mask=breast,
        pectoral_mask=pectoral_mask,
        thickness=thickness,
        rho=rho,
        edge_px=edge_px,
        geometry=geometry,
    )
