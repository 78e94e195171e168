"""Networks MONAI lacks for mammograms (built on :mod:`monai.networks`)."""

from __future__ import annotations

from .lesion_evidence import LesionEvidenceDenseNet

__all__ = ["LesionEvidenceDenseNet"]
