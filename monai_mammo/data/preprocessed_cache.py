"""A preprocessed cache of the deterministic training steps, on disk, memory-mapped, without pickle.

Training on full-field mammograms pays for the same expensive, deterministic work every epoch: decode a
30-60 MB DICOM, correct an inverted export, canonicalise the side, find and crop the breast, resize to the
working size, compute the normalisation. :class:`PreprocessedCache` does that work once per data set and
setting and keeps the result as plain arrays; :class:`~monai_mammo.data.PreprocessedCacheDataset`
(:mod:`monai_mammo.data.preprocessed_dataset`) is the MONAI ``Dataset`` that reads them back and runs only the
random part of the chain each epoch.

Layout (``cache_dir``)::

    <settings hash, 16 hex>/settings.json          what the hash was made of (for people; written atomically)
    <settings hash>/<2 hex>/<item key, 40 hex>/     one entry per item, a folder that appears atomically

The pieces, one module each: the keys (:mod:`monai_mammo.data.cache_keys`: a changed setting or source file
makes a new entry, a stale one is never hit; old entries stay until :meth:`PreprocessedCache.prune` or
``monai-mammo cache build --prune`` removes them), the entry format and its atomic one-rename write
(:mod:`monai_mammo.data.cache_entry`), the store of one setting's entries (this module) and the dataset.

Concurrent writers. Two writers of the same entry (DataLoader workers, distributed ranks, two ``cache build``
runs) both compute it; the first rename wins and the second writer discards its copy. A process killed with
``kill -9`` leaves only a temporary folder, which is never read and is removed by
:meth:`PreprocessedCache.remove_stale_temporaries`. An entry that cannot be read back (a damaged disk, a file
removed by hand) is recomputed and replaced.

Why not :class:`monai.data.PersistentDataset`. It stores each item with ``torch.save`` and reads it with
``torch.load``, i.e. pickle: loading a cache file that someone else can write runs their code, and this
project refuses ``torch.load``/pickle on such files. A ``PersistentDataset`` entry is also the full
``float32`` item at whatever size the chain produced, and it is keyed by a hash of the item alone: a changed
transform setting or a replaced source file under the same name is a silent stale hit there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from monai.transforms import apply_transform

from monai_mammo.data import cache_entry, cache_keys
from monai_mammo.data.failures import root_cause
from monai_mammo.utils.deprecation import moved_names

__all__ = ["PreprocessedCache", "build_entries"]

logger = logging.getLogger(__name__)

_MOVED = {
    "CACHE_FORMAT": "monai_mammo.data.cache_keys",
    "item_key": "monai_mammo.data.cache_keys",
    "settings_description": "monai_mammo.data.cache_keys",
    "settings_hash": "monai_mammo.data.cache_keys",
    "PreprocessedCacheDataset": "monai_mammo.data.preprocessed_dataset",
}


# the names that moved to their own modules (also importable from monai_mammo.data)
__getattr__, __dir__ = moved_names(__name__, _MOVED, globals())


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
        self.settings = cache_keys.settings_description(transform, float_dtype, extra_settings)
        self.settings_hash = cache_keys.settings_hash(self.settings)
        self.folder = self.root / self.settings_hash

    # ------------------------------------------------------------------------------------------ paths
    def entry_path(self, key: str) -> Path:
        """The folder of the entry ``key`` (it may not exist)."""
        return self.folder / key[:2] / key

    def has(self, item: Any) -> bool:
        """Whether ``item`` has a complete entry for these settings."""
        return (self.entry_path(cache_keys.item_key(item)) / cache_entry.ENTRY_FILE).is_file()

    def keys(self) -> Iterator[str]:
        """The keys of the complete entries of these settings."""
        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.iterdir()):
            if shard.is_dir() and len(shard.name) == 2:
                for entry in sorted(shard.iterdir()):
                    if not entry.name.startswith(".") and (entry / cache_entry.ENTRY_FILE).is_file():
                        yield entry.name

    # ------------------------------------------------------------------------------------------ write
    def _write_settings(self) -> None:
        path = self.folder / "settings.json"
        if not path.is_file():
            from monai_mammo.io import atomic_write_bytes

            text = json.dumps(self.settings, indent=1, sort_keys=True, allow_nan=False)
            atomic_write_bytes(path, (text + "\n").encode("utf-8"))

    def put(self, key: str, result: Mapping[Hashable, Any]) -> Path:
        """Write the transformed item ``result`` as entry ``key``, atomically (``cache_entry.write_entry``).

        Args:
            key: the item's key (:func:`~monai_mammo.data.cache_keys.item_key` of the datalist item).
            result: the deterministic chain's output (a dict of arrays, MetaTensors and plain values).

        Returns:
            The entry's folder (written by this call or, when another writer was first, by that one).
        """
        if not isinstance(result, Mapping):  # before settings.json: a wrong chain leaves no folder behind
            raise TypeError(
                f"PreprocessedCache stores dict items; the transform returned {type(result).__name__}."
            )
        self._write_settings()
        return cache_entry.write_entry(self.entry_path(key), key, result, self.float_dtype)

    # ------------------------------------------------------------------------------------------- read
    def get(self, key: str) -> dict[str, Any] | None:
        """Read entry ``key`` (arrays memory-mapped, then cast to their original dtype); ``None`` if absent.

        Raises:
            ValueError: when the entry exists but is damaged (a missing or truncated array file).
        """
        return cache_entry.read_entry(self.entry_path(key))

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
        key = cache_keys.item_key(item)
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
        key = cache_keys.item_key(item)
        try:
            if (self.entry_path(key) / cache_entry.ENTRY_FILE).is_file() and self.get(key) is not None:
                return False
        except ValueError as e:
            logger.warning("recomputing a damaged cache entry: %s", e)
            self._discard(key)
        self.put(key, self.compute(item))
        return True

    def _discard(self, key: str) -> None:
        cache_entry.discard_entry(self.entry_path(key))

    # ---------------------------------------------------------------------------------------- upkeep
    def remove_stale_temporaries(self) -> list[Path]:
        """Delete the temporary folders left by writers that were killed; call when no writer is running."""
        removed = []
        if self.folder.is_dir():
            for shard in self.folder.iterdir():
                if shard.is_dir():
                    for entry in shard.iterdir():
                        if cache_entry.is_temporary(entry):
                            shutil.rmtree(entry, ignore_errors=True)
                            removed.append(entry)
        return removed

    def prune(self, items: Sequence[Any]) -> list[str]:
        """Remove the entries of these settings that no item of ``items`` uses (sources changed or gone).

        Returns:
            The keys removed.
        """
        wanted = {cache_keys.item_key(item) for item in items}
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


class CacheBuildItems(torch.utils.data.Dataset):
    """Fills the entries, one item per index; picklable for DataLoader worker processes."""

    def __init__(self, cache: PreprocessedCache, data: Sequence[Any], skip: tuple[type[BaseException], ...]):
        self.cache = cache
        self.data = data
        self.skip = skip

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[int, bool, str, str]:
        try:
            written = self.cache.ensure(self.data[index])
        except Exception as e:
            cause = root_cause(e)
            if not isinstance(cause, self.skip):
                raise
            return index, False, type(cause).__name__, str(cause)
        return index, True, "written" if written else "found", ""


def build_entries(
    builder: CacheBuildItems, num_workers: int = 0, progress: bool = False
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
