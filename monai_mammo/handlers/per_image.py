"""``PerImageHandler``: the base of the Ignite handlers that look at every image of an evaluation run."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

from monai.data import decollate_batch
from monai.utils import IgniteInfo, min_version, optional_import

Events, _ = optional_import("ignite.engine", IgniteInfo.OPT_IMPORT_VERSION, min_version, "Events")

__all__ = ["PerImageHandler", "per_image_batch"]


def per_image_batch(batch: Any) -> list[Any]:
    """The engine's ``state.batch`` as one entry per image (a decollated list; ``[]`` for anything else)."""
    if isinstance(batch, list):
        return batch
    if isinstance(batch, dict):
        return list(decollate_batch(batch))
    return []


class PerImageHandler(ABC):
    """Base of a handler that handles each image of every iteration, then finishes when the run completes.

    :meth:`attach` registers three events on the engine: ``STARTED`` clears what a previous run collected
    (``_reset``), ``ITERATION_COMPLETED`` calls the handler itself on the iteration's images and ``COMPLETED``
    finishes the run (``_completed``: write the summary or the report). A subclass implements those three and
    reads the images of an iteration with ``_items`` (or ``_items_with_data``, which adds each image's data
    item from the batch). Subclasses: :class:`~monai_mammo.handlers.SegmentationWriter`,
    :class:`~monai_mammo.handlers.SegmentationReport`, :class:`~monai_mammo.handlers.ClassificationWriter`,
    :class:`~monai_mammo.handlers.ClassificationReport`.

    Args:
        output_transform: maps ``engine.state.output`` to a list of per-image dictionaries (default: the
            decollated output itself).
        name: logger name (default: the engine's logger, taken when the handler is attached).
    """

    def __init__(self, output_transform: Callable[[Any], Any] | None = None, name: str | None = None) -> None:
        self.output_transform = output_transform
        self.logger = logging.getLogger(name)
        self._name = name

    def attach(self, engine: Any) -> None:
        """Register with ``engine``: reset when a run starts, handle each iteration, finish when it completes.

        Args:
            engine: an Ignite engine (a MONAI evaluator).
        """
        if self._name is None:
            self.logger = engine.logger
        engine.add_event_handler(Events.STARTED, self._reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)
        engine.add_event_handler(Events.COMPLETED, self._completed)

    @abstractmethod
    def _reset(self, engine: Any = None) -> None:
        """Forget what a previous run collected.

        Args:
            engine: unused (Ignite passes the engine).
        """

    @abstractmethod
    def __call__(self, engine: Any) -> None:
        """Handle the images of the current iteration.

        Args:
            engine: the engine, whose ``state.output`` holds the images' outputs.
        """

    @abstractmethod
    def _completed(self, engine: Any = None) -> None:
        """Finish the run: write what was collected.

        Args:
            engine: the engine (Ignite passes it).
        """

    def _items(self, output: Any) -> list[dict[str, Any]]:
        """The per-image dictionaries of an engine output (``output_transform`` first, then decollated).

        Args:
            output: ``engine.state.output``.

        Returns:
            One dictionary per image.
        """
        items = self.output_transform(output) if self.output_transform is not None else output
        if isinstance(items, dict):
            items = decollate_batch(items)
        return list(items)

    def _items_with_data(self, engine: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Each image of the iteration as its output item and its data: the batch's entry updated by the item.

        The data lets datalist fields (``patient_id``, ``laterality``, a label) that the postprocessing left
        out of the output still reach the handler; a key of the output item wins over the batch's.

        Args:
            engine: the engine, whose ``state.output`` and ``state.batch`` hold the iteration's images.

        Yields:
            ``(item, data)`` per image, in the order of the output.
        """
        batch_items = per_image_batch(engine.state.batch)
        for i, item in enumerate(self._items(engine.state.output)):
            entry = batch_items[i] if i < len(batch_items) and isinstance(batch_items[i], dict) else {}
            yield item, {**entry, **item}
