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
_MLO_AREA_GAIN = 1.07


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
        area_fraction: target fraction of the image covered by the breast in the CC view (7 % more in the
            MLO view).
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
        area_fraction=0.41 + 0.1 * u[0],
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
        edge_mm=15.0 + 15.0 * u[19],
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

    def row_profile(self) -> tuple[np.ndarray, np.ndarray]:
        """Skin column and normal factor of every image row.

        Returns:
            ``(depth, cosine)``: ``depth[i]`` is the column (continuous, chest wall at 0) where row ``i``
            (centre ``i + 0.5``) leaves the breast, 0 where it does not meet the breast; ``cosine[i]`` is
            ``1 / sqrt(1 + (d depth / d row)**2)``, which turns a horizontal distance to the skin into a
            distance along the skin normal.
        """
        order = np.argsort(self.curve_rows, kind="stable")
        centres = np.arange(self.rows, dtype=np.float64) + 0.5
        depth = np.interp(centres, self.curve_rows[order], self.curve_cols[order], left=0.0, right=0.0)
        depth = np.maximum(depth, 0.0)
        slope = np.gradient(depth) if self.rows > 1 else np.zeros_like(depth)
        cosine = 1.0 / np.sqrt(1.0 + slope**2)
        return depth.astype(np.float32), cosine.astype(np.float32)

    def skin_distance(self) -> np.ndarray:
        """Signed distance of every pixel to the skin, in pixels (positive inside the breast).

        The horizontal distance to the skin on the pixel's row, times the row's normal factor: exact to
        first order near the skin (where it is used: skin line, peripheral fall-off, subcutaneous fat),
        and computed by broadcasting, without a distance transform.

        Returns:
            ``float32`` array of the image shape.
        """
        depth, cosine = self.row_profile()
        x = np.arange(self.cols, dtype=np.float32) + np.float32(0.5)
        edge = np.subtract(depth[:, None], x[None, :])
        edge *= cosine[:, None]
        return edge


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
    # The MLO view takes in the axillary tail and the pectoral muscle: a little more area than the CC.
    target = shape.area_fraction * (_MLO_AREA_GAIN if view == ViewPosition.MLO else 1.0)
    depth = target * rows / max(float(unit.sum()), 1e-6)
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
        ducts: brightness of the ducts and trabeculae (lines along the nipple axis).
        pectoral: pectoral muscle brightness above fat.
        noise: standard deviation of the quantum noise at 0.07 mm pixels (it scales with 0.07 / spacing:
            larger pixels average more quanta).
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
    ducts: float
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
    u = rng.random(13)
    lo, hi = density.dense_fraction_range
    return TissueParameters(
        background=0.015 + 0.015 * u[0],
        fat=0.2 + 0.07 * u[1],
        gland=0.55 + 0.1 * u[2],
        min_thickness=0.28 + 0.14 * u[3],
        skin=0.05 + 0.04 * u[4],
        skin_mm=1.2 + 0.8 * u[5],
        strands=0.08 + 0.1 * u[6],
        strand_mm=0.1 + 0.1 * u[7],
        pectoral=0.3 + 0.15 * u[8],
        noise=0.008 + 0.006 * u[9],
        dense_fraction=lo + (hi - lo) * u[10],
        texture_angle=0.25 * (u[11] - 0.5),
        ducts=0.05 + 0.06 * u[12],
    )


@dataclass
class Anatomy:
    """The rendered anatomy of one view (canonical orientation), before lesions and noise.

    Attributes:
        intensity: ``float32`` image in relative units (background included).
        breast_mask: ``bool`` mask of the breast (skin line included, pectoral muscle included).
        pectoral_mask: ``bool`` mask of the pectoral muscle (all ``False`` for CC).
        thickness: relative compressed thickness (0 outside the breast), to scale lesion contrast.
        edge_px: distance to the skin in pixels (positive inside).
        geometry: the skin outline.
    """

    intensity: np.ndarray
    breast_mask: np.ndarray
    pectoral_mask: np.ndarray
    thickness: np.ndarray
    edge_px: np.ndarray
    geometry: BreastGeometry


def _smoothstep(x: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """In place: clip to [0, 1] and apply ``3x^2 - 2x^3`` (``scratch``: a same-shape work buffer)."""
    np.clip(x, 0.0, 1.0, out=x)
    if scratch is None:
        scratch = np.empty_like(x)
    np.multiply(x, np.float32(-2.0), out=scratch)
    scratch += np.float32(3.0)
    np.multiply(x, x, out=x)
    x *= scratch
    return x


def _affine(x: np.ndarray, scale: float, offset: float, out: np.ndarray) -> np.ndarray:
    """``out = x * scale + offset`` without temporaries."""
    np.multiply(x, np.float32(scale), out=out)
    out += np.float32(offset)
    return out


def _pectoral(
    shape: BreastShape, geometry: BreastGeometry, spacing_mm: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, tuple[slice, slice]]:
    """Pectoral muscle (canonical top-left corner): soft membership and brightness in its bounding box."""
    rows, cols = geometry.rows, geometry.cols
    top_row = int(np.searchsorted(geometry.curve_rows, 0.0))
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
    # Brighter towards the corner (thicker muscle).
    level = np.float32(0.8) + np.float32(0.2) * np.clip(np.float32(1.0) - s, 0.0, 1.0)
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
    f32 = np.float32
    # Random fields first, always in the same order (the draws do not depend on the image size).
    angle = tissue.texture_angle + (0.35 if view == ViewPosition.MLO else 0.0)
    gland = power_law_field((rows, cols), rng, beta=3.0, min_cycles=2.0, anisotropy=1.6, angle=angle)
    fine = power_law_field((rows, cols), rng, beta=2.5, min_cycles=14.0, anisotropy=1.8, angle=angle)
    strands = power_law_field(
        (rows, cols), rng, beta=3.0, min_cycles=6.0, max_cycles=24, anisotropy=1.4, angle=angle
    )
    ducts = power_law_field(
        (rows, cols), rng, beta=3.0, min_cycles=16.0, max_cycles=64, anisotropy=3.5, angle=angle
    )
    muscle = _pectoral(shape, geometry, spacing_mm, rng) if view == ViewPosition.MLO else None
    edge_px = geometry.skin_distance()
    breast = edge_px >= 0
    scratch = np.empty_like(edge_px)
    # Soft inside weight (anti-aliased skin edge) and compressed thickness, falling off near the skin.
    inside = _affine(edge_px, 1.0, 0.5, np.empty_like(edge_px))
    np.clip(inside, 0.0, 1.0, out=inside)
    thickness = _affine(edge_px, spacing_mm / shape.edge_mm, 0.0, np.empty_like(edge_px))
    _smoothstep(thickness, scratch)
    thickness *= f32(1.0 - tissue.min_thickness)
    thickness += f32(tissue.min_thickness)
    thickness *= inside
    # Glandular envelope: fat under the skin and along the chest wall, less tissue far from the centre.
    envelope = _affine(edge_px, spacing_mm / 12.0, -shape.fat_rim_mm / 12.0, np.empty_like(edge_px))
    _smoothstep(envelope, scratch)
    chest = (np.arange(cols, dtype=np.float32) + f32(0.5)) * f32(spacing_mm / 15.0)
    envelope *= _smoothstep(chest)[None, :]
    # Depth fraction along each row (0 at the chest wall, 1 at the skin).
    depth, _ = geometry.row_profile()
    columns = np.arange(cols, dtype=np.float32) + f32(0.5)
    fraction = np.multiply(columns[None, :], (f32(1.0) / np.maximum(depth, f32(1.0)))[:, None])
    _affine(fraction, 2.0, -0.9, fraction)
    _smoothstep(fraction, scratch)
    _affine(fraction, -0.6, 1.0, fraction)
    envelope *= fraction
    del fraction
    if muscle is not None:
        member, _, box = muscle
        envelope[box] *= np.clip(f32(1.0) - f32(1.3) * member, 0.0, 1.0)
    # Fibroglandular fraction: a soft threshold of the texture under the envelope, set so that the dense
    # area matches the target density, with fine mottling inside the dense tissue.
    _affine(envelope, 1.8, -1.8, envelope)
    gland += envelope
    del envelope
    sample = gland[::4, ::4][breast[::4, ::4]]
    threshold = float(np.quantile(sample, 1.0 - tissue.dense_fraction)) if sample.size else 0.0
    _affine(gland, 1.0 / 2.5, 0.5 - threshold / 2.5, gland)
    _smoothstep(gland, scratch)
    # Gate for the strands (drawn on about half of the breast, so that their network breaks into arcs).
    gate = _smoothstep(_affine(fine, 1.5, 0.5, np.empty_like(fine)), scratch)
    np.clip(fine, -2.0, 2.0, out=fine)
    _affine(fine, 0.12, 0.88, fine)
    gland *= fine
    if muscle is not None:
        gland[box] *= f32(1.0) - member
    # Cooper's ligaments / fibrous strands around fat lobules: zero-crossings of a band-limited field, in
    # fat, about strand_mm wide whatever the pixel size.
    ridge_lines(strands, max(tissue.strand_mm / spacing_mm, 0.6), out=strands, max_cycles=24)
    np.multiply(strands, strands, out=strands)
    strands *= f32(tissue.strands)
    strands *= gate
    del gate
    np.clip(gland, 0.0, 1.0, out=fine)
    _affine(fine, -1.0, 1.0, fine)
    np.multiply(fine, fine, out=fine)
    strands *= fine
    _smoothstep(_affine(edge_px, spacing_mm / 3.0, 0.0, fine), scratch)
    strands *= fine
    if muscle is not None:
        strands[box] *= f32(1.0) - member
    gland += strands
    # Ducts and trabeculae: thin lines stretched along the nipple axis, over fat and gland alike.
    ridge_lines(ducts, max(tissue.strand_mm / spacing_mm, 0.6), out=ducts, max_cycles=64)
    np.multiply(ducts, ducts, out=ducts)
    ducts *= f32(tissue.ducts)
    _smoothstep(_affine(edge_px, spacing_mm / 6.0, 0.0, strands), scratch)
    ducts *= strands
    if muscle is not None:
        ducts[box] *= f32(1.0) - member
    gland += ducts
    del strands, ducts
    # Intensity: background + thickness * (fat .. gland) + skin line (+ pectoral muscle).
    intensity = _affine(gland, tissue.gland - tissue.fat, tissue.fat, gland)
    intensity *= thickness
    skin_px = max(tissue.skin_mm / spacing_mm, 1.0)
    skin = _affine(edge_px, -1.0, skin_px + 0.5, fine)
    np.clip(skin, 0.0, 1.0, out=skin)
    skin *= inside
    skin *= f32(tissue.skin)
    intensity += skin
    intensity += f32(tissue.background)
    pectoral_mask = np.zeros((rows, cols), dtype=bool)
    if muscle is not None:
        member, level, box = muscle
        weight = member * inside[box]
        intensity[box] += f32(tissue.pectoral) * level * weight
        pectoral_mask[box] = (member >= 0.5) & breast[box]
    return Anatomy(
        intensity=intensity,
        breast_mask=breast,
        pectoral_mask=pectoral_mask,
        thickness=thickness,
        edge_px=edge_px,
        geometry=geometry,
    )
