"""A DICOM Structured Report of an exam's lesion findings: TID 1500 Measurement Report, made with highdicom.

One report per exam (a DICOM study), :func:`exam_measurement_report`, references every image of the exam in
its image library and holds, for each image (:class:`ImageFindings`):

- one planar ROI group per reported lesion (a row of :func:`monai_mammo.metrics.lesion_table`): its region
  as the closed polyline of its bounding box on the source image, its area in mm² (when the pixel spacing
  is known), its peak probability ("Probability", derivation "Maximum"), the finding type of its class
  ("Lesion", "Mass", ...) in the breast of the image's laterality, and the algorithm;
- one planar ROI group per segment of the image's DICOM SEG (:mod:`.dicom_seg`) that references that segment
  and gives the area of the whole mask and its peak probability.

With the classifier's scores (:class:`ClassifierScores`, :func:`classifier_score_groups`) it also holds one
measurement group (TID 1501, no region) per image (its class probabilities, the group referencing the image),
per breast and for the exam (the malignant and abnormal scores), each a probability without units. The
concept names (:func:`classifier_score_code`): "malignant" is DCM 111047 "Probability of cancer"; no
standard code fits the other scores, which get local codes of the coding scheme ``99MONAI_MAMMO``
(``P_BENIGN`` "Probability of benign finding", ``P_NORMAL`` "Probability of normal", ``P_ABNORMAL``
"Probability of abnormal finding", ``P_<NAME>`` for any other class). The predicted class is a qualitative
evaluation (``99MONAI_MAMMO`` ``PREDICTED_CLASS``) valued SNOMED CT Malignant, Benign or Normal.

The document is a Comprehensive 3D SR (the usual IOD of TID 1500; only 2D image coordinates are used), in the
exam's study, with the images and SEGs as its evidence, and is written atomically (:func:`write_dicom_sr`).
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

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

__all__ = [
    "SR_SERIES_NUMBER",
    "ClassifierScores",
    "ImageFindings",
    "classifier_score_code",
    "classifier_score_groups",
    "exam_measurement_report",
    "write_dicom_sr",
]

SR_SERIES_NUMBER = 9311
"""Series Number of the SR series."""

_AREA = Code("42798000", "SCT", "Area")
_PROBABILITY = Code("122157", "DCM", "Probability")
_MAXIMUM = Code("56851009", "SCT", "Maximum")
_SQUARE_MM = Code("mm2", "UCUM", "square millimeter")
_NO_UNITS = Code("1", "UCUM", "no units")
_DEVICE = Code("121007", "DCM", "Device")
_MAMMOGRAPHY = Code("71651007", "SCT", "Mammography")
_LOCAL = "99MONAI_MAMMO"
_SCORE_CODES = {
    "malignant": Code("111047", "DCM", "Probability of cancer"),
    "benign": Code("P_BENIGN", _LOCAL, "Probability of benign finding"),
    "normal": Code("P_NORMAL", _LOCAL, "Probability of normal"),
    "abnormal": Code("P_ABNORMAL", _LOCAL, "Probability of abnormal finding"),
}
_PREDICTED_CLASS = Code("PREDICTED_CLASS", _LOCAL, "Predicted class")
_CLASS_VALUES = {
    "malignant": Code("21594007", "SCT", "Malignant"),
    "benign": Code("30807003", "SCT", "Benign"),
    "normal": Code("17621005", "SCT", "Normal"),
}
_BOTH_SIDES = Code("51440002", "SCT", "Right and left")
_SIDES = {"R": Code("24028007", "SCT", "Right"), "L": Code("7771000", "SCT", "Left")}


@dataclass
class ImageFindings:
    """The findings of one source image of an exam.

    Args:
        source: the source image's header (:func:`~.dicom_derived.read_source_header`).
        lesions: the reported lesions, rows of :func:`monai_mammo.metrics.lesion_table` (``label``, bounding
            box ``bbox_row0/col0/row1/col1`` end exclusive, ``area_mm2``, ``max_prob``).
        lesion_class: the class of the lesions (a key of :data:`~.dicom_derived.LESION_CLASS_CODES`).
        segmentation: the image's SEG (header enough), or ``None``.
        segment_number: the segment of ``lesion_class`` in ``segmentation``.
        segment_area_mm2: the area of the whole segment (NaN when the pixel spacing is unknown).
        segment_max_prob: the peak probability over the image.
        name: a short name of the image for the tracking identifiers (default: laterality and view).
    """

    source: Dataset
    lesions: Sequence[Mapping[str, Any]] = field(default_factory=list)
    lesion_class: str = "lesion"
    segmentation: Dataset | None = None
    segment_number: int = 1
    segment_area_mm2: float = math.nan
    segment_max_prob: float = math.nan
    name: str = ""
    scores: Mapping[str, Any] = field(default_factory=dict)
    """The classifier's scores of the image (class name -> probability; ``predicted_class`` -> a class
    name): a measurement group of its own (:func:`classifier_score_groups`); empty: none."""


@dataclass
class ClassifierScores:
    """The classifier's breast and exam scores of an exam (its image scores are :attr:`ImageFindings.scores`).

    Args:
        breasts: laterality (``"L"``, ``"R"``) -> score name (``malignant``, ``abnormal``, ...) -> value;
            ``predicted_class`` -> a class name.
        exam: score name -> value, ``predicted_class`` -> a class name.
        algorithm: the classifier (named in the score groups; the report's algorithm when ``None``).
        keys: the scores written per breast and for the exam (the others are left out).
    """

    breasts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exam: Mapping[str, Any] = field(default_factory=dict)
    algorithm: DerivedAlgorithm | None = None
    keys: Sequence[str] = ("malignant", "abnormal")


def classifier_score_code(name: str) -> Code:
    """The concept name of a classifier score: DCM "Probability of cancer" for ``malignant``, otherwise a
    ``99MONAI_MAMMO`` local code (no standard code fits a probability of benign, normal or abnormal)."""
    key = str(name).lower()
    if key in _SCORE_CODES:
        return _SCORE_CODES[key]
    value = "P_" + "".join(c if c.isalnum() else "_" for c in key.upper())
    return Code(value[:16], _LOCAL, f"Probability of {name}"[:64])


def _score_group(
    hd: Any,
    identifier: str,
    scores: Mapping[str, Any],
    keys: Sequence[str] | None,
    algorithm: DerivedAlgorithm,
    laterality: Code | None,
    source: Dataset | None = None,
) -> Any | None:
    algorithm_id = hd.sr.AlgorithmIdentification(
        name=algorithm.name, version=algorithm.version, parameters=list(algorithm.parameters.values()) or None
    )
    measurements = []
    for key in keys if keys is not None else [k for k in scores if k != "predicted_class"]:
        value = _finite(scores.get(key))
        if value is not None:
            measurements.append(
                hd.sr.Measurement(
                    name=classifier_score_code(key),
                    value=min(max(value, 0.0), 1.0),
                    unit=_NO_UNITS,
                    algorithm_id=algorithm_id,
                )
            )
    predicted = _CLASS_VALUES.get(str(scores.get("predicted_class", "")).lower())
    evaluations = [hd.sr.QualitativeEvaluation(_PREDICTED_CLASS, predicted)] if predicted else []
    if not measurements and not evaluations:
        return None
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=identifier[:64]),
        algorithm_id=algorithm_id,
        finding_sites=[hd.sr.FindingSite(anatomic_location=BREAST, laterality=laterality)],
        measurements=measurements or None,
        qualitative_evaluations=evaluations or None,
        source_images=None
        if source is None
        else [hd.sr.SourceImageForMeasurementGroup.from_source_image(source)],
    )


def classifier_score_groups(
    images: Sequence[ImageFindings], scores: ClassifierScores | None, algorithm: DerivedAlgorithm
) -> list[Any]:
    """The TID 1501 measurement groups of the classifier's scores: per image with scores (referencing it),
    per breast and for the exam (both breasts as its site).

    Args:
        images: the exam's images; their :attr:`ImageFindings.scores`.
        scores: the breast and exam scores (``None``: image scores only).
        algorithm: the classifier when ``scores`` names none.

    Returns:
        The groups (``highdicom.sr.MeasurementsAndQualitativeEvaluations``).
    """
    hd = require_highdicom()
    if scores is not None and scores.algorithm is not None:
        algorithm = scores.algorithm
    groups = []
    for image in images:
        label = image.name or view_text(image.source) or str(image.source.SOPInstanceUID)
        groups.append(
            _score_group(
                hd,
                f"{label} classifier",
                image.scores,
                None,
                algorithm,
                laterality_code(image.source),
                image.source,
            )
        )
    if scores is not None:
        for side, values in scores.breasts.items():
            name = f"breast {side} classifier"
            groups.append(_score_group(hd, name, values, scores.keys, algorithm, _SIDES.get(str(side))))
        groups.append(_score_group(hd, "exam classifier", scores.exam, scores.keys, algorithm, _BOTH_SIDES))
    return [group for group in groups if group is not None]


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _measurements(hd: Any, area_mm2: Any, probability: Any, algorithm_id: Any) -> list[Any]:
    out = []
    area = _finite(area_mm2)
    if area is not None:
        out.append(hd.sr.Measurement(name=_AREA, value=area, unit=_SQUARE_MM, algorithm_id=algorithm_id))
    prob = _finite(probability)
    if prob is not None:
        out.append(
            hd.sr.Measurement(
                name=_PROBABILITY,
                value=min(max(prob, 0.0), 1.0),
                unit=_NO_UNITS,
                derivation=_MAXIMUM,
                algorithm_id=algorithm_id,
            )
        )
    return out


def _image_groups(hd: Any, image: ImageFindings, algorithm: DerivedAlgorithm) -> list[Any]:
    source = image.source
    _, finding = lesion_class_code(image.lesion_class)
    side = laterality_code(source)
    sites = [hd.sr.FindingSite(anatomic_location=BREAST, laterality=side)]
    algorithm_id = hd.sr.AlgorithmIdentification(name=algorithm.name, version=algorithm.version)
    label = image.name or view_text(source) or str(source.SOPInstanceUID)
    groups = []
    for row in image.lesions:
        r0, c0, r1, c1 = (float(row[k]) for k in ("bbox_row0", "bbox_col0", "bbox_row1", "bbox_col1"))
        # SCOORD (column, row), (0, 0) the top left corner of the top left pixel: the end-exclusive box
        outline = np.array([[c0, r0], [c1, r0], [c1, r1], [c0, r1], [c0, r0]], dtype=np.float32)
        region = hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=outline,
            source_image=hd.sr.SourceImageForRegion.from_source_image(source),
        )
        groups.append(
            hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=hd.UID(), identifier=f"{label} {image.lesion_class} {row.get('label', '')}".strip()
                ),
                referenced_region=region,
                finding_type=finding,
                finding_sites=sites,
                algorithm_id=algorithm_id,
                measurements=_measurements(hd, row.get("area_mm2"), row.get("max_prob"), algorithm_id),
            )
        )
    seg = image.segmentation
    if seg is not None:
        referenced = hd.sr.ReferencedSegmentationFrame(
            sop_class_uid=seg.SOPClassUID,
            sop_instance_uid=seg.SOPInstanceUID,
            frame_number=int(image.segment_number),
            segment_number=int(image.segment_number),
            source_image=hd.sr.SourceImageForSegmentation.from_source_image(source),
        )
        # the frame (one per segment, in segment order) names the segment: DICOM's Image SOP Instance
        # Reference Macro allows a Referenced Segment Number only without a Referenced Frame Number
        for item in referenced:
            for ref in item.get("ReferencedSOPSequence", []):
                if "ReferencedFrameNumber" in ref and "ReferencedSegmentNumber" in ref:
                    del ref.ReferencedSegmentNumber
        groups.append(
            hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=hd.UID(), identifier=f"{label} {image.lesion_class} segment"
                ),
                referenced_segment=referenced,
                finding_type=finding,
                finding_sites=sites,
                algorithm_id=algorithm_id,
                measurements=_measurements(hd, image.segment_area_mm2, image.segment_max_prob, algorithm_id),
            )
        )
    return groups


def _library_entry(source: Dataset) -> Dataset:
    """The header highdicom describes an image of the image library from (TID 1602).

    For a projection image highdicom adds the TID 1603 descriptors (Patient Orientation, Imager Pixel
    Spacing), whose rows DICOM makes optional but highdicom requires: for an image without a valid
    orientation or an Imager Pixel Spacing (CBIS-DDSM's digitised films have neither) they are left out, by
    describing a copy whose Modality is not a projection modality; the entry's coded modality comes from the
    SOP class and stays right.
    """
    if str(source.get("Modality", "")) not in {"CR", "DX", "IO", "MG", "PX", "RF", "RG", "XA"}:
        return source
    if isinstance(patient_orientation(source), list) and "ImagerPixelSpacing" in source:
        return source
    entry = copy.copy(source)
    entry.Modality = "OT"
    return entry


def exam_measurement_report(
    images: Sequence[ImageFindings],
    algorithm: DerivedAlgorithm | None = None,
    series_instance_uid: str | None = None,
    series_number: int = SR_SERIES_NUMBER,
    sop_instance_uid: str | None = None,
    instance_number: int = 1,
    scores: ClassifierScores | None = None,
) -> Dataset:
    """A TID 1500 Measurement Report (Comprehensive 3D SR) of the findings of one exam's images.

    Args:
        images: the exam's images and their findings; all of one study.
        algorithm: the algorithm that made the findings (the observer device and each group's algorithm).
        series_instance_uid: the SR series (new when ``None``).
        series_number: the SR's Series Number.
        sop_instance_uid: new when ``None``.
        instance_number: the SR's Instance Number.
        scores: the classifier's breast and exam scores (:func:`classifier_score_groups`; the image scores
            are the images' :attr:`ImageFindings.scores`).

    Returns:
        The ``highdicom.sr.Comprehensive3DSR`` (a pydicom Dataset).

    Raises:
        ValueError: when ``images`` is empty or spans several studies.
        ImportError: without highdicom.
    """
    hd = require_highdicom()
    algorithm = algorithm or DerivedAlgorithm()
    if not images:
        raise ValueError("images: an exam report needs at least one image.")
    studies = {str(image.source.StudyInstanceUID) for image in images}
    if len(studies) != 1:
        raise ValueError(f"images: one exam (study) per report, got {len(studies)}: {sorted(studies)}.")
    observer = hd.sr.ObserverContext(
        observer_type=_DEVICE,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(),
            name=algorithm.name[:64],
            manufacturer_name="monai_mammo",
            model_name=f"{algorithm.name} {algorithm.version}"[:64],
        ),
    )
    groups = [group for image in images for group in _image_groups(hd, image, algorithm)]
    groups += classifier_score_groups(images, scores, algorithm)
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=_MAMMOGRAPHY,
        imaging_measurements=groups,
        referenced_images=[_library_entry(image.source) for image in images],
    )
    evidence = [image.source for image in images]
    evidence += [image.segmentation for image in images if image.segmentation is not None]
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=series_instance_uid or hd.UID(),
        series_number=int(series_number),
        sop_instance_uid=sop_instance_uid or hd.UID(),
        instance_number=int(instance_number),
        manufacturer="monai_mammo",
        is_complete=True,
    )
    sr.SeriesDescription = f"AI lesion findings ({algorithm.name} {algorithm.version})"[:64]
    return sr


def write_dicom_sr(
    path: str | os.PathLike[str], images: Sequence[ImageFindings], **kwargs: Any
) -> tuple[Path, Dataset]:
    """Make an exam's report with :func:`exam_measurement_report` and write it to ``path`` atomically.

    Args:
        path: the file to write.
        images: the exam's images and their findings.
        kwargs: passed to :func:`exam_measurement_report`.

    Returns:
        The path written and the SR.
    """
    sr = exam_measurement_report(images, **kwargs)
    return write_dataset(path, sr), sr
