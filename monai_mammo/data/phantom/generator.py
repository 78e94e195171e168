"""Synthetic mammograms: :class:`Phantom`, :func:`make_phantom` and :func:`make_exam`.

A seed and a patient index define a phantom woman: breast density, the shape of each breast, its tissue
levels and its lesions. Each of her images (LEFT/RIGHT x CC/MLO) is drawn from that description, so

- ``make_phantom(seed=s, laterality="R", view="MLO")`` is the RIGHT MLO image of ``make_exam(seed=s)``;
- a lesion appears in both views of its breast (same kind, pathology, size and depth);
- the anatomy does not depend on the image size (the random draws that shape it are size independent):
  a 512 x 416 phantom is a coarser picture of the same breast as the 4096 x 3328 one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monai_mammo.utils.enums import Laterality, MammoMetaKey, ViewPosition

from .anatomy import (
    BreastDensity,
    BreastShape,
    TissueParameters,
    draw_breast_shape,
    draw_tissue_parameters,
    render_anatomy,
)
from .lesions import (
    LesionKind,
    LesionRecord,
    LesionSpec,
    Pathology,
    RenderedLesion,
    draw_lesion_specs,
    render_calcifications,
    render_mass,
)

FULL_FIELD_SHAPE: tuple[int, int] = (4096, 3328)
"""Rows x columns of a full-field digital mammogram (24 x 29 cm detector at 70 um)."""

FULL_FIELD_MM: tuple[float, float] = (286.72, 232.96)
"""Detector size in millimetres (rows, columns) the phantom's pixel spacing is derived from."""

MAX_VALUE = 4095
"""Largest stored value (12-bit images)."""

MIN_SIDE = 64
"""Smallest image side accepted."""

_DENSITY_PRIOR = (("A", 0.1), ("B", 0.4), ("C", 0.4), ("D", 0.1))
_VIEWS = (ViewPosition.CC, ViewPosition.MLO)
_SIDES = (Laterality.LEFT, Laterality.RIGHT)


@dataclass(frozen=True, eq=False)
class Phantom:
    """A synthetic mammogram with its ground truth.

    Arrays are 2D ``(rows, columns)`` in the stored orientation (a LEFT breast touches the left image
    edge, a RIGHT breast the right edge).

    Attributes:
        image: ``uint16`` image, values in ``[0, 4095]`` (12 bits stored), brighter = denser.
        breast_mask: ``uint8`` 0/1 mask of the breast (skin and pectoral muscle included).
        lesion_mask: ``uint8`` 0/1 union of the lesion masks (mass cores, convex hulls of calcification
            clusters).
        pectoral_mask: ``uint8`` 0/1 mask of the pectoral muscle (all zero on CC views).
        lesions: what was drawn, one :class:`LesionRecord` per lesion.
        laterality: ``Laterality.LEFT`` or ``Laterality.RIGHT``.
        view: ``ViewPosition.CC`` or ``ViewPosition.MLO``.
        pixel_spacing: ``(row_mm, col_mm)``.
        density: BI-RADS density category of the breast.
        patient_id: id of the phantom woman (shared by her images).
        image_id: unique id of the image (``<patient_id>_<L|R>_<CC|MLO>``).
        seed: the seed the phantom was drawn from.
        patient_index: index of the woman under that seed.
    """

    image: np.ndarray
    breast_mask: np.ndarray
    lesion_mask: np.ndarray
    pectoral_mask: np.ndarray
    lesions: tuple[LesionRecord, ...]
    laterality: Laterality
    view: ViewPosition
    pixel_spacing: tuple[float, float]
    density: BreastDensity
    patient_id: str
    image_id: str
    seed: int
    patient_index: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (int(self.image.shape[0]), int(self.image.shape[1]))

    @property
    def pathology(self) -> Pathology:
        """Worst lesion pathology of the image (``NORMAL`` without lesions)."""
        worst = Pathology.NORMAL
        for lesion in self.lesions:
            candidate = Pathology(lesion.pathology)
            if candidate.class_index > worst.class_index:
                worst = candidate
        return worst

    @property
    def label(self) -> int:
        """Image-level class index: 0 normal, 1 benign, 2 malignant (the worst lesion)."""
        return self.pathology.class_index

    @property
    def breast_fraction(self) -> float:
        """Fraction of the image covered by the breast."""
        return float(self.breast_mask.mean())

    def meta(self) -> dict[str, Any]:
        """Metadata under the :class:`~monai_mammo.utils.enums.MammoMetaKey` keys a reader would fill."""
        return {
            str(MammoMetaKey.LATERALITY): str(self.laterality),
            str(MammoMetaKey.LATERALITY_SOURCE): "ImageLaterality",
            str(MammoMetaKey.VIEW): str(self.view),
            str(MammoMetaKey.PIXEL_SPACING): [float(self.pixel_spacing[0]), float(self.pixel_spacing[1])],
            str(MammoMetaKey.PRESENTATION_INTENT): "FOR PRESENTATION",
            str(MammoMetaKey.MANUFACTURER): "monai_mammo phantom",
            str(MammoMetaKey.PHOTOMETRIC): "MONOCHROME2",
            str(MammoMetaKey.BITS_STORED): 12,
        }

    def to_dict(self) -> dict[str, Any]:
        """A MONAI-style data dictionary, channel first, without going through files.

        Returns:
            A dictionary with ``image`` (float32 ``(1, H, W)`` stored values), ``label`` (uint8
            ``(1, H, W)`` lesion mask), ``breast_mask`` (uint8 ``(1, H, W)``), ``class`` (int),
            ``patient_id``, ``laterality``, ``view``, ``lesions`` (list of dicts) and ``meta``
            (:meth:`meta`).
        """
        return {
            "image": self.image[None].astype(np.float32),
            "label": self.lesion_mask[None].copy(),
            "breast_mask": self.breast_mask[None].copy(),
            "class": self.label,
            "patient_id": self.patient_id,
            "laterality": str(self.laterality),
            "view": str(self.view),
            "lesions": [lesion.to_dict() for lesion in self.lesions],
            "meta": self.meta(),
        }


@dataclass(frozen=True)
class PhantomPatient:
    """The size-independent description of one phantom woman.

    Attributes:
        seed: the seed.
        index: the woman's index under the seed.
        density: BI-RADS density (both breasts).
        tissue: intensity levels (both breasts).
        shapes: breast shape per laterality.
        lesions: lesion specifications per laterality.
    """

    seed: int
    index: int
    density: BreastDensity
    tissue: TissueParameters
    shapes: Mapping[Laterality, BreastShape]
    lesions: Mapping[Laterality, tuple[LesionSpec, ...]]

    @property
    def patient_id(self) -> str:
        """``phantom-<seed>-<index>``."""
        return f"phantom-{self.seed}-{self.index:04d}"


def _check_seed(seed: int, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}.")
    return int(seed)


def _stream(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for ``(seed, key...)``."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=tuple(int(k) for k in key)))


def draw_patient(
    seed: int = 0,
    index: int = 0,
    *,
    density: BreastDensity | str | None = None,
    lesions: Sequence[LesionSpec] | Mapping[Laterality | str, Sequence[LesionSpec]] | None = None,
) -> PhantomPatient:
    """Describe phantom woman ``index`` of ``seed``: density, breast shapes, tissue levels and lesions.

    The same ``(seed, index)`` always gives the same woman; overriding ``density`` or ``lesions`` changes
    only that part (the other draws stay the same).

    Args:
        seed: non-negative seed.
        index: non-negative index of the woman under the seed.
        density: BI-RADS density (``"A"``..``"D"`` or a name), or ``None`` to draw it
            (A 10 %, B 40 %, C 40 %, D 10 %).
        lesions: ``None`` to draw the lesions; a sequence of :class:`LesionSpec` for both breasts; or a
            mapping laterality -> specs (a missing laterality has no lesion). ``[]`` gives a normal woman.

    Returns:
        The :class:`PhantomPatient`.

    Raises:
        ValueError: a negative seed/index, or a bad density or laterality.
    """
    seed = _check_seed(seed)
    index = _check_seed(index, "index")
    rng = _stream(seed, index, 0)
    u_density = rng.random()
    if density is None:
        cumulative = np.cumsum([p for _, p in _DENSITY_PRIOR])
        chosen = BreastDensity(
            _DENSITY_PRIOR[int(np.searchsorted(cumulative, u_density * cumulative[-1]))][0]
        )
    else:
        chosen = BreastDensity.parse(density)
    tissue = draw_tissue_parameters(rng, chosen)
    shapes = {side: draw_breast_shape(rng) for side in _SIDES}
    drawn = {side: tuple(draw_lesion_specs(rng)) for side in _SIDES}
    if lesions is None:
        specs = drawn
    elif isinstance(lesions, Mapping):
        specs = {side: () for side in _SIDES}
        for key, value in lesions.items():
            side = Laterality.parse(key)
            if side == Laterality.UNKNOWN:
                raise ValueError(f"lesions: laterality keys must be 'L' or 'R', got {key!r}.")
            specs[side] = tuple(value)
    else:
        specs = {side: tuple(lesions) for side in _SIDES}
    for side_specs in specs.values():
        for spec in side_specs:
            if not isinstance(spec, LesionSpec):
                raise ValueError(f"lesions must be LesionSpec instances, got {type(spec).__name__}.")
    return PhantomPatient(seed=seed, index=index, density=chosen, tissue=tissue, shapes=shapes, lesions=specs)


def default_pixel_spacing(shape: tuple[int, int]) -> float:
    """Pixel spacing (mm) that puts a ``shape`` image on a 24 x 29 cm detector (0.07 mm at 4096 x 3328).

    Args:
        shape: ``(rows, columns)``.

    Returns:
        The square pixel size in millimetres.
    """
    return max(FULL_FIELD_MM[0] / shape[0], FULL_FIELD_MM[1] / shape[1])


def _check_shape(shape: Sequence[int]) -> tuple[int, int]:
    try:
        rows, cols = (int(s) for s in shape)
    except (TypeError, ValueError) as e:
        raise ValueError(f"shape must be (rows, columns), got {shape!r}.") from e
    if rows < MIN_SIDE or cols < MIN_SIDE:
        raise ValueError(f"shape must be at least {MIN_SIDE} x {MIN_SIDE} pixels, got {shape!r}.")
    if rows * cols > 8192 * 8192:
        raise ValueError(f"shape {shape!r} is larger than 8192 x 8192 pixels.")
    return rows, cols


def _place(
    spec: LesionSpec,
    view: ViewPosition,
    anatomy_shape: tuple[int, int],
    spacing: float,
    geometry_point: Any,
    breast: np.ndarray,
    pectoral: np.ndarray,
    occupied: np.ndarray,
    contrast: float,
) -> RenderedLesion | None:
    """Find a place for a lesion inside the breast, off the pectoral muscle and away from other lesions."""
    position = np.random.default_rng([spec.shape_seed, 1])
    depth = spec.depth if spec.depth is not None else position.uniform(0.25, 0.7)
    angle = spec.angle if spec.angle is not None else position.uniform(-0.55, 0.55)
    jitter = np.random.default_rng([spec.shape_seed, 2, 0 if view == ViewPosition.CC else 1])
    render = render_mass if spec.kind == LesionKind.MASS else render_calcifications
    for attempt in range(40):
        if attempt:
            spread = min(0.05 * attempt, 0.6)
            d = float(np.clip(depth + jitter.uniform(-spread, spread), 0.1, 0.85))
            a = float(np.clip(angle + jitter.uniform(-2 * spread, 2 * spread), -0.9, 0.9))
        else:
            d, a = depth, angle
        row, col = geometry_point(d, a * np.pi / 2)
        lesion = render(spec, (row, col), spacing, anatomy_shape, contrast)
        box = lesion.box
        fp = lesion.footprint
        if lesion.mask.sum() == 0:
            continue
        if not breast[box][lesion.mask].all() or breast[box][fp].mean() < 0.98:
            continue
        if pectoral[box][fp].any() or occupied[box][fp].any():
            continue
        return lesion
    return None


def _render(
    patient: PhantomPatient,
    laterality: Laterality,
    view: ViewPosition,
    shape: tuple[int, int],
    spacing: float,
) -> Phantom:
    rows, cols = shape
    side = _SIDES.index(laterality)
    view_index = _VIEWS.index(view)
    rng = _stream(patient.seed, patient.index, 1 + side, view_index)
    breast_shape = patient.shapes[laterality]
    anatomy = render_anatomy(breast_shape, patient.tissue, view, rows, cols, spacing, rng)
    geometry = anatomy.geometry
    intensity = anatomy.intensity
    lesion_mask = np.zeros((rows, cols), dtype=np.uint8)
    occupied = np.zeros((rows, cols), dtype=bool)
    records: list[LesionRecord] = []
    tissue = patient.tissue
    for spec in patient.lesions[laterality]:
        contrast_rng = np.random.default_rng([spec.shape_seed, 3])
        if spec.kind == LesionKind.MASS:
            contrast = (tissue.gland - tissue.fat) * contrast_rng.uniform(0.55, 0.85)
        else:
            contrast = contrast_rng.uniform(0.3, 0.45)
        lesion = _place(
            spec,
            view,
            shape,
            spacing,
            geometry.point,
            anatomy.breast_mask,
            anatomy.pectoral_mask,
            occupied,
            contrast,
        )
        if lesion is None:
            warnings.warn(
                f"phantom {patient.patient_id} {laterality}-{view}: no room for a {spec.kind} of "
                f"{spec.radius_mm:.1f} mm in a {rows}x{cols} image; it is left out.",
                stacklevel=3,
            )
            continue
        box = lesion.box
        if lesion.scale_by_thickness:
            intensity[box] += lesion.density * anatomy.thickness[box]
        else:
            intensity[box] += lesion.density
        lesion_mask[box] |= lesion.mask.astype(np.uint8)
        # Keep the next lesions a few pixels away from this one.
        occupied[box] |= lesion.footprint
        r_idx, c_idx = np.nonzero(lesion.mask)
        bbox = (
            int(r_idx.min()) + box[0].start,
            int(c_idx.min()) + box[1].start,
            int(r_idx.max()) + 1 + box[0].start,
            int(c_idx.max()) + 1 + box[1].start,
        )
        records.append(
            LesionRecord(
                kind=str(spec.kind),
                margin=None if spec.margin is None else str(spec.margin),
                pathology=str(spec.pathology),
                centre=lesion.centre,
                radius_px=lesion.radius_px,
                radius_mm=lesion.radius_px * spacing,
                bbox=bbox,
                n_calcifications=int(spec.n_calcifications) if spec.kind == LesionKind.CALCIFICATION else 0,
            )
        )
    # Quantum noise (triangular, mean 0) last: its draws are the only size-dependent ones.
    noise_rng = _stream(patient.seed, patient.index, 1 + side, view_index, 1)
    noise = noise_rng.random((rows, cols), dtype=np.float32)
    noise += noise_rng.random((rows, cols), dtype=np.float32)
    noise -= np.float32(1.0)
    noise_std = tissue.noise * min(0.07 / spacing, 2.0)
    intensity += noise * np.float32(noise_std * np.sqrt(6.0))
    np.clip(intensity, 1.0 / MAX_VALUE, 1.0, out=intensity)
    intensity *= np.float32(MAX_VALUE)
    image = np.rint(intensity).astype(np.uint16)
    breast_mask = anatomy.breast_mask.astype(np.uint8)
    pectoral_mask = anatomy.pectoral_mask.astype(np.uint8)
    if laterality == Laterality.RIGHT:
        image = np.ascontiguousarray(image[:, ::-1])
        breast_mask = np.ascontiguousarray(breast_mask[:, ::-1])
        pectoral_mask = np.ascontiguousarray(pectoral_mask[:, ::-1])
        lesion_mask = np.ascontiguousarray(lesion_mask[:, ::-1])
        records = [record.flipped(cols) for record in records]
    return Phantom(
        image=image,
        breast_mask=breast_mask,
        lesion_mask=lesion_mask,
        pectoral_mask=pectoral_mask,
        lesions=tuple(records),
        laterality=laterality,
        view=view,
        pixel_spacing=(float(spacing), float(spacing)),
        density=patient.density,
        patient_id=patient.patient_id,
        image_id=f"{patient.patient_id}_{laterality.value}_{view.value}",
        seed=patient.seed,
        patient_index=patient.index,
    )


def _parse_view(view: ViewPosition | str) -> ViewPosition:
    parsed = ViewPosition.parse(view)
    if parsed not in _VIEWS:
        raise ValueError(f"view must be 'CC' or 'MLO', got {view!r}.")
    return parsed


def _parse_laterality(laterality: Laterality | str) -> Laterality:
    parsed = Laterality.parse(laterality)
    if parsed == Laterality.UNKNOWN:
        raise ValueError(f"laterality must be 'L' or 'R', got {laterality!r}.")
    return parsed


def make_phantom(
    shape: Sequence[int] = (512, 416),
    *,
    seed: int = 0,
    laterality: Laterality | str = Laterality.LEFT,
    view: ViewPosition | str = ViewPosition.CC,
    density: BreastDensity | str | None = None,
    lesions: Sequence[LesionSpec] | Mapping[Laterality | str, Sequence[LesionSpec]] | None = None,
    pixel_spacing: float | None = None,
    patient_index: int = 0,
) -> Phantom:
    """Draw one synthetic mammogram.

    Example::

        from monai_mammo.data.phantom import LesionSpec, make_phantom

        phantom = make_phantom((512, 416), seed=3, laterality="R", view="MLO")
        spiculated = LesionSpec(kind="mass", pathology="malignant", margin="spiculated", radius_mm=8)
        with_mass = make_phantom(seed=3, lesions=[spiculated])

    Args:
        shape: ``(rows, columns)``, from 64 x 64 to full field (4096 x 3328) and beyond.
        seed: non-negative seed: the same arguments always give the same phantom.
        laterality: ``"L"`` or ``"R"`` (a LEFT breast touches the left edge, a RIGHT one the right edge).
        view: ``"CC"`` or ``"MLO"`` (MLO shows the pectoral muscle in the upper chest-wall corner).
        density: BI-RADS density ``"A"``..``"D"``, or ``None`` to draw it.
        lesions: ``None`` draws them (half the breasts are normal); ``[]`` gives a normal breast; a list
            of :class:`LesionSpec` puts those lesions in (both breasts of the woman); a mapping
            laterality -> list sets them per breast.
        pixel_spacing: square pixel size in mm; default :func:`default_pixel_spacing` (0.07 mm at full
            field, 0.56 mm at 512 x 416), so that the breast has a realistic physical size.
        patient_index: which woman of the seed (the dataset writer numbers them 0, 1, ...).

    Returns:
        The :class:`Phantom`.

    Raises:
        ValueError: a bad shape, seed, laterality, view, density or pixel spacing.
    """
    rows, cols = _check_shape(shape)
    side = _parse_laterality(laterality)
    chosen_view = _parse_view(view)
    spacing = default_pixel_spacing((rows, cols)) if pixel_spacing is None else float(pixel_spacing)
    if not (np.isfinite(spacing) and 0.01 <= spacing <= 5.0):
        raise ValueError(f"pixel_spacing must be within [0.01, 5] mm, got {pixel_spacing!r}.")
    patient = draw_patient(seed, patient_index, density=density, lesions=lesions)
    return _render(patient, side, chosen_view, (rows, cols), spacing)


def make_exam(
    shape: Sequence[int] = (512, 416),
    *,
    seed: int = 0,
    patient_index: int = 0,
    density: BreastDensity | str | None = None,
    lesions: Sequence[LesionSpec] | Mapping[Laterality | str, Sequence[LesionSpec]] | None = None,
    pixel_spacing: float | None = None,
) -> list[Phantom]:
    """Draw the four screening views of one phantom woman: L-CC, L-MLO, R-CC, R-MLO.

    Args:
        shape: ``(rows, columns)``.
        seed: non-negative seed.
        patient_index: which woman of the seed.
        density: BI-RADS density, or ``None`` to draw it.
        lesions: as in :func:`make_phantom`.
        pixel_spacing: square pixel size in mm (default :func:`default_pixel_spacing`).

    Returns:
        Four :class:`Phantom` in the order L-CC, L-MLO, R-CC, R-MLO.
    """
    return [
        make_phantom(
            shape,
            seed=seed,
            laterality=side,
            view=view,
            density=density,
            lesions=lesions,
            pixel_spacing=pixel_spacing,
            patient_index=patient_index,
        )
        for side in _SIDES
        for view in _VIEWS
    ]
