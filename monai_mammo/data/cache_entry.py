"""The on-disk format of one preprocessed cache entry, written with one atomic rename.

An entry is a folder::

    <key>/entry.json        arrays (file, stored and original dtype, shape), MetaTensor metadata and trace,
                            the item's other fields (strict JSON)
    <key>/a0.npy, a1.npy    the arrays (image, lesion mask, breast mask, ...)

Compact. Masks and integer-valued arrays are stored as ``uint8``/``uint16``, other floats as ``float16``
(``float_dtype="float32"`` keeps them exact); :func:`read_entry` restores the original dtype.

Atomic. :func:`write_entry` writes into a hidden temporary folder beside the final place
(``.<key>.<random>.tmp``; every file flushed and fsynced, ``entry.json`` last), then renames it into place
with one ``os.rename``: a reader sees no entry or a complete one. When another writer's rename came first,
its entry is as good and this copy is discarded. A writer killed with ``kill -9`` leaves only a temporary
folder, which :func:`read_entry` never reads (:func:`is_temporary` names it for clean-up). A file
(``atomic_write_bytes``) is not enough here: an entry is several files that must appear together.

No pickle. Arrays are ``.npy`` files read with ``np.load(mmap_mode="r", allow_pickle=False)``; everything
else is strict JSON (:func:`encode_value`/:func:`decode_value`: arrays, tuples, non-finite floats and
non-string keys tagged), so reading a cache someone else can write runs none of their code.
"""

from __future__ import annotations

import enum
import json
import math
import os
import secrets
import shutil
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor
from monai.utils import TraceKeys

from monai_mammo.data.cache_keys import CACHE_FORMAT

__all__ = ["decode_value", "discard_entry", "encode_value", "is_temporary", "read_entry", "write_entry"]

ENTRY_FILE = "entry.json"
"""The file that marks an entry folder complete (written last)."""
_FLOAT16_MAX = 65504.0
_TEMP_SUFFIX = ".tmp"


def encode_value(value: Any) -> Any:
    """A JSON-able form of a metadata value (arrays, tuples, non-finite floats tagged; enums by value)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, enum.Enum):
        return encode_value(value.value)
    if isinstance(value, np.generic):
        return encode_value(value.item())
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        kind = "tensor" if isinstance(value, torch.Tensor) else "ndarray"
        flat = [encode_value(v) for v in array.reshape(-1).tolist()]
        return {"__array__": flat, "dtype": str(array.dtype), "shape": list(array.shape), "kind": kind}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {str(k): encode_value(v) for k, v in value.items()}
        return {"__items__": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def decode_value(value: Any) -> Any:
    """The inverse of :func:`encode_value` (enums come back as their values)."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(decode_value(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {decode_value(k): decode_value(v) for k, v in value["__items__"]}
    if "__array__" in value:
        values = [decode_value(v) for v in value["__array__"]]
        array = np.asarray(values, dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        return torch.from_numpy(array) if value["kind"] == "tensor" else array
    return {k: decode_value(v) for k, v in value.items()}


def _decode_operations(operations: list[Any]) -> list[Any]:
    """Transform trace records whose transform ids no longer exist: ``TraceKeys.NONE`` skips the id check."""
    decoded = decode_value(operations)

    def unset_ids(value: Any) -> None:
        if isinstance(value, dict):
            if TraceKeys.ID in value and TraceKeys.CLASS_NAME in value:
                value[TraceKeys.ID] = TraceKeys.NONE
            for v in value.values():
                unset_ids(v)
        elif isinstance(value, list):
            for v in value:
                unset_ids(v)

    unset_ids(decoded)
    return decoded


# -------------------------------------------------------------------------------------------- arrays
def _storage_dtype(array: np.ndarray, float_dtype: str) -> np.dtype:
    """The compact dtype that holds ``array`` exactly (integers, masks) or to ``float_dtype`` precision."""
    if array.dtype == np.bool_:
        return np.dtype(np.uint8)
    if array.size == 0:
        return array.dtype
    integral = np.issubdtype(array.dtype, np.integer)
    if np.issubdtype(array.dtype, np.floating):
        finite = bool(np.isfinite(array).all())
        integral = finite and bool(np.array_equal(array, np.round(array)))
        if not integral:
            if float_dtype == "float16" and finite and float(np.abs(array).max()) <= _FLOAT16_MAX:
                return np.dtype(np.float16)
            return (
                np.dtype(np.float32) if array.dtype.itemsize > 4 or float_dtype == "float32" else array.dtype
            )
    elif not integral:
        return array.dtype
    low, high = float(array.min()), float(array.max())
    for candidate in (np.uint8, np.uint16, np.int16, np.int32):
        info = np.iinfo(candidate)
        if info.min <= low and high <= info.max:
            return np.dtype(candidate)
    return array.dtype


def _write_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not every system opens folders (Windows): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a writer's temporary folder (complete entries are never hidden)."""
    return path.name.startswith(".") and path.name.endswith(_TEMP_SUFFIX)


def write_entry(final: Path, key: str, result: Mapping[Hashable, Any], float_dtype: str) -> Path:
    """Write the transformed item ``result`` as the entry folder ``final``, atomically (see the module).

    Args:
        final: the entry's folder (its parent is created).
        key: the item's key, recorded in ``entry.json``.
        result: the deterministic chain's output (a dict of arrays, MetaTensors and plain values).
        float_dtype: storage dtype of non-integer arrays (``"float16"`` or ``"float32"``).

    Returns:
        ``final`` (written by this call or, when another writer was first, by that one).
    """
    if not isinstance(result, Mapping):
        raise TypeError(
            f"PreprocessedCache stores dict items; the transform returned {type(result).__name__}."
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{key}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
    tmp.mkdir()
    try:
        arrays: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for n, (name, value) in enumerate(result.items()):
            if not isinstance(name, str):
                raise TypeError(f"PreprocessedCache stores items with str keys, got {name!r}.")
            if isinstance(value, (torch.Tensor, np.ndarray)):
                arrays[name] = _write_array(tmp, f"a{n}.npy", value, float_dtype)
            else:
                fields[name] = encode_value(value)
        entry = {"format": CACHE_FORMAT, "key": key, "arrays": arrays, "fields": fields}
        _write_text(tmp / ENTRY_FILE, json.dumps(entry, allow_nan=False))  # last: marks the folder complete
        _fsync_dir(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / ENTRY_FILE).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another writer was first: its entry is as good
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _write_array(
    folder: Path, file: str, value: torch.Tensor | np.ndarray, float_dtype: str
) -> dict[str, Any]:
    """Write one array in its storage dtype; returns its ``entry.json`` record."""
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
    stored = _storage_dtype(array, float_dtype)
    _write_npy(folder / file, np.ascontiguousarray(array, dtype=stored))
    record: dict[str, Any] = {
        "file": file,
        "dtype": str(array.dtype),
        "stored_dtype": str(stored),
        "shape": list(array.shape),
        "kind": "ndarray" if isinstance(value, np.ndarray) else "tensor",
    }
    if isinstance(value, MetaTensor):
        record["kind"] = "metatensor"
        record["meta"] = encode_value(dict(value.meta))
        record["applied_operations"] = encode_value(list(value.applied_operations))
    return record


def read_entry(folder: Path) -> dict[str, Any] | None:
    """Read the entry ``folder`` (arrays memory-mapped, cast to their original dtype); ``None`` if absent.

    Raises:
        ValueError: when the entry exists but is damaged (a missing or truncated array file).
    """
    try:
        text = (folder / ENTRY_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    entry = json.loads(text)
    if entry.get("format") != CACHE_FORMAT:
        raise ValueError(f"cache entry {folder} has format {entry.get('format')}, expected {CACHE_FORMAT}.")
    item: dict[str, Any] = {k: decode_value(v) for k, v in entry["fields"].items()}
    for name, record in entry["arrays"].items():
        try:
            mapped = np.load(folder / record["file"], mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"cache entry {folder}: array {name!r} cannot be read ({e}).") from e
        if list(mapped.shape) != record["shape"] or str(mapped.dtype) != record["stored_dtype"]:
            raise ValueError(f"cache entry {folder}: array {name!r} does not match entry.json.")
        array = np.array(mapped, dtype=np.dtype(record["dtype"]))
        if record["kind"] == "ndarray":
            item[name] = array
        elif record["kind"] == "tensor":
            item[name] = torch.from_numpy(array)
        else:
            item[name] = MetaTensor(
                torch.from_numpy(array),
                meta=decode_value(record["meta"]),
                applied_operations=_decode_operations(record["applied_operations"]),
            )
    return item


def discard_entry(final: Path) -> None:
    """Remove the entry folder ``final``: renamed to a hidden name first, so no reader sees half of it."""
    trash = final.parent / f".{final.name}.{secrets.token_hex(4)}.del{_TEMP_SUFFIX}"
    try:
        os.rename(final, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
