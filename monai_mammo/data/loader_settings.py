"""DataLoader settings that follow the machine: worker processes, pinned memory, persistent workers, prefetch.

:func:`loader_settings` returns the keyword arguments of :class:`torch.utils.data.DataLoader` (and of MONAI's
``DataLoader``/``ThreadDataLoader``) for a training input pipeline, from the cores this process may use
(``os.sched_getaffinity`` where there is one, else ``os.cpu_count()``) and the training device:

- ``num_workers``: the usable cores minus one (the main process runs the training loop and, with
  :class:`~monai_mammo.engines.DeviceAugmentation`, drives the GPU), at most ``max_workers`` (8: beyond
  that, a cache-fed mammography pipeline is limited by the disk, not the cores); 0 on a single core;
- ``pin_memory``: on a CUDA device (page-locked batches copy to the GPU asynchronously, with
  ``non_blocking=True``);
- ``persistent_workers``: whenever there are workers (no process start-up, no re-import, every epoch);
- ``prefetch_factor``: 4 batches per worker on CUDA (short GPU steps drain the queue fast), 2 (torch's
  default) on the CPU; ``None`` without workers, as torch requires.

Every value can be given instead; a given value is kept as it is.
"""

from __future__ import annotations

import os
from typing import Any

import torch

__all__ = ["available_cores", "loader_settings"]


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    sched_getaffinity = getattr(os, "sched_getaffinity", None)
    if sched_getaffinity is not None:
        try:
            return max(1, len(sched_getaffinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


def loader_settings(
    device: str | torch.device | None = None,
    num_workers: int | None = None,
    pin_memory: bool | None = None,
    persistent_workers: bool | None = None,
    prefetch_factor: int | None = None,
    max_workers: int = 8,
) -> dict[str, Any]:
    """DataLoader keyword arguments for this machine (see the module docstring for the rules).

    Args:
        device: the training device (``None``: CUDA when available, else the CPU).
        num_workers: worker processes (``None``: usable cores - 1, at most ``max_workers``).
        pin_memory: page-locked batches (``None``: on a CUDA device).
        persistent_workers: keep the workers between epochs (``None``: when there are workers).
        prefetch_factor: batches loaded ahead per worker (``None``: 4 on CUDA, 2 on the CPU; always ``None``
            without workers).
        max_workers: the cap on the automatic ``num_workers``.

    Returns:
        ``{"num_workers", "pin_memory", "persistent_workers", "prefetch_factor"}``.

    Example:
        .. code-block:: python

            loader = DataLoader(dataset, batch_size=16, shuffle=True, **loader_settings("cuda:0"))
    """
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = torch.device(device).type == "cuda"
    if num_workers is None:
        num_workers = min(max(available_cores() - 1, 0), int(max_workers))
    if int(num_workers) < 0:
        raise ValueError(f"num_workers must be >= 0, got {num_workers}.")
    num_workers = int(num_workers)
    if pin_memory is None:
        pin_memory = cuda
    if persistent_workers is None:
        persistent_workers = num_workers > 0
    if num_workers == 0:
        persistent_workers, prefetch_factor = False, None
    elif prefetch_factor is None:
        prefetch_factor = 4 if cuda else 2
    return {
        "num_workers": num_workers,
        "pin_memory": bool(pin_memory),
        "persistent_workers": bool(persistent_workers),
        "prefetch_factor": prefetch_factor,
    }
