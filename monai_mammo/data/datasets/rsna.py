"""RSNA Screening Mammography Breast Cancer Detection (2023 Kaggle competition), training set.

Layout::

    train.csv     site_id, patient_id, image_id, laterality, view, age, cancer, biopsy, invasive, BIRADS,
                  implant, density, machine_id, difficult_negative_case
    train_images/<patient_id>/<image_id>.dcm

``pathology`` is ``"malignant"`` for ``cancer == 1``, ``"benign"`` for a biopsy that found no cancer, and
``"normal"`` otherwise (screened negative, not biopsied). The competition's test labels were never
released, so there is no official split: patients are split anew, stratified by their worst class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.files import ImageLocator, find_files
from monai_mammo.data.datasets.records import (
    UNKNOWN,
    DatasetLayoutError,
    ImageRecord,
    ScanResult,
    birads_text,
    density_letter,
    pathology_fields,
)

INFO = {
    "name": "RSNA Screening Mammography 2023",
    "description": "RSNA Screening Mammography Breast Cancer Detection (Kaggle 2023) training set: "
    "about 54,700 "
    "screening images of 11,900 patients from two sites, with cancer, biopsy, BI-RADS and density labels.",
    "reference": "Carr C, Kitamura F, Partridge G, et al. RSNA Screening Mammography Breast Cancer "
    "Detection. "
    "Kaggle (2022). https://kaggle.com/competitions/rsna-breast-cancer-detection",
    "licence": "Kaggle competition rules: non-commercial research and education use",
    "url": "https://www.kaggle.com/competitions/rsna-breast-cancer-detection/data",
}
REQUIRED = ("patient_id", "image_id", "laterality", "view", "cancer")


def _int(value: Any) -> int:
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return int(text == "true")
    try:
        return int(float(text))
    except ValueError:
        return -1


def _find_table(root: Path, name: str) -> Path:
    found = next(find_files(root, lambda file_name: file_name == name, max_depth=1), None)
    if found is not None:
        return found
    raise DatasetLayoutError(
        f"{root}: {name} not found; the RSNA 2023 training set needs train.csv and train_images/<patient_id>/"
        "<image_id>.dcm. Fix: point --root at the competition folder, or pass table=."
    )


def scan_rsna(
    root: str | os.PathLike[str],
    table: str | os.PathLike[str] | None = None,
    images_dir: str | os.PathLike[str] | None = None,
) -> ScanResult:
    """Read the RSNA 2023 training set into image records.

    Args:
        root: the competition folder (``train.csv``, ``train_images/``).
        table: the CSV to read instead of ``root/train.csv``.
        images_dir: the image folder if not ``root/train_images`` (files found by ``<image_id>.*`` below
            it when not at ``<patient_id>/<image_id>.dcm``, e.g. PNG conversions).

    Returns:
        One record per row whose image exists: ``cancer``, ``biopsy``, ``invasive``, ``implant``,
        ``difficult_negative_case`` (0/1, -1 unknown), ``birads``, ``density``, ``age``, ``site_id``,
        ``machine_id`` and the pathology fields.

    Raises:
        DatasetLayoutError: no table, or a table without the required columns.
    """
    import pandas as pd

    root = Path(root)
    table_path = Path(table) if table is not None else _find_table(root, "train.csv")
    try:
        frame = pd.read_csv(table_path, dtype=str, keep_default_na=False)
    except Exception as e:
        raise DatasetLayoutError(
            f"{table_path}: cannot be read as a CSV table ({type(e).__name__}: {e})."
        ) from e
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DatasetLayoutError(f"{table_path}: missing columns {', '.join(missing)}.")
    images = Path(images_dir) if images_dir is not None else table_path.parent / "train_images"
    result = ScanResult(info=dict(INFO))
    locator = ImageLocator(images, root)
    for idx, row in enumerate(frame.to_dict("records")):
        patient, image_id = str(row["patient_id"]).strip(), str(row["image_id"]).strip()
        expected = images / patient / f"{image_id}.dcm"
        path = locator.find(expected, image_id)
        if path is None:
            result.add_issue(
                "missing_image", f"{table_path.name}:{idx + 2}: {expected} not found.", image=str(expected)
            )
            continue
        cancer, biopsy = _int(row.get("cancer")), _int(row.get("biopsy", ""))
        pathology = (
            "malignant" if cancer == 1 else "benign" if biopsy == 1 else "normal" if cancer == 0 else UNKNOWN
        )
        age = _int(row.get("age", ""))
        fields: dict[str, Any] = {
            "dataset": "rsna",
            "image_id": image_id,
            "laterality": str(row.get("laterality", "")).strip().upper() or UNKNOWN,
            "view": str(row.get("view", "")).strip().upper() or UNKNOWN,
            **pathology_fields(pathology),
            "birads": birads_text(row.get("BIRADS")),
            "density": density_letter(row.get("density")),
            "cancer": cancer,
            "biopsy": biopsy,
            "invasive": _int(row.get("invasive", "")),
            "implant": _int(row.get("implant", "")),
            "difficult_negative_case": _int(row.get("difficult_negative_case", "")),
            "age": age,
            "site_id": _int(row.get("site_id", "")),
            "machine_id": _int(row.get("machine_id", "")),
        }
        result.records.append(
            ImageRecord(
                key=f"{patient}_{image_id}",
                image=str(path.resolve()),
                patient_id=patient,
                fields=fields,
                stratum=fields["class"],
            )
        )
    return result


__all__ = ["scan_rsna"]
