"""``monai-mammo cache build``: fill a bundle's preprocessed cache ahead of training.

:func:`build_bundle_cache` reads a bundle config (with the same ``--set`` overrides the training run will
get), takes its deterministic transform chain (``train#deterministic_transforms``) and its datalists
(``train#datalist`` and ``validate#datalist``), and writes every missing
:class:`~monai_mammo.data.PreprocessedCache` entry, in worker processes, with a progress bar. A training run
given the same ``--cache_dir`` (and the same settings) then finds every entry; with any other setting it
makes its own, never reading a stale one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CacheBuildReport", "build_bundle_cache", "parse_override"]


@dataclass
class CacheBuildReport:
    """What :func:`build_bundle_cache` did.

    Attributes:
        folder: the settings folder of the entries (``cache_dir/<settings hash>``).
        items: datalist items seen (over all datalists).
        written: entries computed and written by this run.
        found: entries that were already there.
        failed: ``(source, error, message)`` of the items that could not be read.
        pruned: entries removed by ``prune`` (sources no datalist item uses any more).
        seconds: wall time.
        nbytes: bytes of all entries of these settings after the run.
    """

    folder: Path
    items: int = 0
    written: int = 0
    found: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    pruned: int = 0
    seconds: float = 0.0
    nbytes: int = 0


def parse_override(pair: str) -> tuple[str, Any]:
    """``"image_size=1024"`` -> ``("image_size", 1024)``: the value as JSON when it parses, else as text."""
    key, sep, text = pair.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set expects ID=VALUE, got {pair!r}")
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    return key.strip(), value


def build_bundle_cache(
    config_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    cache_dir: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    transforms_id: str = "train#deterministic_transforms",
    datalist_ids: Sequence[str] = ("train#datalist", "validate#datalist"),
    workers: int = 0,
    progress: bool = True,
    prune: bool = False,
) -> CacheBuildReport:
    """Write the missing cache entries of a bundle's datalists (see the module docstring).

    Args:
        config_file: the bundle config file(s), e.g. ``configs/train.json``.
        cache_dir: the cache's root folder (the value the training run gets as ``--cache_dir``).
        overrides: config ids and values, as the run's ``--id value`` (e.g. ``{"image_size": 1024}``).
        transforms_id: the id of the deterministic transform list.
        datalist_ids: the ids of the datalists to cache (a missing id is skipped).
        workers: worker processes (0: this process).
        progress: show a progress bar.
        prune: afterwards, remove the entries of these settings that no datalist item uses.

    Returns:
        A :class:`CacheBuildReport`.
    """
    from monai.bundle import ConfigParser
    from monai.transforms import Compose

    from monai_mammo.data.failures import item_source
    from monai_mammo.data.preprocessed_cache import PreprocessedCache, _BuildItems, build_entries

    start = time.perf_counter()
    parser = ConfigParser()
    files = [config_file] if isinstance(config_file, (str, os.PathLike)) else list(config_file)
    parser.read_config([os.fspath(f) for f in files])
    parser.update(dict(overrides or {}))
    transform = Compose(parser.get_parsed_content(transforms_id))
    cache = PreprocessedCache(cache_dir, transform)
    cache.remove_stale_temporaries()
    report = CacheBuildReport(folder=cache.folder)
    all_items: list[Any] = []
    for datalist_id in datalist_ids:
        if datalist_id not in parser:
            continue
        items = list(parser.get_parsed_content(datalist_id))
        all_items += items
        for index, ok, status, message in build_entries(
            _BuildItems(cache, items, (Exception,)), workers, progress
        ):
            if ok:
                report.written += status == "written"
                report.found += status == "found"
            else:
                report.failed.append((item_source(items[index], ["image", "label"], index), status, message))
    report.items = len(all_items)
    if prune:
        report.pruned = len(cache.prune(all_items))
    report.seconds = time.perf_counter() - start
    report.nbytes = cache.nbytes()
    return report
