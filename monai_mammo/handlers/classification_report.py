"""``ClassificationReport``: ROC AUC with patient-bootstrap CIs, sensitivity at specificity, confusion matrix
and calibration of a mammogram classification evaluation run, per image and per exam."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor

from monai_mammo.data.datalist import source_name
from monai_mammo.data.exam_grouping import ExamEvidence, group_exams
from monai_mammo.handlers.classification_writer import exam_evidence, grouped_views, write_csv
from monai_mammo.handlers.per_image import PerImageHandler
from monai_mammo.io import atomic_write_bytes
from monai_mammo.metrics.calibration import expected_calibration_error, reliability_bins
from monai_mammo.metrics.classification import (
    confusion_matrix,
    roc_auc,
    roc_auc_with_ci,
    sensitivity_at_specificity_with_ci,
)
from monai_mammo.metrics.exam import DEFAULT_CLASS_NAMES, ExamAggregator, ViewPrediction
from monai_mammo.metrics.plots import plot_roc
from monai_mammo.outputs.naming import UniqueOutputNames
from monai_mammo.utils.json_text import strict_json_text

__all__ = ["ClassificationReport", "binary_metrics", "source_separation"]


def source_separation(
    labels: np.ndarray,
    score: np.ndarray,
    sources: np.ndarray,
    question_auc: Mapping[str, Any] | None,
    min_images: int = 5,
) -> dict[str, Any]:
    """How well ``score`` tells the sources of the images apart within each true class.

    For every class and every pair of sources with at least ``min_images`` images of that class each: the AUC
    of the score separating the two sources, folded to [0.5, 1] (0.5: the score does not tell them apart). The
    ``max_within_class_source_auc`` is compared with the question's AUC: ``learnt_source`` is true when the
    score tells the archives apart at least as well as it answers the question.

    Args:
        labels: the true class per image.
        score: the question's score per image.
        sources: the source (archive) per image.
        question_auc: the question's ``{"value": ...}`` AUC over all images (or ``None``).
        min_images: the fewest images of a class a source needs to be compared (fewer give no stable AUC).

    Returns:
        ``pairs`` (class, source a, source b, n each, folded AUC), ``max_within_class_source_auc``,
        ``question_auc`` and ``learnt_source`` (``None`` when no pair or no question AUC).
    """
    pairs: list[dict[str, Any]] = []
    aucs: list[float] = []
    names = sorted({str(s) for s in sources})
    for cls in sorted({int(c) for c in labels}):
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                sa = score[(labels == cls) & (sources == a)]
                sb = score[(labels == cls) & (sources == b)]
                if min(len(sa), len(sb)) < min_images:
                    continue
                y = np.r_[np.zeros(len(sa)), np.ones(len(sb))]
                auc = float(roc_auc(y, np.r_[sa, sb]))
                aucs.append(max(auc, 1 - auc))
                pairs.append({"class": cls, "sources": [a, b], "n": [len(sa), len(sb)], "auc": aucs[-1]})
    worst = max(aucs, default=None)
    value = None if not question_auc else question_auc.get("value")
    learnt = None if worst is None or value is None or math.isnan(value) else bool(worst >= value)
    return {
        "pairs": pairs,
        "max_within_class_source_auc": worst,
        "question_auc": value,
        "learnt_source": learnt,
    }


def _interval(fn: Callable[[], Any]) -> dict[str, Any]:
    """``{"value", "ci95"}`` of a CI-returning call; an undefined interval gives NaN bounds and the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # bootstrap_ci leaves one-class resamples out (raises if too many)
            point, low, high = fn()
        return {"value": point, "ci95": [low, high]}
    except ValueError as e:
        return {"value": math.nan, "ci95": [math.nan, math.nan], "note": str(e)}


def binary_metrics(
    y_true: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
    groups: Sequence[Any] | None = None,
    specificities: Sequence[float] = (0.9, 0.95),
    n_boot: int = 1000,
    seed: int = 0,
    n_bins: int = 10,
) -> dict[str, Any]:
    """ROC AUC and sensitivity at specificities with percentile bootstrap 95% CIs, and the ECE of ``score``.

    Args:
        y_true: 0/1 labels.
        score: the predicted probability of the positive class.
        groups: patient id per case: the bootstrap resamples whole patients (``None``: cases).
        specificities: where the sensitivity is read (``"step"`` rule: an operating point a threshold gives).
        n_boot: bootstrap replicates.
        seed: bootstrap seed.
        n_bins: calibration bins.

    Returns:
        ``n``, ``n_positive``, ``auc``, ``sensitivity_at_specificity`` (``{"0.9": ...}``), ``ece``,
        ``reliability`` (bin confidence, observed fraction, count). With one class only the AUC and
        sensitivities are ``None`` with a ``note``; the ECE is still given.
    """
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(score, dtype=np.float64)
    out: dict[str, Any] = {"n": len(y), "n_positive": int(y.sum())}
    if len(y) == 0:
        out["note"] = "no cases"
        return out
    if 0 < int(y.sum()) < len(y):
        out["auc"] = _interval(lambda: roc_auc_with_ci(y, s, n_boot=n_boot, seed=seed, groups=groups))

        def sensitivity(spec: float) -> Any:
            return sensitivity_at_specificity_with_ci(y, s, spec, n_boot=n_boot, seed=seed, groups=groups)

        out["sensitivity_at_specificity"] = {
            f"{spec:g}": _interval(partial(sensitivity, spec)) for spec in specificities
        }
    else:
        out["auc"] = None
        out["sensitivity_at_specificity"] = None
        out["note"] = f"{int(y.sum())} positive(s) of {len(y)}: the ROC needs both classes"
    out["ece"] = expected_calibration_error(y, s, n_bins=n_bins)
    confidence, accuracy, count = reliability_bins(y, s, n_bins=n_bins)
    out["reliability"] = {
        "confidence": [None if math.isnan(c) else round(float(c), 4) for c in confidence],
        "observed": [None if math.isnan(a) else round(float(a), 4) for a in accuracy],
        "count": [int(c) for c in count],
    }
    return out


class ClassificationReport(PerImageHandler):
    """Collect the class probabilities and labels of an evaluator; report ROC, sensitivity, calibration.

    For every image it reads the class probabilities (``pred_key``, ``(K,)``: ``Activationsd(softmax=True)``)
    and the true class index (``label_key``), and what the image says about its exam
    (:func:`monai_mammo.handlers.classification_writer.exam_evidence`: data item, then metadata). When the
    run completes it groups the images into exams (:func:`monai_mammo.data.exam_grouping.group_exams`) and
    evaluates each binary question of ``questions`` (default: ``malignant`` = class 2 vs the
    rest, score ``P(malignant)``; ``abnormal`` = classes 1-2 vs normal, score ``1 - P(normal)``) at two
    levels:

    - **image**: every view on its own;
    - **exam**: the views aggregated by :class:`monai_mammo.metrics.ExamAggregator` (breast = mean of its
      views, exam = max over its breasts; the exam's label is its worst breast's).

    Per level and question: ROC AUC and sensitivity at ``specificities`` with percentile bootstrap 95% CIs
    resampling **patients** (``n_boot`` replicates), ECE and reliability bins, a ROC curve PNG; per level the
    ``K x K`` confusion matrix of the predicted (arg-max) class. Writes into ``output_dir``, atomically:
    ``metrics.json``, ``metrics_per_image.csv``, ``metrics_per_exam.csv``, ``roc_<question>_<level>.png``; the
    headline is logged and kept in :attr:`results`.

    Args:
        output_dir: the folder of the report files.
        class_names: the class names, in the order of the probabilities.
        pred_key: the key of the class probabilities in the engine's output.
        label_key: the key of the true class index (in the output or the batch).
        questions: question name -> the positive class indices (the score is the sum of their probabilities).
        specificities: specificities at which the sensitivity is reported.
        n_boot: bootstrap replicates.
        seed: bootstrap seed.
        n_bins: calibration bins.
        data_root_dir: input folder the image names are relative to (see
            :func:`monai_mammo.outputs.output_name`).
        aggregator: the exam aggregation (default ``ExamAggregator(class_names)``).
        output_transform: maps ``engine.state.output`` to a list of per-image dictionaries.
        name: logger name (default: the engine's logger).
        source_key: the datalist key naming the archive an image comes from (e.g. ``"source"``). When the run
            holds several, ``per_source`` repeats the image-level metrics for each, and ``source_shortcut``
            tells how well each question's score separates the sources *within one true class*: a score
            that tells archives apart as well as it tells cancer has learnt the archive (see
            :func:`source_separation`).
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        class_names: Sequence[str] = DEFAULT_CLASS_NAMES,
        pred_key: str = "pred",
        label_key: str = "label",
        questions: Mapping[str, Sequence[int]] | None = None,
        specificities: Sequence[float] = (0.9, 0.95),
        n_boot: int = 1000,
        seed: int = 0,
        n_bins: int = 10,
        data_root_dir: str | os.PathLike[str] | None = None,
        aggregator: ExamAggregator | None = None,
        output_transform: Callable[[Any], Any] | None = None,
        name: str | None = None,
        source_key: str = "source",
    ) -> None:
        self.output_dir = Path(output_dir)
        self.source_key = source_key
        self.class_names = tuple(str(c) for c in class_names)
        k = len(self.class_names)
        default = {"malignant": [k - 1], "abnormal": list(range(1, k))}
        self.questions = {str(q): sorted({int(c) for c in cs}) for q, cs in (questions or default).items()}
        for q, classes in self.questions.items():
            if not classes or not all(0 <= c < k for c in classes):
                raise ValueError(
                    f"question {q!r}: positive classes {classes} are not indices of {self.class_names}."
                )
        self.pred_key = pred_key
        self.label_key = label_key
        self.specificities = tuple(float(s) for s in specificities)
        self.n_boot = int(n_boot)
        self.seed = int(seed)
        self.n_bins = int(n_bins)
        self.data_root_dir = data_root_dir
        self._names = UniqueOutputNames(data_root_dir)
        self.aggregator = aggregator if aggregator is not None else ExamAggregator(self.class_names)
        super().__init__(output_transform=output_transform, name=name)
        self.views: list[ViewPrediction] = []
        self.evidence: list[ExamEvidence] = []
        self.sources: list[str] = []
        self.results: dict[str, Any] = {}

    def _reset(self, engine: Any = None) -> None:
        self.views, self.evidence, self.sources, self.results = [], [], [], {}
        self._names.reset()

    def _completed(self, engine: Any = None) -> None:
        self.report(engine)

    def __call__(self, engine: Any) -> None:
        """Collect the images of the current iteration.

        Raises:
            KeyError: when an image lacks ``pred_key`` or ``label_key``.
            ValueError: for a label outside the classes or probabilities of the wrong length.
        """
        for _item, data in self._items_with_data(engine):
            for key in (self.pred_key, self.label_key):
                if key not in data:
                    raise KeyError(f"ClassificationReport: the engine output has no {key!r} key.")
            pred = data[self.pred_key]
            probs = tuple(float(p) for p in torch.as_tensor(pred).detach().cpu().float().reshape(-1))
            if len(probs) != len(self.class_names):
                raise ValueError(
                    f"ClassificationReport: {len(probs)} probabilities for classes {self.class_names}."
                )
            label = int(torch.as_tensor(data[self.label_key]).reshape(-1)[0])
            if not 0 <= label < len(self.class_names):
                raise ValueError(
                    f"ClassificationReport: label {label} is not a class index of {self.class_names}."
                )
            image = data.get("image")
            meta = (
                image.meta
                if isinstance(image, MetaTensor)
                else pred.meta
                if isinstance(pred, MetaTensor)
                else {}
            )
            source = str(meta.get("filename_or_obj", f"image_{len(self.views)}"))
            self._names.logger = self.logger
            name = self._names(source)
            evidence = exam_evidence(data, meta, name, source)
            self.evidence.append(evidence)
            self.sources.append(source_name(data.get(self.source_key, "")))
            self.views.append(
                ViewPrediction(name=name, probs=probs, label=label, **group_exams([evidence])[0].identity())
            )

    def _evaluate(
        self,
        labels: np.ndarray,
        scores: dict[str, np.ndarray],
        predicted: np.ndarray,
        groups: list[str],
        level: str,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(labels), "n_patients": len(set(groups))}
        out["class_counts"] = {c: int((labels == k).sum()) for k, c in enumerate(self.class_names)}
        for question, positive in self.questions.items():
            y = np.isin(labels, positive).astype(np.int64)
            out[question] = binary_metrics(
                y, scores[question], groups, self.specificities, self.n_boot, self.seed, self.n_bins
            )
            if 0 < y.sum() < len(y):
                path = self.output_dir / f"roc_{question}_{level}.png"
                plot_roc(
                    y,
                    scores[question],
                    path,
                    label=f"{question} ({level})",
                    title=f"ROC, {question} vs rest, per {level} (n={len(y)})",
                    operating_points=self.specificities,
                )
                out[question]["roc_png"] = path.name
        labels_idx = list(range(len(self.class_names)))
        matrix = confusion_matrix(labels, predicted, labels=labels_idx)
        out["confusion_matrix"] = {
            "rows_true_columns_predicted": list(self.class_names),
            "matrix": matrix.tolist(),
        }
        out["accuracy"] = float(np.trace(matrix) / matrix.sum()) if matrix.sum() else math.nan
        return out

    def report(self, engine: Any = None) -> dict[str, Any]:
        """Compute the metrics at both levels, write the report files and log the headline.

        Args:
            engine: unused (Ignite passes the engine).

        Returns:
            The results (also in :attr:`results`).
        """
        self.views, _ = grouped_views(self.views, self.evidence)  # the run's images together
        normal = self.aggregator.normal_index
        probs = np.asarray([v.probs for v in self.views], dtype=np.float64).reshape(-1, len(self.class_names))
        labels = np.asarray([v.label for v in self.views], dtype=np.int64)
        image_scores = {q: probs[:, cs].sum(axis=1) for q, cs in self.questions.items()}
        breasts, exams = self.aggregator(self.views)
        exam_labels = np.asarray([e.label for e in exams], dtype=np.int64)
        exam_scores = {}
        for q, cs in self.questions.items():
            if cs == sorted(set(range(len(self.class_names))) - {normal}):
                exam_scores[q] = np.asarray([e.scores["abnormal"] for e in exams], dtype=np.float64)
            elif len(cs) == 1 and cs[0] != normal:
                exam_scores[q] = np.asarray(
                    [e.scores[self.class_names[cs[0]]] for e in exams], dtype=np.float64
                )
            else:  # another union of classes: the breast_rule over the breasts of their summed probability
                per_breast: dict[str, list[float]] = {b.exam_id: [] for b in breasts}
                for b in breasts:
                    per_breast[b.exam_id].append(sum(b.probs[c] for c in cs))
                rule = getattr(np, self.aggregator.breast_rule)
                exam_scores[q] = np.asarray([rule(per_breast[e.exam_id]) for e in exams], dtype=np.float64)
        self.results = {
            "class_names": list(self.class_names),
            "questions": {q: [self.class_names[c] for c in cs] for q, cs in self.questions.items()},
            "bootstrap": {
                "n_boot": self.n_boot,
                "seed": self.seed,
                "by": "patient",
                "interval": "percentile 95%",
            },
            "sensitivity_rule": "step: the best sensitivity a threshold gives with at least that specificity",
            "aggregation": self.aggregator.describe(),
            "per_image": self._evaluate(
                labels, image_scores, probs.argmax(axis=1), [v.patient_id for v in self.views], "image"
            )
            if len(self.views)
            else {"n": 0},
            "per_exam": self._evaluate(
                exam_labels,
                exam_scores,
                np.asarray([e.predicted_class for e in exams], dtype=np.int64),
                [e.patient_id for e in exams],
                "exam",
            )
            if exams
            else {"n": 0},
        }
        sources = np.asarray(self.sources, dtype=object)
        if len(set(self.sources)) > 1:
            groups = [v.patient_id for v in self.views]
            self.results["per_source"] = {
                str(src): self._evaluate(
                    labels[sources == src],
                    {q: s[sources == src] for q, s in image_scores.items()},
                    probs[sources == src].argmax(axis=1),
                    [g for g, keep in zip(groups, sources == src) if keep],
                    f"image_{src}",
                )
                for src in sorted(set(self.sources))
            }
            self.results["source_shortcut"] = {
                q: source_separation(labels, s, sources, self.results["per_image"][q].get("auc"))
                for q, s in image_scores.items()
            }
        self.write(exams)
        self._log()
        return self.results

    def _log(self) -> None:
        for level in ("per_image", "per_exam"):
            res = self.results[level]
            for question in self.questions:
                auc = res.get(question, {}).get("auc") if isinstance(res.get(question), dict) else None
                if auc:
                    low, high = auc["ci95"]
                    text = f"{auc['value']:.3f} [95% CI {low:.3f}, {high:.3f}]"
                    self.logger.info(f"{level} {question} AUC (n={res['n']}): {text}")

    def write(self, exams: Sequence[Any] = ()) -> None:
        """Write ``metrics.json``, ``metrics_per_image.csv`` and ``metrics_per_exam.csv``.

        Args:
            exams: the exam predictions (from the aggregator) for the per-exam table.
        """
        text = strict_json_text(self.results)
        atomic_write_bytes(self.output_dir / "metrics.json", (text + "\n").encode("utf-8"))
        probs = [f"p_{c}" for c in self.class_names]
        rows = []
        for v in self.views:
            row: dict[str, Any] = {
                "name": v.name,
                "exam_id": v.exam_id,
                "patient_id": v.patient_id,
                "laterality": v.laterality,
            }
            row["view"] = v.view
            row.update({f"p_{c}": round(p, 6) for c, p in zip(self.class_names, v.probs)})
            row["predicted_class"] = self.class_names[int(np.argmax(v.probs))]
            row["label"] = "" if v.label is None else self.class_names[v.label]
            rows.append(row)
        columns = ["name", "exam_id", "patient_id", "laterality", "view", *probs, "predicted_class", "label"]
        write_csv(self.output_dir / "metrics_per_image.csv", rows, columns)
        exam_rows = [self.aggregator.exam_row(e) for e in exams]
        scores = [c for i, c in enumerate(self.class_names) if i != self.aggregator.normal_index] + [
            "abnormal"
        ]
        exam_columns = ["exam_id", "patient_id", "breasts", "images", *scores, "predicted_class", "label"]
        write_csv(self.output_dir / "metrics_per_exam.csv", exam_rows, exam_columns)
