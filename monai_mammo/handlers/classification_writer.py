"""``ClassificationWriter``: an Ignite handler that writes the per-image, per-breast and per-exam outputs of a
classification run."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor

from monai_mammo.data.exam_grouping import ExamAssignment, ExamEvidence, group_exams
from monai_mammo.handlers.per_image import PerImageHandler, per_image_batch
from monai_mammo.io import atomic_write_bytes
from monai_mammo.metrics.exam import DEFAULT_CLASS_NAMES, ExamAggregator, ViewPrediction
from monai_mammo.outputs.classification import write_classification_outputs
from monai_mammo.outputs.naming import UniqueOutputNames
from monai_mammo.utils.enums import Laterality, MammoMetaKey, ViewPosition
from monai_mammo.utils.json_text import strict_json_text

__all__ = [
    "ClassificationWriter",
    "exam_evidence",
    "grouped_views",
    "per_image_batch",
    "view_identity",
    "write_csv",
]

UNKNOWN = "UNKNOWN"
EXAM_KEYS = ("exam_id", "study_id")
"""Data (datalist) keys holding an exam id, tried in this order; a datalist exam id is taken as it is."""
IDENTITY_KEYS = ("exam_id", "patient_id", "laterality", "view", "grouped_by")
"""The fields of an image's identity in ``prediction.json`` and the tables."""


def _text(value: Any) -> str | None:
    """A non-empty string, or ``None`` for missing, empty and ``"UNKNOWN"`` values."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None
    text = str(value).strip() if value is not None else ""
    return text if text and text.upper() != UNKNOWN else None


def exam_evidence(
    item: Mapping[str, Any], meta: Mapping[str, Any], name: str, source: str | None = None
) -> ExamEvidence:
    """What one image says about its exam: its data item first, then its metadata.

    - exam: the item's ``exam_id``/``study_id``; the study: the item's, else the metadata's
      ``StudyInstanceUID``; the woman: the item's ``patient_id`` and the metadata's ``PatientID``; the
      metadata's ``StudyDate``; the file path ``source`` (default: the metadata's ``filename_or_obj``);
    - ``laterality`` and ``view``: the item's ``laterality``/``view``, else the reader's ``laterality`` and
      ``view_position`` metadata (:class:`~monai_mammo.utils.enums.MammoMetaKey`), else ``"UNKNOWN"``.

    Args:
        item: the image's data dictionary (datalist fields travel with it through the loader).
        meta: the metadata of the image tensor.
        name: the image's output name.
        source: the image's file path.

    Returns:
        The evidence for :func:`monai_mammo.data.exam_grouping.group_exams`.
    """
    laterality = Laterality.parse(
        _text(item.get("laterality")) or _text(meta.get(MammoMetaKey.LATERALITY.value))
    )
    view = ViewPosition.parse(_text(item.get("view")) or _text(meta.get(MammoMetaKey.VIEW.value)))
    return ExamEvidence(
        name=name,
        exam_id=next((t for t in (_text(item.get(k)) for k in EXAM_KEYS) if t), None),
        patient_id=_text(item.get("patient_id")),
        study_uid=_text(item.get("StudyInstanceUID")) or _text(meta.get("StudyInstanceUID")),
        dicom_patient_id=_text(meta.get("PatientID")),
        study_date=_text(meta.get("StudyDate")),
        source=source if source is not None else _text(meta.get("filename_or_obj")),
        laterality=laterality.value,
        view=view.value,
    )


def view_identity(item: Mapping[str, Any], meta: Mapping[str, Any], name: str) -> dict[str, str]:
    """Exam, patient, laterality and view of one image on its own (see :func:`exam_evidence`).

    An image alone has no other image to be grouped with, so its exam is the first of: the datalist exam id,
    the study UID, the datalist patient id, the DICOM PatientID (with the study date), the woman a data set's
    naming convention gives, the image's own ``name``. :func:`grouped_views` groups the images of a run
    together (:func:`monai_mammo.data.exam_grouping.group_exams`).

    Args:
        item: the image's data dictionary.
        meta: the metadata of the image tensor.
        name: the image's output name.

    Returns:
        ``{"exam_id", "patient_id", "laterality", "view"}`` as strings.
    """
    return group_exams([exam_evidence(item, meta, name)])[0].identity()


def grouped_views(
    views: Sequence[ViewPrediction], evidence: Sequence[ExamEvidence]
) -> tuple[list[ViewPrediction], list[ExamAssignment]]:
    """The views of a run with the exams :func:`~monai_mammo.data.exam_grouping.group_exams` gives them.

    Args:
        views: the view predictions, in run order.
        evidence: what each image says about its exam, in the same order.

    Returns:
        The views with their exam, patient, laterality and view replaced, and the assignments (with
        ``grouped_by``).

    Raises:
        ValueError: when the two lists differ in length.
    """
    if len(views) != len(evidence):
        raise ValueError(f"{len(views)} views but evidence for {len(evidence)} images.")
    assignments = group_exams(evidence)
    views = [
        dataclasses.replace(
            v, exam_id=a.exam_id, patient_id=a.patient_id, laterality=a.laterality, view=a.view
        )
        for v, a in zip(views, assignments)
    ]
    return views, assignments


def write_csv(
    path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> Path:
    """Write ``rows`` as CSV with ``columns`` (the header even when empty), atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))


class ClassificationWriter(PerImageHandler):
    """Write, for every image an evaluator classifies, its probabilities, heat map and overlay; then the
    breast and exam scores and a report a downstream system can read.

    Attach it to a :class:`monai.engines.SupervisedEvaluator` whose postprocessing leaves in each item the
    class probabilities under ``pred_key`` (``(K,)``, e.g. ``Activationsd(softmax=True)``), and, optionally,
    a heat map under ``heatmap_key`` and the image under ``image_key``, both in the original geometry
    (``Invertd(keys=["cam", "image"], transform=preprocessing, orig_keys="image")``). At each iteration it
    writes ``<output_dir>/<name>/`` (:func:`monai_mammo.outputs.write_classification_outputs`:
    ``heatmap.png``, ``overlay.png``, ``prediction.json``); when the run completes it aggregates the images
    into breasts and exams with :class:`monai_mammo.metrics.ExamAggregator` (breast = mean of its views,
    exam = max over its breasts, by default) and writes into ``output_dir``, atomically:

    - ``predictions.csv``: one row per image (name, source, exam, patient, laterality, view, the rule that
      grouped its exam, ``p_<class>``, predicted class, the label when the data has one, the output folder);
    - ``breasts.csv`` and ``exams.csv``: one row per breast and per exam (see ``ExamAggregator``; an exam's
      ``grouped_by`` is the rule that made it);
    - ``report.json``: all three levels, the class names, the aggregation rule and the heat map's class.

    What an image says about its exam comes from its data item, then its metadata (:func:`exam_evidence`);
    when the run completes the images are grouped into exams all together
    (:func:`monai_mammo.data.exam_grouping.group_exams`: a study UID several images share, the woman and the
    study date, a public data set's naming convention, ...), and the ``prediction.json`` of an image whose
    exam changed by that is written again.

    Args:
        output_dir: the folder of the outputs.
        class_names: the class names, in the order of the probabilities.
        pred_key: the key of the class probabilities.
        heatmap_key: the key of the heat map (``None``: none).
        image_key: the key of the image for the overlay (``None``: no overlay).
        label_key: a data key with the true class index, reported when present (``None``: none).
        heatmap_class: the class index the heat maps explain (recorded in the outputs; ``None``: each
            image's predicted class).
        data_root_dir: input folder the output names are relative to (see
            :func:`monai_mammo.outputs.output_name`; two inputs that would share a name in one run keep their
            suffix, :class:`monai_mammo.outputs.UniqueOutputNames`); ``None`` uses the file name alone.
        aggregator: the breast/exam aggregation (default ``ExamAggregator(class_names)``).
        overlay_max_size: the longest side of ``overlay.png``.
        output_transform: maps ``engine.state.output`` to a list of per-image dictionaries (default: the
            decollated output itself).
        name: logger name (default: the engine's logger).

    Example:
        .. code-block:: json

            {"_target_": "monai_mammo.handlers.ClassificationWriter", "output_dir": "@output_dir",
             "heatmap_key": "cam", "heatmap_class": 2, "data_root_dir": "@dataset_dir"}
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        class_names: Sequence[str] = DEFAULT_CLASS_NAMES,
        pred_key: str = "pred",
        heatmap_key: str | None = "cam",
        image_key: str | None = "image",
        label_key: str | None = "label",
        heatmap_class: int | None = None,
        data_root_dir: str | os.PathLike[str] | None = None,
        aggregator: ExamAggregator | None = None,
        overlay_max_size: int | None = 1024,
        output_transform: Callable[[Any], Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.class_names = tuple(str(c) for c in class_names)
        if heatmap_class is not None and not 0 <= int(heatmap_class) < len(self.class_names):
            raise ValueError(f"heatmap_class {heatmap_class} is not a class index of {self.class_names}.")
        self.pred_key = pred_key
        self.heatmap_key = heatmap_key
        self.image_key = image_key
        self.label_key = label_key
        self.heatmap_class = None if heatmap_class is None else int(heatmap_class)
        self.data_root_dir = data_root_dir
        self._names = UniqueOutputNames(data_root_dir)
        self.aggregator = aggregator if aggregator is not None else ExamAggregator(self.class_names)
        if tuple(self.aggregator.class_names) != self.class_names:
            raise ValueError(
                f"the aggregator's classes {self.aggregator.class_names} differ from {self.class_names}."
            )
        self.overlay_max_size = overlay_max_size
        super().__init__(output_transform=output_transform, name=name)
        self.rows: list[dict[str, Any]] = []
        self.views: list[ViewPrediction] = []
        self.evidence: list[ExamEvidence] = []
        self._records: list[dict[str, Any]] = []  # what each prediction.json holds

    def _reset(self, engine: Any = None) -> None:
        self.rows, self.views, self.evidence, self._records = [], [], [], []
        self._names.reset()

    def _completed(self, engine: Any = None) -> None:
        self.write_report(engine)

    def _label(self, item: Mapping[str, Any]) -> int | None:
        if self.label_key is None or item.get(self.label_key) is None:
            return None
        value = torch.as_tensor(item[self.label_key]).reshape(-1)
        if value.numel() != 1:
            return None
        index = int(value.item())
        return index if 0 <= index < len(self.class_names) else None

    def __call__(self, engine: Any) -> None:
        """Write the outputs of the images of the current iteration.

        Args:
            engine: the engine, whose ``state.output`` holds the images' predictions.

        Raises:
            KeyError: when an output lacks ``pred_key`` (or a configured heat map or image key).
        """
        for item, data in self._items_with_data(engine):
            for key in (self.pred_key, self.heatmap_key, self.image_key):
                if key is not None and key not in item:
                    raise KeyError(f"ClassificationWriter: the engine output has no {key!r} key.")
            probs = np.asarray(
                torch.as_tensor(item[self.pred_key]).detach().cpu().float(), dtype=np.float64
            ).ravel()
            tensor = item[self.image_key] if self.image_key is not None else item[self.pred_key]
            meta = tensor.meta if isinstance(tensor, MetaTensor) else {}
            source = str(meta.get("filename_or_obj", f"image_{len(self.rows)}"))
            self._names.logger = self.logger
            name = self._names(source)
            evidence = exam_evidence(data, meta, name, source)
            alone = group_exams([evidence])[0]  # until the run completes and the images are grouped
            identity = {**alone.identity(), "grouped_by": alone.grouped_by}
            label = self._label(data)
            written = write_classification_outputs(
                self.output_dir,
                name,
                probs,
                heatmap=item[self.heatmap_key] if self.heatmap_key is not None else None,
                image=item[self.image_key] if self.image_key is not None else None,
                class_names=self.class_names,
                heatmap_class=self.heatmap_class,
                identity={
                    "source": source,
                    **identity,
                    "label": None if label is None else self.class_names[label],
                },
                overlay_max_size=self.overlay_max_size,
            )
            self.views.append(
                ViewPrediction(
                    name=name, probs=tuple(float(p) for p in probs), label=label, **alone.identity()
                )
            )
            self.evidence.append(evidence)
            self._records.append(dict(written.record))
            row: dict[str, Any] = {"name": name, "source": source, **identity}
            row.update({f"p_{c}": round(float(p), 6) for c, p in zip(self.class_names, probs)})
            row["predicted_class"] = written.record["predicted_class"]
            row["label"] = "" if label is None else self.class_names[label]
            row["folder"] = str(written.folder)
            self.rows.append(row)
            self.logger.info(
                f"wrote {name}: {row['predicted_class']} ("
                + ", ".join(f"{c} {float(p):.3f}" for c, p in zip(self.class_names, probs))
                + ")"
            )

    def group(self) -> None:
        """Group all the images of the run into exams: update :attr:`views` and the rows' identity."""
        self.views, assignments = grouped_views(self.views, self.evidence)
        for row, assignment in zip(self.rows, assignments):
            row.update(assignment.identity(), grouped_by=assignment.grouped_by)

    def report(self) -> dict[str, Any]:
        """The report of the images written in this run: images, breasts, exams, classes and rules."""
        self.group()
        breasts, exams = self.aggregator(self.views)
        rules: dict[str, set[str]] = {}
        for row in self.rows:
            rules.setdefault(str(row["exam_id"]), set()).add(str(row["grouped_by"]))
        exam_rows = [
            {**self.aggregator.exam_row(e), "grouped_by": "; ".join(sorted(rules.get(e.exam_id, ())))}
            for e in exams
        ]
        return {
            "class_names": list(self.class_names),
            "heatmap": {
                "method": "Grad-CAM",
                "class": None if self.heatmap_class is None else self.class_names[self.heatmap_class],
                "scale": "per image, 0 (no evidence) to 1 (strongest evidence in that image)",
            }
            if self.heatmap_key is not None
            else None,
            "aggregation": self.aggregator.describe(),
            "n_images": len(self.rows),
            "images": self.rows,
            "breasts": [self.aggregator.breast_row(b) for b in breasts],
            "exams": exam_rows,
        }

    def _rewrite_predictions(self) -> None:
        """Write again the ``prediction.json`` of every image whose exam the grouping changed."""
        for row, record in zip(self.rows, self._records):
            identity = {k: row[k] for k in IDENTITY_KEYS}
            if all(record.get(k) == v for k, v in identity.items()):
                continue
            record.update(identity)
            atomic_write_bytes(
                Path(row["folder"]) / "prediction.json",
                (strict_json_text(record, default=str) + "\n").encode("utf-8"),
            )

    def write_report(self, engine: Any = None) -> Path:
        """Write ``predictions.csv``, ``breasts.csv``, ``exams.csv`` and ``report.json``, each atomically.

        Args:
            engine: unused (Ignite passes the engine).

        Returns:
            The path of ``report.json``.
        """
        report = self.report()
        self._rewrite_predictions()
        probs = [f"p_{c}" for c in self.class_names]
        image_columns = ["name", "source", *IDENTITY_KEYS, *probs]
        write_csv(
            self.output_dir / "predictions.csv",
            report["images"],
            [*image_columns, "predicted_class", "label", "folder"],
        )
        breast_columns = [
            "exam_id",
            "patient_id",
            "laterality",
            "views",
            "images",
            *probs,
            "abnormal",
            "predicted_class",
            "label",
        ]
        write_csv(self.output_dir / "breasts.csv", report["breasts"], breast_columns)
        scores = [c for i, c in enumerate(self.class_names) if i != self.aggregator.normal_index] + [
            "abnormal"
        ]
        exam_columns = [
            "exam_id",
            "patient_id",
            "breasts",
            "images",
            *scores,
            "predicted_class",
            "most_suspicious_breast",
            "label",
            "grouped_by",
        ]
        write_csv(self.output_dir / "exams.csv", report["exams"], exam_columns)
        path = atomic_write_bytes(
            self.output_dir / "report.json",
            (strict_json_text(report, default=str) + "\n").encode("utf-8"),
        )
        self.logger.info(f"{len(report['images'])} image(s), {len(report['exams'])} exam(s): {path}")
        return path
