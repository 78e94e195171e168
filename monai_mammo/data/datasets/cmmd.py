"""CMMD: The Chinese Mammography Database (TCIA), 1,775 patients, biopsy-confirmed benign or malignant.

Layout (TCIA download)::

    CMMD_clinicaldata_revision.xlsx (or a CSV export)   ID1, LeftRight, Age, number, abnormality,
                                                         classification (Benign / Malignant), subtype
    CMMD/<ID1>/<study>/<series>/1-1.dcm, 1-2.dcm, ...

One clinical row per breast with a lesion; the DICOM files carry the patient (``PatientID`` = ID1), the
breast (``ImageLaterality``) and the view (``ViewCodeSequence``: SNOMED 399162004 cranio-caudal,
399368009 medio-lateral oblique; or ``ViewPosition``), so images are matched to rows by (patient, breast).
An image whose breast has no row is kept with ``pathology`` ``"UNKNOWN"`` and reported. Reading the ``.xlsx``
needs ``openpyxl`` (``pip install openpyxl``), or save the sheet as CSV. There is no official split.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.files import FileIndex, find_files, read_dicom_header
from monai_mammo.data.datasets.records import (
    UNKNOWN,
    DatasetLayoutError,
    ImageRecord,
    ScanResult,
    pathology_fields,
)
from monai_mammo.data.errors import MammoReadError
from monai_mammo.utils.enums import Laterality, ViewPosition

INFO = {
    "name": "CMMD",
    "description": "The Chinese Mammography Database: 3,728 mammograms (CC/MLO) of 1,775 patients with "
    "biopsy-confirmed benign or malignant lesions and, for part of them, molecular subtypes.",
    "reference": "Cui C, Li L, Cai H, et al. The Chinese Mammography Database (CMMD): An online mammography "
    "database with biopsy confirmed types for machine diagnosis of breast. The Cancer Imaging "
    "Archive (2021). "
    "https://doi.org/10.7937/tcia.eqde-4b16",
    "licence": "CC BY 4.0 (TCIA CMMD)",
    "url": "https://www.cancerimagingarchive.net/collection/cmmd/",
}
VIEW_CODES = {"399162004": "CC", "399368009": "MLO", "399260004": "ML", "399352003": "LM"}
_PATIENT_FOLDER = re.compile(r"^D\d-\d{4}$", re.IGNORECASE)


def _find_clinical(root: Path) -> Path:
    def is_table(name: str) -> bool:
        return "clinicaldata" in name.lower() and name.lower().endswith((".xlsx", ".csv"))

    found = list(find_files(root, is_table, max_depth=1))
    if not found:
        raise DatasetLayoutError(
            f"{root}: CMMD_clinicaldata_revision.xlsx (or .csv) not found. Fix: put the clinical "
            "table from TCIA "
            "next to the CMMD folder, or pass clinical=."
        )
    return sorted(found, key=lambda p: (p.suffix.lower() != ".xlsx", p.name))[0]


def _read_clinical(path: Path):
    import pandas as pd

    try:
        if path.suffix.lower() == ".xlsx":
            from monai.utils import optional_import

            _, has_openpyxl = optional_import("openpyxl")
            if not has_openpyxl:
                raise DatasetLayoutError(
                    f"{path}: reading .xlsx needs openpyxl. Fix: pip install openpyxl, or save the "
                    "sheet as CSV."
                )
            frame = pd.read_excel(path, dtype=str)
        else:
            frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    except DatasetLayoutError:
        raise
    except Exception as e:
        raise DatasetLayoutError(f"{path}: cannot be read ({type(e).__name__}: {e}).") from e
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("id1", "leftright", "classification") if c not in frame.columns]
    if missing:
        raise DatasetLayoutError(
            f"{path}: missing columns {', '.join(missing)} (expected ID1, LeftRight, ...)."
        )
    return frame.fillna("")


def _view(header) -> str:
    for item in header.get("ViewCodeSequence", []) or []:
        code = str(item.get("CodeValue", "")).strip()
        if code in VIEW_CODES:
            return VIEW_CODES[code]
        meaning = ViewPosition.parse(item.get("CodeMeaning", ""))
        if meaning != ViewPosition.UNKNOWN:
            return str(meaning)
    return str(ViewPosition.parse(header.get("ViewPosition", "")))


def scan_cmmd(root: str | os.PathLike[str], clinical: str | os.PathLike[str] | None = None) -> ScanResult:
    """Read CMMD into image records (benign / malignant per breast, abnormality, subtype, age).

    Args:
        root: the download folder (the clinical table and the ``CMMD`` DICOM tree).
        clinical: the clinical table (``.xlsx`` or ``.csv``) to read instead of the one found in ``root``.

    Returns:
        One record per DICOM file whose header is readable.

    Raises:
        DatasetLayoutError: no clinical table, a table without ``ID1``/``LeftRight``/``classification``, or no
            DICOM file.
    """
    root = Path(root)
    table = Path(clinical) if clinical is not None else _find_clinical(root)
    frame = _read_clinical(table)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in frame.to_dict("records"):
        patient = str(row["id1"]).strip()
        side = str(Laterality.parse(row["leftright"]))
        if patient:
            rows[(patient.upper(), side)] = row
    result = ScanResult(info=dict(INFO))
    files = FileIndex(root, suffixes=(".dcm",)).files
    if not files:
        raise DatasetLayoutError(
            f"{root}: no .dcm file found (expected CMMD/<ID1>/<study>/<series>/1-1.dcm)."
        )
    keys: set[str] = set()
    for path in files:
        try:
            header = read_dicom_header(path)
        except MammoReadError as e:
            result.add_issue("unreadable", str(e), image=str(path))
            continue
        folder = next((p for p in path.relative_to(root).parts if _PATIENT_FOLDER.match(p)), "")
        patient = (str(header.get("PatientID", "")).strip() or folder).upper()
        if not patient:
            result.add_issue("no_patient_id", f"{path}: no PatientID and no D1-/D2- folder.", image=str(path))
            continue
        laterality = Laterality.parse(header.get("ImageLaterality", "") or header.get("Laterality", ""))
        view = _view(header)
        row = rows.get((patient, str(laterality)))
        if row is None:
            result.add_issue(
                "no_clinical_row",
                f"{path}: no clinical row for {patient} {laterality}: pathology UNKNOWN.",
                image=str(path),
            )
            pathology = UNKNOWN
        else:
            classification = str(row.get("classification", "")).strip().lower()
            pathology = classification if classification in ("benign", "malignant") else UNKNOWN
        age = str((row or {}).get("age", "")).strip()
        key = f"{patient}_{laterality}_{view}"
        n = 2
        while key in keys:
            key = f"{patient}_{laterality}_{view}_{n}"
            n += 1
        keys.add(key)
        fields: dict[str, Any] = {
            "dataset": "cmmd",
            "image_id": key,
            "laterality": str(laterality),
            "view": view,
            **pathology_fields(pathology),
            "birads": UNKNOWN,
            "density": UNKNOWN,
            "abnormality": str((row or {}).get("abnormality", "")).strip() or UNKNOWN,
            "subtype": str((row or {}).get("subtype", "")).strip() or UNKNOWN,
            "age": int(float(age)) if age.replace(".", "", 1).isdigit() else -1,
        }
        result.records.append(
            ImageRecord(
                key=key, image=str(path.resolve()), patient_id=patient, fields=fields, stratum=fields["class"]
            )
        )
    return result


__all__ = ["VIEW_CODES", "scan_cmmd"]
