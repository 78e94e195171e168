"""Networks MONAI lacks for mammograms (built on :mod:`monai.networks`)."""

from __future__ import annotations

from .lesion_evidence import LesionEvidenceDenseNet
from .weight_averaging import average_state_dicts, average_weight_files

__all__ = ["LesionEvidenceDenseNet", "average_state_dicts", "average_weight_files"]
