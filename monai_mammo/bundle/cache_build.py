"""``monai-mammo cache build``: fill a bundle's preprocessed cache ahead of training.

:func:`build_bundle_cache` reads a bundle config (with the same ``--set`` overrides the training run will
get), takes its datalists (``train#datalist`` and ``validate#datalist``) and, for each, the deterministic
transform chain the run caches it through (``<section>#deterministic_transforms`` when the config has one,
as the classification bundle's ``validate`` does, else ``train#deterministic_transforms``), and writes every
missing :class:`~monai_mammo.data.PreprocessedCache` entry, in worker processes, with a progress bar. A
training run given the same ``--cache_dir`` (and the same settings) then finds every entry; with any other
setting it makes its own, never reading a stale one.
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
        folder: the settings folder of the first datalist's entries (``cache_dir/<settings hash>``).
        items: datalist items seen (over all datalists).
        written: entries computed and written by this run.
        found: entries that were already there.
        failed: ``(source, error, message)`` of the items that could not be read.
        pruned: entries removed by ``prune`` (sources no datalist item uses any more).
        seconds: wall time.
        nbytes: bytes of all entries of these settings after the run.
        folders: the settings folder of each chain (one per distinct deterministic chain).
    """

    folder: Path
    items: int = 0
    written: int = 0
    found: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    pruned: int = 0
    seconds: float = 0.0
    nbytes: int = 0
    folders: list[Path] = field(default_factory=list)


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
    transforms_id: str | None = None,
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
        transforms_id: the id of the deterministic transform list for every datalist (``None``: each
            datalist's own, see the module docstring).
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
    from monai_mammo.data.preprocessed_cache import CacheBuildItems, PreprocessedCache, build_entries

    start = time.perf_counter()
    parser = ConfigParser()
    files = [config_file] if isinstance(config_file, (str, os.PathLike)) else list(config_file)
    parser.read_config([os.fspath(f) for f in files])
    parser.update(dict(overrides or {}))
    report = CacheBuildReport(folder=Path(cache_dir))
    caches: dict[str, tuple[PreprocessedCache, list[Any]]] = {}  # chain id -> its cache and items
    for datalist_id in datalist_ids:
        if datalist_id not in parser:
            continue
        chain_id = transforms_id or _chain_id(parser, datalist_id)
        if chain_id not in caches:
            chain = parser.get_parsed_content(chain_id)  # a list, as the runs give it to Compose
            caches[chain_id] = (PreprocessedCache(cache_dir, Compose(chain)), [])
            caches[chain_id][0].remove_stale_temporaries()
        cache, all_items = caches[chain_id]
        items = list(parser.get_parsed_content(datalist_id))
        all_items += items
        for index, ok, status, message in build_entries(
            CacheBuildItems(cache, items, (Exception,)), workers, progress
        ):
            if ok:
                report.written += status == "written"
                report.found += status == "found"
            else:
                report.failed.append((item_source(items[index], ["image", "label"], index), status, message))
    report.items = sum(len(items) for _, items in caches.values())
    report.folders = [cache.folder for cache, _ in caches.values()]
    if report.folders:
        report.folder = report.folders[0]
    if prune:
        report.pruned = sum(len(cache.prune(items)) for cache, items in caches.values())
    report.seconds = time.perf_counter() - start
    report.nbytes = sum(cache.nbytes() for cache, _ in caches.values())
    return report


def _chain_id(parser: Any, datalist_id: str) -> str:
    """The deterministic chain a run caches ``datalist_id`` through: its section's, else the training one."""
    section = datalist_id.rpartition("#")[0]
    own = f"{section}#deterministic_transforms"
    return own if section and own in parser else "train#deterministic_transforms"
