"""ExamAggregator and aggregate_values: views -> breasts (mean) -> exams (max), labels as the worst case."""

from __future__ import annotations

import numpy as np
import pytest

from monai_mammo.metrics import (
    AGGREGATION_RULES,
    ExamAggregator,
    ViewPrediction,
    aggregate_values,
    views_from_rows,
)


def view(name: str, exam: str, side: str, position: str, probs: tuple[float, float, float], label=None):
    return ViewPrediction(name, exam, f"p-{exam}", side, position, probs, label)


@pytest.fixture()
def screening() -> list[ViewPrediction]:
    """Exam e1: a left breast with a finding in both views, a normal right breast; exam e2: one image only."""
    return [
        view("e1-LCC", "e1", "L", "CC", (0.2, 0.2, 0.6), 2),
        view("e1-LMLO", "e1", "L", "MLO", (0.4, 0.2, 0.4), 2),
        view("e1-RCC", "e1", "R", "CC", (0.9, 0.05, 0.05), 0),
        view("e1-RMLO", "e1", "R", "MLO", (0.7, 0.2, 0.1), 0),
        view("e2-RCC", "e2", "R", "CC", (0.3, 0.6, 0.1), 1),
    ]


@pytest.mark.parametrize("rule", AGGREGATION_RULES)
def test_aggregate_values_matches_numpy(rule: str) -> None:
    values = np.array([[0.1, 0.9], [0.5, 0.5], [0.3, 0.7]])
    assert np.allclose(aggregate_values(values, rule), getattr(np, rule)(values, axis=0))


@pytest.mark.parametrize(
    ("values", "rule", "match"),
    [([], "mean", "at least one"), ([0.1], "sum", "rule"), ([np.nan], "max", "NaN")],
)
def test_aggregate_values_rejects_bad_input(values, rule, match) -> None:
    with pytest.raises(ValueError, match=match):
        aggregate_values(values, rule)


def test_breasts_average_their_views_and_take_the_worst_label(screening) -> None:
    breasts = ExamAggregator().breasts(screening)
    assert [(b.exam_id, b.laterality, b.views) for b in breasts] == [
        ("e1", "L", ("CC", "MLO")),
        ("e1", "R", ("CC", "MLO")),
        ("e2", "R", ("CC",)),
    ]
    left = breasts[0]
    assert left.probs == pytest.approx((0.3, 0.2, 0.5))
    assert sum(left.probs) == pytest.approx(1.0)
    assert left.predicted_class == 2 and left.label == 2
    assert breasts[1].label == 0 and breasts[2].label == 1


def test_exams_take_the_most_suspicious_breast(screening) -> None:
    breasts, exams = ExamAggregator()(screening)
    e1, e2 = exams
    assert e1.breasts == ("L", "R") and len(e1.images) == 4
    assert e1.scores["malignant"] == pytest.approx(0.5)  # max(0.5, 0.075)
    assert e1.scores["benign"] == pytest.approx(0.2)  # max(0.2, 0.125)
    assert e1.scores["abnormal"] == pytest.approx(0.7)  # max(1 - 0.3, 1 - 0.8)
    assert e1.predicted_class == 2 and e1.most_suspicious_breast == "L" and e1.label == 2
    assert e2.scores["malignant"] == pytest.approx(0.1) and e2.predicted_class == 1 and e2.label == 1


def test_other_rules_are_applied() -> None:
    views = [
        view("a", "e", "L", "CC", (0.2, 0.2, 0.6)),
        view("b", "e", "L", "MLO", (0.6, 0.2, 0.2)),
        view("c", "e", "R", "CC", (0.5, 0.1, 0.4)),
    ]
    breasts, exams = ExamAggregator(view_rule="max", breast_rule="mean")(views)
    assert breasts[0].probs == pytest.approx((0.6, 0.2, 0.6))
    assert exams[0].scores["malignant"] == pytest.approx((0.6 + 0.4) / 2)


def test_unknown_laterality_is_a_breast_of_its_own_and_missing_labels_stay_unknown() -> None:
    views = [
        view("a", "e", "UNKNOWN", "CC", (0.5, 0.2, 0.3)),
        view("b", "e", "UNKNOWN", "MLO", (0.1, 0.1, 0.8), 2),
    ]
    breasts, exams = ExamAggregator()(views)
    assert len(breasts) == 2 and {b.laterality for b in breasts} == {"UNKNOWN"}
    assert exams[0].label is None  # one view has no label
    assert exams[0].scores["malignant"] == pytest.approx(0.8)


def test_rows_round_trip_through_views_from_rows(screening) -> None:
    aggregator = ExamAggregator()
    rows = [
        {
            "name": v.name,
            "exam_id": v.exam_id,
            "patient_id": v.patient_id,
            "laterality": v.laterality,
            "view": v.view,
            **{f"p_{c}": p for c, p in zip(aggregator.class_names, v.probs)},
            "label": aggregator.class_names[v.label],
        }
        for v in screening
    ]
    assert views_from_rows(rows, aggregator.class_names) == screening
    breast_row = aggregator.breast_row(aggregator.breasts(screening)[0])
    assert breast_row["views"] == "CC+MLO" and breast_row["abnormal"] == pytest.approx(0.7)
    assert breast_row["predicted_class"] == "malignant" and breast_row["label"] == "malignant"
    exam_row = aggregator.exam_row(aggregator(screening)[1][0])
    assert exam_row["malignant"] == pytest.approx(0.5) and exam_row["most_suspicious_breast"] == "L"


def test_bad_configuration_and_probability_count_are_rejected() -> None:
    with pytest.raises(ValueError, match="view_rule"):
        ExamAggregator(view_rule="sum")
    with pytest.raises(ValueError, match="normal_index"):
        ExamAggregator(normal_index=3)
    with pytest.raises(ValueError, match="2 probabilities"):
        ExamAggregator().breasts([ViewPrediction("a", "e", "p", "L", "CC", (0.5, 0.5))])
    assert "mean" in ExamAggregator().describe()["breast"]
