"""A preprocessed cache of the deterministic training steps, on disk, memory-mapped, without pickle.

Training on full-field mammograms pays for the same expensive, deterministic work every epoch: decode a
30-60 MB DICOM, correct an inverted export, canonicalise the side, find and crop the breast, resize to the
working size, compute the normalisation. :class:`PreprocessedCache` does that work once per data set and
setting and keeps the result as plain arrays; :class:`PreprocessedCacheDataset` is the MONAI ``Dataset``
that reads them back (memory-mapped) and runs only the random part of the chain each epoch.

Layout (``cache_dir``)::

    <settings hash, 16 hex>/settings.json          what the hash was made of (for people; written atomically)
    <settings hash>/<2 hex>/<item key, 40 hex>/     one entry per item, a folder that appears atomically:
        entry.json                                  arrays (file, stored and original dtype, shape),
                                                    MetaTensor metadata and trace, the other fields
        a0.npy, a1.npy, ...                         the arrays (image, lesion mask, breast mask, ...)

Keys. The *settings hash* covers the deterministic transform chain as configured (every transform's class
and attributes, recursively: reader options, sizes, modes, thresholds...), the versions of monai_mammo,
MONAI, torch and numpy, the cache format and the storage dtype. The *item key* covers every field of the
datalist item, each path that names a file by its absolute path, size and modification time (ns). A changed
setting or a changed source file therefore makes a new entry; a stale one is never hit (old entries stay
until :meth:`PreprocessedCache.prune` or ``monai-mammo cache build --prune`` removes them).

Compact. Masks and integer-valued arrays are stored as ``uint8``/``uint16``, other floats as ``float16`` at
the working size (``float_dtype="float32"`` keeps them exact); the original dtype is restored on read.

Safe. An entry is written into a hidden temporary folder beside its final place (``.<key>.<random>.tmp``;
every file flushed and fsynced, ``entry.json`` last), then renamed into place with one ``os.rename``: a
reader sees no entry or a complete one. Two writers of the same entry (DataLoader workers, distributed
ranks, two ``cache build`` runs) both compute it; the first rename wins and the second writer discards its
copy. A process killed with ``kill -9`` leaves only a temporary folder, which is never read and is removed
by :meth:`PreprocessedCache.remove_stale_temporaries`. An entry that cannot be read back (a damaged disk,
a file removed by hand) is recomputed and replaced.

No pickle. MONAI's :class:`monai.data.PersistentDataset` stores each item with ``torch.save`` and reads it
with ``torch.load``, i.e. pickle: loading a cache file that someone else can write runs their code, and
this project refuses ``torch.load``/pickle on such files. Here arrays are ``.npy`` files read with
``np.load(mmap_mode="r", allow_pickle=False)`` and everything else is strict JSON; the cache is data only.
A ``PersistentDataset`` entry is also the full ``float32`` item at whatever size the chain produced, and it
is keyed by a hash of the item alone: a changed transform setting or a replaced source file under the same
name is a silent stale hit there.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import math
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import Dataset, MetaTensor
from monai.transforms import apply_transform
from monai.utils import TraceKeys, ensure_tuple

from monai_mammo.data.errors import MammoReadError

__all__ = [
    "CACHE_FORMAT",
    "PreprocessedCache",
    "PreprocessedCacheDataset",
    "item_key",
    "settings_description",
    "settings_hash",
]

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
"""Version of the entry layout; part of the settings hash, so another version never reads these entries."""

_ENTRY = "entry.json"
_FLOAT16_MAX = 65504.0
_TEMP_SUFFIX = ".tmp"
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


# --------------------------------------------------------------------------------------- JSON values
def _encode(value: Any) -> Any:
    """A JSON-able form of a metadata value (arrays, tuples, non-finite floats tagged; enums by value)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        kind = "tensor" if isinstance(value, torch.Tensor) else "ndarray"
        flat = [_encode(v) for v in array.reshape(-1).tolist()]
        return {"__array__": flat, "dtype": str(array.dtype), "shape": list(array.shape), "kind": kind}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {str(k): _encode(v) for k, v in value.items()}
        return {"__items__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _decode(value: Any) -> Any:
    """The inverse of :func:`_encode` (enums come back as their values)."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {_decode(k): _decode(v) for k, v in value["__items__"]}
    if "__array__" in value:
        values = [_decode(v) for v in value["__array__"]]
        array = np.asarray(values, dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        return torch.from_numpy(array) if value["kind"] == "tensor" else array
    return {k: _decode(v) for k, v in value.items()}


def _decode_operations(operations: list[Any]) -> list[Any]:
    """Transform trace records whose transform ids no longer exist: ``TraceKeys.NONE`` skips the id check."""
    decoded = _decode(operations)

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


class PreprocessedCache:
    """The entries of one deterministic transform chain in ``cache_dir`` (see the module docstring).

    Args:
        cache_dir: the cache's root folder (shared by every setting; created when needed).
        transform: the deterministic transform chain whose outputs are cached.
        float_dtype: storage dtype of non-integer arrays: ``"float16"`` (compact, ~3 significant digits) or
            ``"float32"`` (exact).
        extra_settings: anything else that changes the content and is not an attribute of the transforms
            (JSON-able); part of the settings hash.

    Example:
        .. code-block:: python

            cache = PreprocessedCache("/data/cache", Compose(deterministic_transforms))
            item = cache.load_or_compute({"image": "a.dcm", "label": "a_mask.png"})  # computed and written
            item = cache.load_or_compute({"image": "a.dcm", "label": "a_mask.png"})  # read, memory-mapped
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str],
        transform: Callable[[Any], Any] | Sequence[Callable[[Any], Any]],
        float_dtype: str = "float16",
        extra_settings: Any = None,
    ) -> None:
        if float_dtype not in ("float16", "float32"):
            raise ValueError(f"float_dtype must be 'float16' or 'float32', got {float_dtype!r}.")
        self.root = Path(cache_dir)
        self.transform = transform
        self.float_dtype = float_dtype
        self.settings = settings_description(transform, float_dtype, extra_settings)
        self.settings_hash = settings_hash(self.settings)
        self.folder = self.root / self.settings_hash

    # ------------------------------------------------------------------------------------------ paths
    def entry_path(self, key: str) -> Path:
        """The folder of the entry ``key`` (it may not exist)."""
        return self.folder / key[:2] / key

    def has(self, item: Any) -> bool:
        """Whether ``item`` has a complete entry for these settings."""
        return (self.entry_path(item_key(item)) / _ENTRY).is_file()

    def keys(self) -> Iterator[str]:
        """The keys of the complete entries of these settings."""
        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.iterdir()):
            if shard.is_dir() and len(shard.name) == 2:
                for entry in sorted(shard.iterdir()):
                    if not entry.name.startswith(".") and (entry / _ENTRY).is_file():
                        yield entry.name

    # ------------------------------------------------------------------------------------------ write
    def _write_settings(self) -> None:
        path = self.folder / "settings.json"
        if not path.is_file():
            from monai_mammo.io import atomic_write_bytes

            text = json.dumps(self.settings, indent=1, sort_keys=True, allow_nan=False)
            atomic_write_bytes(path, (text + "\n").encode("utf-8"))

    def put(self, key: str, result: Mapping[Hashable, Any]) -> Path:
        """Write the transformed item ``result`` as entry ``key``, atomically (see the module docstring).

        Args:
            key: the item's key (:func:`item_key` of the datalist item).
            result: the deterministic chain's output (a dict of arrays, MetaTensors and plain values).

        Returns:
            The entry's folder (written by this call or, when another writer was first, by that one).
        """
        if not isinstance(result, Mapping):
            raise TypeError(
                f"PreprocessedCache stores dict items; the transform returned {type(result).__name__}."
            )
        self._write_settings()
        final = self.entry_path(key)
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
                    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
                    stored = _storage_dtype(array, self.float_dtype)
                    file = f"a{n}.npy"
                    _write_npy(tmp / file, np.ascontiguousarray(array, dtype=stored))
                    record: dict[str, Any] = {
                        "file": file,
                        "dtype": str(array.dtype),
                        "stored_dtype": str(stored),
                        "shape": list(array.shape),
                        "kind": "ndarray" if isinstance(value, np.ndarray) else "tensor",
                    }
                    if isinstance(value, MetaTensor):
                        record["kind"] = "metatensor"
                        record["meta"] = _encode(dict(value.meta))
                        record["applied_operations"] = _encode(list(value.applied_operations))
                    arrays[name] = record
                else:
                    fields[name] = _encode(value)
            entry = {"format": CACHE_FORMAT, "key": key, "arrays": arrays, "fields": fields}
            _write_text(tmp / _ENTRY, json.dumps(entry, allow_nan=False))  # last: marks the folder complete
            _fsync_dir(tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / _ENTRY).is_file():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # another writer was first: its entry is as good
            _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    # ------------------------------------------------------------------------------------------- read
    def get(self, key: str) -> dict[str, Any] | None:
        """Read entry ``key`` (arrays memory-mapped, then cast to their original dtype); ``None`` if absent.

        Raises:
            ValueError: when the entry exists but is damaged (a missing or truncated array file).
        """
        folder = self.entry_path(key)
        try:
            text = (folder / _ENTRY).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        entry = json.loads(text)
        if entry.get("format") != CACHE_FORMAT:
            raise ValueError(
                f"cache entry {folder} has format {entry.get('format')}, expected {CACHE_FORMAT}."
            )
        item: dict[str, Any] = {k: _decode(v) for k, v in entry["fields"].items()}
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
                    meta=_decode(record["meta"]),
                    applied_operations=_decode_operations(record["applied_operations"]),
                )
        return item

    def compute(self, item: Any) -> Any:
        """Run the deterministic chain on ``item`` (no cache)."""
        if callable(self.transform):
            return apply_transform(self.transform, item)
        return _apply_all(self.transform, item)

    def load_or_compute(self, item: Any) -> dict[str, Any]:
        """The cached result for ``item``; computed, written and read back when missing or damaged.

        The result is always the read-back entry, so a first epoch sees the same (stored-precision) values as
        later ones.
        """
        key = item_key(item)
        try:
            cached = self.get(key)
        except ValueError as e:
            logger.warning("recomputing a damaged cache entry: %s", e)
            self._discard(key)
            cached = None
        if cached is not None:
            return cached
        self.put(key, self.compute(item))
        found = self.get(key)
        if found is None:  # removed between put and get (a concurrent prune): the computed result still holds
            raise FileNotFoundError(f"cache entry {self.entry_path(key)} vanished while it was read.")
        return found

    def ensure(self, item: Any) -> bool:
        """Compute and write ``item``'s entry unless a readable one exists; returns whether it was written."""
        key = item_key(item)
        try:
            if (self.entry_path(key) / _ENTRY).is_file() and self.get(key) is not None:
                return False
        except ValueError as e:
            logger.warning("recomputing a damaged cache entry: %s", e)
            self._discard(key)
        self.put(key, self.compute(item))
        return True

    def _discard(self, key: str) -> None:
        final = self.entry_path(key)
        trash = final.parent / f".{key}.{secrets.token_hex(4)}.del{_TEMP_SUFFIX}"
        try:
            os.rename(final, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    # ---------------------------------------------------------------------------------------- upkeep
    def remove_stale_temporaries(self) -> list[Path]:
        """Delete the temporary folders left by writers that were killed; call when no writer is running."""
        removed = []
        if self.folder.is_dir():
            for shard in self.folder.iterdir():
                if shard.is_dir():
                    for entry in shard.iterdir():
                        if entry.name.startswith(".") and entry.name.endswith(_TEMP_SUFFIX):
                            shutil.rmtree(entry, ignore_errors=True)
                            removed.append(entry)
        return removed

    def prune(self, items: Sequence[Any]) -> list[str]:
        """Remove the entries of these settings that no item of ``items`` uses (sources changed or gone).

        Returns:
            The keys removed.
        """
        wanted = {item_key(item) for item in items}
        removed = [key for key in self.keys() if key not in wanted]
        for key in removed:
            self._discard(key)
        return removed

    def nbytes(self) -> int:
        """The bytes on disk of the complete entries of these settings."""
        total = 0
        for key in self.keys():
            total += sum(f.stat().st_size for f in self.entry_path(key).iterdir() if f.is_file())
        return total


def _apply_all(transforms: Sequence[Callable[[Any], Any]], item: Any) -> Any:
    for t in transforms:
        item = apply_transform(t, item)
    return item


class _BuildItems(torch.utils.data.Dataset):
    """Fills the entries, one item per index; picklable for DataLoader worker processes."""

    def __init__(self, cache: PreprocessedCache, data: Sequence[Any], skip: tuple[type[BaseException], ...]):
        self.cache = cache
        self.data = data
        self.skip = skip

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[int, bool, str, str]:
        from monai_mammo.bundle.failures import root_cause

        try:
            written = self.cache.ensure(self.data[index])
        except Exception as e:
            cause = root_cause(e)
            if not isinstance(cause, self.skip):
                raise
            return index, False, type(cause).__name__, str(cause)
        return index, True, "written" if written else "found", ""


class PreprocessedCacheDataset(Dataset):
    """A MONAI ``Dataset`` whose deterministic steps are read from a :class:`PreprocessedCache` on disk.

    On construction every item's entry is checked and the missing ones are computed (in ``num_workers``
    processes, with a progress bar when ``progress``): an item whose file cannot be read (the root error
    is one of ``skip``) is logged, recorded and left out, as
    :class:`monai_mammo.bundle.FailureSkippingCacheDataset` does, so :attr:`data` holds the good items
    only and a sampler built from it lines up. Each ``__getitem__`` then reads the entry (memory-mapped
    ``.npy``, no pickle) and applies ``random_transform``. Unlike ``CacheDataset``, nothing is held in
    memory and the work survives the process: the next run, or ``monai-mammo cache build`` ahead of it,
    finds the entries.

    Args:
        data: the datalist.
        deterministic_transform: the deterministic chain (a ``Compose`` or a list): read, correct, canonical
            side, breast mask and crop, resize, normalise. Its configuration is part of the cache key.
        cache_dir: the cache's root folder (one sub-folder per setting).
        random_transform: the random part, run on every ``__getitem__`` (``None``: none).
        keys: the keys naming each item's files, for the failure report.
        report_path: where to write the JSON failure report (``None``: do not write one).
        max_failed_fraction: the largest fraction of failed items accepted, in ``[0, 1]``.
        skip: the root error types that leave an item out; other errors stop the run.
        num_workers: processes that fill missing entries (0: this process).
        progress: show a progress bar while filling.
        float_dtype: storage dtype of non-integer arrays (``"float16"`` or ``"float32"``).
        extra_settings: more content-changing settings for the key (JSON-able).

    Raises:
        RuntimeError: when more than ``max_failed_fraction`` of the items fail.

    Example:
        .. code-block:: python

            ds = PreprocessedCacheDataset(datalist, Compose(deterministic), "/data/cache",
                                          random_transform=Compose(augmentation), keys=("image", "label"))
            loader = DataLoader(ds, batch_size=8, **loader_settings())
    """

    def __init__(
        self,
        data: Sequence[Any],
        deterministic_transform: Callable[[Any], Any] | Sequence[Callable[[Any], Any]],
        cache_dir: str | os.PathLike[str],
        random_transform: Callable[[Any], Any] | None = None,
        keys: Sequence[Hashable] | Hashable = ("image",),
        report_path: str | os.PathLike[str] | None = None,
        max_failed_fraction: float = 0.5,
        skip: tuple[type[BaseException], ...] = (MammoReadError, OSError),
        num_workers: int = 0,
        progress: bool = False,
        float_dtype: str = "float16",
        extra_settings: Any = None,
    ) -> None:
        if not 0.0 <= float(max_failed_fraction) <= 1.0:
            raise ValueError(f"max_failed_fraction must be in [0, 1], got {max_failed_fraction}.")
        self.cache = PreprocessedCache(cache_dir, deterministic_transform, float_dtype, extra_settings)
        self.random_transform = random_transform
        self.keys = list(ensure_tuple(keys))
        self.report_path = Path(report_path) if report_path is not None else None
        self.max_failed_fraction = float(max_failed_fraction)
        self.skip = tuple(skip)
        self.failures: list[Any] = []
        self.n_written = 0
        super().__init__(data=list(data), transform=random_transform)
        self.fill(num_workers=num_workers, progress=progress)

    def fill(self, num_workers: int = 0, progress: bool = False) -> None:
        """Write the missing entries, then drop and report the items that failed (see the class)."""
        from monai_mammo.bundle.failures import ItemFailure, _write_report, item_source

        data = list(self.data)
        builder = _BuildItems(self.cache, data, self.skip)
        results = build_entries(builder, num_workers=num_workers, progress=progress)
        self.failures = [
            ItemFailure(index=i, source=item_source(data[i], self.keys, i), error=err, message=msg)
            for i, ok, err, msg in results
            if not ok
        ]
        self.n_written = sum(1 for _, ok, status, _ in results if ok and status == "written")
        for failure in self.failures:
            logger.warning("left out %s (%s): %s", failure.source, failure.error, failure.message)
        failed = {f.index for f in self.failures}
        self.data = [d for i, d in enumerate(data) if i not in failed]
        _write_report(self.report_path, len(data), self.failures)
        if data and len(self.failures) > self.max_failed_fraction * len(data):
            first = "; ".join(f"{f.source}: {f.error}: {f.message}" for f in self.failures[:3])
            raise RuntimeError(
                f"{len(self.failures)} of {len(data)} items could not be read (more than "
                f"max_failed_fraction={self.max_failed_fraction}); check the datalist's paths and the "
                f"reader. First: {first}"
            )

    def _transform(self, index: int) -> Any:
        item = self.cache.load_or_compute(self.data[index])
        if self.random_transform is None:
            return item
        return apply_transform(self.random_transform, item)


def build_entries(
    builder: _BuildItems, num_workers: int = 0, progress: bool = False
) -> list[tuple[int, bool, str, str]]:
    """Run ``builder`` over all its indices (in ``num_workers`` processes), with an optional progress bar.

    Returns:
        One ``(index, ok, status or error name, message)`` per item, in index order.
    """
    n = len(builder)
    loader = torch.utils.data.DataLoader(
        builder,
        batch_size=None,
        shuffle=False,
        num_workers=max(0, int(num_workers)),
        collate_fn=_identity_collate,
    )
    iterator: Any = loader
    if progress:
        from monai.utils import optional_import

        tqdm, has_tqdm = optional_import("tqdm", name="tqdm")
        if has_tqdm:
            iterator = tqdm(loader, total=n, unit="image", desc="cache")
    results = list(iterator)
    return sorted(results)


def _identity_collate(item: Any) -> Any:
    return item
