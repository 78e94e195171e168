"""``PreprocessedCacheDataset``: a MONAI ``Dataset`` whose deterministic steps come from the on-disk cache.

See :mod:`monai_mammo.data.preprocessed_cache` for the cache itself (layout, keys, safety, why not
``PersistentDataset``) and docs/training_input.md for its use in the bundles (``--cache_dir``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

from monai.data import Dataset
from monai.transforms import apply_transform
from monai.utils import ensure_tuple

from monai_mammo.data.errors import MammoReadError
from monai_mammo.data.failures import ItemFailure, item_source, write_failure_report
from monai_mammo.data.preprocessed_cache import CacheBuildItems, PreprocessedCache, build_entries

__all__ = ["PreprocessedCacheDataset"]

logger = logging.getLogger(__name__)


class PreprocessedCacheDataset(Dataset):
    """A MONAI ``Dataset`` whose deterministic steps are read from a :class:`PreprocessedCache` on disk.

    On construction every item's entry is checked and the missing ones are computed (in ``num_workers``
    processes, with a progress bar when ``progress``): an item whose file cannot be read (the root error
    is one of ``skip``) is logged, recorded and left out, as
    :class:`monai_mammo.data.FailureSkippingCacheDataset` does, so :attr:`data` holds the good items
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
        data = list(self.data)
        builder = CacheBuildItems(self.cache, data, self.skip)
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
        write_failure_report(self.report_path, len(data), self.failures)
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
