"""``ExamReport``: one report folder per exam from a classification run and a segmentation run.

The two bundles of this project each write per-image outputs under their own output folder, named by
:func:`monai_mammo.outputs.output_name` of the same input file, so the outputs of one mammogram can be paired
by name:

- classification (``mammo_classification``, :class:`monai_mammo.handlers.ClassificationWriter`):
  ``report.json`` (images with exam/patient/laterality/view and class probabilities, breasts, exams with
  the rule that grouped their views, the aggregation rule) and ``<name>/heatmap.png``, ``<name>/overlay.png``;
- segmentation (``mammo_lesion_segmentation``, :class:`monai_mammo.handlers.SegmentationWriter`):
  ``<name>/lesions.csv`` (one row per candidate lesion), ``<name>/mask.png``, ``<name>/overlay.png``.

:meth:`ExamReport.write` writes ``<output_dir>/<exam>/`` for every exam of the classification report:
``report.json`` (scores of the exam and its breasts, ``grouped_by``: the rule of
:func:`monai_mammo.data.exam_grouping.group_exams` that put its views together, and per image the
probabilities, the lesions and the file names), ``report.md`` (the same for a person) and, per image,
``<name>/`` with the heat map, both overlays, the lesion mask and table, and ``combined.png`` (image,
Grad-CAM heat in red, lesion outlines in yellow, in the original geometry). ``index.csv`` and ``index.json``
list the exams (with ``grouped_by``) and the inputs that failed in either run. With ``html_report`` (default)
each exam folder also holds ``report.html`` (the four views hung as on a reading screen with toggleable heat
map and lesion outlines, the scores, the lesion table, the limits) and ``index.html`` lists the exams, most
suspicious first (:mod:`monai_mammo.outputs.exam_page`). With ``exam_sr`` (default) an exam whose views are
all DICOM files also gets ``exam_sr.dcm``, a TID 1500 DICOM SR (:mod:`monai_mammo.io.dicom_sr`) that
references all its images and holds their lesions (boxes, areas, probabilities; the segmentation run's SEG of
the image when it wrote one) and the classifier's image, breast and exam scores; other exams get none, said
once in the log. Every file is written atomically; the folders are self-contained (copies, not links).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from monai_mammo.data.readers.auto import MammoAutoReader
from monai_mammo.io import atomic_write_bytes
from monai_mammo.io.dicom_derived import (
    DerivedAlgorithm,
    read_source_header,
    require_highdicom,
    write_dataset,
)
from monai_mammo.io.dicom_sr import ClassifierScores, ImageFindings, exam_measurement_report
from monai_mammo.io.png import encode_png
from monai_mammo.outputs.exam_page import ViewLayers, exam_page_html, index_page_html, view_layers
from monai_mammo.outputs.segmentation import overlay_image
from monai_mammo.utils.json_text import strict_json_text

__all__ = ["ExamReport", "exam_folder_name"]

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NUMBERS = (
    "centre_row",
    "centre_col",
    "peak_row",
    "peak_col",
    "area_px",
    "area_mm2",
    "max_prob",
    "mean_prob",
)


def exam_folder_name(exam_id: str) -> str:
    """A file-system-safe folder name for an exam id (``mini_mias:W001`` -> ``mini_mias_W001``).

    :class:`ExamReport` names an exam's folder ``<patient>_<exam id>``, or ``<exam id>`` when the exam id is
    the patient id or begins with it (``P_00173``, ``p1_20200101`` for patient and study date).
    """
    name = _UNSAFE.sub("_", str(exam_id)).strip("._")
    return name or "exam"


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{what}: {path} not found; run that bundle's inference into this folder first."
        )
    return json.loads(path.read_text())


def _lesions(path: Path) -> list[dict[str, Any]] | None:
    """The rows of a segmentation ``lesions.csv`` with numbers as numbers (``None`` when absent)."""
    if not path.is_file():
        return None
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out: dict[str, Any] = dict(row)
            for key, value in row.items():
                if key in _NUMBERS or key.startswith("bbox") or key == "label":
                    try:
                        number = float(value)
                        out[key] = int(number) if key == "label" or key.startswith("bbox") else number
                    except (TypeError, ValueError):
                        out[key] = None
            rows.append(out)
    return rows


def _copy(source: Path, target: Path) -> str | None:
    if not source.is_file():
        return None
    atomic_write_bytes(target, source.read_bytes())
    return target.name


def _algorithm(metadata: str | os.PathLike[str] | None, name: str) -> DerivedAlgorithm:
    """The algorithm of a bundle from its ``metadata.json``, or ``name`` (version unknown) without one."""
    return DerivedAlgorithm.from_metadata(metadata) if metadata is not None else DerivedAlgorithm(name)


def _failures(folder: Path) -> list[dict[str, Any]]:
    path = folder / "failures.json"
    if not path.is_file():
        return []
    return list(json.loads(path.read_text()).get("failures", []))


class ExamReport:
    """Merge a classification and a segmentation run over the same inputs into one report per exam.

    Args:
        classification_dir: the output folder of ``mammo_classification``'s ``inference.json``.
        segmentation_dir: the output folder of ``mammo_lesion_segmentation``'s ``inference.json``
            (``None``: a report without lesions).
        output_dir: where the exam folders go.
        combined_max_size: the longest side of ``combined.png``.
        reader: the reader of the original images for ``combined.png`` (default :class:`MammoAutoReader`);
            ``combined.png`` is left out for an image that cannot be read again.
        html_report: also write ``<exam>/report.html`` and ``index.html``, self-contained pages that open
            from disk (:mod:`monai_mammo.outputs.exam_page`).
        page_max_size: the longest side of each view on the HTML page.
        limits: the model card's limits in one line, shown on the HTML pages (``None``: not shown).
        suspicion_key: the exam score that orders ``index.html``, highest first.
        exam_sr: also write ``<exam>/exam_sr.dcm`` for an exam of DICOM views (needs highdicom, the ``pacs``
            extra; without it none, said once in the log).
        classification_metadata: the classification bundle's ``metadata.json``, naming the classifier in the
            SR (``None``: "mammo_classification", version unknown).
        segmentation_metadata: the segmentation bundle's ``metadata.json``, naming the lesion findings'
            algorithm and the SR's observer device (``None``: "mammo_lesion_segmentation", version unknown).

    Example:
        .. code-block:: python

            ExamReport("out/classification", "out/segmentation", "out/exams").write()
    """

    def __init__(
        self,
        classification_dir: str | os.PathLike[str],
        segmentation_dir: str | os.PathLike[str] | None,
        output_dir: str | os.PathLike[str],
        combined_max_size: int | None = 1024,
        reader: Any | None = None,
        html_report: bool = True,
        page_max_size: int = 800,
        limits: str | None = None,
        suspicion_key: str = "malignant",
        exam_sr: bool = True,
        classification_metadata: str | os.PathLike[str] | None = None,
        segmentation_metadata: str | os.PathLike[str] | None = None,
    ) -> None:
        self.classification_dir = Path(classification_dir)
        self.segmentation_dir = Path(segmentation_dir) if segmentation_dir is not None else None
        self.output_dir = Path(output_dir)
        self.combined_max_size = combined_max_size
        self.reader: Any = reader if reader is not None else MammoAutoReader()
        self.html_report = bool(html_report)
        self.page_max_size = int(page_max_size)
        self.limits = limits
        self.suspicion_key = suspicion_key
        self.exam_sr = bool(exam_sr)
        self.classification_metadata = classification_metadata
        self.segmentation_metadata = segmentation_metadata
        self._sr_notices: set[str] = set()

    def _notice(self, key: str, message: str, level: int = logging.INFO) -> None:
        """Log ``message`` once per run for ``key``."""
        if key not in self._sr_notices:
            self._sr_notices.add(key)
            logger.log(level, message)

    def _write_exam_sr(self, folder: Path, report: Mapping[str, Any]) -> str | None:
        """``<exam>/exam_sr.dcm`` of an exam whose views are all DICOM (``None``: not written, logged)."""
        headers = [read_source_header(str(image["source"])) for image in report["images"]]
        if not headers or any(h is None for h in headers):
            self._notice(
                "non-dicom",
                f"exam SR (exam_sr.dcm) made for exams of DICOM views only: exam {report['exam_id']} (and "
                "any other exam with a PNG, JPEG, TIFF or NIfTI view in this run) gets none.",
            )
            return None
        try:
            require_highdicom()
        except ImportError as e:
            self._notice("highdicom", f"no exam SR in this run: {e}", logging.WARNING)
            return None
        logging.getLogger("highdicom").setLevel(logging.WARNING)
        aggregation = report.get("aggregation") or {}
        classifier = _algorithm(self.classification_metadata, "mammo_classification")
        classifier = DerivedAlgorithm(
            classifier.name,
            classifier.version,
            parameters={k: f"{k}: {v}"[:64] for k, v in aggregation.items() if k in ("breast", "exam")},
        )
        names = report["class_names"]
        images = []
        for header, image in zip(headers, report["images"]):
            seg = None
            if self.segmentation_dir is not None:
                seg = read_source_header(self.segmentation_dir / image["name"] / "seg.dcm")
                if seg is not None and seg.StudyInstanceUID != header.StudyInstanceUID:  # type: ignore[union-attr]
                    seg = None
            scores: dict[str, Any] = dict(image["probabilities"])
            scores["predicted_class"] = image.get("predicted_class")
            images.append(
                ImageFindings(
                    source=header,  # type: ignore[arg-type]
                    lesions=image["lesions"] or [],
                    segmentation=seg,
                    name=str(image["name"]),
                    scores=scores,
                )
            )
        breasts = {
            str(b["laterality"]): {
                **{k: b.get(f"p_{k}") for k in names},
                "abnormal": b.get("abnormal"),
                "predicted_class": b.get("predicted_class"),
            }
            for b in report["breasts"]
        }
        try:
            sr = exam_measurement_report(
                images,
                algorithm=_algorithm(self.segmentation_metadata, "mammo_lesion_segmentation"),
                scores=ClassifierScores(breasts=breasts, exam=report["exam"], algorithm=classifier),
            )
        except ValueError as e:  # e.g. an exam grouped from several DICOM studies
            logger.error("no exam SR for exam %s: %s", report["exam_id"], e)
            return None
        return write_dataset(folder / "exam_sr.dcm", sr).name

    def _read_image(self, source: str) -> np.ndarray | None:
        """The original image ``(H, W)`` again, or ``None`` (said in the log) when it cannot be read."""
        try:
            image, _ = self.reader.get_data(self.reader.read(source))
        except Exception as e:  # a file that was read once may be gone or changed: skip its pictures only
            logger.warning("pictures of %s skipped: %s", source, e)
            return None
        return np.asarray(image)[0]

    def _combined(
        self, source: str, img: np.ndarray, heatmap: Path, mask: Path | None, target: Path
    ) -> str | None:
        """``combined.png``: the original image, the heat map and the lesion outlines."""
        heat = np.asarray(Image.open(heatmap), dtype=np.float32) / 255.0
        lesion = (
            np.asarray(Image.open(mask)) > 0
            if mask is not None and mask.is_file()
            else np.zeros(heat.shape, bool)
        )
        if img.shape != heat.shape or lesion.shape != heat.shape:
            logger.warning(
                "combined overlay of %s skipped: image %s, heat map %s, mask %s",
                source,
                img.shape,
                heat.shape,
                lesion.shape,
            )
            return None
        picture = overlay_image(img, heat, lesion, max_size=self.combined_max_size)
        atomic_write_bytes(target, encode_png(picture))
        return target.name

    def _layers(
        self, row: Mapping[str, Any], img: np.ndarray, heatmap: Path, mask: Path | None
    ) -> ViewLayers | None:
        """The view's layers on the HTML page (:func:`~monai_mammo.outputs.exam_page.view_layers`)."""
        heat = np.asarray(Image.open(heatmap), dtype=np.float32) / 255.0 if heatmap.is_file() else None
        lesion = np.asarray(Image.open(mask)) if mask is not None and mask.is_file() else None
        try:
            return view_layers(img, heat, lesion, row.get("laterality"), max_size=self.page_max_size)
        except ValueError as e:
            logger.warning("page view of %s skipped: %s", row.get("source"), e)
            return None

    def _image(
        self, row: Mapping[str, Any], exam_folder: Path, class_names: Sequence[str]
    ) -> tuple[dict[str, Any], ViewLayers | None]:
        name = str(row["name"])
        cls_folder = self.classification_dir / name
        seg_folder = self.segmentation_dir / name if self.segmentation_dir is not None else None
        target = exam_folder / name
        files: dict[str, str | None] = {
            "heatmap_png": _copy(cls_folder / "heatmap.png", target / "heatmap.png"),
            "heatmap_overlay_png": _copy(cls_folder / "overlay.png", target / "heatmap_overlay.png"),
        }
        lesions = None
        if seg_folder is not None:
            files["lesion_overlay_png"] = _copy(seg_folder / "overlay.png", target / "lesion_overlay.png")
            files["lesion_mask_png"] = _copy(seg_folder / "mask.png", target / "lesion_mask.png")
            files["lesions_csv"] = _copy(seg_folder / "lesions.csv", target / "lesions.csv")
            lesions = _lesions(seg_folder / "lesions.csv")
        mask = seg_folder / "mask.png" if seg_folder is not None else None
        img = None
        if files["heatmap_png"] is not None or self.html_report:
            img = self._read_image(str(row["source"]))
        if img is not None and files["heatmap_png"] is not None:
            files["combined_png"] = self._combined(
                str(row["source"]), img, cls_folder / "heatmap.png", mask, target / "combined.png"
            )
        layers = self._layers(row, img, cls_folder / "heatmap.png", mask) if img is not None else None
        record = {
            "name": name,
            "source": row.get("source"),
            "laterality": row.get("laterality"),
            "view": row.get("view"),
            "probabilities": {c: float(row[f"p_{c}"]) for c in class_names},
            "predicted_class": row.get("predicted_class"),
            "label": row.get("label") or None,
            "lesions": lesions,
            "n_lesions": None if lesions is None else len(lesions),
            "max_lesion_prob": None if not lesions else max(float(r["max_prob"] or 0.0) for r in lesions),
            "folder": name,
            "files": {k: f"{name}/{v}" for k, v in files.items() if v is not None},
        }
        return record, layers

    @staticmethod
    def _markdown(report: Mapping[str, Any]) -> str:
        exam = report["exam"]
        lines = [
            f"# Exam {report['exam_id']}",
            "",
            f"Patient {report['patient_id']}; views grouped into this exam by {report.get('grouped_by')}.",
            "**Not for clinical use** (research software; see the model cards).",
            "",
            "| exam score | value |",
            "|---|---|",
        ]
        lines += [f"| {k} | {v:.3f} |" for k, v in exam.items() if isinstance(v, float)]
        lines += [
            f"| predicted class | {exam.get('predicted_class')} |",
            f"| most suspicious breast | {exam.get('most_suspicious_breast')} |",
            "",
            f"Aggregation: breast = {report['aggregation']['breast']};",
            f"exam = {report['aggregation']['exam']}.",
            "",
            "| image | side | view | "
            + " | ".join(f"P({c})" for c in report["class_names"])
            + " | lesions |",
            "|---|---|---|" + "---|" * len(report["class_names"]) + "---|",
        ]
        for image in report["images"]:
            probs = " | ".join(f"{image['probabilities'][c]:.3f}" for c in report["class_names"])
            n = "n/a" if image["n_lesions"] is None else str(image["n_lesions"])
            lines.append(f"| {image['name']} | {image['laterality']} | {image['view']} | {probs} | {n} |")
        lines.append("")
        for image in report["images"]:
            for key in ("combined_png", "heatmap_overlay_png", "lesion_overlay_png"):
                if key in image["files"]:
                    lines.append(f"![{image['name']} {key}]({image['files'][key]})")
        return "\n".join(lines) + "\n"

    def write(self) -> Path:
        """Write every exam's folder and the index.

        Returns:
            The path of ``index.json``.

        Raises:
            FileNotFoundError: when the classification run's ``report.json`` is missing.
        """
        cls_report = _read_json(self.classification_dir / "report.json", "classification report")
        self._sr_notices = set()
        class_names = list(cls_report["class_names"])
        images_by_exam: dict[str, list[dict[str, Any]]] = {}
        for row in cls_report["images"]:
            images_by_exam.setdefault(str(row["exam_id"]), []).append(row)
        breasts_by_exam: dict[str, list[dict[str, Any]]] = {}
        for row in cls_report["breasts"]:
            breasts_by_exam.setdefault(str(row["exam_id"]), []).append(row)
        index = []
        for exam in cls_report["exams"]:
            exam_id = str(exam["exam_id"])
            patient = str(exam["patient_id"])
            named = exam_id == patient or exam_id.startswith(f"{patient}_")
            folder = self.output_dir / exam_folder_name(exam_id if named else f"{patient}_{exam_id}")
            images, layers = [], {}
            for row in images_by_exam.get(exam_id, []):
                record, view = self._image(row, folder, class_names)
                images.append(record)
                if view is not None:
                    layers[record["name"]] = view
            scores = {
                k: v
                for k, v in exam.items()
                if k not in ("exam_id", "patient_id", "breasts", "images", "grouped_by")
            }
            report = {
                "exam_id": exam_id,
                "patient_id": exam["patient_id"],
                "grouped_by": exam.get("grouped_by"),
                "class_names": class_names,
                "exam": scores,
                "breasts": breasts_by_exam.get(exam_id, []),
                "images": images,
                "aggregation": cls_report["aggregation"],
                "heatmap": cls_report.get("heatmap"),
                "lesion_source": None if self.segmentation_dir is None else str(self.segmentation_dir),
            }
            if self.exam_sr:
                sr_name = self._write_exam_sr(folder, report)
                if sr_name is not None:
                    report["files"] = {"exam_sr_dcm": sr_name}
            atomic_write_bytes(folder / "report.json", (strict_json_text(report) + "\n").encode("utf-8"))
            atomic_write_bytes(folder / "report.md", self._markdown(report).encode("utf-8"))
            if self.html_report:
                page = exam_page_html(report, layers, limits=self.limits)
                atomic_write_bytes(folder / "report.html", page.encode("utf-8"))
            n_lesions = sum(i["n_lesions"] or 0 for i in images)
            index.append(
                {
                    "exam_id": exam_id,
                    "patient_id": exam["patient_id"],
                    "grouped_by": exam.get("grouped_by"),
                    "folder": folder.name,
                    "n_images": len(images),
                    "n_lesions": n_lesions,
                    **{k: v for k, v in scores.items()},
                }
            )
        columns = list(dict.fromkeys(k for row in index for k in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(index)
        atomic_write_bytes(self.output_dir / "index.csv", buffer.getvalue().encode("utf-8"))
        failures = {"classification": _failures(self.classification_dir)}
        if self.segmentation_dir is not None:
            failures["segmentation"] = _failures(self.segmentation_dir)
        summary = {"n_exams": len(index), "exams": index, "failures": failures}
        if self.html_report:
            page = index_page_html(index, key=self.suspicion_key, limits=self.limits)
            atomic_write_bytes(self.output_dir / "index.html", page.encode("utf-8"))
        path = atomic_write_bytes(
            self.output_dir / "index.json", (strict_json_text(summary) + "\n").encode("utf-8")
        )
        logger.info("wrote %d exam report(s) to %s", len(index), self.output_dir)
        return path
