"""Ignite handlers that MONAI lacks: atomic checkpoints under fixed names, per-image segmentation outputs,
a Dice/FROC evaluation report."""

from __future__ import annotations

from monai_mammo.handlers.checkpoints import (
    BestModelSaver,
    RandomStates,
    ResumeCheckpoint,
    save_state_atomic,
    state_of,
)
from monai_mammo.handlers.segmentation_report import SegmentationReport
from monai_mammo.handlers.segmentation_writer import SegmentationWriter

__all__ = [
    "BestModelSaver",
    "RandomStates",
    "ResumeCheckpoint",
    "SegmentationReport",
    "SegmentationWriter",
    "save_state_atomic",
    "state_of",
]
