"""Plumbing shared by the mammogram readers: lazy ``read``, channel stacking, size limit, VOI mode parsing.

MONAI's :class:`~monai.transforms.LoadImage` calls ``reader.read(...)`` inside a ``try`` and, when it fails,
silently tries its other default readers (PIL would happily read a PNG handed to a DICOM reader, with
its rows and columns swapped) before raising a plain ``RuntimeError``. ``get_data`` is called outside that
``try``. The readers of this package therefore make ``read`` lazy, like nibabel's proxy images: it only
records the file names, and every check and the decoding happen in ``get_data``, so the typed
:mod:`~monai_mammo.data.errors` reach the caller unchanged.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from monai.config import PathLike
from monai.data.image_reader import ImageReader
from monai.utils import MetaKeys, ensure_tuple

from monai_mammo.data.errors import ImageTooLargeError, MammoReadError, UnsupportedImageError
from monai_mammo.utils.enums import VoiMode

DEFAULT_MAX_PIXELS = 80_000_000
"""Default ``max_pixels`` of the readers: 80 million pixels (a full-field mammogram has 10-30 million).

An accepted image takes at most ``max_pixels x 4`` bytes as float32, plus its stored values (``x 1``, ``2``
or ``4`` bytes by Bits Allocated) while it is decoded: about 640 MB at the default."""

FILE_SIZE_MARGIN = 64 * 1024 * 1024
"""Bytes a DICOM file may hold beyond ``4 x max_pixels`` (its header, overlays, private data) before it is
refused unread (see :meth:`MammoReaderBase.check_file_size`)."""


@dataclass(frozen=True)
class PendingFile:
    """A file named to a reader's ``read``, opened and decoded only by ``get_data``.

    Args:
        filename: the path, as a string.
    """

    filename: str


def parse_voi_mode(voi: VoiMode | str) -> VoiMode:
    """Turn ``voi`` (a :class:`VoiMode` or its value/name in any case) into the enum.

    Args:
        voi: ``VoiMode.WINDOW``, ``"window"``, ``"FULL_RANGE"``, ...

    Returns:
        The enum member.

    Raises:
        ValueError: naming the accepted values when ``voi`` is none of them.
    """
    if isinstance(voi, VoiMode):
        return voi
    text = str(voi).strip().lower()
    for member in VoiMode:
        if text in (member.value, member.name.lower()):
            return member
    raise ValueError(f"voi must be one of {[m.value for m in VoiMode]}, got {voi!r}.")


def scale_full_range(x: np.ndarray, invert: bool = False) -> np.ndarray:
    """Min-max scale a float array to [0, 1] in place (all zeros when it is constant).

    Args:
        x: float32 array, modified in place.
        invert: return ``1 - scaled`` (MONOCHROME1 / min-is-white images).

    Returns:
        ``x``.
    """
    lo, hi = float(x.min()), float(x.max())
    if hi > lo:
        x -= lo
        x *= np.float32(1.0 / (hi - lo))
    else:
        x.fill(0.0)
    if invert:
        np.subtract(np.float32(1.0), x, out=x)
    return x


class MammoReaderBase(ImageReader):
    """Base class of the mammogram readers: lazy ``read`` and a ``get_data`` that loads and stacks files.

    Subclasses set ``suffixes`` and implement :meth:`load`, returning one ``(1, H, W)`` float32 image and its
    metadata. Several files given at once are stacked on the channel axis (same ``H, W`` required), the
    metadata being the first file's, as MONAI's readers do.

    Args:
        max_pixels: refuse (``ImageTooLargeError``) files declaring more pixels than this, before decoding.
    """

    suffixes: tuple[str, ...] = ()

    def __init__(self, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        if int(max_pixels) <= 0:
            raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}.")
        self.max_pixels = int(max_pixels)

    def _suffix_ok(self, filename: PathLike) -> bool:
        name = Path(str(filename)).name.lower()
        return any(name.endswith(s) for s in self.suffixes)

    def verify_suffix(self, filename: Sequence[PathLike] | PathLike) -> bool:
        """Whether every file name ends with one of this reader's ``suffixes``.

        Args:
            filename: one file name or a sequence of them.

        Returns:
            ``True`` when all of them do.
        """
        names = ensure_tuple(filename)
        return bool(names) and all(self._suffix_ok(f) for f in names)

    def read(self, data: Sequence[PathLike] | PathLike, **kwargs: Any) -> PendingFile | list[PendingFile]:
        """Record the file(s) to load; nothing is opened until :meth:`get_data`.

        Args:
            data: one file name or a sequence of them.
            kwargs: not accepted (set options in the constructor).

        Returns:
            One :class:`PendingFile`, or a list of them when several names were given.

        Raises:
            TypeError: when options are passed here.
        """
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}.read() takes no options (got {sorted(kwargs)}); "
                "pass them to the constructor."
            )
        files = [PendingFile(str(Path(str(f)).expanduser())) for f in ensure_tuple(data)]
        return files[0] if len(files) == 1 else files

    def get_data(self, img: Any) -> tuple[np.ndarray, dict]:
        """Open, check and decode the file(s) recorded by :meth:`read`.

        Args:
            img: what :meth:`read` returned (a :class:`PendingFile` or a list of them); plain paths work too.

        Returns:
            ``(array, meta)`` with ``array`` float32 of shape ``(C, H, W)`` (C = number of files, usually 1)
            and ``meta`` the first file's metadata.

        Raises:
            MammoReadError: (or a subclass) naming the file and the problem; also when stacked files
                differ in size.
        """
        items = img if isinstance(img, (list, tuple)) else [img]
        arrays: list[np.ndarray] = []
        meta: dict = {}
        for item in items:
            filename = item.filename if isinstance(item, PendingFile) else str(item)
            array, item_meta = self.load(filename)
            if arrays and array.shape[1:] != arrays[0].shape[1:]:
                raise MammoReadError(
                    filename,
                    f"has size {array.shape[1:]} but {meta.get('filename_or_obj')} has {arrays[0].shape[1:]};"
                    " files stacked as channels must have the same size.",
                )
            arrays.append(array)
            if not meta:
                meta = item_meta
        if not arrays:
            raise ValueError(f"{type(self).__name__}.get_data() got no file.")
        array = arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=0)
        meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = 0
        return array, meta

    def check_size(self, filename: str, rows: int, columns: int, frames: int = 1, samples: int = 1) -> None:
        """Refuse absurd declared sizes before any pixel buffer is allocated (the decompression-bomb guard).

        A header can claim any size (a 60000 x 60000 image in a file of a few kilobytes); the readers call
        this with the declared dimensions before decoding, so such a file costs nothing.

        Args:
            filename: the file, for the message.
            rows: declared rows (H).
            columns: declared columns (W).
            frames: declared number of frames.
            samples: declared samples (colour channels) per pixel.

        Raises:
            UnsupportedImageError: when a dimension is zero or negative.
            ImageTooLargeError: when ``rows * columns * frames * samples`` exceeds ``max_pixels``.
        """
        if rows <= 0 or columns <= 0 or frames <= 0 or samples <= 0:
            raise UnsupportedImageError(
                filename,
                f"declares an empty image ({rows} rows x {columns} columns x {frames} frames x {samples} "
                "samples).",
                "check the file is a complete image.",
            )
        total = int(rows) * int(columns) * int(frames) * int(samples)
        if total > self.max_pixels:
            channels = f" x {samples} samples" if samples != 1 else ""
            raise ImageTooLargeError(
                filename,
                f"declares {rows} x {columns} pixels x {frames} frame(s){channels} = {total:,} pixels, over "
                f"the limit of {self.max_pixels:,}.",
                f"if the size is genuine, raise the limit: {type(self).__name__}(max_pixels={total}).",
            )

    def max_file_bytes(self) -> int:
        """The largest file :meth:`check_file_size` accepts: ``4 x max_pixels`` + :data:`FILE_SIZE_MARGIN`."""
        return 4 * self.max_pixels + FILE_SIZE_MARGIN

    def check_file_size(self, filename: str, nbytes: int) -> None:
        """Refuse a file too large to hold an image within ``max_pixels``, before reading it.

        An image within the limit, stored uncompressed at up to 32 bits per pixel, needs at most
        ``4 x max_pixels`` bytes of pixel data; anything much larger is not a mammogram this reader would
        accept, and reading it would only fill the memory.

        Args:
            filename: the file, for the message.
            nbytes: its size in bytes.

        Raises:
            ImageTooLargeError: when ``nbytes`` exceeds :meth:`max_file_bytes`.
        """
        limit = self.max_file_bytes()
        if nbytes > limit:
            needed = -(-(nbytes - FILE_SIZE_MARGIN) // 4)
            raise ImageTooLargeError(
                filename,
                f"is {nbytes:,} bytes, over the {limit:,} bytes an image of at most {self.max_pixels:,} "
                "pixels can take.",
                f"if it is a genuine image, raise the limit: {type(self).__name__}(max_pixels={needed}).",
            )

    @abstractmethod
    def load(self, filename: str) -> tuple[np.ndarray, dict]:
        """Load one file as a ``(1, H, W)`` float32 array and its metadata (subclasses implement this).

        Args:
            filename: the file path.

        Returns:
            ``(array, meta)``.
        """
        raise NotImplementedError


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FILE_SIZE_MARGIN",
    "MammoReaderBase",
    "PendingFile",
    "parse_voi_mode",
    "scale_full_range",
]
