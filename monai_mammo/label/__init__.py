"""MONAI Label integration: serve and train the monai_mammo bundles from MONAI Label (3D Slicer, OHIF).

- :mod:`.app_folder`: :func:`write_label_app` writes an app folder (``main.py`` + the bundles), from any
  environment;
- :mod:`.app`: :class:`MammoLabelApp`, the MONAI Label app;
- :mod:`.infer`: :class:`MammoSegmentationInfer`, :class:`MammoClassificationInfer`;
- :mod:`.train`: :class:`MammoSegmentationTrain`, :class:`MammoClassificationTrain`.

The last three need MONAI Label, which lives in an environment of its own (``pip install -e ".[label]"``
after ``torch==2.14.1 torchvision==0.29.1``, or ``tox -e label``; see ``docs/label.md``). They are
imported on first use, so that ``import monai_mammo.label`` works without it.
"""

from __future__ import annotations

import importlib
from typing import Any

from monai_mammo.label.app_folder import BUNDLE_NAMES, write_label_app

_NEEDS_MONAILABEL = {
    "MammoLabelApp": "monai_mammo.label.app",
    "MammoSegmentationInfer": "monai_mammo.label.infer",
    "MammoClassificationInfer": "monai_mammo.label.infer",
    "MammoSegmentationTrain": "monai_mammo.label.train",
    "MammoClassificationTrain": "monai_mammo.label.train",
}

__all__ = ["BUNDLE_NAMES", "write_label_app", *_NEEDS_MONAILABEL]


def __getattr__(name: str) -> Any:
    module = _NEEDS_MONAILABEL.get(name)
    if module is None:
        raise AttributeError(f"module 'monai_mammo.label' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as e:
        if e.name is None or not e.name.startswith(("monailabel", "fastapi")):
            raise
        raise ModuleNotFoundError(
            f"monai_mammo.label.{name} needs MONAI Label ({e.name} is missing): install it in its own "
            "environment "
            '(pip install torch==2.14.1 torchvision==0.29.1 && pip install -e ".[label]", or tox -e label; '
            "see docs/label.md).",
            name=e.name,
        ) from e
