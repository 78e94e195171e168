"""Box-annotated mammograms listed in a box table: one CSV row per box, as VinDr's finding_annotations.csv.

A row names its image (a path relative to the table's folder or ``images_dir``, or a file stem found anywhere
below it, e.g. VinDr's ``image_id``), the box's corners and its class; optional columns give the patient, the
side, the view and the split. A row with empty box columns lists an image without lesions (VinDr's
"No Finding" rows). Column names are found among these defaults (case-insensitive) unless given:

============== =======================================================================================
image          ``image``, ``image_path``, ``path``, ``file``, ``filename``, ``file_name``, ``image_id``
box (xyxy)     ``xmin ymin xmax ymax``, ``x0 y0 x1 y1``, ``x_min y_min x_max y_max``, ``x1 y1 x2 y2``
box (xywh)     ``x y width height``, ``x y w h``, ``xmin ymin width height`` (top-left corner and size)
label          ``label``, ``class``, ``class_name``, ``category``, ``finding_categories``, ``lesion_type``
patient        ``patient_id``, ``patient``, ``case_id``, ``woman_id``, ``subject_id``; else ``study_id``,
               ``study``, ``exam_id`` (one study per woman assumed, and reported)
laterality     ``laterality``, ``side``, ``breast``, ``left_or_right_breast``
view           ``view``, ``view_position``, ``image_view``
split          ``split``, ``fold``, ``subset`` (``train``/``training``/``valid``/``val``/``test``)
============== =======================================================================================

Boxes are pixel corners of the image (``[x0, y0, x1, y1]``, x the column). Without a patient column the woman
comes from a known file-name convention or is the image itself; pathology comes from the class names (see
:mod:`.box_records`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.box_records import (
    OFFICIAL_SPLITS,
    box_record,
    parse_class_pathology,
    record_key,
    report_patient_sources,
)
from monai_mammo.data.datasets.files import ImageLocator
from monai_mammo.data.datasets.records import DatasetLayoutError, ScanResult
from monai_mammo.data.datasets.tables import find_column, parse_list_cell, parse_number, read_csv_rows

IMAGE_COLUMNS = ("image", "image_path", "path", "file", "filename", "file_name", "image_id")
XYXY_COLUMNS = (
    ("xmin", "ymin", "xmax", "ymax"),
    ("x0", "y0", "x1", "y1"),
    ("x_min", "y_min", "x_max", "y_max"),
    ("x1", "y1", "x2", "y2"),
)
XYWH_COLUMNS = (("x", "y", "width", "height"), ("x", "y", "w", "h"), ("xmin", "ymin", "width", "height"))
LABEL_COLUMNS = ("label", "class", "class_name", "category", "finding_categories", "lesion_type")
PATIENT_COLUMNS = ("patient_id", "patient", "case_id", "woman_id", "subject_id")
STUDY_COLUMNS = ("study_id", "study", "exam_id")
LATERALITY_COLUMNS = ("laterality", "side", "breast", "left_or_right_breast")
VIEW_COLUMNS = ("view", "view_position", "image_view")
SPLIT_COLUMNS = ("split", "fold", "subset")
BOX_FORMATS = ("xyxy", "xywh")

INFO = {
    "name": "box table",
    "description": "Mammograms with lesion boxes listed in a CSV table (one row per box).",
    "reference": "",
    "licence": "as stated by the data set",
    "url": "",
}


def _split_columns(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    columns = tuple(c.strip() for c in str(text).replace(";", ",").split(",") if c.strip())
    if len(columns) != 4:
        raise ValueError(f"box_columns must name four columns (e.g. 'xmin,ymin,xmax,ymax'), got {text!r}.")
    return columns


def _find_table(root: Path) -> Path:
    tables = sorted(root.glob("*.csv"))
    if len(tables) == 1:
        return tables[0]
    found = f"several CSV tables ({', '.join(t.name for t in tables)})" if tables else "no CSV table"
    raise DatasetLayoutError(f"{root}: {found}; a box table has one row per box. Fix: name it with table=.")


def scan_box_csv(
    root: str | os.PathLike[str],
    table: str | os.PathLike[str] | None = None,
    images_dir: str | os.PathLike[str] | None = None,
    image_column: str | None = None,
    box_columns: str | None = None,
    box_format: str = "xyxy",
    label_column: str | None = None,
    patient_column: str | None = None,
    class_pathology: str | dict[str, str] | None = None,
) -> ScanResult:
    """Read a table of boxes (one row per box) and its images into image records.

    Args:
        root: the data set folder.
        table: the CSV table (relative to ``root`` or absolute); default: the one CSV file in ``root``.
        images_dir: where the images are (default: the table's folder); an image cell that is not a path
            below it is looked up by its stem anywhere below it.
        image_column: the column naming the image (default: the first of :data:`IMAGE_COLUMNS`).
        box_columns: the four box columns, comma-separated (default: the first complete set of
            :data:`XYXY_COLUMNS` or, for ``xywh``, :data:`XYWH_COLUMNS`).
        box_format: ``"xyxy"`` (two corners) or ``"xywh"`` (top-left corner, width, height), in pixels.
        label_column: the class column (default: the first of :data:`LABEL_COLUMNS`; none: ``"lesion"``).
        patient_column: the column naming the woman (default: the first of :data:`PATIENT_COLUMNS`, else
            of :data:`STUDY_COLUMNS`; none: from the file name, see :mod:`.box_records`).
        class_pathology: class name -> pathology (``"Mass=unknown,malignant=malignant"``).

    Returns:
        One record per image: ``boxes`` (pixel corners), ``box_labels``, pathology fields, ``patient_source``
        (``table`` when a column gave the patient), side, view and official split where columns give them.

    Raises:
        DatasetLayoutError: no table, a column that is named but absent, or no image/box columns.
        ValueError: a bad ``box_format``, ``box_columns`` or ``class_pathology``.
    """
    root = Path(root)
    if box_format not in BOX_FORMATS:
        raise ValueError(f"box_format must be one of {', '.join(BOX_FORMATS)}, got {box_format!r}.")
    mapping = parse_class_pathology(class_pathology)
    table_path = (
        (root / table if not Path(table).is_absolute() else Path(table)) if table else _find_table(root)
    )
    if not table_path.is_file():
        raise DatasetLayoutError(f"{table_path}: the box table does not exist (table=).")
    named = _split_columns(box_columns)
    required = [c for c in (image_column, label_column, patient_column) if c] + list(named or ())
    columns, rows = read_csv_rows(table_path, required)

    def pick(given: str | None, defaults: tuple[str, ...]) -> str | None:
        return find_column(columns, (given,) if given else defaults)

    image_col = pick(image_column, IMAGE_COLUMNS)
    if image_col is None:
        raise DatasetLayoutError(
            f"{table_path}: no image column (looked for {', '.join(IMAGE_COLUMNS)}). Fix: image_column=."
        )
    if named is not None:
        box_cols = tuple(find_column(columns, (c,)) or c for c in named)
    else:
        sets = XYXY_COLUMNS if box_format == "xyxy" else XYWH_COLUMNS
        found = [s for s in sets if all(find_column(columns, (c,)) for c in s)]
        if not found:
            raise DatasetLayoutError(
                f"{table_path}: no {box_format} box columns (looked for "
                f"{'; '.join(' '.join(s) for s in sets)}). Fix: box_columns=."
            )
        box_cols = tuple(find_column(columns, (c,)) or c for c in found[0])
    label_col = pick(label_column, LABEL_COLUMNS)
    patient_col = pick(patient_column, PATIENT_COLUMNS)
    result = ScanResult(info=dict(INFO))
    if patient_col is None:
        patient_col = find_column(columns, STUDY_COLUMNS)
        if patient_col is not None:
            result.add_issue(
                "study_as_patient",
                f"{table_path.name}: no patient column; the study column {patient_col!r} is taken for the "
                "woman (right where each woman has one study, as in VinDr-Mammo).",
            )
    side_col, view_col = find_column(columns, LATERALITY_COLUMNS), find_column(columns, VIEW_COLUMNS)
    split_col = find_column(columns, SPLIT_COLUMNS)
    result.info["columns"] = {
        "image": image_col,
        "box": list(box_cols),
        "box_format": box_format,
        "label": label_col,
        "patient": patient_col,
        "laterality": side_col,
        "view": view_col,
        "split": split_col,
    }

    images_root = Path(images_dir) if images_dir is not None else table_path.parent
    locator = ImageLocator(images_root, root)
    per_image: dict[Path, dict[str, Any]] = {}
    missing: set[str] = set()
    for line, row in enumerate(rows, start=2):
        cell = row.get(image_col, "")
        if not cell:
            result.add_issue("no_image", f"{table_path.name}:{line}: empty {image_col!r} cell.")
            continue
        posix = cell.replace("\\", "/")
        path = locator.find(images_root / posix, Path(posix).stem, Path(cell).name)
        if path is None:
            if cell not in missing:
                missing.add(cell)
                result.add_issue("missing_image", f"{table_path.name}:{line}: no image {cell!r}.", image=cell)
            continue
        entry = per_image.setdefault(
            path,
            {"boxes": [], "labels": [], "patient": "", "side": "", "view": "", "split": "", "line": line},
        )
        for key, column in (
            ("patient", patient_col),
            ("side", side_col),
            ("view", view_col),
            ("split", split_col),
        ):
            value = row.get(column, "") if column else ""
            if value and entry[key] and value != entry[key]:
                result.add_issue(
                    f"conflicting_{key}",
                    f"{table_path.name}:{line}: {cell} has {key} {value!r} here, {entry[key]!r} before; "
                    "kept the first.",
                    image=cell,
                )
            elif value:
                entry[key] = value
        coords = [parse_number(row.get(c, "")) for c in box_cols]
        if all(c is None for c in coords):
            continue  # an image without lesions
        if any(c is None for c in coords):
            result.add_issue(
                "bad_box", f"{table_path.name}:{line}: box {coords} has an empty corner.", image=cell
            )
            continue
        a, b, c, d = (float(v or 0.0) for v in coords)
        box = [a, b, a + c, b + d] if box_format == "xywh" else [a, b, c, d]
        if box[2] <= box[0] or box[3] <= box[1]:
            result.add_issue(
                "bad_box", f"{table_path.name}:{line}: box {box} is empty or inverted; left out.", image=cell
            )
            continue
        label = ";".join(parse_list_cell(row.get(label_col, ""))) if label_col else ""
        entry["boxes"].append(box)
        entry["labels"].append(label or "lesion")

    for path, entry in per_image.items():
        try:
            rel = path.relative_to(images_root)
        except ValueError:
            rel = Path(path.name)
        split = OFFICIAL_SPLITS.get(entry["split"].lower())
        if entry["split"] and split is None:
            result.add_issue("unknown_split", f"{rel}: split {entry['split']!r} not understood; ignored.")
        result.records.append(
            box_record(
                dataset="box_csv",
                key=record_key(*rel.with_suffix("").parts),
                image=path,
                boxes=entry["boxes"],
                labels=entry["labels"],
                class_pathology=mapping,
                patient_id=entry["patient"] or None,
                laterality=entry["side"],
                view=entry["view"],
                official_split=split,
            )
        )
    report_patient_sources(result)
    return result


__all__ = [
    "IMAGE_COLUMNS",
    "LABEL_COLUMNS",
    "PATIENT_COLUMNS",
    "STUDY_COLUMNS",
    "XYWH_COLUMNS",
    "XYXY_COLUMNS",
    "scan_box_csv",
]
