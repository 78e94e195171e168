"""Breast-aware inference (MONAI's sliding window, run only where the breast is), Grad-CAM inference and the
heat map of a lesion-evidence network."""

from __future__ import annotations

from monai_mammo.inferers.breast_mask import BatchBreastMask
from monai_mammo.inferers.breast_windows import select_breast_windows
from monai_mammo.inferers.evidence_map import EvidenceMapInferer, PlaceLogitsInferer
from monai_mammo.inferers.flip_averaging import FlipAveraging
from monai_mammo.inferers.gradcam import GradCAMInferer, normalize_heatmap
from monai_mammo.inferers.inferer import BreastSlidingWindowInferer
from monai_mammo.inferers.scale_averaging import ScaleAveraging
from monai_mammo.inferers.sliding_window import breast_sliding_window_inference

__all__ = [
    "BatchBreastMask",
    "BreastSlidingWindowInferer",
    "EvidenceMapInferer",
    "FlipAveraging",
    "GradCAMInferer",
    "PlaceLogitsInferer",
    "ScaleAveraging",
    "breast_sliding_window_inference",
    "normalize_heatmap",
    "select_breast_windows",
]
