"""Checkpoints written atomically under fixed names: the best model, and the state to resume training from.

MONAI's :class:`~monai.handlers.CheckpointSaver` writes with ``atomic=False`` and, with ``n_saved=1``,
removes the previous file before writing the next, so an interruption during a save can leave no usable
checkpoint. These two handlers always write a temporary file and ``os.replace`` it, so ``checkpoint.pt``
and ``model.pt`` are at every moment either the previous complete file or the new complete one. They are
loaded back with MONAI's :class:`~monai.handlers.CheckpointLoader` (``torch.load(weights_only=True)``).

- :class:`ResumeCheckpoint` (on the trainer) writes the whole training state every ``save_interval``
  epochs and, with ``resume=True``, loads it back when the run starts: no completed epoch is lost or repeated.
- :class:`BestModelSaver` (on the validation evaluator) writes the network whenever the key metric improves;
  its best score is part of the resume state, so a resumed run does not overwrite a better model.

In distributed runs only rank 0 writes.
"""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from monai.handlers import CheckpointLoader
from monai.utils import IgniteInfo, min_version, optional_import

from monai_mammo.data.datalist import atomic_write_bytes

Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")

__all__ = ["BestModelSaver", "ResumeCheckpoint", "save_state_atomic", "state_of"]


def _is_writer() -> bool:
    """Whether this process writes files (not distributed, or rank 0)."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def state_of(obj: Any) -> Any:
    """The ``state_dict`` of an object to checkpoint; DataParallel/DDP models are unwrapped first.

    Raises:
        TypeError: when ``obj`` has no ``state_dict``.
    """
    if isinstance(obj, (torch.nn.DataParallel, torch.nn.parallel.DistributedDataParallel)):
        obj = obj.module
    if not hasattr(obj, "state_dict"):
        raise TypeError(f"cannot checkpoint a {type(obj).__name__}: it has no state_dict().")
    return obj.state_dict()


def save_state_atomic(path: str | os.PathLike[str], save_dict: Mapping[str, Any]) -> Path:
    """``torch.save({name: state_of(obj)})`` into ``path`` atomically.

    As Ignite's ``Checkpoint`` does, a single object is saved as its bare ``state_dict`` (the model-zoo
    ``models/model.pt`` format that ``ckpt_export`` and ``CheckpointLoader`` read).

    Args:
        path: the checkpoint file; its folder is created.
        save_dict: name -> object with a ``state_dict`` (network, optimizer, engine, handler, ...).

    Returns:
        The path written.
    """
    buffer = io.BytesIO()
    states = {name: state_of(obj) for name, obj in save_dict.items()}
    torch.save(next(iter(states.values())) if len(states) == 1 else states, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


class ResumeCheckpoint:
    """Save the training state every ``save_interval`` epochs (atomically) and, on request, resume from it.

    Attached to the trainer, it saves ``save_dict`` plus the trainer itself (under ``engine_key``) into
    ``<save_dir>/<filename>`` at the end of every ``save_interval``-th epoch and of the last one. With
    ``resume=True`` it loads that file when the run starts (with MONAI's
    :class:`~monai.handlers.CheckpointLoader`, ``weights_only=True``), so the trainer continues after the last
    completed epoch: an interrupted run loses at most the epoch in progress and repeats none that completed.

    Put the network, optimizer, learning-rate scheduler and the :class:`BestModelSaver` in ``save_dict``; the
    trainer need not (and, in a bundle config, cannot without a circular reference) be listed.

    Args:
        save_dir: the checkpoint folder.
        save_dict: name -> object with ``state_dict``/``load_state_dict``.
        filename: the checkpoint's file name.
        save_interval: save every this many epochs (the last epoch is always saved).
        resume: load the checkpoint when the run starts.
        engine_key: the name the trainer is saved under.
        map_location: ``torch.load`` map location when resuming.
        name: logger name (default: the engine's logger).

    Raises:
        FileNotFoundError: at ``attach`` when ``resume`` is set and the checkpoint does not exist.
    """

    def __init__(
        self,
        save_dir: str | os.PathLike[str],
        save_dict: Mapping[str, Any],
        filename: str = "checkpoint.pt",
        save_interval: int = 1,
        resume: bool = False,
        engine_key: str = "trainer",
        map_location: Any = None,
        name: str | None = None,
    ) -> None:
        if not save_dict:
            raise ValueError("ResumeCheckpoint: save_dict must name at least one object to save.")
        if engine_key in save_dict:
            raise ValueError(f"ResumeCheckpoint: {engine_key!r} is reserved for the trainer it is on.")
        if int(save_interval) < 1:
            raise ValueError(f"save_interval must be >= 1, got {save_interval}.")
        self.path = Path(save_dir) / filename
        self.save_dict = dict(save_dict)
        self.save_interval = int(save_interval)
        self.resume = bool(resume)
        self.engine_key = engine_key
        self.map_location = map_location
        self.logger = logging.getLogger(name)
        self._name = name
        self._engine: Any = None

    def attach(self, engine: Any) -> None:
        """Save at the end of due epochs; with ``resume``, load the checkpoint when the run starts.

        Args:
            engine: the trainer.
        """
        if self._name is None:
            self.logger = engine.logger
        self._engine = engine
        if self.resume:
            if not self.path.is_file():
                raise FileNotFoundError(
                    f"cannot resume: no checkpoint at {self.path} (train without resume first, or set the "
                    "checkpoint folder)."
                )
            loader = CheckpointLoader(
                load_path=str(self.path),
                load_dict={self.engine_key: engine, **self.save_dict},
                map_location=self.map_location,
            )
            loader.attach(engine)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def __call__(self, engine: Any) -> None:
        """Save now if this epoch is due."""
        epoch = engine.state.epoch
        if epoch % self.save_interval and epoch != engine.state.max_epochs:
            return
        if _is_writer():
            save_state_atomic(self.path, {self.engine_key: engine, **self.save_dict})
            self.logger.info(f"saved the training state after epoch {epoch} to {self.path}")


class BestModelSaver:
    """Write ``save_dict`` to ``<save_dir>/<filename>`` atomically whenever the key metric improves.

    Attach it to the validation evaluator. Its :meth:`state_dict` (best score and epoch) belongs in the
    resume checkpoint so that a resumed run keeps comparing against the best model so far.

    Args:
        save_dir: the folder of the model file.
        save_dict: name -> object to save, typically ``{"model": network}``.
        filename: the model file's name.
        key_metric_name: the metric in ``engine.state.metrics`` (default: the evaluator's key metric).
        mode: ``"max"`` (higher is better) or ``"min"``.
        name: logger name (default: the engine's logger).
    """

    def __init__(
        self,
        save_dir: str | os.PathLike[str],
        save_dict: Mapping[str, Any],
        filename: str = "model.pt",
        key_metric_name: str | None = None,
        mode: str = "max",
        name: str | None = None,
    ) -> None:
        if not save_dict:
            raise ValueError("BestModelSaver: save_dict must name at least one object to save.")
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
        self.path = Path(save_dir) / filename
        self.save_dict = dict(save_dict)
        self.key_metric_name = key_metric_name
        self.mode = mode
        self.best_score = -math.inf if mode == "max" else math.inf
        self.best_epoch = -1
        self.logger = logging.getLogger(name)
        self._name = name

    def state_dict(self) -> dict[str, float | int]:
        """The best score so far and the epoch it was reached."""
        return {"best_score": float(self.best_score), "best_epoch": int(self.best_epoch)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (when resuming)."""
        self.best_score = float(state["best_score"])
        self.best_epoch = int(state["best_epoch"])

    def attach(self, engine: Any) -> None:
        """Compare and save at the end of every evaluation run.

        Args:
            engine: the validation evaluator.
        """
        if self._name is None:
            self.logger = engine.logger
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def __call__(self, engine: Any) -> None:
        """Save when the key metric of this evaluation beats the best so far.

        Raises:
            KeyError: when the key metric is not among the engine's metrics.
        """
        metric_name = self.key_metric_name or getattr(engine.state, "key_metric_name", None)
        if metric_name is None or metric_name not in engine.state.metrics:
            raise KeyError(
                f"BestModelSaver: key metric {metric_name!r} not in the evaluator's metrics "
                f"{sorted(engine.state.metrics)}; set key_metric_name."
            )
        score = float(engine.state.metrics[metric_name])
        better = score > self.best_score if self.mode == "max" else score < self.best_score
        if not better or math.isnan(score):
            return
        self.best_score, self.best_epoch = score, int(engine.state.epoch)
        if _is_writer():
            save_state_atomic(self.path, self.save_dict)
            self.logger.info(f"best {metric_name} {score:.4f} at epoch {self.best_epoch}: saved {self.path}")
