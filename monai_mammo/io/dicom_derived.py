"""What the derived DICOM objects of this package (:mod:`.dicom_seg`, :mod:`.dicom_sr`) share: the coded
concepts of the lesion classes, the identity of the algorithm that made them, and the source image's header.

A derived object (a DICOM Segmentation, a Structured Report) is made only for a DICOM source image: it
belongs to that image's study, references its SOP instance and copies its patient and study attributes.
:func:`read_source_header` reads the header of a source file (no pixels) and tells a DICOM file from a PNG,
JPEG or NIfTI one, for which nothing is made. Every object is encoded to bytes and written with
:func:`monai_mammo.io.atomic_write_bytes` (:func:`write_dataset`): a PACS push or a reader never sees half
a file.

highdicom is an optional dependency (the ``pacs`` extra, included in ``dev``): :func:`require_highdicom`
raises a clear error naming the extra when it is missing.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pydicom
from monai.utils import optional_import
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sr.coding import Code

from monai_mammo.io.atomic import atomic_write_bytes

__all__ = [
    "LESION_CLASS_CODES",
    "DerivedAlgorithm",
    "laterality_code",
    "lesion_class_code",
    "read_source_header",
    "require_highdicom",
    "write_dataset",
]

_MORPHOLOGICALLY_ABNORMAL = Code("49755003", "SCT", "Morphologically Abnormal Structure")

LESION_CLASS_CODES: dict[str, tuple[Code, Code]] = {
    "lesion": (_MORPHOLOGICALLY_ABNORMAL, Code("52988006", "SCT", "Lesion")),
    "mass": (_MORPHOLOGICALLY_ABNORMAL, Code("4147007", "SCT", "Mass")),
    "calcification": (_MORPHOLOGICALLY_ABNORMAL, Code("129769006", "SCT", "Calcification Cluster")),
    "architectural_distortion": (
        _MORPHOLOGICALLY_ABNORMAL,
        Code("129792006", "SCT", "Architectural distortion of breast"),
    ),
}
"""Lesion class name (a bundle's ``channel_def``) -> (segmented property category, type), SNOMED CT codes of
DICOM CID 7150/7151. A model that finds "lesions" without saying which kind writes ``lesion``."""

BREAST = Code("76752008", "SCT", "Breast")
_LATERALITY = {"R": Code("24028007", "SCT", "Right"), "L": Code("7771000", "SCT", "Left")}


def lesion_class_code(name: str) -> tuple[Code, Code]:
    """The (category, type) codes of a lesion class.

    Args:
        name: a key of :data:`LESION_CLASS_CODES` (case-insensitive).

    Returns:
        The segmented property category and type.

    Raises:
        ValueError: for a class without codes.
    """
    key = str(name).strip().lower()
    if key not in LESION_CLASS_CODES:
        raise ValueError(f"lesion class must be one of {sorted(LESION_CLASS_CODES)}, got {name!r}.")
    return LESION_CLASS_CODES[key]


def laterality_code(source: Dataset) -> Code | None:
    """SNOMED CT "Right"/"Left" (DICOM CID 244) of a source image's Image Laterality (or series Laterality).

    Args:
        source: the source image's header.

    Returns:
        The code, or ``None`` when the laterality is absent or neither R nor L.
    """
    value = str(source.get("ImageLaterality") or source.get("Laterality") or "").strip().upper()
    return _LATERALITY.get(value)


def view_text(source: Dataset) -> str:
    """``"R MLO"``-like text of a source image's laterality and view (empty parts left out)."""
    laterality = str(source.get("ImageLaterality") or source.get("Laterality") or "").strip()
    view = str(source.get("ViewPosition") or "").strip()
    return " ".join(part for part in (laterality, view) if part)


_ORIENTATION = re.compile(r"[LRAPHF]+")


def patient_orientation(source: Dataset) -> list[str] | str:
    """The source's Patient Orientation when it is valid (two values of L, R, A, P, H, F), else empty.

    A derived image without a frame of reference must carry the source's orientation (Type 2C); CBIS-DDSM's
    films hold the view (``CC``) there instead, which is no orientation: the value is then left empty.
    """
    values = [str(v) for v in (source.get("PatientOrientation") or [])]
    if len(values) == 2 and all(_ORIENTATION.fullmatch(v) for v in values):
        return values
    return ""


@dataclass(frozen=True)
class DerivedAlgorithm:
    """The algorithm a derived object names: the bundle's name and version and this package's version.

    Args:
        name: the algorithm's name (a bundle's ``name`` in its metadata.json).
        version: the algorithm's version (the bundle's ``version``).
        software_version: the version of the software that ran it (``monai_mammo.__version__`` by default).
        parameters: further settings recorded with the algorithm (e.g. the threshold).
    """

    name: str = "monai_mammo"
    version: str = "unknown"
    software_version: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.software_version:
            from monai_mammo import __version__

            object.__setattr__(self, "software_version", __version__)

    @classmethod
    def from_metadata(
        cls, metadata_file: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None
    ) -> DerivedAlgorithm:
        """The algorithm of a bundle, from its ``configs/metadata.json`` (``name`` and ``version``).

        Args:
            metadata_file: the bundle's metadata.json.
            parameters: further settings to record (values become text).

        Returns:
            The algorithm.

        Raises:
            ValueError: when the file is not JSON or lacks ``name``/``version``.
        """
        path = Path(metadata_file)
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
            name, version = str(meta["name"]), str(meta["version"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}: a bundle metadata.json with 'name' and 'version' was expected.") from e
        params = {str(k): str(v) for k, v in (parameters or {}).items()}
        return cls(name=name, version=version, parameters=params)

    def software_versions(self) -> tuple[str, str]:
        """``("monai_mammo <version>", "<name> <version>")``: the Software Versions of a derived object."""
        return (f"monai_mammo {self.software_version}", f"{self.name} {self.version}"[:64])


def require_highdicom() -> ModuleType:
    """The ``highdicom`` module.

    Raises:
        ImportError: when highdicom is not installed, naming the extra that installs it.
    """
    hd, has = optional_import("highdicom")
    if not has:
        raise ImportError(
            "DICOM SEG/SR outputs need highdicom: pip install 'monai_mammo[pacs]' (or turn the bundle's "
            "dicom_outputs off)."
        )
    return hd


def read_source_header(path: str | os.PathLike[str]) -> Dataset | None:
    """The header (no pixel data) of a DICOM image file, or ``None`` for a file that is not DICOM.

    A DICOM file without a SOP Instance UID, Study Instance UID or Rows/Columns is no image a derived object
    can reference, and counts as not DICOM.

    Args:
        path: the source file.

    Returns:
        The header, or ``None``.
    """
    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError, EOFError):
        return None
    needed = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns")
    if not all(ds.get(k) for k in needed):
        return None
    return ds


def write_dataset(path: str | os.PathLike[str], dataset: Dataset) -> Path:
    """Encode a DICOM dataset (with its file meta) as a DICOM file and write it atomically.

    Args:
        path: the file to write.
        dataset: the dataset (a highdicom SOP class instance).

    Returns:
        The path written.
    """
    buffer = io.BytesIO()
    if int(pydicom.__version__.split(".")[0]) >= 3:
        pydicom.dcmwrite(buffer, dataset, enforce_file_format=True)
    else:  # pydicom 2, which MONAI Label's environment has: the same meaning under its old name
        pydicom.dcmwrite(buffer, dataset, write_like_original=False)
    return atomic_write_bytes(path, buffer.getvalue())
