"""Typed errors for unreadable or unsuitable mammogram files.

Every error names the file, the cause and, where there is one, the fix (``str(err)`` reads as one
sentence for each). They subclass :class:`MammoReadError`, itself a ``ValueError``, so a batch job can
catch that one type, record the failure and go on with the next file.
"""

from __future__ import annotations

from os import PathLike


class MammoReadError(ValueError):
    """A mammogram file could not be read or is not a usable mammogram.

    Args:
        filename: the file that failed.
        cause: what is wrong with it. Empty only when the error is rebuilt from its message alone
            (torch's DataLoader re-raises a worker's error as ``type(err)(message)``): ``filename`` then
            holds the whole message and the type survives the trip.
        fix: what the user can do about it (optional).
    """

    def __init__(self, filename: str | PathLike[str], cause: str = "", fix: str | None = None) -> None:
        self.filename = str(filename)
        self.cause = cause
        self.fix = fix
        message = f"{self.filename}: {cause}" if cause else self.filename
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)

    def __reduce__(self):  # keep the error picklable across DataLoader workers
        return (type(self), (self.filename, self.cause, self.fix))


class NotDicomError(MammoReadError):
    """The file is not a DICOM file (no preamble/``DICM`` marker and no parseable dataset)."""


class TruncatedFileError(MammoReadError):
    """The file ends before its declared content (pixel data or header) is complete."""


class NoPixelDataError(MammoReadError):
    """The DICOM dataset carries no Pixel Data element (e.g. a structured report or a header-only file)."""


class UnsupportedImageError(MammoReadError):
    """The image is not a single grey-scale 2D frame (colour, multi-frame, absurd size, bad bit depth)."""


class MissingCodecError(MammoReadError):
    """The transfer syntax needs a decoder that is not installed (the fix names the extra to install)."""


class ImageTooLargeError(UnsupportedImageError):
    """The declared image size (or the file size) exceeds the configured limit; refused before any pixel
    allocation."""


class BlankImageError(UnsupportedImageError):
    """The image holds no picture: every pixel has the same value (an all-black or all-white export)."""


class ConflictingTagsError(MammoReadError):
    """Two tags of the file contradict each other (e.g. Image Laterality ``L`` but Laterality ``R``)."""


class SizeMismatchError(MammoReadError):
    """A file loaded beside an image (its lesion mask, a second channel) does not have the image's size."""


__all__ = [
    "BlankImageError",
    "ConflictingTagsError",
    "ImageTooLargeError",
    "MammoReadError",
    "MissingCodecError",
    "NoPixelDataError",
    "NotDicomError",
    "SizeMismatchError",
    "TruncatedFileError",
    "UnsupportedImageError",
]
