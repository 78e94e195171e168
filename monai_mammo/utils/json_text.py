"""Strict JSON: every JSON file of this package is written through :func:`strict_json_text`.

Python's ``json.dumps`` writes ``NaN``, ``Infinity`` and ``-Infinity`` for non-finite floats by default. That
text is not JSON (RFC 8259): ``JSON.parse`` in a browser, ``jq`` and most other parsers refuse the whole
file. This package uses NaN for "unknown" in many places (an area in mm² without pixel spacing, an AUC of a
one-class sample), so every value goes through :func:`strict_json` (non-finite floats become ``null``, numpy
scalars and arrays plain Python) and is then dumped with ``allow_nan=False``, which raises rather than write
an invalid file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["strict_json", "strict_json_text"]


def strict_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None``, recursively (JSON has no NaN).

    Mappings and sequences (lists, tuples, numpy arrays) are walked; numpy scalars become Python ``int``,
    ``float`` or ``bool``. Anything else is returned unchanged.

    Args:
        value: a JSON-like value (dicts, lists, numbers, strings, ``None``), possibly holding numpy values.

    Returns:
        The same structure, safe for ``json.dumps(..., allow_nan=False)``.
    """
    if isinstance(value, Mapping):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict_json(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def strict_json_text(
    value: Any, indent: int | None = 2, default: Callable[[Any], Any] | None = None, **kwargs: Any
) -> str:
    """The strict JSON text of ``value`` (:func:`strict_json`, then ``json.dumps(..., allow_nan=False)``).

    Args:
        value: the value to write.
        indent: as for ``json.dumps``.
        default: as for ``json.dumps`` (e.g. ``str`` for paths); what it returns is made strict too.
        kwargs: further ``json.dumps`` arguments (``sort_keys``, ...).

    Returns:
        The JSON text, without a trailing newline.

    Raises:
        TypeError: for a value ``json`` cannot encode (and ``default`` does not convert).
    """
    strict_default = None if default is None else (lambda obj: strict_json(default(obj)))
    return json.dumps(strict_json(value), indent=indent, default=strict_default, allow_nan=False, **kwargs)
