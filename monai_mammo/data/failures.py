"""Batch jobs that go on past a bad file: the failing items are recorded and skipped, not fatal.

A folder of mammograms with one corrupt file should be processed to the end. MONAI's datasets raise from
``LoadImaged`` (wrapped by ``Compose`` in a ``RuntimeError``) and stop the whole run. Here:

- :class:`SkipFailedItems` wraps any map-style dataset; an item whose loading or preprocessing raises
  becomes an :class:`ItemFailure` record (file, error type, message) instead of an exception;
- :class:`FailureSkippingDataLoader` is a data loader over such a dataset that yields only the good batches,
  collects the failures (from worker processes too, since they travel with the batches), logs each one and
  writes them to a JSON report, atomically, at the end of every pass;
- :class:`FailureSkippingCacheDataset`, for training: a :class:`monai.data.CacheDataset` that drops the
  items whose files cannot be read while it fills its cache, reports them, and refuses a datalist that is
  mostly unreadable.

The loader has no length (the number of good items is only known at the end), which Ignite and MONAI's
engines accept: the epoch ends when the loader is exhausted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from monai.data import CacheDataset, DataLoader, list_data_collate
from monai.utils import ensure_tuple
from torch.utils.data import Dataset as TorchDataset

from monai_mammo.data.errors import MammoReadError
from monai_mammo.io import atomic_write_bytes
from monai_mammo.utils.json_text import strict_json_text

__all__ = [
    "FailureSkippingCacheDataset",
    "FailureSkippingDataLoader",
    "ItemFailure",
    "SkipFailedItems",
    "root_cause",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemFailure:
    """One item of a dataset that could not be loaded or preprocessed.

    Args:
        index: position of the item in the dataset.
        source: the item's file name(s) (the values of the dataset's ``keys``), ``";"``-joined.
        error: the class name of the root error (e.g. ``TruncatedFileError``).
        message: the root error's message (names the file, the cause and the fix for ``MammoReadError``).
    """

    index: int
    source: str
    error: str
    message: str


def root_cause(error: BaseException) -> BaseException:
    """The most informative error of a chain: the first :class:`MammoReadError`, else the innermost cause.

    MONAI's ``Compose`` re-raises a failing transform's error as ``RuntimeError("applying transform ...")``
    ``from`` the original error; this walks ``__cause__``/``__context__`` back to it.

    Args:
        error: the error that was caught.

    Returns:
        The error to report.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    last = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MammoReadError):
            return current
        seen.add(id(current))
        last = current
        current = current.__cause__ or current.__context__
    return last


def item_source(raw: Any, keys: Sequence[Hashable], index: int) -> str:
    """The file name(s) of a datalist item: the values of ``keys``, ``";"``-joined (else ``item <index>``)."""
    if isinstance(raw, dict):
        values = [raw[k] for k in keys if k in raw]
        return ";".join(str(v) for v in values) if values else f"item {index}"
    return str(raw) if isinstance(raw, (str, os.PathLike)) else f"item {index}"


def _report(n_items: int, failures: Sequence[ItemFailure]) -> dict[str, Any]:
    return {"n_items": n_items, "n_failed": len(failures), "failures": [asdict(f) for f in failures]}


def write_failure_report(path: Path | None, n_items: int, failures: Sequence[ItemFailure]) -> Path | None:
    """Write the failure report (n_items, n_failed, failures) atomically as strict JSON; None: nothing."""
    if path is None:
        return None
    text = strict_json_text(_report(n_items, failures))
    written = atomic_write_bytes(path, (text + "\n").encode("utf-8"))
    if failures:
        logger.warning("%d of %d item(s) failed; see %s", len(failures), n_items, written)
    return written


class SkipFailedItems(TorchDataset):
    """A dataset wrapper that returns an :class:`ItemFailure` instead of raising for a bad item.

    Args:
        dataset: any map-style dataset (e.g. ``monai.data.Dataset(data, transform)``).
        keys: keys of the raw items whose values name the source files (read from ``dataset.data`` when it
            exists, as MONAI's datasets keep their input list there).
        catch: the exception types turned into failures; others propagate.

    Example:
        .. code-block:: python

            ds = SkipFailedItems(monai.data.Dataset(files, transform), keys="image")
            item = ds[3]  # a dict, or an ItemFailure naming the file and the error
    """

    def __init__(
        self,
        dataset: Sequence[Any],
        keys: Sequence[Hashable] | Hashable = ("image",),
        catch: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        self.dataset = dataset
        self.keys = list(ensure_tuple(keys))
        self.catch = tuple(catch)

    def __len__(self) -> int:
        return len(self.dataset)

    def source_of(self, index: int) -> str:
        """The file name(s) of item ``index``, from the wrapped dataset's input list when it has one."""
        data = getattr(self.dataset, "data", None)
        try:
            raw = data[index] if data is not None else None
        except Exception:  # an exotic dataset: the index alone identifies the item
            raw = None
        return item_source(raw, self.keys, index)

    def __getitem__(self, index: int) -> Any:
        try:
            return self.dataset[index]
        except self.catch as e:
            cause = root_cause(e)
            return ItemFailure(
                index=int(index), source=self.source_of(index), error=type(cause).__name__, message=str(cause)
            )


class _SplitFailures:
    """Collate the good items of a batch; keep the failures beside them (picklable, for worker processes)."""

    def __init__(self, collate_fn: Callable[[list[Any]], Any]) -> None:
        self.collate_fn = collate_fn

    def __call__(self, items: list[Any]) -> tuple[Any, list[ItemFailure]]:
        failures = [x for x in items if isinstance(x, ItemFailure)]
        good = [x for x in items if not isinstance(x, ItemFailure)]
        return (self.collate_fn(good) if good else None), failures


class FailureSkippingDataLoader:
    """A data loader that skips the items a :class:`SkipFailedItems` dataset could not load, and reports them.

    It builds a :class:`monai.data.DataLoader` over ``SkipFailedItems(dataset, keys)`` and yields the
    collated good batches only. Each failure is logged as a warning when it is met and kept in
    :attr:`failures`; at the end of each complete pass the list is written to ``report_path`` (JSON, written
    atomically) -- an empty list when every item loaded, so a report always says how the run went.

    Args:
        dataset: the map-style dataset to load (e.g. a ``monai.data.Dataset`` with the preprocessing).
        keys: the keys naming the source files, for the report.
        report_path: where to write the JSON report (``None``: do not write one).
        collate_fn: collation of the good items (default: MONAI's ``list_data_collate``).
        catch: the exception types turned into reported failures.
        kwargs: further arguments of :class:`monai.data.DataLoader` (``batch_size``, ``num_workers``, ...).

    Example:
        .. code-block:: python

            dataset = Dataset(files, preprocessing)
            loader = FailureSkippingDataLoader(dataset, keys="image", report_path="out/failures.json")
            for batch in loader:  # the corrupt files are skipped and listed in out/failures.json
                ...
    """

    def __init__(
        self,
        dataset: Sequence[Any],
        keys: Sequence[Hashable] | Hashable = ("image",),
        report_path: str | os.PathLike[str] | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        catch: tuple[type[BaseException], ...] = (Exception,),
        **kwargs: Any,
    ) -> None:
        if "sampler" in kwargs and kwargs.get("shuffle"):
            raise ValueError("FailureSkippingDataLoader: give either `sampler` or `shuffle=True`, not both.")
        self.dataset = SkipFailedItems(dataset, keys=keys, catch=catch)
        self.report_path = Path(report_path) if report_path is not None else None
        self.loader = DataLoader(
            self.dataset, collate_fn=_SplitFailures(collate_fn or list_data_collate), **kwargs
        )
        self.failures: list[ItemFailure] = []
        self.n_batches = 0

    def __iter__(self) -> Iterator[Any]:
        self.failures = []
        self.n_batches = 0
        for batch, failures in self.loader:
            for failure in failures:
                logger.warning("skipped %s (%s): %s", failure.source, failure.error, failure.message)
                self.failures.append(failure)
            if batch is not None:
                self.n_batches += 1
                yield batch
        self.write_report()

    def report(self) -> dict[str, Any]:
        """The report of the last pass: counts and one record per failed item."""
        return _report(len(self.dataset), self.failures)

    def write_report(self) -> Path | None:
        """Write :meth:`report` to ``report_path`` atomically (nothing when no path was given).

        Returns:
            The path written, or ``None``.
        """
        return write_failure_report(self.report_path, len(self.dataset), self.failures)


class FailureSkippingCacheDataset(CacheDataset):
    """A MONAI ``CacheDataset`` that leaves out the items whose files cannot be read, and lists them.

    While the cache is filled, an item whose deterministic transforms fail because of its file (the root
    error is one of ``skip``: by default a :class:`monai_mammo.data.MammoReadError` -- truncated, blank,
    unsupported, a mask of the wrong size... -- or an ``OSError`` such as a missing file) is logged, recorded
    as an :class:`ItemFailure` and dropped: :attr:`data` and the length are those of the good items, so a
    sampler built from ``dataset.data`` afterwards lines up with them. Any other error (a wrong transform
    argument, a bug) stops the run as in MONAI. The failures are written to ``report_path`` (JSON, atomically;
    an empty list when every item loaded). A datalist where more than ``max_failed_fraction`` of the items
    fail is refused (:class:`RuntimeError` naming the first failures): that is a wrong path or a wrong
    reader, not a few bad films.

    Every item must be cached (``cache_rate=1.0``, ``cache_num`` at least the length, no ``runtime_cache``,
    no ``hash_as_key``), so that every file is checked before the first epoch.

    Args:
        data: the datalist.
        transform: the preprocessing (a ``Compose``; its deterministic part runs while caching).
        keys: the keys naming each item's files, for the report.
        report_path: where to write the JSON report (``None``: do not write one).
        max_failed_fraction: the largest fraction of failed items accepted, in ``[0, 1]``.
        skip: the root error types that drop an item.
        kwargs: further arguments of :class:`monai.data.CacheDataset` (``num_workers``, ``progress``, ...).

    Raises:
        ValueError: for settings that leave items uncached, or ``max_failed_fraction`` outside ``[0, 1]``.
        RuntimeError: when more than ``max_failed_fraction`` of the items fail.

    Example:
        .. code-block:: python

            ds = FailureSkippingCacheDataset(datalist, preprocessing, keys=("image", "label"),
                                             report_path="runs/train/training_failures.json")
            weights = [3.0 if d["lesion"] else 1.0 for d in ds.data]  # the good items only
    """

    def __init__(
        self,
        data: Sequence[Any],
        transform: Any,
        keys: Sequence[Hashable] | Hashable = ("image", "label"),
        report_path: str | os.PathLike[str] | None = None,
        max_failed_fraction: float = 0.5,
        skip: tuple[type[BaseException], ...] = (MammoReadError, OSError),
        **kwargs: Any,
    ) -> None:
        if not 0.0 <= float(max_failed_fraction) <= 1.0:
            raise ValueError(f"max_failed_fraction must be in [0, 1], got {max_failed_fraction}.")
        if kwargs.get("runtime_cache") or kwargs.get("hash_as_key"):
            raise ValueError(
                "FailureSkippingCacheDataset checks every item while it fills its cache: "
                "runtime_cache and hash_as_key are not supported."
            )
        self.keys = list(ensure_tuple(keys))
        self.report_path = Path(report_path) if report_path is not None else None
        self.max_failed_fraction = float(max_failed_fraction)
        self.skip = tuple(skip)
        self.failures: list[ItemFailure] = []
        super().__init__(data, transform, **kwargs)

    def _load_cache_item(self, idx: int) -> Any:
        try:
            return super()._load_cache_item(idx)
        except Exception as e:
            cause = root_cause(e)
            if not isinstance(cause, self.skip):
                raise
            source = item_source(self.data[idx], self.keys, idx)
            return ItemFailure(index=int(idx), source=source, error=type(cause).__name__, message=str(cause))

    def set_data(self, data: Sequence[Any]) -> None:
        """Cache ``data``, then drop and report the items that failed (see the class)."""
        n_items = len(data)
        if min(int(self.set_num), int(n_items * self.set_rate), n_items) < n_items:
            raise ValueError(
                f"FailureSkippingCacheDataset must cache every item to check it: cache_rate={self.set_rate}, "
                f"cache_num={self.set_num} leave some of the {n_items} items uncached; use cache_rate=1.0."
            )
        super().set_data(data)
        self.failures = [c for c in self._cache if isinstance(c, ItemFailure)]
        for failure in self.failures:
            logger.warning("left out %s (%s): %s", failure.source, failure.error, failure.message)
        good = [i for i, c in enumerate(self._cache) if not isinstance(c, ItemFailure)]
        self.data = [data[i] for i in good]
        self._cache = [self._cache[i] for i in good]
        self.cache_num = len(self._cache)
        write_failure_report(self.report_path, n_items, self.failures)
        if n_items and len(self.failures) > self.max_failed_fraction * n_items:
            first = "; ".join(f"{f.source}: {f.error}: {f.message}" for f in self.failures[:3])
            raise RuntimeError(
                f"{len(self.failures)} of {n_items} items could not be read (more than "
                f"max_failed_fraction={self.max_failed_fraction}); check the datalist's paths and the "
                f"reader. First: {first}"
            )
