"""Ignite handlers that MONAI lacks: atomic checkpoints under fixed names, per-image segmentation and
classification outputs, Dice/FROC and ROC/calibration evaluation reports (all four on the shared
``PerImageHandler``), one-vs-rest metric inputs."""

from __future__ import annotations

from monai_mammo.handlers.checkpoints import (
    BestModelSaver,
    RandomStates,
    ResumeCheckpoint,
    save_state_atomic,
    state_of,
)
from monai_mammo.handlers.classification_report import ClassificationReport
from monai_mammo.handlers.classification_writer import ClassificationWriter
from monai_mammo.handlers.one_vs_rest import OneVsRest
from monai_mammo.handlers.per_image import PerImageHandler
from monai_mammo.handlers.segmentation_report import SegmentationReport
from monai_mammo.handlers.segmentation_writer import SegmentationWriter

__all__ = [
    "BestModelSaver",
    "ClassificationReport",
    "ClassificationWriter",
    "OneVsRest",
    "PerImageHandler",
    "RandomStates",
    "ResumeCheckpoint",
    "SegmentationReport",
    "SegmentationWriter",
    "save_state_atomic",
    "state_of",
]
