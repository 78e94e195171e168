"""Old names kept importable after a move: each use of the old name warns where it went.

Not MONAI's :func:`monai.utils.deprecated`: it is typed for ``FutureWarning`` only, and this package's rule
is a ``DeprecationWarning`` (shown to the developers who import the old name, not to the users of a bundle).
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

__all__ = ["moved_module", "moved_names", "moved_to"]

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


def moved_names(
    old: str, moved: Mapping[str, str | tuple[str, str]], present: Mapping[str, Any] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a module some of whose names moved, each to its own place.

    Each moved name taken from the old module comes from its new place, with a ``DeprecationWarning``
    ``"<old>.<name> is deprecated: use <module>.<new name> instead."``. Example::

        from monai_mammo.utils.deprecation import moved_names

        __getattr__, __dir__ = moved_names(
            __name__, {"select_breast_windows": "monai_mammo.inferers.breast_windows"}, globals()
        )

    Args:
        old: the old module's dotted name (its ``__name__``).
        moved: old name -> its new module (the name unchanged), or -> ``(new module, new name)``.
        present: the old module's ``globals()``, listed by ``__dir__`` beside the moved names.

    Returns:
        ``(__getattr__, __dir__)`` for the old module.
    """

    def __getattr__(name: str) -> Any:
        target = moved.get(name)
        if target is None:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        module, new_name = (target, name) if isinstance(target, str) else target
        warnings.warn(
            f"{old}.{name} is deprecated: use {module}.{new_name} instead.", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(module), new_name)

    def __dir__() -> list[str]:
        return sorted({*(present or {}), *moved})

    return __getattr__, __dir__
