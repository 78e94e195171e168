"""Checkpoints written atomically under fixed names: the best model, and the state to resume training from.

MONAI's :class:`~monai.handlers.CheckpointSaver` writes with ``atomic=False`` and, with ``n_saved=1``,
removes the previous file before writing the next, so an interruption during a save can leave no usable
checkpoint. These two handlers always write a temporary file and ``os.replace`` it, so ``checkpoint.pt``
and ``model.pt`` are at every moment either the previous complete file or the new complete one. They are
loaded back with MONAI's :class:`~monai.handlers.CheckpointLoader` (``torch.load(weights_only=True)``).

- :class:`ResumeCheckpoint` (on the trainer) writes the whole training state every ``save_interval``
  epochs and, with ``resume=True``, loads it back when the run starts: no completed epoch is lost or repeated.
  The state includes the random number generators (:class:`RandomStates`: torch, numpy, Python and those of
  the training data's random transforms), so a resumed run draws the same samples and augmentations as an
  uninterrupted one and, on the same machine, ends with the same weights.
- :class:`BestModelSaver` (on the validation evaluator) writes the network whenever the key metric improves;
  its best score is part of the resume state, so a resumed run does not overwrite a better model.

In distributed runs only rank 0 writes.
"""

from __future__ import annotations

import io
import logging
import math
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from monai.handlers import CheckpointLoader
from monai.transforms import Randomizable, Transform
from monai.utils import IgniteInfo, min_version, optional_import

from monai_mammo.bundle.command_line import as_flag as _as_flag
from monai_mammo.io import atomic_write_bytes, remove_stale_temporaries
from monai_mammo.utils.deprecation import moved_to

Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")

__all__ = ["BestModelSaver", "RandomStates", "ResumeCheckpoint", "save_state_atomic", "state_of"]


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


def _numpy_state(state: dict[str, Any] | tuple[str, np.ndarray, int, int, float]) -> list[Any]:
    """A ``numpy.random.RandomState.get_state()`` tuple as tensors and numbers (``weights_only``-loadable).

    Raises:
        ValueError: when ``state`` is the dict of a generator other than MT19937 (not a legacy state tuple).
    """
    if not isinstance(state, tuple):
        raise ValueError(
            f"expected the legacy MT19937 state tuple of RandomState.get_state(), got {type(state).__name__}."
        )
    name, keys, pos, has_gauss, cached = state
    keys_t = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    return [str(name), keys_t, int(pos), int(has_gauss), float(cached)]


def _numpy_tuple(state: list[Any]) -> tuple:
    name, keys, pos, has_gauss, cached = state
    keys_np = np.asarray(keys, dtype=np.int64).astype(np.uint32)
    return (str(name), keys_np, int(pos), int(has_gauss), float(cached))


def random_transforms(root: Any) -> list[Randomizable]:
    """The random transforms reachable from ``root`` (a transform, ``Compose`` or list), depth first.

    Array transforms held by dictionary transforms (e.g. ``RandAffined.rand_affine``) are included: each has
    its own generator.

    Args:
        root: a transform, a ``Compose`` or a sequence of them.

    Returns:
        The :class:`~monai.transforms.Randomizable` instances, each once.
    """
    found: list[Randomizable] = []
    seen: set[int] = set()

    def visit(obj: Any) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item)
            return
        if not isinstance(obj, (Transform, Randomizable)):
            return
        if isinstance(obj, Randomizable):
            found.append(obj)
        for value in vars(obj).values():
            visit(value)

    visit(root)
    return found


class RandomStates:
    """The random number generators a training run draws from, as a checkpointable ``state_dict``.

    The state holds torch's CPU generator (and the CUDA ones when CUDA is initialised), numpy's and Python's
    global generators, and the generator of every random transform of the trainer's training data (the
    transform of ``engine.data_loader.dataset``, found by :func:`random_transforms`). All values are tensors,
    numbers, strings and tuples, so the checkpoint loads with ``torch.load(..., weights_only=True)``.

    Args:
        engine: the trainer (its ``data_loader.dataset.transform`` is searched for random transforms).
    """

    def __init__(self, engine: Any = None) -> None:
        self.engine = engine

    def transforms(self) -> list[Randomizable]:
        """The random transforms of the trainer's training data (``[]`` when there is none)."""
        loader = getattr(self.engine, "data_loader", None)
        dataset = getattr(loader, "dataset", None)
        return random_transforms(getattr(dataset, "transform", None))

    def state_dict(self) -> dict[str, Any]:
        """The states of the generators."""
        state: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            # the global generator, as used; legacy=True (numpy's default) spelled out for the type checker:
            # numpy's stub types a call without it as returning the dict of legacy=False
            "numpy": _numpy_state(np.random.get_state(legacy=True)),  # noqa: NPY002
            "python": random.getstate(),
            "transforms": [_numpy_state(t.R.get_state(legacy=True)) for t in self.transforms()],
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`.

        Raises:
            ValueError: when the number of random transforms differs from the saved one (another pipeline).
        """
        transforms = self.transforms()
        saved = list(state.get("transforms", []))
        if len(saved) != len(transforms):
            raise ValueError(
                f"the checkpoint holds the generators of {len(saved)} random transform(s) but the training "
                f"data has {len(transforms)}: it was written by another preprocessing pipeline."
            )
        torch.set_rng_state(torch.as_tensor(state["torch"], dtype=torch.uint8, device="cpu"))
        np.random.set_state(_numpy_tuple(state["numpy"]))  # noqa: NPY002 - the global generator, as used
        version, internal, gauss = state["python"]
        random.setstate((int(version), tuple(int(v) for v in internal), gauss))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([torch.as_tensor(s, device="cpu") for s in state["cuda"]])
        for transform, item in zip(transforms, saved):  # in place: a generator shared when saved stays shared
            transform.R.set_state(_numpy_tuple(item))


class ResumeCheckpoint:
    """Save the training state every ``save_interval`` epochs (atomically) and, on request, resume from it.

    Attached to the trainer, it saves ``save_dict`` plus the trainer itself (under ``engine_key``) into
    ``<save_dir>/<filename>`` at the end of every ``save_interval``-th epoch and of the last one. With
    ``resume=True`` it loads that file when the run starts (with MONAI's
    :class:`~monai.handlers.CheckpointLoader`, ``weights_only=True``), so the trainer continues after the last
    completed epoch: an interrupted run loses at most the epoch in progress and repeats none that completed.

    Put the network, optimizer, learning-rate scheduler and the :class:`BestModelSaver` in ``save_dict``; the
    trainer need not (and, in a bundle config, cannot without a circular reference) be listed. With
    ``save_random_states`` the generators (:class:`RandomStates`) are saved too, under
    ``"random_states"``, and restored after the rest when resuming, so the resumed epochs draw what an
    uninterrupted run would have drawn; a checkpoint without them (older files) resumes with a warning that
    the draws will differ.

    Args:
        save_dir: the checkpoint folder.
        save_dict: name -> object with ``state_dict``/``load_state_dict``.
        filename: the checkpoint's file name.
        save_interval: save every this many epochs (the last epoch is always saved).
        resume: load the checkpoint when the run starts.
        engine_key: the name the trainer is saved under.
        map_location: ``torch.load`` map location when resuming.
        name: logger name (default: the engine's logger).
        save_random_states: save and restore the random number generators (see above).

    Raises:
        FileNotFoundError: at ``attach`` when ``resume`` is set and the checkpoint does not exist.
    """

    random_states_key = "random_states"

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
        save_random_states: bool = True,
    ) -> None:
        if not save_dict:
            raise ValueError("ResumeCheckpoint: save_dict must name at least one object to save.")
        for reserved in (engine_key, self.random_states_key):
            if reserved in save_dict:
                raise ValueError(f"ResumeCheckpoint: {reserved!r} is reserved for the state it saves itself.")
        if int(save_interval) < 1:
            raise ValueError(f"save_interval must be >= 1, got {save_interval}.")
        self.path = Path(save_dir) / filename
        self.save_dict = dict(save_dict)
        self.save_interval = int(save_interval)
        self.resume = _as_flag(resume, "resume")
        self.engine_key = engine_key
        self.map_location = map_location
        self.save_random_states = _as_flag(save_random_states, "save_random_states")
        self.logger = logging.getLogger(name)
        self._name = name
        self._engine: Any = None
        self._random_states: RandomStates | None = None

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
            for stale in remove_stale_temporaries(self.path.parent):  # left by a killed run
                self.logger.info(f"removed {stale}, a file the interrupted run had not finished writing")
            loader = CheckpointLoader(
                load_path=str(self.path),
                load_dict={self.engine_key: engine, **self.save_dict},
                map_location=self.map_location,
            )
            loader.attach(engine)
            if self.save_random_states:
                engine.add_event_handler(Events.STARTED, self._restore_random_states)
        if self.save_random_states:
            self._random_states = RandomStates(engine)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def _restore_random_states(self, engine: Any) -> None:
        """After the checkpoint was loaded (an earlier STARTED handler): restore the generators if saved."""
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        saved = state.get(self.random_states_key) if isinstance(state, Mapping) else None
        if saved is None:
            self.logger.warning(
                f"{self.path} holds no random number generator states (an older checkpoint): the resumed run "
                "draws other samples and augmentations than an uninterrupted run would have."
            )
            return
        RandomStates(engine).load_state_dict(saved)

    def __call__(self, engine: Any) -> None:
        """Save now if this epoch is due."""
        epoch = engine.state.epoch
        if epoch % self.save_interval and epoch != engine.state.max_epochs:
            return
        if _is_writer():
            extra = {self.random_states_key: self._random_states} if self._random_states is not None else {}
            save_state_atomic(self.path, {self.engine_key: engine, **self.save_dict, **extra})
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


# the old place of as_flag (now with the other command-line checks): still importable, warns when called
as_flag = moved_to("monai_mammo.bundle.command_line.as_flag")(_as_flag)
