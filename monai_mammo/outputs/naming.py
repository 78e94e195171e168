"""``UniqueOutputNames``: output folder names that stay unique within one run.

:func:`monai_mammo.outputs.output_name` drops the image suffix, so ``scan.dcm`` and ``scan.png`` side by
side would share the folder ``scan``. The writers of this package
(:class:`~monai_mammo.handlers.SegmentationWriter`, :class:`~monai_mammo.handlers.ClassificationWriter`)
name their folders through this class: the later input keeps its suffix (``scan_png``), and both bundles
give one input the same folder name in runs over the same folder, which
:class:`~monai_mammo.outputs.ExamReport` relies on to pair their outputs.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from monai_mammo.outputs.segmentation import output_name

__all__ = ["UniqueOutputNames"]


class UniqueOutputNames:
    """Give each input of a run its output folder name, unique in that run.

    Args:
        data_root_dir: input folder the names are relative to (see :func:`~monai_mammo.outputs.output_name`);
            ``None``, or a file (a run over one image), uses the file name alone.
        logger: where the renaming warning goes (default: this module's logger).

    Example:
        .. code-block:: python

            names = UniqueOutputNames("/data")
            names("/data/scan.dcm"), names("/data/scan.png")  # ("scan", "scan_png")
    """

    def __init__(
        self, data_root_dir: str | os.PathLike[str] | None = None, logger: logging.Logger | None = None
    ) -> None:
        self.data_root_dir = (
            None if data_root_dir is not None and Path(data_root_dir).is_file() else data_root_dir
        )
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self.sources: dict[str, str] = {}  # output name -> the input written under it in this run

    def reset(self) -> None:
        """Forget the names given so far (at the start of a run)."""
        self.sources = {}

    def __call__(self, source: str) -> str:
        """The output folder name of ``source``, unique in this run.

        When another input already took the name, the suffix is kept (``scan_png``), then a counter added.
        The same ``source`` always gets the same name.

        Args:
            source: the input file.

        Returns:
            The output folder name.
        """
        name = output_name(source, self.data_root_dir)
        candidate, count = name, 1
        while self.sources.setdefault(candidate, source) != source:
            suffix = Path(source).name[len(Path(name).name) :].replace(".", "_")
            candidate = f"{name}{suffix}" if count == 1 else f"{name}{suffix}_{count}"
            count += 1
        if candidate != name:
            self.logger.warning(
                f"{source}: its output name {name!r} is taken by {self.sources[name]}; "
                f"writing to {candidate!r}."
            )
        return candidate
