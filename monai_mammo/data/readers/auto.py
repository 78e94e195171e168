"""``MammoAutoReader``: one reader for a folder that mixes DICOM, PNG/JPEG/TIFF and NIfTI mammograms.

MONAI's ``LoadImage`` picks a reader by file suffix only among its *default* readers; a list of readers
given by the user is tried by calling ``read`` in turn, and the package's readers read lazily (their
``read`` always succeeds), so the last one listed would get every file. This reader does the choice itself,
by suffix, and hands the file to :class:`~monai_mammo.data.MammoImageReader`,
:class:`~monai_mammo.data.MammoNiftiReader` or :class:`~monai_mammo.data.MammoDicomReader` (which also takes
files without a suffix), so a bundle needs a single ``LoadImaged(reader=MammoAutoReader())``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from monai.config import PathLike
from monai.data.image_reader import ImageReader
from monai.utils import ensure_tuple

from monai_mammo.data.errors import UnsupportedImageError
from monai_mammo.data.file_types import rename_fix, sniff_file
from monai_mammo.data.image_reader import MammoImageReader
from monai_mammo.data.nifti_reader import MammoNiftiReader
from monai_mammo.data.readers.dicom import MammoDicomReader

__all__ = ["MammoAutoReader", "silence_unused_reader_notices"]

_NVIMGCODEC_LOGGER = "monai.data.nvimgcodec_pydicom_plugin"
_NVIMGCODEC_LOG_MESSAGE = "nvImageCodec is not available"
_NVIMGCODEC_WARNING = "NvImgCodecPydicomReader: nvImageCodec decoder plugin did not register"


class _DropMessage(logging.Filter):
    """Drop the log records whose message starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def silence_unused_reader_notices() -> None:
    """Silence the two notices MONAI gives wherever nvImageCodec is missing, about a reader not used here.

    ``LoadImaged(reader=MammoAutoReader())`` still makes one of each of MONAI's default readers, and
    ``NvImgCodecPydicomReader`` then logs "nvImageCodec is not available; skipping pydicom decoder plugin
    registration." and warns "NvImgCodecPydicomReader: nvImageCodec decoder plugin did not register
    successfully": a GPU decoder for a reader the package never reads with. Exactly those two messages are
    dropped (a log filter on MONAI's plugin logger, a ``warnings`` filter on that message); every other
    warning of MONAI, that logger included, still shows. The bundles call this in their ``initialize`` step;
    calling it again adds nothing.
    """
    logger = logging.getLogger(_NVIMGCODEC_LOGGER)
    if not any(isinstance(f, _DropMessage) and f.prefix == _NVIMGCODEC_LOG_MESSAGE for f in logger.filters):
        logger.addFilter(_DropMessage(_NVIMGCODEC_LOG_MESSAGE))
    warnings.filterwarnings("ignore", message=_NVIMGCODEC_WARNING, category=UserWarning)


@dataclass(frozen=True)
class _Routed:
    """Files recorded by ``read``: the reader chosen for them (``None``: none fits) and its own record."""

    reader: ImageReader | None
    record: Any
    filenames: tuple[str, ...]


class MammoAutoReader(ImageReader):
    """Read any mammogram file with the package reader that fits its suffix.

    Args:
        dicom: the reader for DICOM files (``.dcm``, ``.dicom``, ``.dic``, no suffix); default
            ``MammoDicomReader()``.
        image: the reader for ``.png``, ``.jpg``, ``.tif``, ``.pgm`` ... ; default ``MammoImageReader()``.
        nifti: the reader for ``.nii``/``.nii.gz``; default ``MammoNiftiReader()``.

    Example:
        .. code-block:: python

            LoadImaged(keys=["image", "label"], reader=MammoAutoReader())
    """

    def __init__(
        self,
        dicom: ImageReader | None = None,
        image: ImageReader | None = None,
        nifti: ImageReader | None = None,
    ) -> None:
        # the DICOM reader goes last: it also claims files without a suffix
        self.readers: list[ImageReader] = [
            image if image is not None else MammoImageReader(),
            nifti if nifti is not None else MammoNiftiReader(),
            dicom if dicom is not None else MammoDicomReader(),
        ]

    def reader_for(self, filename: PathLike) -> ImageReader | None:
        """The reader that takes ``filename``, or ``None``."""
        for reader in self.readers:
            if reader.verify_suffix(filename):
                return reader
        return None

    def verify_suffix(self, filename: Sequence[PathLike] | PathLike) -> bool:
        """Whether one of the readers takes every file name given."""
        names = ensure_tuple(filename)
        return bool(names) and all(self.reader_for(f) is not None for f in names)

    def read(self, data: Sequence[PathLike] | PathLike, **kwargs: Any) -> _Routed:
        """Record the file(s) and their reader; nothing is opened (errors are raised by :meth:`get_data`).

        Args:
            data: one file name or a sequence of them (stacked as channels; they must share a reader).
            kwargs: passed to the chosen reader's ``read``.

        Returns:
            The routing record.
        """
        names = tuple(str(f) for f in ensure_tuple(data))
        readers = {id(r): r for r in (self.reader_for(n) for n in names) if r is not None}
        if len(readers) != 1 or any(self.reader_for(n) is None for n in names):
            return _Routed(reader=None, record=None, filenames=names)
        reader = next(iter(readers.values()))
        return _Routed(reader=reader, record=reader.read(data, **kwargs), filenames=names)

    def get_data(self, img: Any) -> tuple[np.ndarray, dict]:
        """Load the file(s) recorded by :meth:`read` with their reader.

        Args:
            img: what :meth:`read` returned.

        Returns:
            ``(array, meta)`` from the chosen reader.

        Raises:
            UnsupportedImageError: when no reader takes a file, or files of one item need different readers.
            MammoReadError: from the chosen reader, for a bad file.
        """
        if not isinstance(img, _Routed):
            raise TypeError(
                f"MammoAutoReader.get_data() expects what read() returned, got {type(img).__name__}."
            )
        if img.reader is None:
            names = ", ".join(img.filenames)
            found = sniff_file(img.filenames[0]) if len(img.filenames) == 1 else None
            raise UnsupportedImageError(
                names or "<no file>",
                "has no reader: the suffix is none of DICOM (.dcm, .dicom, none), PNG/JPEG/TIFF/PGM or "
                "NIfTI, or the files of one item need different readers."
                + (f" Its content is {found.description}." if found is not None else ""),
                rename_fix(names, found)
                if found is not None
                else "convert the file to one of those formats.",
            )
        return img.reader.get_data(img.record)
