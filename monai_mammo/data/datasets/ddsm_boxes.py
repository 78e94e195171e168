"""DDSM lesion boxes: DDSM film mammograms with one lesion box per image (a Roboflow YOLO export, 640 x 640).

Layout (``../shared/data/ddsm_boxes``, see its README.md)::

    images/A_1639_1-LEFT_MLO.png          8-bit grey, 640 x 640 (films stretched to a square)
    images.csv   image, case_id, laterality (LEFT/RIGHT), view (CC/MLO), status (Cancer/Benign/Normal/
                 unknown), age, density (mini-DDSM 0-4, empty if unknown), n_boxes, mddsm_outlines
    boxes.csv    one row per box: image, ..., x0, y0, x1, y1 (pixel corners of the 640 x 640 image),
                 rf_class (the export's class name, '1' or 'tumor')

Labels: ``status`` is the mini-DDSM case folder, i.e. per woman: ``Cancer`` -> ``malignant``, ``Benign`` ->
``benign``, ``Normal`` -> ``normal`` and ``unknown`` (case not in the mini-DDSM sheet) -> ``"UNKNOWN"``
pathology (``class`` -1): an image with a lesion box whose pathology is not known, marked ``abnormal`` 1.
The export's class names (``rf_class``) look swapped relative to pathology and are kept only as metadata.
Each image gets its ``boxes`` (``[x0, y0, x1, y1]``, see
:data:`~monai_mammo.data.datasets.records.BOX_FORMAT`) and a weak lesion mask, the ellipse inscribed in each
box (:class:`~monai_mammo.data.datasets.masks.BoxMask`).
Patients are DDSM cases (``case_id``, one woman): split by it, never by image.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.masks import BoxMask, EmptyMask, MaskSpec
from monai_mammo.data.datasets.records import (
    UNKNOWN,
    DatasetLayoutError,
    ImageRecord,
    ScanResult,
    density_letter,
    pathology_fields,
)
from monai_mammo.data.datasets.tables import parse_number, read_csv_rows

INFO = {
    "name": "DDSM lesion boxes",
    "description": "DDSM film mammograms (CC/MLO) stretched to 640 x 640, one lesion box per image (Roboflow "
    "export), pathology status, age and density from mini-DDSM (status per woman). Boxes are loose; aspect "
    "ratio and pixel spacing are not preserved.",
    "reference": "M. Heath, K. Bowyer, D. Kopans, R. Moore, W. P. Kegelmeyer, The Digital Database for "
    "Screening Mammography, Proc. 5th Int. Workshop on Digital Mammography, 2001. Labels: C. D. Lekamlage, "
    "F. Afzal, E. Westerberg, A. Cheddad, Mini-DDSM: Mammography-based Automatic Age Estimation, ACM DMIP "
    "2020.",
    "licence": "images: DDSM (research use, cite Heath et al. 2001); boxes: Roboflow export claimed CC BY "
    "4.0; labels: mini-DDSM",
    "url": "https://universe.roboflow.com/breast-cancer-detection-roclf/breast-cancer-detection-jixc0/dataset/2",
}
IMAGE_TABLE = "images.csv"
BOX_TABLE = "boxes.csv"
IMAGE_COLUMNS = ("image", "case_id", "laterality", "view", "status")
BOX_COLUMNS = ("image", "x0", "y0", "x1", "y1")
STATUS_PATHOLOGY = {"cancer": "malignant", "benign": "benign", "normal": "normal", "unknown": UNKNOWN}
"""mini-DDSM status (case folder) -> datalist ``pathology``."""
LATERALITY = {"LEFT": "L", "RIGHT": "R", "L": "L", "R": "R"}

DDSM_NAME = re.compile(
    r"^(?P<case>[A-D]_\d{4})_(?P<sequence>\d+)[-._](?P<side>LEFT|RIGHT)_(?P<view>CC|MLO)", re.I
)
"""A DDSM file stem as mini-DDSM and its exports name it: ``A_1639_1-LEFT_MLO`` (or ``A_1639_1.LEFT_MLO``)."""


def ddsm_case_id(name: str) -> str | None:
    """The DDSM case (one woman) of a file name, or ``None`` if the name is not a DDSM one.

    Args:
        name: a file name or stem, e.g. ``A_1639_1-LEFT_MLO.png`` or ``A_1639_1-LEFT_MLO_jpg.rf.<hash>.jpg``.

    Returns:
        e.g. ``"A_1639"``.
    """
    match = DDSM_NAME.match(Path(str(name)).name)
    return match.group("case").upper() if match else None


def scan_ddsm_boxes(root: str | os.PathLike[str]) -> ScanResult:
    """Read the DDSM lesion boxes folder into image records (boxes, ellipse masks, per-woman status).

    Args:
        root: the folder holding ``images.csv``, ``boxes.csv`` and ``images/``.

    Returns:
        One record per row of ``images.csv`` whose image exists: ``patient_id`` = ``case_id``; fields
        ``laterality`` L/R, ``view``, ``pathology``/``class``/``malignant`` from ``status``, ``abnormal``
        (1: the image has a lesion box), ``status`` (as the table has it), ``age`` (-1 unknown), ``density``
        (ACR letter), ``n_boxes``, ``n_outlines`` (mini-DDSM lesion outlines of the image; -1 not in the
        sheet), ``rf_class``; ``boxes`` and a :class:`~monai_mammo.data.datasets.masks.BoxMask`.

    Raises:
        DatasetLayoutError: a table is missing or lacks columns.
    """
    root = Path(root)
    tables = {name: root / name for name in (IMAGE_TABLE, BOX_TABLE)}
    for name, path in tables.items():
        if not path.is_file():
            raise DatasetLayoutError(
                f"{root}: {name} not found; the DDSM boxes folder needs {IMAGE_TABLE}, {BOX_TABLE} and "
                "images/ (see its README.md). Fix: point --root at that folder; for a YOLO export use "
                "the yolo_boxes importer."
            )
    _, images = read_csv_rows(tables[IMAGE_TABLE], IMAGE_COLUMNS)
    result = ScanResult(info={**INFO, "labels": {"0": "background", "1": "lesion (ellipse in box)"}})
    boxes: dict[str, list[list[float]]] = defaultdict(list)
    box_classes: dict[str, list[str]] = defaultdict(list)
    for line, row in enumerate(read_csv_rows(tables[BOX_TABLE], BOX_COLUMNS)[1], start=2):
        coords = [parse_number(row[k]) for k in ("x0", "y0", "x1", "y1")]
        if all(c is None for c in coords):
            continue  # an image without boxes
        if any(c is None for c in coords):
            result.add_issue(
                "bad_box", f"{BOX_TABLE}:{line}: box {coords} has an empty or non-number corner."
            )
            continue
        box = [float(c or 0.0) for c in coords]
        if box[2] <= box[0] or box[3] <= box[1]:
            result.add_issue("bad_box", f"{BOX_TABLE}:{line}: box {box} is empty or inverted; skipped.")
            continue
        boxes[row["image"]].append(box)
        box_classes[row["image"]].append(row.get("rf_class", "") or UNKNOWN)
    listed = {row["image"] for row in images}
    for name in sorted(set(boxes) - listed):
        result.add_issue("box_without_image", f"{BOX_TABLE} has boxes for {name}, not in {IMAGE_TABLE}.")
    for line, row in enumerate(images, start=2):
        name = row["image"]
        path = root / "images" / name
        if not path.is_file():
            result.add_issue("missing_image", f"{IMAGE_TABLE}:{line}: {path} not found.", image=str(path))
            continue
        status = row["status"]
        pathology = STATUS_PATHOLOGY.get(status.lower())
        if pathology is None:
            result.add_issue(
                "unknown_status", f"{IMAGE_TABLE}:{line}: status {status!r} read as unknown.", image=name
            )
            pathology = UNKNOWN
        image_boxes = boxes.get(name, [])
        expected = parse_number(row.get("n_boxes", ""))
        if expected is not None and int(expected) != len(image_boxes):
            result.add_issue(
                "box_count",
                f"{name}: n_boxes says {int(expected)}, {BOX_TABLE} gives {len(image_boxes)}.",
                image=name,
            )
        mask: MaskSpec | None = None
        if image_boxes:
            mask = BoxMask(tuple((b[0], b[1], b[2], b[3]) for b in image_boxes))
        else:
            if pathology == "normal":
                mask = EmptyMask()
            else:
                result.add_issue(
                    "no_box",
                    f"{name} ({status}) has no box: kept with its label, without a mask.",
                    image=name,
                )
        if image_boxes and pathology == "normal":
            result.add_issue(
                "normal_with_box", f"{name} is from a Normal case but has a lesion box.", image=name
            )
        case = row["case_id"]
        from_name = ddsm_case_id(name)
        if from_name is not None and from_name != case.upper():
            result.add_issue(
                "case_mismatch", f"{name}: case_id {case!r} but the file name says {from_name}.", image=name
            )
        age = parse_number(row.get("age", ""))
        outlines = parse_number(row.get("mddsm_outlines", ""))
        fields: dict[str, Any] = {
            "dataset": "ddsm_boxes",
            "image_id": Path(name).stem,
            "laterality": LATERALITY.get(row["laterality"].upper(), UNKNOWN),
            "view": row["view"].upper() or UNKNOWN,
            **pathology_fields(pathology),
            "abnormal": int(bool(image_boxes) or pathology in ("benign", "malignant")),
            "status": status or UNKNOWN,
            "birads": UNKNOWN,
            "density": density_letter(row.get("density", "")),
            "age": int(age) if age is not None else -1,
            "n_boxes": len(image_boxes),
            "n_outlines": int(outlines) if outlines is not None else -1,
            "rf_class": ";".join(box_classes.get(name, [])) or UNKNOWN,
        }
        result.records.append(
            ImageRecord(
                key=Path(name).stem,
                image=str(path.resolve()),
                patient_id=case,
                fields=fields,
                mask=mask,
                boxes=image_boxes,
                stratum=fields["class"],
            )
        )
    return result


__all__ = ["DDSM_NAME", "STATUS_PATHOLOGY", "ddsm_case_id", "scan_ddsm_boxes"]
