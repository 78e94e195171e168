"""Write a :class:`~monai_mammo.data.phantom.Phantom` as a DICOM Digital Mammography X-Ray image.

The file is a valid "Digital Mammography X-Ray Image Storage - For Presentation" instance (Modality
``MG``, 16 bits allocated / 12 stored, laterality, view code, pixel spacing, window), with every UID
derived from the phantom's seed and id, so the same phantom always gives the same bytes. MONOCHROME1
(stored inverted) and the compressed transfer syntaxes that pydicom can encode (RLE Lossless natively,
JPEG 2000 Lossless with ``pylibjpeg-openjpeg``) are options, to exercise readers.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    UID,
    DigitalMammographyXRayImageStorageForPresentation,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from monai_mammo.utils.enums import Laterality, PhotometricInterpretation, ViewPosition

from .generator import MAX_VALUE, Phantom

_PYDICOM_MAJOR = int(pydicom.__version__.split(".")[0])

MANUFACTURER = "monai_mammo phantom"
"""The Manufacturer (0008,0070) of every phantom file."""

_VIEW_CODES = {
    ViewPosition.CC: ("399162004", "cranio-caudal"),
    ViewPosition.MLO: ("399368009", "medio-lateral oblique"),
}
# Patient Orientation (row direction, column direction) of the stored image: a LEFT breast with the chest
# wall on the left has its rows running anterior (towards the nipple); a RIGHT one, posterior.
_ORIENTATION = {
    (Laterality.LEFT, ViewPosition.CC): ["A", "R"],
    (Laterality.LEFT, ViewPosition.MLO): ["A", "FR"],
    (Laterality.RIGHT, ViewPosition.CC): ["P", "L"],
    (Laterality.RIGHT, ViewPosition.MLO): ["P", "FL"],
}


_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/monai_mammo/phantom")


def _uid(*parts: object) -> UID:
    """A ``2.25.<uuid>`` UID from a name-based (version 5) UUID of the parts: the same parts, the same UID."""
    name = "/".join(str(p) for p in parts)
    return UID(f"2.25.{uuid.uuid5(_UID_NAMESPACE, name).int}")


def _ds(value: float) -> str:
    """A Decimal String of at most 16 characters."""
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.6g}"


def _code(value: str, meaning: str, scheme: str = "SCT") -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _parse_photometric(photometric: PhotometricInterpretation | str) -> PhotometricInterpretation:
    try:
        parsed = PhotometricInterpretation(str(photometric).strip().upper())
    except ValueError:
        parsed = PhotometricInterpretation.UNKNOWN
    if parsed == PhotometricInterpretation.UNKNOWN:
        raise ValueError(f"photometric must be 'MONOCHROME1' or 'MONOCHROME2', got {photometric!r}.")
    return parsed


def _parse_transfer_syntax(transfer_syntax: str) -> UID:
    uid = UID(str(transfer_syntax))
    if not uid.is_valid or not uid.is_transfer_syntax:
        raise ValueError(f"transfer_syntax must be a DICOM transfer syntax UID, got {transfer_syntax!r}.")
    if uid == ExplicitVRBigEndian:
        raise ValueError("transfer_syntax Explicit VR Big Endian is retired; use a little-endian syntax.")
    if uid.is_compressed and not uid.is_encapsulated:
        raise ValueError(
            f"transfer_syntax {uid.name} (deflated) is not supported; use RLE Lossless or native."
        )
    return uid


def window_for(phantom: Phantom) -> tuple[float, float]:
    """Window (centre, width) over the breast: its 0.5th to 99.5th intensity percentiles.

    Args:
        phantom: the phantom.

    Returns:
        ``(centre, width)`` in stored MONOCHROME2 values.
    """
    values = phantom.image[phantom.breast_mask.astype(bool)]
    if values.size == 0:
        values = phantom.image.ravel()
    counts = np.bincount(values.ravel(), minlength=MAX_VALUE + 1)
    cumulative = np.cumsum(counts) / max(values.size, 1)
    low = float(np.searchsorted(cumulative, 0.005))
    high = float(np.searchsorted(cumulative, 0.995))
    width = max(high - low, 1.0)
    return round(low + width / 2.0, 1), round(width, 1)


def phantom_to_dicom(
    phantom: Phantom,
    *,
    photometric: PhotometricInterpretation | str = PhotometricInterpretation.MONOCHROME2,
    transfer_syntax: str = ExplicitVRLittleEndian,
    window: bool = True,
    study_date: str = "20240101",
    laterality_tags: str = "image",
) -> Dataset:
    """Build the DICOM MG dataset of a phantom (file meta included), without writing it.

    Args:
        phantom: the phantom.
        photometric: ``"MONOCHROME2"`` (stored as is) or ``"MONOCHROME1"`` (stored inverted,
            ``4095 - value``, so that a reader must invert it back).
        transfer_syntax: ``ExplicitVRLittleEndian``, ``ImplicitVRLittleEndian``, ``RLELossless``, or any
            encapsulated syntax pydicom can encode here (e.g. ``JPEG2000Lossless`` with
            ``pylibjpeg-openjpeg``).
        window: write Window Center/Width (0.5-99.5 % of the breast), VOI LUT Function ``LINEAR``.
        study_date: Study/Content/Acquisition date (``YYYYMMDD``).
        laterality_tags: where the breast side goes: ``"image"`` (Image Laterality, as the MG IOD
            asks), ``"series"`` (Laterality only, as in CBIS-DDSM, to exercise a reader's fallback) or
            ``"both"`` (as some vendors write; the series Laterality is then, strictly, not allowed).

    Returns:
        The :class:`pydicom.dataset.Dataset` (its ``file_meta`` set), ready for ``save_as``.

    Raises:
        ValueError: a bad photometric interpretation or transfer syntax, or a transfer syntax for which
            no encoder is installed (the message names the package to install).
    """
    photometric = _parse_photometric(photometric)
    uid = _parse_transfer_syntax(transfer_syntax)
    if laterality_tags not in ("image", "series", "both"):
        raise ValueError(f"laterality_tags must be 'image', 'series' or 'both', got {laterality_tags!r}.")
    rows, cols = phantom.shape
    image = np.asarray(phantom.image)
    if image.dtype != np.uint16 or int(image.max(initial=0)) > MAX_VALUE:
        raise ValueError(f"phantom {phantom.image_id}: image must be uint16 within [0, {MAX_VALUE}].")
    stored = (
        (MAX_VALUE - image).astype(np.uint16)
        if photometric == PhotometricInterpretation.MONOCHROME1
        else image
    )
    instance_uid = _uid("instance", phantom.seed, phantom.image_id, photometric.value)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DigitalMammographyXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = instance_uid
    meta.TransferSyntaxUID = (
        uid if uid.is_encapsulated or uid == ImplicitVRLittleEndian else ExplicitVRLittleEndian
    )
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"PYDICOM {pydicom.__version__}"[:16]

    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = DigitalMammographyXRayImageStorageForPresentation
    ds.SOPInstanceUID = instance_uid
    # Patient and study.
    ds.PatientName = f"Phantom^{phantom.patient_id}"
    ds.PatientID = phantom.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "F"
    ds.StudyInstanceUID = _uid("study", phantom.seed, phantom.patient_id)
    ds.StudyDate = study_date
    ds.StudyTime = "120000"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "monai_mammo phantom screening exam"
    # Series and equipment.
    side_index = 0 if phantom.laterality == Laterality.LEFT else 1
    view_index = 0 if phantom.view == ViewPosition.CC else 1
    ds.Modality = "MG"
    ds.SeriesInstanceUID = _uid("series", phantom.seed, phantom.image_id)
    ds.SeriesNumber = 1 + 2 * side_index + view_index
    ds.SeriesDescription = f"{phantom.laterality.value} {phantom.view.value}"
    if laterality_tags in ("series", "both"):
        ds.Laterality = phantom.laterality.value
    ds.BodyPartExamined = "BREAST"
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = "monai_mammo"
    from monai_mammo import __version__

    ds.SoftwareVersions = __version__
    ds.InstitutionName = ""
    # Image.
    ds.InstanceNumber = 1
    ds.ContentDate = study_date
    ds.ContentTime = "120000"
    ds.AcquisitionDate = study_date
    ds.AcquisitionTime = "120000"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.DerivationDescription = "synthetic mammogram (monai_mammo.data.phantom)"
    ds.PatientOrientation = _ORIENTATION[(phantom.laterality, phantom.view)]
    if laterality_tags in ("image", "both"):
        ds.ImageLaterality = phantom.laterality.value
    ds.ViewPosition = phantom.view.value
    ds.ViewCodeSequence = DicomSequence([_code(*_VIEW_CODES[phantom.view])])
    ds.ViewCodeSequence[0].ViewModifierCodeSequence = DicomSequence([])
    ds.AnatomicRegionSequence = DicomSequence([_code("76752008", "Breast")])
    ds.AcquisitionContextSequence = DicomSequence([])
    ds.OrganExposed = "BREAST"
    ds.BreastImplantPresent = "NO"
    ds.PartialView = "NO"
    ds.PositionerType = "MAMMOGRAPHIC"
    ds.DetectorType = "DIRECT"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.ImageComments = (
        f"monai_mammo phantom seed={phantom.seed} patient={phantom.patient_index} "
        f"density={phantom.density.value} class={phantom.label} lesions={len(phantom.lesions)}"
    )
    spacing = [_ds(phantom.pixel_spacing[0]), _ds(phantom.pixel_spacing[1])]
    ds.PixelSpacing = spacing
    ds.ImagerPixelSpacing = spacing
    ds.EstimatedRadiographicMagnificationFactor = "1.0"
    # Pixel module.
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric.value
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = -1 if photometric == PhotometricInterpretation.MONOCHROME2 else 1
    ds.PresentationLUTShape = (
        "IDENTITY" if photometric == PhotometricInterpretation.MONOCHROME2 else "INVERSE"
    )
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    if window:
        centre, width = window_for(phantom)
        if photometric == PhotometricInterpretation.MONOCHROME1:
            centre = MAX_VALUE - centre
        ds.WindowCenter = _ds(centre)
        ds.WindowWidth = _ds(width)
        ds.VOILUTFunction = "LINEAR"
        ds.WindowCenterWidthExplanation = "BREAST"
    ds.PixelData = stored.astype("<u2", copy=False).tobytes()
    if uid.is_encapsulated:
        try:
            if _PYDICOM_MAJOR >= 3:
                ds.compress(uid, stored, generate_instance_uid=False)
            else:  # pydicom 2.4 (MONAI Label environments) keeps the instance UID
                ds.compress(uid, stored)
        except (RuntimeError, NotImplementedError, ValueError) as e:
            raise ValueError(
                f"phantom {phantom.image_id}: cannot encode transfer syntax {uid.name} ({e}). "
                "Fix: install an encoder (pip install 'monai_mammo[dicom]') "
                "or use ExplicitVRLittleEndian / RLELossless."
            ) from e
        ds.file_meta.TransferSyntaxUID = uid
    return ds


def write_phantom_dicom(
    phantom: Phantom,
    path: str | os.PathLike[str],
    *,
    photometric: PhotometricInterpretation | str = PhotometricInterpretation.MONOCHROME2,
    transfer_syntax: str = ExplicitVRLittleEndian,
    window: bool = True,
    study_date: str = "20240101",
    laterality_tags: str = "image",
) -> Path:
    """Write a phantom as a DICOM MG file, atomically (temporary file in the same folder, then rename).

    Args:
        phantom: the phantom.
        path: the file to write (its folder is created).
        photometric: ``"MONOCHROME2"`` or ``"MONOCHROME1"`` (stored inverted).
        transfer_syntax: see :func:`phantom_to_dicom`.
        window: write a window (Window Center/Width).
        study_date: the study date (``YYYYMMDD``).
        laterality_tags: ``"image"``, ``"series"`` or ``"both"`` (see :func:`phantom_to_dicom`).

    Returns:
        The path written.

    Raises:
        ValueError: see :func:`phantom_to_dicom`.
    """
    from monai_mammo.io import atomic_write_bytes

    ds = phantom_to_dicom(
        phantom,
        photometric=photometric,
        transfer_syntax=transfer_syntax,
        window=window,
        study_date=study_date,
        laterality_tags=laterality_tags,
    )
    buffer = io.BytesIO()
    if _PYDICOM_MAJOR >= 3:
        ds.save_as(buffer, enforce_file_format=True)
    else:
        ds.save_as(buffer, write_like_original=False)
    return atomic_write_bytes(path, buffer.getvalue())
