"""Ignite handlers that MONAI lacks: atomic checkpoints under fixed names, per-image segmentation outputs."""

from __future__ import annotations

from monai_mammo.handlers.checkpoints import BestModelSaver, ResumeCheckpoint, save_state_atomic, state_of
from monai_mammo.handlers.segmentation_writer import SegmentationWriter

__all__ = ["BestModelSaver", "ResumeCheckpoint", "SegmentationWriter", "save_state_atomic", "state_of"]
