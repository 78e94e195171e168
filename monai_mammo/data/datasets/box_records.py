"""Records of box-annotated images, shared by the generic box importers (:mod:`.yolo_boxes`, :mod:`.box_csv`).

Public box dumps (Roboflow/Ultralytics YOLO exports, VinDr-style finding tables) give boxes and a class name
per box, but rarely the woman an image belongs to, and their class names are free text. This module turns
what they give into :class:`~monai_mammo.data.datasets.records.ImageRecord` items with the project's fields:

- **patient**: a patient column when the table has one; else the woman a known public data set's file name
  names (DDSM ``A_1234_1-LEFT_CC`` -> ``A_1234``, CBIS-DDSM, mini-MIAS, INbreast, CDD-CESM: the conventions
  of :func:`monai_mammo.data.exam_grouping.match_naming_convention`); else the source image itself, after
  removing Roboflow's ``_jpg.rf.<hash>`` suffix so that an export's augmented copies of one film stay
  together. The last case makes the split an image-level one, which can put one woman in two folds: the
  importers say so in the scan's issues (``image_level_patients``).
- **pathology**: from the class names: a name holding ``malig``/``cancer``/``carcinoma`` is malignant, one
  holding ``benign`` is benign, anything else (``mass``, ``tumor``, ``1``) is a lesion of unknown pathology;
  a ``class_pathology`` mapping overrides the guess. An image is malignant if one box is, benign if all its
  boxes are, else ``"UNKNOWN"`` (``class`` -1) with ``abnormal`` 1; an image without boxes is normal.
- **boxes**: ``[x0, y0, x1, y1]`` pixel corners (:data:`~monai_mammo.data.datasets.records.BOX_FORMAT`), their
  class names in ``box_labels``, and a weak mask, the ellipse inscribed in each box
  (:class:`~monai_mammo.data.datasets.masks.BoxMask`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai_mammo.data.datasets.masks import BoxMask, EmptyMask
from monai_mammo.data.datasets.records import UNKNOWN, ImageRecord, ScanResult, pathology_fields
from monai_mammo.utils.enums import Laterality, ViewPosition

ROBOFLOW_SUFFIX = re.compile(r"_(?:jpe?g|png|bmp|tiff?|dcm|pgm)\.rf\.[0-9A-Za-z]+$", re.IGNORECASE)
"""What Roboflow appends to a source file's stem on export: ``A_1639_1-LEFT_MLO_jpg.rf.3f2a...``."""
PATHOLOGY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("malignant", ("malig", "cancer", "carcinoma")),
    ("benign", ("benign",)),
)
"""Words in a class name that give its pathology (checked in this order); other names: unknown."""
PATIENT_FROM_IMAGE = "image"
"""``patient_source`` of an image whose patient id is the (source) image itself."""
_SAFE_KEY = re.compile(r"[^0-9A-Za-z._-]+")


def source_stem(path: str | os.PathLike[str]) -> str:
    """The stem of the file an exported image was made from (Roboflow's ``_jpg.rf.<hash>`` removed).

    Args:
        path: a file name or path.

    Returns:
        e.g. ``"A_1639_1-LEFT_MLO"`` for ``A_1639_1-LEFT_MLO_jpg.rf.3f2a.jpg``.
    """
    return ROBOFLOW_SUFFIX.sub("", Path(path).stem)


def record_key(*parts: str) -> str:
    """A unique, file-name-safe record key from path parts (``("train", "a b")`` -> ``"train_a_b"``)."""
    text = "_".join(str(p) for p in parts if str(p))
    return _SAFE_KEY.sub("_", text).strip("_") or "image"


def patient_from_name(path: str | os.PathLike[str]) -> tuple[str, str, str, str]:
    """The woman, side and view a file name gives, by the known public data set conventions.

    Args:
        path: the image file (its source stem is read, then the names of its three parent folders, as
            CBIS-DDSM names its case folders).

    Returns:
        ``(patient_id, patient_source, laterality, view)``: ``patient_source`` names the convention (e.g.
        ``"DDSM file name"``), or is :data:`PATIENT_FROM_IMAGE` with the source stem as the patient id and
        ``"UNKNOWN"`` side and view when no convention applies.
    """
    from monai_mammo.data.exam_grouping import match_naming_convention  # it imports the importers' patterns

    path = Path(path)
    found = match_naming_convention(source_stem(path), *(p.name for p in list(path.parents)[:3] if p.name))
    if found is None:
        return source_stem(path), PATIENT_FROM_IMAGE, UNKNOWN, UNKNOWN
    return found.patient_id, f"{found.dataset} file name", found.laterality, found.view


def parse_class_pathology(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """A class name -> pathology mapping from a mapping or a ``"name=pathology,name=pathology"`` string.

    Args:
        value: e.g. ``"1=malignant,tumor=benign"`` (the ``--option class_pathology=...`` form) or a dict;
            pathologies ``malignant``, ``benign``, ``normal`` or ``unknown``.

    Returns:
        The mapping, pathologies as the datalist writes them (``"UNKNOWN"`` for unknown).

    Raises:
        ValueError: an entry without ``=`` or an unknown pathology (both named).
    """
    if value is None:
        return {}
    if isinstance(value, str):
        pairs = []
        for entry in (e for e in value.split(",") if e.strip()):
            if "=" not in entry:
                raise ValueError(
                    f"class_pathology: expected NAME=PATHOLOGY entries, got {entry!r} in {value!r}."
                )
            name, pathology = entry.split("=", 1)
            pairs.append((name.strip(), pathology.strip()))
    else:
        pairs = [(str(k).strip(), str(v).strip()) for k, v in value.items()]
    out = {}
    for name, pathology in pairs:
        text = UNKNOWN if pathology.upper() == UNKNOWN else pathology.lower()
        if text not in ("malignant", "benign", "normal", UNKNOWN):
            raise ValueError(
                f"class_pathology: class {name!r} maps to {pathology!r}; expected malignant, benign, "
                "normal or unknown."
            )
        out[name] = text
    return out


def label_pathology(label: str, class_pathology: Mapping[str, str] | None = None) -> str:
    """The pathology a box's class name says: the mapping's entry, else :data:`PATHOLOGY_WORDS`, else unknown.

    Args:
        label: the class name.
        class_pathology: explicit class name -> pathology (from :func:`parse_class_pathology`).

    Returns:
        ``"malignant"``, ``"benign"``, ``"normal"`` or ``"UNKNOWN"``.
    """
    if class_pathology and label in class_pathology:
        return class_pathology[label]
    lower = label.lower()
    for pathology, words in PATHOLOGY_WORDS:
        if any(word in lower for word in words):
            return pathology
    return UNKNOWN


def image_pathology(box_pathologies: Sequence[str]) -> str:
    """An image's pathology from its boxes': malignant if one is, benign if all lesions are, else unknown.

    Boxes marked ``normal`` (a "no finding" class) are not lesions; an image without lesion boxes is normal.
    """
    lesions = [p for p in box_pathologies if p != "normal"]
    if not lesions:
        return "normal"
    if "malignant" in lesions:
        return "malignant"
    return "benign" if all(p == "benign" for p in lesions) else UNKNOWN


def box_record(
    *,
    dataset: str,
    key: str,
    image: str | os.PathLike[str],
    boxes: Sequence[Sequence[float]],
    labels: Sequence[str],
    class_pathology: Mapping[str, str] | None = None,
    patient_id: str | None = None,
    laterality: object = None,
    view: object = None,
    official_split: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ImageRecord:
    """The record of one box-annotated image.

    Args:
        dataset: the importer's name (the ``dataset`` field).
        key: the unique record key.
        image: the image file.
        boxes: ``[x0, y0, x1, y1]`` pixel corners of the image, one per box (boxes of a ``normal`` class, such
            as a "no finding" row, are dropped).
        labels: the class name of each box.
        class_pathology: explicit class name -> pathology.
        patient_id: the woman, if a table gives her; else derived by :func:`patient_from_name`.
        laterality: the side, if a table gives it (any text :meth:`Laterality.parse` reads); else the file
            name convention's.
        view: the view, likewise.
        official_split: the set's fold for this image (``training``/``validation``/``test``).
        extra: more fields.

    Returns:
        The record (``fields``: ``image_id``, ``laterality``, ``view``, pathology fields, ``abnormal``,
        ``birads``, ``density``, ``n_boxes``, ``box_labels``, ``patient_source``; stratum = ``class``).
    """
    path = Path(image)
    named_patient, source, named_side, named_view = patient_from_name(path)
    if patient_id:
        source = "table"
    pathologies = [label_pathology(str(label), class_pathology) for label in labels]
    kept = [
        (list(map(float, b)), str(label)) for b, label, p in zip(boxes, labels, pathologies) if p != "normal"
    ]
    pathology = image_pathology(pathologies)
    side = Laterality.parse(laterality)
    position = ViewPosition.parse(view)
    fields: dict[str, Any] = {
        "dataset": dataset,
        "image_id": path.stem,
        "laterality": side.value if side is not Laterality.UNKNOWN else named_side,
        "view": position.value if position is not ViewPosition.UNKNOWN else named_view,
        **pathology_fields(pathology),
        "abnormal": int(pathology != "normal"),
        "birads": UNKNOWN,
        "density": UNKNOWN,
        "n_boxes": len(kept),
        "box_labels": [label for _, label in kept],
        "patient_source": source,
        **(extra or {}),
    }
    mask = BoxMask(tuple((b[0], b[1], b[2], b[3]) for b, _ in kept)) if kept else EmptyMask()
    return ImageRecord(
        key=key,
        image=str(path.resolve()),
        patient_id=str(patient_id) if patient_id else named_patient,
        fields=fields,
        mask=mask,
        boxes=[b for b, _ in kept],
        official_split=official_split,
        stratum=fields["class"],
    )


def report_patient_sources(result: ScanResult) -> None:
    """Add the ``patient_ids`` count to ``result.info`` and an ``image_level_patients`` issue where needed.

    Args:
        result: a scan whose records were made by :func:`box_record`.
    """
    counts = Counter(str(r.fields.get("patient_source", "")) for r in result.records)
    result.info["patient_ids"] = dict(sorted(counts.items()))
    alone = counts.get(PATIENT_FROM_IMAGE, 0)
    if alone:
        result.add_issue(
            "image_level_patients",
            f"{alone} of {len(result.records)} images have no patient id (no patient column, no known "
            "file-name convention): each source image is its own patient, so the split is by image and "
            "one woman's images may land in two folds. Fix: import a table that names the women (box_csv "
            "with patient_column=).",
            images=alone,
        )


OFFICIAL_SPLITS: dict[str, str] = {
    "train": "training",
    "training": "training",
    "valid": "validation",
    "val": "validation",
    "validation": "validation",
    "test": "test",
    "testing": "test",
}
"""A split folder's or column's name -> the datalist fold."""


__all__ = [
    "OFFICIAL_SPLITS",
    "PATHOLOGY_WORDS",
    "PATIENT_FROM_IMAGE",
    "ROBOFLOW_SUFFIX",
    "box_record",
    "image_pathology",
    "label_pathology",
    "parse_class_pathology",
    "patient_from_name",
    "record_key",
    "report_patient_sources",
    "source_stem",
]
