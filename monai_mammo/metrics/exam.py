"""From one prediction per mammogram view to one per breast and one per exam.

A screening exam has two views (CC and MLO) of each breast. A classifier scores each view on its own; a
reader (and an evaluation) needs a score per breast and per exam. :class:`ExamAggregator` applies the rule,
documented and configurable, that this package uses:

- **breast** = the views of one laterality within one exam; its class probabilities are the ``view_rule``
  (default ``"mean"``) of its views' probabilities, so a lesion seen in both views counts more than one
  seen in one, and a mean of probability vectors is still one;
- **exam** = the breasts of one exam; its score for each abnormal class (benign, malignant) and for
  "abnormal" (``1 - P(normal)``) is the ``breast_rule`` (default ``"max"``) over its breasts: an exam is as
  suspicious as its most suspicious breast, whatever the other breast looks like. Its predicted class is
  the worst predicted class of its breasts;
- a label aggregates the same way as a worst case: the breast's label is the highest class of its views,
  the exam's the highest of its breasts.

An image whose laterality is unknown is a breast of its own (its views cannot be paired). The exam of an
image is what the caller says it is; the handlers (:class:`monai_mammo.handlers.ClassificationWriter`,
:class:`~monai_mammo.handlers.ClassificationReport`) group the images of a run with
:func:`monai_mammo.data.exam_grouping.group_exams` (a study UID several images share, the woman and the study
date, a public data set's naming convention, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "AGGREGATION_RULES",
    "DEFAULT_CLASS_NAMES",
    "BreastPrediction",
    "ExamAggregator",
    "ExamPrediction",
    "ViewPrediction",
    "aggregate_values",
    "views_from_rows",
]

AGGREGATION_RULES = ("mean", "max", "min", "median")
"""The rules :func:`aggregate_values` knows."""

DEFAULT_CLASS_NAMES = ("normal", "benign", "malignant")
"""Class names in the order of the ``"class"`` numbers of the package's datalists."""

_UNKNOWN = "UNKNOWN"


def aggregate_values(values: Any, rule: str) -> np.ndarray:
    """Aggregate a stack of score vectors ``(N, K)`` (or scores ``(N,)``) over its first axis.

    Args:
        values: the scores of the members of one group.
        rule: one of :data:`AGGREGATION_RULES`.

    Returns:
        ``(K,)`` (or a 0-d array for ``(N,)`` input), float64.

    Raises:
        ValueError: an unknown rule, no values, or non-finite values.
    """
    if rule not in AGGREGATION_RULES:
        raise ValueError(f"aggregation rule must be one of {AGGREGATION_RULES}, got {rule!r}.")
    data = np.asarray(values, dtype=np.float64)
    if data.ndim == 0 or len(data) == 0:
        raise ValueError("aggregate_values needs at least one value to aggregate.")
    if not np.all(np.isfinite(data)):
        raise ValueError("aggregate_values got NaN or inf scores.")
    return getattr(np, rule)(data, axis=0)


@dataclass(frozen=True)
class ViewPrediction:
    """The class probabilities of one mammogram (one view of one breast).

    Args:
        name: the image's name (e.g. its output folder name).
        exam_id: the exam (study) the image belongs to.
        patient_id: the patient.
        laterality: ``"L"``, ``"R"`` or ``"UNKNOWN"``.
        view: ``"CC"``, ``"MLO"``, ... or ``"UNKNOWN"``.
        probs: the class probabilities, in the order of the aggregator's ``class_names``.
        label: the true class index, when known.
    """

    name: str
    exam_id: str
    patient_id: str
    laterality: str
    view: str
    probs: tuple[float, ...]
    label: int | None = None


@dataclass(frozen=True)
class BreastPrediction:
    """The aggregated prediction of the views of one breast in one exam.

    Args:
        exam_id: the exam.
        patient_id: the patient.
        laterality: ``"L"``, ``"R"`` (or ``"UNKNOWN"`` for an unpaired image).
        images: the names of its images.
        views: their view positions, in the same order.
        probs: the ``view_rule`` of the views' class probabilities.
        label: the highest true class of its views (``None`` unless every view has a label).
    """

    exam_id: str
    patient_id: str
    laterality: str
    images: tuple[str, ...]
    views: tuple[str, ...]
    probs: tuple[float, ...]
    label: int | None = None

    @property
    def predicted_class(self) -> int:
        """The class of the highest aggregated probability."""
        return int(np.argmax(self.probs))


@dataclass(frozen=True)
class ExamPrediction:
    """The aggregated prediction of the breasts of one exam.

    Args:
        exam_id: the exam.
        patient_id: the patient.
        breasts: the lateralities of its breasts.
        images: the names of all its images.
        scores: ``<class name>`` (every class but the normal one) and ``"abnormal"`` -> the ``breast_rule``
            over the breasts.
        predicted_class: the highest predicted class of its breasts.
        most_suspicious_breast: the laterality of the breast with the highest score of the last class.
        label: the highest true class of its breasts (``None`` unless every breast has a label).
    """

    exam_id: str
    patient_id: str
    breasts: tuple[str, ...]
    images: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)
    predicted_class: int = 0
    most_suspicious_breast: str = _UNKNOWN
    label: int | None = None


def _worst(labels: Iterable[int | None]) -> int | None:
    values = list(labels)
    if not values or any(v is None for v in values):
        return None
    return max(int(v) for v in values if v is not None)


class ExamAggregator:
    """Aggregate view predictions into breast and exam predictions (the rule is in the module docstring).

    Args:
        class_names: the names of the classes, in the order of the probabilities.
        normal_index: the index of the normal class ("abnormal" is ``1 - P(normal)``).
        view_rule: how the views of a breast are combined (one of :data:`AGGREGATION_RULES`).
        breast_rule: how the breasts of an exam are combined.

    Raises:
        ValueError: unknown rules, fewer than two classes or a bad ``normal_index``.

    Example:
        .. code-block:: python

            aggregator = ExamAggregator()
            breasts, exams = aggregator(views)   # views: ViewPrediction list
            exams[0].scores["malignant"]          # max over breasts of the mean over views
    """

    def __init__(
        self,
        class_names: Sequence[str] = DEFAULT_CLASS_NAMES,
        normal_index: int = 0,
        view_rule: str = "mean",
        breast_rule: str = "max",
    ) -> None:
        for name, rule in (("view_rule", view_rule), ("breast_rule", breast_rule)):
            if rule not in AGGREGATION_RULES:
                raise ValueError(f"{name} must be one of {AGGREGATION_RULES}, got {rule!r}.")
        self.class_names = tuple(str(c) for c in class_names)
        if len(self.class_names) < 2:
            raise ValueError(f"class_names needs at least two classes, got {self.class_names}.")
        if not 0 <= int(normal_index) < len(self.class_names):
            raise ValueError(f"normal_index {normal_index} is not a class index of {self.class_names}.")
        self.normal_index = int(normal_index)
        self.view_rule = view_rule
        self.breast_rule = breast_rule

    def describe(self) -> dict[str, Any]:
        """The rule, as written into reports."""
        return {
            "breast": f"{self.view_rule} of the class probabilities of its views (one exam, one laterality)",
            "exam": f"{self.breast_rule} over its breasts of each abnormal class probability and of "
            f"abnormal = 1 - P({self.class_names[self.normal_index]}); predicted class = the worst of its "
            "breasts",
            "label": "the highest class of the views (breast) and of the breasts (exam)",
            "view_rule": self.view_rule,
            "breast_rule": self.breast_rule,
        }

    def _check(self, view: ViewPrediction) -> None:
        if len(view.probs) != len(self.class_names):
            raise ValueError(
                f"{view.name}: {len(view.probs)} probabilities but {len(self.class_names)} classes "
                f"{self.class_names}."
            )

    def breasts(self, views: Iterable[ViewPrediction]) -> list[BreastPrediction]:
        """One prediction per (exam, laterality); an image of unknown laterality is a breast of its own.

        Args:
            views: the view predictions.

        Returns:
            The breast predictions, sorted by exam and laterality.
        """
        groups: dict[tuple[str, str], list[ViewPrediction]] = {}
        for view in views:
            self._check(view)
            side = str(view.laterality).upper()
            key = (view.exam_id, side if side in ("L", "R") else f"{_UNKNOWN}:{view.name}")
            groups.setdefault(key, []).append(view)
        out = []
        for (exam_id, side), members in sorted(groups.items()):
            members = sorted(members, key=lambda v: (v.view, v.name))
            probs = aggregate_values([m.probs for m in members], self.view_rule)
            out.append(
                BreastPrediction(
                    exam_id=exam_id,
                    patient_id=members[0].patient_id,
                    laterality=side if side in ("L", "R") else _UNKNOWN,
                    images=tuple(m.name for m in members),
                    views=tuple(m.view for m in members),
                    probs=tuple(float(p) for p in probs),
                    label=_worst(m.label for m in members),
                )
            )
        return out

    def exams(self, breasts: Iterable[BreastPrediction]) -> list[ExamPrediction]:
        """One prediction per exam from its breasts' predictions.

        Args:
            breasts: the breast predictions (from :meth:`breasts`).

        Returns:
            The exam predictions, sorted by exam id.
        """
        groups: dict[str, list[BreastPrediction]] = {}
        for breast in breasts:
            groups.setdefault(breast.exam_id, []).append(breast)
        out = []
        last = len(self.class_names) - 1
        for exam_id, members in sorted(groups.items()):
            probs = np.asarray([m.probs for m in members], dtype=np.float64)
            scores = {
                name: float(aggregate_values(probs[:, k], self.breast_rule))
                for k, name in enumerate(self.class_names)
                if k != self.normal_index
            }
            scores["abnormal"] = float(aggregate_values(1.0 - probs[:, self.normal_index], self.breast_rule))
            out.append(
                ExamPrediction(
                    exam_id=exam_id,
                    patient_id=members[0].patient_id,
                    breasts=tuple(m.laterality for m in members),
                    images=tuple(name for m in members for name in m.images),
                    scores=scores,
                    predicted_class=max(m.predicted_class for m in members),
                    most_suspicious_breast=members[int(np.argmax(probs[:, last]))].laterality,
                    label=_worst(m.label for m in members),
                )
            )
        return out

    def __call__(
        self, views: Iterable[ViewPrediction]
    ) -> tuple[list[BreastPrediction], list[ExamPrediction]]:
        """Breast and exam predictions of ``views``."""
        breasts = self.breasts(views)
        return breasts, self.exams(breasts)

    def breast_row(self, breast: BreastPrediction) -> dict[str, Any]:
        """A flat dictionary of a breast prediction (a CSV row): ids, ``p_<class>``, ``abnormal``, label."""
        row: dict[str, Any] = {
            "exam_id": breast.exam_id,
            "patient_id": breast.patient_id,
            "laterality": breast.laterality,
            "views": "+".join(breast.views),
            "images": ";".join(breast.images),
        }
        row.update({f"p_{name}": round(p, 6) for name, p in zip(self.class_names, breast.probs)})
        row["abnormal"] = round(1.0 - breast.probs[self.normal_index], 6)
        row["predicted_class"] = self.class_names[breast.predicted_class]
        row["label"] = "" if breast.label is None else self.class_names[breast.label]
        return row

    def exam_row(self, exam: ExamPrediction) -> dict[str, Any]:
        """A flat dictionary of an exam prediction (a CSV row): ids, scores, predicted class, label."""
        row: dict[str, Any] = {
            "exam_id": exam.exam_id,
            "patient_id": exam.patient_id,
            "breasts": "+".join(exam.breasts),
            "images": ";".join(exam.images),
        }
        row.update({name: round(v, 6) for name, v in exam.scores.items()})
        row["predicted_class"] = self.class_names[exam.predicted_class]
        row["most_suspicious_breast"] = exam.most_suspicious_breast
        row["label"] = "" if exam.label is None else self.class_names[exam.label]
        return row


def views_from_rows(rows: Iterable[Mapping[str, Any]], class_names: Sequence[str]) -> list[ViewPrediction]:
    """:class:`ViewPrediction` objects from flat rows with ``p_<class>`` columns (e.g. ``predictions.csv``).

    Args:
        rows: dictionaries with ``name``, ``exam_id``, ``patient_id``, ``laterality``, ``view``, ``p_<class>``
            and optionally ``label`` (a class name or index; empty for unknown).
        class_names: the class names.

    Returns:
        The view predictions.

    Raises:
        KeyError: a missing column.
    """
    names = list(class_names)
    out = []
    for row in rows:
        label = row.get("label", "")
        if label in ("", None):
            index = None
        else:
            index = names.index(label) if label in names else int(label)
        out.append(
            ViewPrediction(
                name=str(row["name"]),
                exam_id=str(row["exam_id"]),
                patient_id=str(row["patient_id"]),
                laterality=str(row["laterality"]),
                view=str(row["view"]),
                probs=tuple(float(row[f"p_{c}"]) for c in names),
                label=index,
            )
        )
    return out
