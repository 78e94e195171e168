"""Evaluation metrics for mammography on top of ``monai.metrics``: CIs, sens@spec, FROC, exam scores."""

from __future__ import annotations

from monai_mammo.metrics.bootstrap import ConfidenceInterval, bootstrap_ci
from monai_mammo.metrics.calibration import expected_calibration_error, reliability_bins
from monai_mammo.metrics.classification import (
    confusion_matrix,
    roc_auc,
    roc_auc_with_ci,
    roc_curve,
    sensitivity_at_specificity,
    sensitivity_at_specificity_with_ci,
)
from monai_mammo.metrics.exam import (
    AGGREGATION_RULES,
    DEFAULT_CLASS_NAMES,
    BreastPrediction,
    ExamAggregator,
    ExamPrediction,
    ViewPrediction,
    aggregate_values,
    views_from_rows,
)
from monai_mammo.metrics.froc import (
    DEFAULT_FP_RATES,
    HIT_RULES,
    FROCCurve,
    LesionMatch,
    froc_curve,
    froc_curve_from_matches,
    froc_score,
    froc_score_with_ci,
    froc_sensitivities,
    match_lesions,
)
from monai_mammo.metrics.lesions import (
    DEFAULT_MIN_AREA_MM2,
    DEFAULT_MIN_AREA_PX,
    LESION_COLUMNS,
    lesion_label_map,
    lesion_table,
    min_candidate_area_px,
    pixel_spacing_of,
)
from monai_mammo.metrics.plots import plot_froc, plot_roc
from monai_mammo.metrics.segmentation import dice_per_image, mean_dice_with_ci

__all__ = [
    "AGGREGATION_RULES",
    "DEFAULT_CLASS_NAMES",
    "DEFAULT_FP_RATES",
    "DEFAULT_MIN_AREA_MM2",
    "DEFAULT_MIN_AREA_PX",
    "HIT_RULES",
    "LESION_COLUMNS",
    "BreastPrediction",
    "ConfidenceInterval",
    "ExamAggregator",
    "ExamPrediction",
    "FROCCurve",
    "LesionMatch",
    "ViewPrediction",
    "aggregate_values",
    "bootstrap_ci",
    "confusion_matrix",
    "dice_per_image",
    "expected_calibration_error",
    "froc_curve",
    "froc_curve_from_matches",
    "froc_score",
    "froc_score_with_ci",
    "froc_sensitivities",
    "lesion_label_map",
    "lesion_table",
    "match_lesions",
    "mean_dice_with_ci",
    "min_candidate_area_px",
    "pixel_spacing_of",
    "plot_froc",
    "plot_roc",
    "reliability_bins",
    "roc_auc",
    "roc_auc_with_ci",
    "roc_curve",
    "sensitivity_at_specificity",
    "sensitivity_at_specificity_with_ci",
    "views_from_rows",
]
