"""The checks around a bundle's inference run: its inputs and weights before processing, its outcome after.

A bundle calls them from its config, so that what goes wrong is said in one sentence that names the fix:

- :func:`check_inputs` (in ``initialize``): ``--dataset_dir`` is a folder holding images, or one image;
- :func:`check_checkpoint` (in ``initialize``): ``--checkpoint`` holds model weights, not the training
  state written to resume training (``checkpoint.pt``: network, optimizer, trainer, ...), whose load would
  end in a hundred lines of missing keys;
- :func:`check_outcome` (last in ``run``): when every input failed the run fails; when some did, the
  last line of the log says how many and where ``failures.json`` lists them.

On the ``python -m monai.bundle run`` command line their errors end the run with the message alone and
exit status 1; from Python they raise the typed errors (see
:func:`~monai_mammo.bundle.command_line.exits_on_command_line`).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from monai_mammo.bundle.command_line import exits_on_command_line
from monai_mammo.bundle.paths import IMAGE_SUFFIXES, list_images
from monai_mammo.data.failures import FailureSkippingDataLoader

__all__ = ["AllInputsFailedError", "TrainingStateError", "check_checkpoint", "check_inputs", "check_outcome"]

logger = logging.getLogger(__name__)


class TrainingStateError(ValueError):
    """The checkpoint given for inference is a training state (network, optimizer, ...), not model weights."""


class AllInputsFailedError(RuntimeError):
    """Not one input of a run could be read: the run produced nothing."""


@exits_on_command_line(FileNotFoundError)
def check_inputs(dataset_dir: str | os.PathLike[str]) -> None:
    """Check that ``dataset_dir`` is one image file, or a folder with at least one image in it.

    Args:
        dataset_dir: the bundle's ``dataset_dir``.

    Raises:
        FileNotFoundError: when it does not exist, or is a folder without image files
            (:data:`~monai_mammo.bundle.IMAGE_SUFFIXES`, sub-folders included, hidden files skipped).
    """
    if not list_images(dataset_dir):
        raise FileNotFoundError(
            f"no image files in {str(dataset_dir)!r} (nor in its sub-folders; looked for "
            f"{', '.join(IMAGE_SUFFIXES)}); set --dataset_dir to the folder of your mammograms."
        )


def _load(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # not the zip format mmap needs (an old torch.save)
        return torch.load(path, map_location="cpu", weights_only=True)


def _is_training_state(state: Any) -> bool:
    """A dict of state dicts (network, optimizer, ...) without a ``"model"`` entry: not a model's weights."""
    return (
        isinstance(state, Mapping)
        and "model" not in state
        and any(isinstance(v, Mapping) for v in state.values())
        and not any(isinstance(v, torch.Tensor) for v in state.values())
    )


@exits_on_command_line(FileNotFoundError, ValueError)
def check_checkpoint(checkpoint: str | os.PathLike[str]) -> None:
    """Check that ``checkpoint`` holds the weights ``CheckpointLoader(load_dict={"model": net})`` loads.

    Model weights are a ``state_dict`` (``models/model.pt``, as training's best-model saver writes it) or
    ``{"model": state_dict}``. The training state that training writes to resume from (``checkpoint.pt``:
    ``network``, ``optimizer``, ``trainer``, ...) is refused, naming the weights to use instead.

    Args:
        checkpoint: the bundle's ``checkpoint``.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: when it is not a PyTorch checkpoint.
        TrainingStateError: when it is a training state.
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint {str(path)!r} does not exist; set --checkpoint to the model weights (the bundle's "
            "own are models/model.pt)."
        )
    try:
        state = _load(path)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as e:
        raise ValueError(
            f"checkpoint {str(path)!r} could not be loaded: it is not a PyTorch checkpoint of weights "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})."
        ) from e
    if not _is_training_state(state):
        return
    beside = path.with_name("model.pt")
    entries = ", ".join(map(str, state))
    what = f"checkpoint {str(path)!r} is a training state ({entries}), written to resume training"
    if beside.is_file():
        fix = f"pass --checkpoint {beside}, the model weights training writes beside it."
    elif "network" in state:
        fix = (
            "pass --checkpoint with model weights (a model.pt, as training writes them), or save this "
            "state's network entry as one: python -c \"import torch; "
            f"torch.save(torch.load('{path}')['network'], '{beside}')\""
        )
    else:
        fix = "pass --checkpoint with model weights (a model.pt, as training writes them)."
    raise TrainingStateError(f"{what}, not model weights: {fix}")


@exits_on_command_line(AllInputsFailedError)
def check_outcome(loader: FailureSkippingDataLoader) -> None:
    """After a run: fail when no input could be read; when some could not, say so as the log's last line.

    Args:
        loader: the run's data loader, after its pass.

    Raises:
        AllInputsFailedError: when every input failed (naming ``failures.json`` and the first error).
    """
    n_items, failures = len(loader.dataset), loader.failures
    where = str(loader.report_path) if loader.report_path is not None else "the warnings above"
    if n_items and len(failures) == n_items:
        first = failures[0]
        raise AllInputsFailedError(
            f"none of the {n_items} input image(s) could be read; the list is in {where}. "
            f"First: {first.message}"
        )
    if failures:
        logger.warning(
            f"{len(failures)} of {n_items} input image(s) could not be read and were skipped; the list is in "
            f"{where}."
        )
