"""The registry of data set importers: name -> :class:`DatasetSpec`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monai_mammo.data.datasets.records import ScanResult


class UnknownDatasetError(KeyError):
    """No importer is registered under the name asked for (the message lists the known names)."""

    def __str__(self) -> str:  # KeyError quotes its argument; show the sentence
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class DatasetSpec:
    """A registered importer.

    Attributes:
        name: the canonical name (``monai-mammo prepare NAME``).
        scan: ``scan(root, **options) -> ScanResult``.
        title: the set's usual name.
        aliases: other accepted names (case, ``-`` or ``_`` do not matter).
        has_official_split: whether the set defines its own split (kept by default).
    """

    name: str
    scan: Callable[..., ScanResult]
    title: str
    aliases: tuple[str, ...] = field(default=())
    has_official_split: bool = False

    def options(self) -> list[str]:
        """The keyword options of ``scan`` (after ``root``)."""
        params = list(inspect.signature(self.scan).parameters.values())[1:]
        return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def bind(self, root: Any, options: dict[str, Any]) -> inspect.BoundArguments:
        """Check the options against ``scan``'s signature.

        Args:
            root: the data set folder.
            options: keyword options.

        Returns:
            The bound arguments.

        Raises:
            TypeError: an option ``scan`` does not take (named, with the options it does take).
        """
        unknown = sorted(set(options) - set(self.options()))
        if unknown:
            raise TypeError(
                f"the {self.name} importer has no option(s) {', '.join(unknown)}; "
                f"its options: {', '.join(self.options()) or 'none'}."
            )
        return inspect.signature(self.scan).bind(root, **options)


DATASETS: dict[str, DatasetSpec] = {}
"""Registered importers by canonical name."""


def _normalise(name: str) -> str:
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


def register_dataset(spec: DatasetSpec, overwrite: bool = False) -> DatasetSpec:
    """Register an importer under its name and aliases.

    Args:
        spec: the importer.
        overwrite: replace an importer already registered under that name.

    Returns:
        ``spec``.

    Raises:
        ValueError: the name is taken and ``overwrite`` is false.
    """
    name = _normalise(spec.name)
    if name in DATASETS and not overwrite and DATASETS[name] is not spec:
        raise ValueError(f"a data set importer named {name!r} is already registered.")
    DATASETS[name] = spec
    return spec


def get_dataset(name: str) -> DatasetSpec:
    """The importer registered under ``name`` or one of its aliases.

    Args:
        name: e.g. ``"cbis_ddsm"``, ``"CBIS-DDSM"``, ``"mias"``.

    Returns:
        The :class:`DatasetSpec`.

    Raises:
        UnknownDatasetError: no such importer (the message lists the known ones).
    """
    wanted = _normalise(name)
    for spec in DATASETS.values():
        if wanted == _normalise(spec.name) or wanted in {_normalise(a) for a in spec.aliases}:
            return spec
    raise UnknownDatasetError(f"no data set importer named {name!r}; known: {', '.join(sorted(DATASETS))}.")


def available_datasets() -> list[str]:
    """The canonical names of the registered importers, sorted."""
    return sorted(DATASETS)


__all__ = [
    "DATASETS",
    "DatasetSpec",
    "UnknownDatasetError",
    "available_datasets",
    "get_dataset",
    "register_dataset",
]
