"""The keys of the preprocessed cache: what a cached entry's content depends on, hashed.

A :class:`~monai_mammo.data.PreprocessedCache` keeps its entries under ``<settings hash>/<item key>``:

- the *settings hash* (:func:`settings_hash` of :func:`settings_description`) covers the deterministic
  transform chain as configured (every transform's class and attributes, recursively: reader options, sizes,
  modes, thresholds...), the versions of monai_mammo, MONAI, torch and numpy, :data:`CACHE_FORMAT` and the
  storage dtype;
- the *item key* (:func:`item_key`) covers every field of the datalist item, each path that names a file by
  its absolute path, size and modification time (ns).

A changed setting or a changed source file therefore makes a new entry; a stale one is never hit. Both are
plain SHA-256 digests of strict JSON, so they are the same in every process (no memory address, random
state or per-thread switch enters them).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["CACHE_FORMAT", "item_key", "settings_description", "settings_hash"]

CACHE_FORMAT = 1
"""Version of the entry layout; part of the settings hash, so another version never reads these entries."""


_IGNORED_ATTRIBUTES = frozenset({"R", "_do_transform", "_seed", "_tracing"})
"""Attributes that hold run-time state, not settings: random state (a deterministic chain has none, but a
reused one may) and MONAI's per-thread tracing switch, set on first use (any ``threading.local`` is left
out too)."""


# --------------------------------------------------------------------------------------------- settings
def _plain_repr(obj: Any) -> str:
    """``repr`` without memory addresses (they differ between processes and would defeat the cache)."""
    text = repr(obj)
    return f"{type(obj).__module__}.{type(obj).__qualname__}" if " at 0x" in text else text


def _describe(obj: Any, seen: set[int], depth: int) -> Any:
    """A JSON-able description of a transform's configuration: classes and attributes, recursively."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__qualname__}.{obj.name}"
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        array = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else obj
        digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]
        return {"array": digest, "shape": list(array.shape), "dtype": str(array.dtype)}
    if isinstance(obj, np.generic):
        return _describe(obj.item(), seen, depth)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    if depth > 16 or id(obj) in seen:
        return f"{type(obj).__module__}.{type(obj).__qualname__}"
    seen = seen | {id(obj)}
    if isinstance(obj, (list, tuple)):
        return [_describe(v, seen, depth + 1) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): _describe(obj[k], seen, depth + 1) for k in sorted(obj, key=str)}
    if isinstance(obj, (set, frozenset)):
        return sorted(json.dumps(_describe(v, seen, depth + 1), sort_keys=True) for v in obj)
    if isinstance(obj, (np.random.RandomState, np.random.Generator, torch.Generator, logging.Logger)):
        return f"{type(obj).__module__}.{type(obj).__qualname__}"
    if callable(obj) and hasattr(obj, "__qualname__") and not hasattr(obj, "__dict__"):
        return f"{getattr(obj, '__module__', '')}.{obj.__qualname__}"
    if hasattr(obj, "__qualname__") and hasattr(obj, "__code__"):  # a function: its name and its code
        code = obj.__code__
        return {
            "function": f"{obj.__module__}.{obj.__qualname__}",
            "code": hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16],
        }
    attributes = getattr(obj, "__dict__", None)
    if attributes is None:
        return _plain_repr(obj)
    described = {"class": f"{type(obj).__module__}.{type(obj).__qualname__}"}
    for name in sorted(attributes):
        if name not in _IGNORED_ATTRIBUTES and not isinstance(attributes[name], threading.local):
            described[name] = _describe(attributes[name], seen, depth + 1)
    return described


def settings_description(transform: Any, float_dtype: str = "float16", extra: Any = None) -> dict[str, Any]:
    """Everything a cache entry's content depends on besides its source files (see the module docstring).

    Args:
        transform: the deterministic transform chain (e.g. a ``Compose`` or a list of transforms).
        float_dtype: the storage dtype of non-integer arrays (``"float16"`` or ``"float32"``).
        extra: anything else the caller wants in the key (JSON-able; e.g. a config file's text).

    Returns:
        A JSON-able dictionary; :func:`settings_hash` hashes it.
    """
    import monai

    import monai_mammo

    return {
        "cache_format": CACHE_FORMAT,
        "float_dtype": float_dtype,
        "versions": {
            "monai_mammo": monai_mammo.__version__,
            "monai": monai.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "transform": _describe(transform, set(), 0),
        "extra": _describe(extra, set(), 0),
    }


def settings_hash(description: Mapping[str, Any]) -> str:
    """The 16-hex-digit hash naming the settings folder of :func:`settings_description`'s result."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- items
def _identity(value: Any) -> Any:
    """A datalist value's identity: a file by path, size and modification time; anything else by value."""
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            return path
        if os.path.isfile(path):
            return {"file": os.path.abspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        return path
    if isinstance(value, Mapping):
        return {str(k): _identity(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_identity(v) for v in value]
    return _describe(value, set(), 0)


def item_key(item: Any) -> str:
    """The 40-hex-digit key of a datalist item: every field, each file by path, size and mtime (ns).

    Args:
        item: a datalist item (usually a dict such as ``{"image": path, "label": path, "lesion": 1}``).

    Returns:
        The key; a changed field or a changed file (content rewritten, touched, replaced) changes it.
    """
    text = json.dumps(_identity(item), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
