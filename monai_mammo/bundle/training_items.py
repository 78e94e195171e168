"""Deprecated module: its content moved to :mod:`monai_mammo.data.training_items`.

Every name stays importable from here with a ``DeprecationWarning`` naming its new place.
"""

from __future__ import annotations

from monai_mammo.utils.deprecation import moved_module

__getattr__, __dir__ = moved_module(__name__, "monai_mammo.data.training_items")
