"""Enums for the DICOM strings and metadata keys a mammography pipeline relies on.

DICOM strings become enums on entry (as highdicom does), so that a bad value fails at once and the
rest of the code compares enum members rather than free text. Every enum has an ``UNKNOWN`` member:
readers never guess silently, they mark what they could not find.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A string enum whose ``str()`` is its value (Python 3.10 has no ``enum.StrEnum``)."""

    def __str__(self) -> str:
        return str(self.value)


class Laterality(StrEnum):
    """Which breast an image shows (DICOM ImageLaterality / Laterality: ``L``, ``R``)."""

    LEFT = "L"
    RIGHT = "R"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: object) -> Laterality:
        """Map DICOM codes and free text (``L``, ``LEFT``, ``r``, ``right``) to a member, else ``UNKNOWN``."""
        text = str(value or "").strip().upper()
        if text in ("L", "LEFT"):
            return cls.LEFT
        if text in ("R", "RIGHT"):
            return cls.RIGHT
        return cls.UNKNOWN


class ViewPosition(StrEnum):
    """Mammographic view (DICOM ViewPosition, or the ViewCodeSequence meaning)."""

    CC = "CC"
    MLO = "MLO"
    ML = "ML"
    LM = "LM"
    LMO = "LMO"
    XCCL = "XCCL"
    XCCM = "XCCM"
    FB = "FB"
    SIO = "SIO"
    AT = "AT"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: object) -> ViewPosition:
        """The member for a ViewPosition or code meaning (``cranio-caudal``, ``medio-lateral oblique``)."""
        text = str(value or "").strip().upper().replace("_", "-")
        if text in cls.__members__ and text != "UNKNOWN":
            return cls[text]
        meanings = {
            "CRANIO-CAUDAL": cls.CC,
            "CRANIOCAUDAL": cls.CC,
            "MEDIO-LATERAL OBLIQUE": cls.MLO,
            "MEDIOLATERAL OBLIQUE": cls.MLO,
            "MEDIO-LATERAL": cls.ML,
            "MEDIOLATERAL": cls.ML,
            "LATERO-MEDIAL": cls.LM,
            "LATEROMEDIAL": cls.LM,
            "LATERO-MEDIAL OBLIQUE": cls.LMO,
            "EXAGGERATED CRANIO-CAUDAL": cls.XCCL,
            "CRANIO-CAUDAL EXAGGERATED LATERALLY": cls.XCCL,
            "CRANIO-CAUDAL EXAGGERATED MEDIALLY": cls.XCCM,
            "FROM BELOW": cls.FB,
            "SUPEROLATERAL TO INFEROMEDIAL OBLIQUE": cls.SIO,
            "AXILLARY TAIL": cls.AT,
        }
        return meanings.get(text, cls.UNKNOWN)


class PhotometricInterpretation(StrEnum):
    """Grey-scale photometric interpretations a mammogram may carry."""

    MONOCHROME1 = "MONOCHROME1"  # minimum value is white: must be inverted
    MONOCHROME2 = "MONOCHROME2"  # minimum value is black
    UNKNOWN = "UNKNOWN"


class PresentationIntent(StrEnum):
    """DICOM PresentationIntentType: processed for display, or raw detector data."""

    FOR_PRESENTATION = "FOR PRESENTATION"
    FOR_PROCESSING = "FOR PROCESSING"
    UNKNOWN = "UNKNOWN"


class VoiMode(StrEnum):
    """How a reader maps stored values to output intensities.

    - ``RAW``: modality values (Rescale Slope/Intercept applied; MONOCHROME1 inverted), float32.
    - ``WINDOW``: the file's VOI LUT or first window (LINEAR, LINEAR_EXACT, SIGMOID) to [0, 1];
      falls back to ``FULL_RANGE`` when the file has none (the applied mode is recorded in metadata).
    - ``FULL_RANGE``: modality values min-max scaled to [0, 1].
    """

    RAW = "raw"
    WINDOW = "window"
    FULL_RANGE = "full_range"


class Pathology(StrEnum):
    """Pathology of a lesion, or the worst one of an image or breast (``NORMAL``: no lesion).

    ``class_index`` is the ``"class"`` number of every datalist in the project (importers, phantom, bundles).
    """

    NORMAL = "normal"
    BENIGN = "benign"
    MALIGNANT = "malignant"

    @property
    def class_index(self) -> int:
        """Class index used in datalists: normal 0, benign 1, malignant 2."""
        return {"normal": 0, "benign": 1, "malignant": 2}[self.value]

    @classmethod
    def from_index(cls, index: int) -> Pathology:
        """The member with class index ``index`` (0, 1, 2).

        Raises:
            ValueError: another index.
        """
        for member in cls:
            if member.class_index == index:
                return member
        raise ValueError(f"class index must be 0 (normal), 1 (benign) or 2 (malignant), got {index!r}.")


class MammoMetaKey(StrEnum):
    """Metadata keys every mammogram reader of this package fills in (values unknown: ``"UNKNOWN"``/NaN)."""

    LATERALITY = "laterality"  # Laterality value
    LATERALITY_SOURCE = "laterality_source"  # ImageLaterality | Laterality | text | image | unknown
    VIEW = "view_position"  # ViewPosition value
    PIXEL_SPACING = "pixel_spacing"  # [row_mm, column_mm]; [nan, nan] when unknown
    PRESENTATION_INTENT = "presentation_intent"  # PresentationIntent value
    MANUFACTURER = "manufacturer"  # free text or "UNKNOWN"
    PHOTOMETRIC = "photometric_interpretation"  # PhotometricInterpretation value
    VOI_MODE = "voi_mode"  # the VoiMode actually applied
    BITS_STORED = "bits_stored"  # int; 8 or 16 for PNG/TIFF


class InversionMetaKey(StrEnum):
    """Metadata keys that :class:`~monai_mammo.transforms.CorrectInvertedExport` writes (readers do not)."""

    INVERTED = "inverted_export"  # bool: the grey scale was judged inverted and has been reflected back
    SCORE = "inversion_score"  # float in [-1, 1] (> 0: looks inverted); NaN when the image was not measured
    SOURCE = "inversion_source"  # InversionSource value


class InversionSource(StrEnum):
    """Who decided whether an image's grey scale was inverted (see ``CorrectInvertedExport``).

    - ``IMAGE``: the image evidence (``inversion_score``), or no decision when it was within the margin;
    - ``OVERRIDE``: the caller (the ``inverted`` argument, or a data key of the dictionary version);
    - ``METADATA``: the reader knew the photometric interpretation (a DICOM read by ``MammoDicomReader``, a
      TIFF tagged MinIsWhite) and already returned the image with the breast bright.
    """

    IMAGE = "image"
    OVERRIDE = "override"
    METADATA = "metadata"
