"""INbreast: 410 FFDM images (115 cases) from Porto with BI-RADS, ACR density and contoured lesions.

Layout as distributed::

    INbreast.csv         semicolon-separated, with the columns
                         Patient ID;Patient age;Laterality;View;Acquisition date;File Name;ACR;Bi-Rads
    AllDICOMs/<file id>_<patient hash>_MG_<L|R>_<CC|ML|MLO>_ANON.dcm
    AllXML/<file id>.xml  OsiriX ROI plist: Images -> ROIs -> Name, NumberOfPoints, Point_px ["(x, y)", ...]

The CSV's ``Patient ID`` is anonymised away, so the patient is the hash in the DICOM file name. ROIs become
filled polygons (ROIs of one or two points, typical of single calcifications, become small discs); an image
without an XML file has no annotated finding and gets an empty mask; ROIs named like the pectoral muscle are
not lesions and are left out. There is no pathology (no biopsy results in the table): ``pathology`` is
``"UNKNOWN"`` and the split (there is no official one) stratifies by BI-RADS (``"4a"``, ``"4b"``,
``"4c"`` kept as text).
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.files import FileIndex, find_files
from monai_mammo.data.datasets.masks import EmptyMask, MaskSpec, PolygonMask
from monai_mammo.data.datasets.records import (
    UNKNOWN,
    DatasetLayoutError,
    ImageRecord,
    ScanResult,
    birads_rank,
    birads_text,
    density_letter,
    pathology_fields,
)

INFO = {
    "name": "INbreast",
    "description": "INbreast: 410 full-field digital mammograms (CC/MLO) of 115 cases with BI-RADS, "
    "ACR density "
    "and expert contours of masses, calcifications, asymmetries and distortions.",
    "reference": "Moreira IC, Amaral I, Domingues I, Cardoso A, Cardoso MJ, Cardoso JS. INbreast: toward a "
    "full-field digital mammographic database. Acad Radiol 19(2):236-248 (2012).",
    "licence": "Research use under the INbreast data use agreement (request from the authors, "
    "University of Porto)",
    "url": "https://doi.org/10.1016/j.acra.2011.09.014",
}
_POINT = re.compile(r"\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*(?:,\s*[-+0-9.eE]+\s*)?\)")
DICOM_NAME = re.compile(r"^(\d+)_([0-9a-fA-F]+)_MG_([LR])_([A-Z]+)_ANON$", re.IGNORECASE)
"""An INbreast DICOM's file stem ``<file id>_<patient hash>_MG_<L|R>_<view>_ANON`` (groups 1 to 4)."""
EXCLUDED_ROI_WORDS = ("pectoral",)


def read_inbreast_rois(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The ROIs of an INbreast (OsiriX plist) XML file.

    Args:
        path: the XML file.

    Returns:
        ``[{"name": "Mass", "points": [(x, y), ...]}, ...]`` in pixel coordinates (x = column, y = row).

    Raises:
        ValueError: the file is not an OsiriX ROI plist.
    """
    try:
        with open(path, "rb") as handle:
            data = plistlib.load(handle, fmt=plistlib.FMT_XML)
    except Exception as e:  # expat and plistlib raise several types
        raise ValueError(f"{path}: not an OsiriX ROI plist ({type(e).__name__}: {e}).") from e
    images = data.get("Images", []) if isinstance(data, dict) else []
    rois = []
    for image in images:
        for roi in image.get("ROIs", []) if isinstance(image, dict) else []:
            points = []
            for text in roi.get("Point_px", []) or []:
                match = _POINT.search(str(text))
                if match:
                    points.append((float(match.group(1)), float(match.group(2))))
            rois.append({"name": str(roi.get("Name", "")).strip(), "points": points})
    return rois


def _read_table(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        if frame.shape[1] == 1:
            frame = pd.read_csv(path, sep=",", dtype=str, keep_default_na=False)
    except Exception as e:
        raise DatasetLayoutError(
            f"{path}: cannot be read as the INbreast table ({type(e).__name__}: {e})."
        ) from e
    frame.columns = [re.sub(r"\s+", " ", str(c).strip().lower()) for c in frame.columns]
    if "file name" not in frame.columns:
        raise DatasetLayoutError(
            f"{path}: no 'File Name' column; expected 'Patient ID;Patient "
            "age;Laterality;View;Acquisition date;"
            "File Name;ACR;Bi-Rads'."
        )
    return frame


def _find_table(root: Path) -> Path:
    found = next(find_files(root, lambda name: name.lower() == "inbreast.csv", max_depth=2), None)
    if found is not None:
        return found
    raise DatasetLayoutError(
        f"{root}: INbreast.csv not found (the semicolon-separated table; save INbreast.xls as CSV if "
        "you only have "
        "the spreadsheet). Fix: point --root at the INbreast folder, or pass table=."
    )


def scan_inbreast(root: str | os.PathLike[str], table: str | os.PathLike[str] | None = None) -> ScanResult:
    """Read INbreast into image records (polygon masks from the XML ROIs, BI-RADS, ACR density).

    Args:
        root: the INbreast folder (``INbreast.csv``, ``AllDICOMs/``, ``AllXML/``).
        table: the CSV table to read instead of ``root/**/INbreast.csv``.

    Returns:
        One record per table row whose DICOM exists.

    Raises:
        DatasetLayoutError: no table, or a table without a ``File Name`` column.
    """
    root = Path(root)
    table_path = Path(table) if table is not None else _find_table(root)
    frame = _read_table(table_path)
    result = ScanResult(info={**INFO, "labels": {"0": "background", "1": "lesion"}})
    dicoms: dict[str, tuple[Path, re.Match[str] | None]] = {}
    for path in FileIndex(root, suffixes=(".dcm",)).files:
        match = DICOM_NAME.match(path.stem)
        file_id = match.group(1) if match else path.stem.split("_")[0]
        dicoms.setdefault(file_id, (path, match))
    xmls = {p.stem: p for p in FileIndex(root, suffixes=(".xml",)).files}
    listed = set()
    for idx, row in enumerate(frame.to_dict("records")):
        file_id = str(row.get("file name", "")).strip()
        if file_id.endswith(".0"):
            file_id = file_id[:-2]
        if not file_id.isdigit():
            continue  # blank or footer lines
        listed.add(file_id)
        source = f"{table_path.name}:{idx + 2}"
        if file_id not in dicoms:
            result.add_issue("missing_image", f"{source}: no DICOM named {file_id}_*.dcm.", image=file_id)
            continue
        path, match = dicoms[file_id]
        patient = match.group(2) if match else str(row.get("patient id", "")).strip()
        if not patient or patient.lower() == "removed":
            patient = file_id
            result.add_issue("no_patient_id", f"{source}: no patient hash in {path.name}; patient = file id.")
        laterality = str(row.get("laterality", "")).strip().upper() or (
            match.group(3).upper() if match else ""
        )
        view = str(row.get("view", "")).strip().upper() or (match.group(4).upper() if match else "")
        mask: MaskSpec | None = EmptyMask()
        names: list[str] = []
        if file_id in xmls:
            try:
                rois = read_inbreast_rois(xmls[file_id])
            except ValueError as e:
                result.add_issue("bad_xml", str(e), image=str(path))
                mask = None
                rois = []
            lesions = [r for r in rois if not any(w in r["name"].lower() for w in EXCLUDED_ROI_WORDS)]
            names = list(dict.fromkeys(r["name"] or UNKNOWN for r in lesions))
            if mask is not None and lesions:
                mask = PolygonMask(tuple(tuple(r["points"]) for r in lesions if r["points"]))
        birads = birads_text(row.get("bi-rads"))
        age = str(row.get("patient age", "")).strip()
        fields: dict[str, Any] = {
            "dataset": "inbreast",
            "image_id": file_id,
            "laterality": laterality or UNKNOWN,
            "view": view or UNKNOWN,
            **pathology_fields(UNKNOWN),
            "birads": birads,
            "density": density_letter(row.get("acr")),
            "findings": ";".join(names) or "No Finding",
            "n_lesions": len(mask.polygons) if isinstance(mask, PolygonMask) else 0,
            "age": int(age) if age.isdigit() else -1,
        }
        result.records.append(
            ImageRecord(
                key=file_id,
                image=str(path.resolve()),
                patient_id=patient,
                fields=fields,
                mask=mask,
                stratum=birads_rank(birads),
            )
        )
    for file_id, (path, _) in sorted(dicoms.items()):
        if file_id not in listed:
            result.add_issue(
                "unlisted_image", f"{path.name} has no row in {table_path.name}: skipped.", image=str(path)
            )
    return result


__all__ = ["DICOM_NAME", "read_inbreast_rois", "scan_inbreast"]
