"""Batch jobs that go on past a bad file: the failing items are recorded and skipped, not fatal.

A folder of mammograms with one corrupt file should be processed to the end. MONAI's datasets raise from
``LoadImaged`` (wrapped by ``Compose`` in a ``RuntimeError``) and stop the whole run. Here:

- :class:`SkipFailedItems` wraps any map-style dataset; an item whose loading or preprocessing raises
  becomes an :class:`ItemFailure` record (file, error type, message) instead of an exception;
- :class:`FailureSkippingDataLoader` is a data loader over such a dataset that yields only the good batches,
  collects the failures (from worker processes too, since they travel with the batches), logs each one and
  writes them to a JSON report, atomically, at the end of every pass.

The loader has no length (the number of good items is only known at the end), which Ignite and MONAI's
engines accept: the epoch ends when the loader is exhausted.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from monai.data import DataLoader, list_data_collate
from torch.utils.data import Dataset as TorchDataset

from monai_mammo.data.datalist import atomic_write_bytes
from monai_mammo.data.errors import MammoReadError

__all__ = ["FailureSkippingDataLoader", "ItemFailure", "SkipFailedItems", "root_cause"]

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
        self.keys = [keys] if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence) else list(keys)
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
        if isinstance(raw, dict):
            values = [raw[k] for k in self.keys if k in raw]
            return ";".join(str(v) for v in values) if values else f"item {index}"
        return str(raw) if isinstance(raw, (str, os.PathLike)) else f"item {index}"

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
        return {
            "n_items": len(self.dataset),
            "n_failed": len(self.failures),
            "failures": [asdict(f) for f in self.failures],
        }

    def write_report(self) -> Path | None:
        """Write :meth:`report` to ``report_path`` atomically (nothing when no path was given).

        Returns:
            The path written, or ``None``.
        """
        if self.report_path is None:
            return None
        text = json.dumps(self.report(), indent=2)
        path = atomic_write_bytes(self.report_path, (text + "\n").encode("utf-8"))
        if self.failures:
            logger.warning("%d of %d item(s) failed; see %s", len(self.failures), len(self.dataset), path)
        return path
