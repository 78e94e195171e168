"""Weight averaging ("model soup"): one network whose parameters are the mean of several fine-tuned copies.

Networks fine-tuned from the same weights stay close enough for their parameters to be averaged into one
network (Wortsman et al., *Model soups*, ICML 2022): it costs one network at inference, unlike an ensemble.
The segmentation bundle's model card measures such a mean of three fine-tuning runs ("Version 0.4.0")::

    monai-mammo average-weights runs/soup.pt runs/a/checkpoint.pt runs/b/checkpoint.pt --key network
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from monai_mammo.io.atomic import atomic_write_bytes

__all__ = ["average_state_dicts", "average_weight_files"]


def average_state_dicts(states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The entry-wise mean of state dicts of one architecture.

    Floating-point entries (weights, biases, BatchNorm running statistics) are averaged in float64 and cast
    back to their dtype; other entries (counters such as BatchNorm's ``num_batches_tracked``) are taken from
    the first state.

    Args:
        states: two or more state dicts with the same keys and shapes.

    Returns:
        A new state dict, loadable by ``load_state_dict`` of the same network.

    Raises:
        ValueError: for fewer than two states, or states whose keys, shapes or dtypes differ (naming the
            state's position and the first key that differs).
    """
    if len(states) < 2:
        raise ValueError(f"averaging needs at least two state dicts, got {len(states)}.")
    first = states[0]
    for position, state in enumerate(states[1:], start=2):
        if set(state) != set(first):
            differing = sorted(set(state) ^ set(first))
            raise ValueError(f"state {position} has other keys than state 1 (e.g. {differing[0]!r}).")
        for key, value in first.items():
            other = state[key]
            if other.shape != value.shape or other.dtype != value.dtype:
                raise ValueError(
                    f"state {position}: {key!r} is {tuple(other.shape)} {other.dtype}, "
                    f"state 1 has {tuple(value.shape)} {value.dtype}."
                )
    averaged: dict[str, torch.Tensor] = {}
    for key, value in first.items():
        if value.is_floating_point():
            total = sum(state[key].detach().to(torch.float64) for state in states)
            averaged[key] = (total / len(states)).to(value.dtype)
        else:
            averaged[key] = value.detach().clone()
    return averaged


def _load_state(path: Path, key: str | None) -> Mapping[str, torch.Tensor]:
    """The state dict in ``path`` (``torch.load(weights_only=True)``), or its entry ``key``."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as err:
        raise ValueError(f"{path}: not a readable PyTorch weights file ({err}).") from err
    if key is not None:
        if not isinstance(loaded, Mapping) or key not in loaded:
            raise ValueError(f"{path}: no entry {key!r} (a checkpoint saved with that name is expected).")
        loaded = loaded[key]
    if not isinstance(loaded, Mapping) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        hint = "" if key is not None else " (a training checkpoint needs key='network')"
        raise ValueError(f"{path}: not a state dict of tensors{hint}.")
    return loaded


def average_weight_files(
    paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], key: str | None = None
) -> Path:
    """Write the mean of the weights in ``paths`` to ``out`` as a bare state dict (``models/model.pt`` form).

    Args:
        paths: two or more weight files of one architecture: bare state dicts, or training checkpoints
            holding the state dict under ``key`` (``checkpoint.pt`` of the bundles' ``train.json``:
            ``"network"``).
        out: the file to write, atomically (a temporary file, then ``os.replace``); its folder is created.
        key: the entry of each file that holds the state dict (``None``: the file is the state dict).

    Returns:
        The path written.

    Raises:
        ValueError: for fewer than two files, a file that is not a weights file or lacks ``key``, or
            weights that do not match (see :func:`average_state_dicts`).
    """
    files = [Path(p) for p in paths]
    if len(files) < 2:
        raise ValueError(f"averaging needs at least two weight files, got {len(files)}.")
    states = [_load_state(path, key) for path in files]
    try:
        averaged = average_state_dicts(states)
    except ValueError as err:
        raise ValueError(f"{err} (files: {', '.join(map(str, files))})") from err
    buffer = io.BytesIO()
    torch.save(averaged, buffer)
    return atomic_write_bytes(out, buffer.getvalue())
