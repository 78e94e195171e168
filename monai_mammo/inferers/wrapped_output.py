"""The check the test-time wrappers (``FlipAveraging``, ``ScaleAveraging``) make of their network output."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["same_size_output"]


def same_size_output(output: Any, inputs: torch.Tensor, wrapper: str) -> torch.Tensor:
    """``output`` itself when it is a tensor of ``inputs``' spatial size (it can then be flipped or resized
    back and averaged).

    Raises:
        TypeError: ``output`` is not a tensor (a tuple or dict of outputs cannot be averaged here).
        ValueError: its spatial size differs from the input's.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"{wrapper} needs a network that returns a tensor, got {type(output).__name__}.")
    if output.shape[2:] != inputs.shape[2:]:
        raise ValueError(
            f"{wrapper} needs an output of the input's spatial size {tuple(inputs.shape[2:])}, "
            f"got {tuple(output.shape[2:])}."
        )
    return output
