"""Old names kept importable after a move: each use of the old name warns where it went.

Not MONAI's :func:`monai.utils.deprecated`: it is typed for ``FutureWarning`` only, and this package's rule
is a ``DeprecationWarning`` (shown to the developers who import the old name, not to the users of a bundle).
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["moved_module", "moved_to"]

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


def moved_module(old: str, new: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a module whose content moved to another module.

    Each name taken from the old module comes from the new one, with a ``DeprecationWarning`` that names
    the new place. Example, the whole of an old module::

        from monai_mammo.utils.deprecation import moved_module

        __getattr__, __dir__ = moved_module(__name__, "monai_mammo.outputs.segmentation")

    Args:
        old: the old module's dotted name (its ``__name__``).
        new: the dotted name of the module that holds the content now.

    Returns:
        ``(__getattr__, __dir__)`` for the old module.
    """

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        target = importlib.import_module(new)
        if not hasattr(target, name):
            raise AttributeError(f"module {old!r} has no attribute {name!r} (its content moved to {new})")
        warnings.warn(
            f"{old}.{name} is deprecated: use {new}.{name} instead.", DeprecationWarning, stacklevel=2
        )
        return getattr(target, name)

    def __dir__() -> list[str]:
        return sorted(n for n in dir(importlib.import_module(new)) if not n.startswith("__"))

    return __getattr__, __dir__
