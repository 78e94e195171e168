"""Old names kept importable after a move: each call through the old name warns where the function went.

Not MONAI's :func:`monai.utils.deprecated`: it is typed for ``FutureWarning`` only, and this package's rule
is a ``DeprecationWarning`` (shown to the developers who import the old name, not to the users of a bundle).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["moved_to"]

P = ParamSpec("P")
R = TypeVar("R")


def moved_to(new_name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a function kept under its old name so that each call warns (``DeprecationWarning``) where it went.

    Example: ``as_flag = moved_to("monai_mammo.bundle.command_line.as_flag")(as_flag)`` in its old module.

    Args:
        new_name: the dotted name to use instead.

    Returns:
        The decorator.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def warned(*args: P.args, **kwargs: P.kwargs) -> R:
            warnings.warn(
                f"this name is deprecated: use {new_name} instead.",
                DeprecationWarning,
                stacklevel=2,
            )
            return function(*args, **kwargs)

        return warned

    return decorate
