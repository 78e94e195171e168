"""DICOM Segmentation objects of a lesion mask (and of a probability map), made with highdicom.

:func:`dicom_segmentation` turns the masks of one DICOM source image (one per lesion class, in the source's
own geometry: ``Rows x Columns``) into a SEG instance of the source's study that

- references the source image (study, series, SOP instance; frame of reference when the source has one),
  copies its patient and study attributes, and keeps its geometry: the SEG's pixels are the source's one to
  one (same Rows and Columns), with the source's Pixel Measures and Plane Orientation when it has a frame of
  reference; a projection mammogram has none, and its SEG carries the Patient Orientation and refers to the
  source for the pixel spacing (see :func:`_drop_projection_pixel_measures`);
- holds one segment per lesion class, coded with SNOMED CT (:data:`~.dicom_derived.LESION_CLASS_CODES`:
  "Lesion", "Mass", "Calcification Cluster", ...), in the breast of the source's laterality (anatomic region
  "Breast" with the modifier "Right"/"Left"), made by the algorithm named in the segment (AUTOMATIC, with
  the bundle's name and version and the package's version);
- is BINARY (the mask) or FRACTIONAL of type PROBABILITY (the probability map, 0..255).

:func:`write_dicom_seg` writes it atomically. Laterality and view are copied into the Series and Content
Descriptions (``"R MLO lesion segmentation"``): the Segmentation IOD has no View Position, and its General
Series Laterality is not allowed beside the segment's own laterality.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from monai_mammo.io.dicom_derived import (
    BREAST,
    DerivedAlgorithm,
    laterality_code,
    lesion_class_code,
    patient_orientation,
    require_highdicom,
    view_text,
    write_dataset,
)

__all__ = ["SEG_SERIES_NUMBER", "dicom_segmentation", "write_dicom_seg"]

SEG_SERIES_NUMBER = 9301
"""Series Number of the binary SEG series (the fractional one is one more)."""

_ALGORITHM_FAMILY_AI = ("123109", "DCM", "Artificial Intelligence")  # CID 7162


def dicom_segmentation(
    source: Dataset,
    masks: Mapping[str, Any],
    algorithm: DerivedAlgorithm | None = None,
    fractional: bool = False,
    series_instance_uid: str | None = None,
    series_number: int | None = None,
    sop_instance_uid: str | None = None,
    instance_number: int = 1,
) -> Dataset:
    """A DICOM SEG of the lesion masks (or probability maps) of one DICOM source image.

    Args:
        source: the source image's header (:func:`~.dicom_derived.read_source_header`; no pixels needed).
        masks: lesion class (e.g. ``"lesion"``, ``"mass"``) -> ``(Rows, Columns)`` array in the source's
            geometry: a binary mask (``> 0`` is lesion), or probabilities in ``[0, 1]`` when ``fractional``.
            Segment numbers follow the order of the mapping.
        algorithm: the algorithm that made the masks.
        fractional: a FRACTIONAL SEG (PROBABILITY, 255 levels) instead of a BINARY one.
        series_instance_uid: the SEG series (new when ``None``; pass one per study to put a run's SEGs of a
            study into one series).
        series_number: default :data:`SEG_SERIES_NUMBER` (``+ 1`` when fractional).
        sop_instance_uid: new when ``None``.
        instance_number: the SEG's Instance Number.

    Returns:
        The ``highdicom.seg.Segmentation`` (a pydicom Dataset).

    Raises:
        ValueError: when ``masks`` is empty, a mask is not ``(Rows, Columns)`` of the source, or a class
            has no codes.
        ImportError: without highdicom.
    """
    hd = require_highdicom()
    algorithm = algorithm or DerivedAlgorithm()
    if not masks:
        raise ValueError("masks: at least one lesion class is needed.")
    shape = (int(source.Rows), int(source.Columns))
    planes = []
    for name, mask in masks.items():
        array = np.asarray(mask)
        array = array.reshape(array.shape[-2:]) if array.ndim == 3 and array.shape[0] == 1 else array
        if array.shape != shape:
            raise ValueError(
                f"masks[{name!r}]: shape {array.shape} differs from the source image's (Rows, Columns) "
                f"{shape} (SOP instance {source.SOPInstanceUID}); the mask must be in the original geometry."
            )
        if fractional:
            planes.append(np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0))
        else:
            planes.append((array > 0).astype(np.uint8))
    identification = hd.AlgorithmIdentificationSequence(
        name=algorithm.name,
        family=hd.sr.CodedConcept(*_ALGORITHM_FAMILY_AI),
        version=algorithm.version,
        source="monai_mammo",
        parameters=dict(algorithm.parameters) or None,
    )
    side = laterality_code(source)
    descriptions = []
    for number, name in enumerate(masks, start=1):
        category, kind = lesion_class_code(name)
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=str(name),
                segmented_property_category=category,
                segmented_property_type=kind,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
                algorithm_identification=identification,
                tracking_uid=hd.UID(),
                tracking_id=f"{name} {number}",
                anatomic_regions=[BREAST],
            )
        )
    # (rows, columns, segments): highdicom's layout for one frame with several segments
    pixels = np.stack(planes, axis=-1)[None]
    kind_text = "probability" if fractional else "lesion segmentation"
    seg = hd.seg.Segmentation(
        source_images=[source],
        pixel_array=pixels,
        segmentation_type="FRACTIONAL" if fractional else "BINARY",
        segment_descriptions=descriptions,
        series_instance_uid=series_instance_uid or hd.UID(),
        series_number=int(series_number or SEG_SERIES_NUMBER + int(fractional)),
        sop_instance_uid=sop_instance_uid or hd.UID(),
        instance_number=int(instance_number),
        manufacturer="monai_mammo",
        manufacturer_model_name=algorithm.name[:64],
        software_versions=list(algorithm.software_versions()),
        device_serial_number="0",
        fractional_type="PROBABILITY" if fractional else None,
        content_description=f"{view_text(source)} {kind_text}".strip()[:64],
        content_label="PROBABILITY" if fractional else "LESIONS",
        content_creator_name="monai_mammo^AI",
        omit_empty_frames=False,
    )
    seg.SeriesDescription = f"AI {kind_text} ({algorithm.name} {algorithm.version})"[:64]
    if "FrameOfReferenceUID" not in source:
        seg.PatientOrientation = patient_orientation(source)
        _drop_projection_pixel_measures(seg)
    if side is not None:
        for item in seg.SegmentSequence:
            region = item.AnatomicRegionSequence[0]
            region.AnatomicRegionModifierSequence = [
                hd.sr.CodedConcept(side.value, side.scheme_designator, side.meaning)
            ]
    return seg


def _drop_projection_pixel_measures(seg: Dataset) -> None:
    """Leave out the Pixel Measures of a SEG of a projection image (no frame of reference).

    Its pixels are the source image's, one to one (same Rows and Columns, referenced by SOP instance), so the
    source's Pixel Spacing (or Imager Pixel Spacing) is the spacing of the SEG. highdicom 0.28 copies the
    spacing into a Pixel Measures item without Slice Thickness (valid: that is required only with a frame of
    reference) that its own reader then refuses; leaving the item out is what highdicom intends for such
    images (highdicom PR #183) and what DICOM allows, and the SEG reads back everywhere.
    """
    shared = seg.SharedFunctionalGroupsSequence[0]
    measures = shared.get("PixelMeasuresSequence")
    if measures is not None and "SliceThickness" not in measures[0]:
        del shared.PixelMeasuresSequence


def write_dicom_seg(
    path: str | os.PathLike[str],
    source: Dataset,
    masks: Mapping[str, Any] | Sequence[Any],
    classes: Sequence[str] | None = None,
    **kwargs: Any,
) -> tuple[Path, Dataset]:
    """Make a SEG with :func:`dicom_segmentation` and write it to ``path`` atomically.

    Args:
        path: the file to write (e.g. ``<output_dir>/<name>/seg.dcm``).
        source: the source image's header.
        masks: lesion class -> mask, or a sequence of masks (or a ``(classes, H, W)`` array) named by
            ``classes``.
        classes: the class names of a sequence of masks (default ``["lesion"]``).
        kwargs: passed to :func:`dicom_segmentation`.

    Returns:
        The path written and the SEG.
    """
    if not isinstance(masks, Mapping):
        names = list(classes or ["lesion"])
        planes = list(masks)
        if len(planes) != len(names):
            raise ValueError(f"classes: {len(names)} names for {len(planes)} masks ({names}).")
        masks = dict(zip(names, planes, strict=True))
    seg = dicom_segmentation(source, masks, **kwargs)
    return write_dataset(path, seg), seg
