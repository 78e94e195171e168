"""Box-annotated mammograms in a YOLO folder (Roboflow and Ultralytics exports).

Layouts read (the label of ``.../images/<name>.<ext>`` is ``.../labels/<name>.txt``, the Ultralytics rule)::

    data.yaml                   names: ['benign', 'malignant'] (or {0: benign, 1: malignant}), nc: 2
    images/a.jpg  labels/a.txt                                    one folder
    train/images/ train/labels/ valid/... test/...                Roboflow's split folders
    images/train/ labels/train/ images/val/ ...                   Ultralytics' split folders

A label file holds one box per line, ``class cx cy w h`` normalised to the image's width and height
(Roboflow's polygon lines ``class x1 y1 x2 y2 ...`` are read as their bounding box); an empty or missing label
file is an image without lesions. Boxes become pixel corners of the image (its size read from the file
header), clipped to it. The split folders (``train``/``valid``/``val``/``test``) are kept as the official
split. Patients, pathology from class names, and weak masks: see :mod:`.box_records`.
"""

from __future__ import annotations

import os
from pathlib import Path

from monai.utils import optional_import

from monai_mammo.data.datasets.box_records import (
    OFFICIAL_SPLITS,
    box_record,
    parse_class_pathology,
    record_key,
    report_patient_sources,
)
from monai_mammo.data.datasets.files import IMAGE_SUFFIXES, FileIndex, image_shape
from monai_mammo.data.datasets.records import DatasetLayoutError, ScanResult
from monai_mammo.data.errors import MammoReadError

YOLO_IMAGE_SUFFIXES = (*IMAGE_SUFFIXES, ".bmp", ".webp")
NORMALISED_SLACK = 0.01
"""How far outside [0, 1] a normalised coordinate may lie (rounding) before the line is refused."""

INFO = {
    "name": "YOLO box folder",
    "description": "Mammograms with lesion boxes in a YOLO export (images/ + labels/ + data.yaml).",
    "reference": "",
    "licence": "as stated by the export (e.g. its data.yaml / README.roboflow.txt)",
    "url": "https://docs.ultralytics.com/datasets/detect/",
}


def read_yolo_names(path: str | os.PathLike[str]) -> dict[int, str]:
    """The class names of a YOLO ``data.yaml`` (``names`` as a list or an ``{id: name}`` mapping).

    Args:
        path: the YAML file.

    Returns:
        class id -> name (empty when the file has no ``names``).

    Raises:
        DatasetLayoutError: the file is not YAML.
    """
    yaml, has_yaml = optional_import("yaml")
    if not has_yaml:
        raise DatasetLayoutError(f"{path}: reading a YOLO data.yaml needs PyYAML (pip install pyyaml).")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except Exception as e:  # yaml.YAMLError and decoding errors
        raise DatasetLayoutError(f"{path}: not a YAML file ({type(e).__name__}: {e}).") from e
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        return {int(k): str(v) for k, v in names.items()}
    if isinstance(names, (list, tuple)):
        return {i: str(v) for i, v in enumerate(names)}
    return {}


YoloBox = tuple[int, float, float, float, float]
"""``(class, cx, cy, w, h)``, coordinates normalised to the image's width and height."""


def read_yolo_labels(path: str | os.PathLike[str]) -> tuple[list[YoloBox], list[str]]:
    """The boxes of a YOLO label file.

    Args:
        path: the ``.txt`` file.

    Returns:
        ``([(class, cx, cy, w, h), ...], problems)``: coordinates normalised; polygon lines as their bounding
        boxes; each line that cannot be read, or whose values are not normalised, is left out and described
        in ``problems``.
    """
    boxes: list[YoloBox] = []
    problems: list[str] = []
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            problems.append(f"{path}:{number}: {line.strip()!r} is not numbers")
            continue
        coords = values[1:]
        if len(coords) == 4:
            cx, cy, w, h = coords
        elif len(coords) >= 6 and len(coords) % 2 == 0:  # a polygon: its bounding box
            xs, ys = coords[0::2], coords[1::2]
            w, h = max(xs) - min(xs), max(ys) - min(ys)
            cx, cy = min(xs) + w / 2, min(ys) + h / 2
        else:
            problems.append(f"{path}:{number}: {line.strip()!r} is neither 'class cx cy w h' nor a polygon")
            continue
        if not all(-NORMALISED_SLACK <= v <= 1 + NORMALISED_SLACK for v in coords) or w < 0 or h < 0:
            problems.append(f"{path}:{number}: {line.strip()!r} is not normalised to [0, 1]")
            continue
        boxes.append((int(values[0]), cx, cy, w, h))
    return boxes, problems


def _label_path(root: Path, image: Path) -> Path:
    parts = image.relative_to(root).parts
    i = max(n for n, part in enumerate(parts[:-1]) if part.lower() == "images")
    return root.joinpath(*parts[:i], "labels", *parts[i + 1 :]).with_suffix(".txt")


def _find_names(root: Path, data_yaml: str | os.PathLike[str] | None) -> tuple[dict[int, str], Path | None]:
    if data_yaml is not None:
        return read_yolo_names(data_yaml), Path(data_yaml)
    candidates = [
        root / "data.yaml",
        root / "data.yml",
        *sorted(root.glob("*.yaml")),
        *sorted(root.glob("*.yml")),
    ]
    for candidate in candidates:
        if candidate.is_file():
            names = read_yolo_names(candidate)
            if names:
                return names, candidate
    return {}, None


def scan_yolo_boxes(
    root: str | os.PathLike[str],
    data_yaml: str | os.PathLike[str] | None = None,
    class_pathology: str | dict[str, str] | None = None,
) -> ScanResult:
    """Read a YOLO export of box-annotated mammograms into image records.

    Args:
        root: the export's folder (``images/`` and ``labels/`` below it, in any of the layouts above).
        data_yaml: the file naming the classes, if not ``root/data.yaml`` (or another YAML in ``root``).
        class_pathology: class name -> pathology, e.g. ``"1=malignant,tumor=benign"``; names not given
            are read by their words (``malignant``/``cancer``, ``benign``), else unknown (see
            :mod:`.box_records`).

    Returns:
        One record per image below an ``images`` folder: ``boxes`` (pixel corners), ``box_labels`` (class
        names), pathology fields, ``patient_source``, ``official_split`` from the split folders.

    Raises:
        DatasetLayoutError: no image below an ``images`` folder, or an unreadable ``data.yaml``.
        ValueError: a bad ``class_pathology``.
    """
    root = Path(root)
    mapping = parse_class_pathology(class_pathology)
    images = [
        p
        for p in FileIndex(root, suffixes=YOLO_IMAGE_SUFFIXES).files
        if any(part.lower() == "images" for part in p.relative_to(root).parts[:-1])
    ]
    if not images:
        raise DatasetLayoutError(
            f"{root}: no image below an 'images' folder; a YOLO export has images/ and labels/ (or "
            "train/images, valid/images, ...). Fix: point --root at the export's folder."
        )
    names, names_file = _find_names(root, data_yaml)
    result = ScanResult(info=dict(INFO))
    if names_file is None:
        result.add_issue("no_class_names", f"{root}: no data.yaml with 'names': classes named by their ids.")
    else:
        result.info["box_classes"] = {str(k): v for k, v in sorted(names.items())}
    for image in images:
        rel = image.relative_to(root)
        label_file = _label_path(root, image)
        entries: list[YoloBox] = []
        if label_file.is_file():
            entries, problems = read_yolo_labels(label_file)
            for problem in problems:
                result.add_issue("bad_label_line", problem, image=str(rel))
        else:
            result.add_issue("no_label_file", f"{rel}: no {label_file.relative_to(root)}; read as no lesion.")
        try:
            rows, cols = image_shape(image)
        except MammoReadError as e:
            result.add_issue("unreadable", f"{rel}: {e}", image=str(rel))
            continue
        boxes, labels = [], []
        for cls, cx, cy, w, h in entries:
            box = [
                min(max((cx - w / 2) * cols, 0.0), cols),
                min(max((cy - h / 2) * rows, 0.0), rows),
                min(max((cx + w / 2) * cols, 0.0), cols),
                min(max((cy + h / 2) * rows, 0.0), rows),
            ]
            if box[2] <= box[0] or box[3] <= box[1]:
                result.add_issue("empty_box", f"{rel}: class {cls} box of no area; left out.", image=str(rel))
                continue
            if cls not in names and names_file is not None:
                result.add_issue(
                    "unknown_class", f"{rel}: class {cls} is not in {names_file.name}.", image=str(rel)
                )
            boxes.append(box)
            labels.append(names.get(cls, str(cls)))
        folds = [OFFICIAL_SPLITS[p.lower()] for p in rel.parts[:-1] if p.lower() in OFFICIAL_SPLITS]
        result.records.append(
            box_record(
                dataset="yolo_boxes",
                key=record_key(*(p for p in rel.with_suffix("").parts if p.lower() != "images")),
                image=image,
                boxes=boxes,
                labels=labels,
                class_pathology=mapping,
                official_split=folds[0] if folds else None,
            )
        )
    report_patient_sources(result)
    return result


__all__ = ["YoloBox", "read_yolo_labels", "read_yolo_names", "scan_yolo_boxes"]
