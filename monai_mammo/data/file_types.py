"""What a file holds, from its first bytes: so that a reader refusing a file can say "this is a JPEG".

The readers choose a file's format by its name's suffix (see :class:`~monai_mammo.data.MammoAutoReader`),
so a JPEG saved as ``scan.dcm`` reaches the DICOM reader. :func:`sniff_file_type` recognises the formats
the package reads (DICOM, PNG, JPEG, TIFF, PGM/PNM, NIfTI) by their signatures, and :func:`rename_fix`
words the fix a reader gives when the name and the content disagree.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DICOM",
    "JPEG",
    "NIFTI",
    "NIFTI_GZ",
    "PNG",
    "PNM",
    "SNIFF_BYTES",
    "TIFF",
    "FileType",
    "rename_fix",
    "sniff_file",
    "sniff_file_type",
]

SNIFF_BYTES = 4096
"""The bytes of a file's head :func:`sniff_file` reads: enough for a NIfTI-1 header even gzip-compressed."""

_NIFTI_HEADER_BYTES = 352


@dataclass(frozen=True)
class FileType:
    """A file format recognised by its signature.

    Args:
        description: what the file is, for a message (``"a JPEG image"``).
        suffixes: the name endings of the format, the usual one first (``(".jpg", ".jpeg")``).
    """

    description: str
    suffixes: tuple[str, ...]

    def matches(self, filename: str | os.PathLike[str]) -> bool:
        """Whether ``filename`` ends in one of :attr:`suffixes` (case-insensitive)."""
        return str(filename).lower().endswith(self.suffixes)


# the formats the package reads
DICOM = FileType("a DICOM file", (".dcm", ".dicom", ".dic"))
PNG = FileType("a PNG image", (".png",))
JPEG = FileType("a JPEG image", (".jpg", ".jpeg"))
TIFF = FileType("a TIFF image", (".tif", ".tiff"))
PNM = FileType("a PGM/PNM image", (".pgm", ".pnm"))
NIFTI = FileType("a NIfTI image", (".nii",))
NIFTI_GZ = FileType("a NIfTI image", (".nii.gz",))
_ALL_SUFFIXES = tuple(s for t in (DICOM, PNG, JPEG, TIFF, PNM, NIFTI, NIFTI_GZ) for s in t.suffixes)


def _is_nifti(head: bytes) -> bool:
    return len(head) >= 348 and head[344:347] in (b"n+1", b"ni1") and head[347:348] == b"\x00"


def sniff_file_type(head: bytes) -> FileType | None:
    """The format of a file whose first bytes are ``head``, when its signature is one the package reads.

    Args:
        head: the file's first bytes (:data:`SNIFF_BYTES` of them, or all of a shorter file).

    Returns:
        The format, or ``None`` when the bytes are none of DICOM, PNG, JPEG, TIFF, PGM/PNM or NIfTI.
    """
    if head[128:132] == b"DICM":
        return DICOM
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if len(head) > 2 and head[:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return PNM
    if _is_nifti(head):
        return NIFTI
    if head.startswith(b"\x1f\x8b"):  # gzip: a NIfTI inside?
        try:
            inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _NIFTI_HEADER_BYTES)
        except zlib.error:
            return None
        return NIFTI_GZ if _is_nifti(inner) else None
    return None


def sniff_file(filename: str | os.PathLike[str]) -> FileType | None:
    """The format of ``filename`` by its first bytes (see :func:`sniff_file_type`); ``None`` if unreadable."""
    try:
        with open(filename, "rb") as f:
            return sniff_file_type(f.read(SNIFF_BYTES))
    except OSError:
        return None


def rename_fix(filename: str | os.PathLike[str], found: FileType) -> str:
    """The fix for a file whose content is ``found`` but whose name says otherwise: the name to give it.

    Args:
        filename: the file as named.
        found: what its content is (from :func:`sniff_file_type`).

    Returns:
        A sentence, e.g. ``"rename it to scan.jpg (the readers choose a file's format by its suffix)."``
    """
    name = Path(str(filename)).name
    known = [s for s in _ALL_SUFFIXES if name.lower().endswith(s)]
    stem = name[: -len(max(known, key=len))] if known else name
    return f"rename it to {stem}{found.suffixes[0]} (the readers choose a file's format by its suffix)."
