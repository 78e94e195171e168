"""monai_mammo: a MONAI extension for mammography.

Sub-packages are imported on demand (``monai_mammo.data``, ``monai_mammo.transforms``, ...), so that
``import monai_mammo`` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
