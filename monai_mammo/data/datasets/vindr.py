"""VinDr-Mammo: 5,000 four-view FFDM exams from Vietnam with breast-level BI-RADS/density and finding boxes.

Layout (PhysioNet)::

    breast-level_annotations.csv   study_id, series_id, image_id, laterality, view_position, height, width,
                                   breast_birads ("BI-RADS 1".."BI-RADS 5"),
                                   breast_density ("DENSITY A".."DENSITY D"),
                                   split ("training" / "test")
    finding_annotations.csv        the same columns plus finding_categories (a Python list as text, e.g.
                                   "['Mass', 'Suspicious Calcification']" or "['No Finding']"),
                                   finding_birads, xmin, ymin, xmax, ymax (pixels; empty for no finding)
    images/<study_id>/<image_id>.dicom

There is no patient identifier beyond the study (one exam per woman), so ``patient_id`` is the study id;
the official split (by study) is kept. There is no pathology (no biopsy results): ``pathology`` is
``"UNKNOWN"`` and the split stratifies by BI-RADS. Findings become ``boxes`` (``[x_min, y_min, x_max,
y_max]``), ``box_labels`` (categories ``;``-joined) and ``box_birads``; these lists vary in length, so
drop them (``DeleteItemsd``) or use a detection collate before batching.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.files import ImageLocator, find_files
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
from monai_mammo.data.datasets.tables import parse_list_cell, parse_number

INFO = {
    "name": "VinDr-Mammo",
    "description": "VinDr-Mammo: 5,000 FFDM exams (20,000 images) with breast-level BI-RADS and density and "
    "bounding boxes of findings, double read with arbitration.",
    "reference": "Nguyen HT, Nguyen HQ, Pham HH, et al. VinDr-Mammo: A large-scale benchmark dataset for "
    "computer-aided diagnosis in full-field digital mammography. Sci Data 10, 277 (2023). "
    "https://doi.org/10.13026/br2v-7517",
    "licence": "PhysioNet Restricted Health Data License 1.5.0 (credentialed access, data use agreement)",
    "url": "https://physionet.org/content/vindr-mammo/",
}
BREAST_TABLE = "breast-level_annotations.csv"
FINDING_TABLE = "finding_annotations.csv"
REQUIRED = ("study_id", "image_id", "laterality", "view_position", "breast_birads", "breast_density", "split")


def _find(root: Path, name: str) -> Path | None:
    return next(
        find_files(root, lambda file_name: file_name == name, max_depth=2, skip_dir=lambda d: d == "images"),
        None,
    )


def _read(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as e:
        raise DatasetLayoutError(f"{path}: cannot be read as a CSV table ({type(e).__name__}: {e}).") from e
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def scan_vindr(root: str | os.PathLike[str], images_dir: str | os.PathLike[str] | None = None) -> ScanResult:
    """Read VinDr-Mammo into image records (BI-RADS, density, official split, finding boxes).

    Args:
        root: the download folder (the two CSV tables and ``images/``).
        images_dir: the image folder if not ``root/images`` (files found by ``<image_id>.*`` anywhere below it
            when not at ``<study_id>/<image_id>.dicom``, e.g. PNG conversions).

    Returns:
        One record per image row of ``breast-level_annotations.csv``.

    Raises:
        DatasetLayoutError: the breast-level table is missing or lacks columns.
    """
    root = Path(root)
    breast_path = _find(root, BREAST_TABLE)
    if breast_path is None:
        raise DatasetLayoutError(
            f"{root}: {BREAST_TABLE} not found; VinDr-Mammo needs it (and {FINDING_TABLE}, images/<study_id>/"
            "<image_id>.dicom)."
        )
    breast = _read(breast_path)
    missing = [c for c in REQUIRED if c not in breast.columns]
    if missing:
        raise DatasetLayoutError(f"{breast_path}: missing columns {', '.join(missing)}.")
    result = ScanResult(info=dict(INFO))
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    finding_path = _find(root, FINDING_TABLE)
    if finding_path is None:
        result.add_issue("no_findings_table", f"{FINDING_TABLE} not found: items carry no boxes.")
    else:
        for row in _read(finding_path).to_dict("records"):
            findings[str(row.get("image_id", "")).strip()].append(row)
    images = Path(images_dir) if images_dir is not None else breast_path.parent / "images"
    locator = ImageLocator(images, root)
    for idx, row in enumerate(breast.to_dict("records")):
        study, image_id = str(row["study_id"]).strip(), str(row["image_id"]).strip()
        source = f"{breast_path.name}:{idx + 2}"
        expected = images / study / f"{image_id}.dicom"
        path = locator.find(expected, image_id)
        if path is None:
            result.add_issue("missing_image", f"{source}: {expected} not found.", image=str(expected))
            continue
        boxes, labels, box_birads = [], [], []
        for finding in findings.get(image_id, []):
            categories = [
                c for c in parse_list_cell(finding.get("finding_categories", "")) if c != "No Finding"
            ]
            coords = [parse_number(finding.get(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
            if not categories and any(c is None for c in coords):
                continue
            if any(c is None for c in coords):
                result.add_issue(
                    "finding_without_box", f"{image_id}: finding {categories} has no box.", image=str(path)
                )
                continue
            boxes.append([float(c) for c in coords])  # type: ignore[arg-type]
            labels.append(";".join(categories) or UNKNOWN)
            box_birads.append(birads_text(finding.get("finding_birads")))
        birads = birads_text(row.get("breast_birads"))
        split = str(row.get("split", "")).strip().lower()
        fields: dict[str, Any] = {
            "dataset": "vindr",
            "image_id": image_id,
            "study_id": study,
            "series_id": str(row.get("series_id", "")).strip() or UNKNOWN,
            "laterality": str(row.get("laterality", "")).strip().upper() or UNKNOWN,
            "view": str(row.get("view_position", "")).strip().upper() or UNKNOWN,
            **pathology_fields(UNKNOWN),
            "birads": birads,
            "density": density_letter(row.get("breast_density")),
            "findings": ";".join(sorted({c for label in labels for c in label.split(";")})) or "No Finding",
            "n_findings": len(boxes),
            "box_labels": labels,
            "box_birads": box_birads,
        }
        height, width = parse_number(row.get("height")), parse_number(row.get("width"))
        if height and width:
            fields["original_size"] = [int(height), int(width)]
        result.records.append(
            ImageRecord(
                key=image_id,
                image=str(path.resolve()),
                patient_id=study,
                fields=fields,
                boxes=boxes,
                official_split={"training": "training", "train": "training", "test": "test"}.get(split),
                stratum=birads_rank(birads),
            )
        )
    return result


__all__ = ["BREAST_TABLE", "FINDING_TABLE", "scan_vindr"]
