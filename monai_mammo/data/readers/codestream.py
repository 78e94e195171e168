"""Pixel Data of a DICOM file: transfer syntax and compressed codestream checks, then decoding one frame.

Which decoders pydicom has here (:func:`codec_status`), the Transfer Syntax UID of a dataset
(:func:`transfer_syntax`), and the size a JPEG / JPEG-LS / JPEG 2000 codestream declares in its own header
(:func:`codestream_size`): a decoder sizes its output from the codestream, not from Rows/Columns, so a small
file whose codestream claims 40000 x 40000 pixels is refused (:func:`check_codestream`) before it is decoded.
Works with pydicom 3.x and 2.4 (MONAI Label environments).
"""

from __future__ import annotations

import re

import numpy as np
import pydicom
from pydicom.uid import UID, ImplicitVRLittleEndian

from monai_mammo.data.errors import (
    ImageTooLargeError,
    MammoReadError,
    MissingCodecError,
    UnsupportedImageError,
)

__all__ = [
    "CODEC_FIX",
    "PYDICOM_MAJOR",
    "check_codestream",
    "check_compressed",
    "codec_status",
    "codestream_size",
    "decode_frame",
    "decoder_exists",
    "first_fragment",
    "transfer_syntax",
]

PYDICOM_MAJOR = int(re.match(r"\d+", pydicom.__version__).group())  # type: ignore[union-attr]

CODEC_FIX = (
    "install the DICOM decoders: pip install monai_mammo[dicom] (pylibjpeg with its libjpeg, openjpeg and "
    "rle plugins), or pip install python-gdcm."
)

_JPEG_FAMILY_ROOT = "1.2.840.10008.1.2.4."  # JPEG, JPEG-LS, JPEG 2000, HTJ2K (and MPEG, refused before)
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}


def decoder_exists(uid: UID) -> bool:
    """Whether pydicom has a decoder for ``uid`` at all (installed or not): not so for video syntaxes."""
    if PYDICOM_MAJOR >= 3:
        from pydicom.pixels import get_decoder

        try:
            get_decoder(uid)
        except NotImplementedError:
            return False
        return True
    return any(h.supports_transfer_syntax(uid) for h in pydicom.config.pixel_data_handlers)


def codec_status(transfer_syntax: UID) -> tuple[bool, str]:
    """Whether pydicom can decode ``transfer_syntax`` here, and what is missing if not.

    Uses pydicom 3's decoder registry (``pydicom.pixels.get_decoder``) or, on pydicom 2.4, the
    ``pixel_data_handlers`` list.

    Args:
        transfer_syntax: the Transfer Syntax UID of the file.

    Returns:
        ``(available, missing)``: ``missing`` lists the plugins and the packages they need.
    """
    uid = UID(str(transfer_syntax))
    if PYDICOM_MAJOR >= 3:
        from pydicom.pixels import get_decoder

        try:
            decoder = get_decoder(uid)
        except NotImplementedError:
            return False, f"pydicom has no decoder for the transfer syntax {uid.name} ({uid})"
        if decoder.is_available:
            return True, ""
        return False, "; ".join(decoder.missing_dependencies) or "no decoding plugin is available"
    handlers = [h for h in pydicom.config.pixel_data_handlers if h.supports_transfer_syntax(uid)]
    if any(h.is_available() for h in handlers):
        return True, ""
    missing = [
        f"{getattr(h, 'HANDLER_NAME', h.__name__)} - requires {', '.join(getattr(h, 'DEPENDENCIES', {}))}"
        for h in handlers
    ]
    return False, "; ".join(missing) or f"pydicom has no handler for the transfer syntax {uid.name} ({uid})"


def transfer_syntax(ds: pydicom.Dataset, filename: str) -> UID:
    """The file's Transfer Syntax UID (Implicit VR Little Endian when the file meta lacks one).

    Args:
        ds: the dataset.
        filename: for the message.

    Returns:
        The UID.

    Raises:
        UnsupportedImageError: when the value is not a transfer syntax (a private or garbled UID).
    """
    tsyntax = UID(str(ds.file_meta.get("TransferSyntaxUID", ImplicitVRLittleEndian)))
    try:
        known = tsyntax.is_transfer_syntax
    except ValueError:  # pydicom 2 raises for a private UID where pydicom 3 answers False
        known = False
    if not known:
        raise UnsupportedImageError(
            filename,
            f"declares the transfer syntax {str(tsyntax)!r}, which is not a DICOM transfer syntax.",
            "export the image again with a standard transfer syntax (e.g. Explicit VR Little Endian).",
        )
    return tsyntax


def first_fragment(pixel_data: bytes, limit: int = 1 << 16) -> bytes:
    """The first ``limit`` bytes of the first fragment of encapsulated Pixel Data (after the offset table).

    Returns ``b""`` when the data does not start with an item (``FFFE,E000``), e.g. native pixel data.
    """
    item = b"\xfe\xff\x00\xe0"
    if pixel_data[:4] != item or len(pixel_data) < 8:
        return b""
    table = int.from_bytes(pixel_data[4:8], "little")
    start = 8 + table
    if pixel_data[start : start + 4] != item:
        return b""
    length = int.from_bytes(pixel_data[start + 4 : start + 8], "little")
    return pixel_data[start + 8 : start + 8 + min(length, limit)]


def codestream_size(frame: bytes) -> tuple[int, int] | None:
    """``(rows, columns)`` from the header of a JPEG, JPEG-LS or JPEG 2000 codestream, without decoding it.

    Reads the SOF segment (JPEG: SOF0-SOF15, JPEG-LS: SOF55) or the SIZ segment (JPEG 2000, also inside a
    JP2 wrapper).

    Args:
        frame: the start of the codestream (a few hundred bytes are enough).

    Returns:
        The size, or ``None`` when ``frame`` is none of those codestreams or its header is cut short.
    """
    siz = frame.find(b"\xff\x4f\xff\x51") if frame[:2] == b"\xff\x4f" or frame[4:8] == b"jP  " else -1
    if siz >= 0:
        body = frame[siz + 4 : siz + 4 + 20]  # Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz
        if len(body) < 20:
            return None
        x, y, x0, y0 = (int.from_bytes(body[i : i + 4], "big") for i in (4, 8, 12, 16))
        return max(y - y0, 0), max(x - x0, 0)
    if frame[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 4 <= len(frame):
        if frame[at] != 0xFF:
            return None
        marker = frame[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(frame[at + 2 : at + 4], "big")
        if marker in _JPEG_SOF:
            body = frame[at + 4 : at + 9]
            if len(body) < 5:
                return None
            return int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
        if marker == 0xDA or length < 2:  # start of scan before any frame header
            return None
        at += 2 + length
    return None


def check_codestream(
    ds: pydicom.Dataset, filename: str, tsyntax: UID, rows: int, columns: int, max_pixels: int
) -> None:
    """Refuse a JPEG / JPEG-LS / JPEG 2000 frame whose own header declares another size than the file.

    The decoders size their output from the codestream, not from Rows/Columns: a small file whose
    codestream claims 40000 x 40000 pixels would be decoded in full before pydicom noticed the mismatch.

    Args:
        ds: the dataset (its Pixel Data is read, not decoded).
        filename: for messages.
        tsyntax: its transfer syntax.
        rows: the Rows the file declares.
        columns: the Columns the file declares.
        max_pixels: the reader's pixel limit.

    Raises:
        ImageTooLargeError: the codestream holds more than ``max_pixels`` pixels.
        MammoReadError: the codestream holds another size than the file declares.
    """
    if not str(tsyntax).startswith(_JPEG_FAMILY_ROOT):  # RLE segments have no codestream header
        return
    size = codestream_size(first_fragment(ds.PixelData))
    if size is None:
        return
    height, width = size
    if height * width > max_pixels:
        raise ImageTooLargeError(
            filename,
            f"holds a {tsyntax.name} codestream of {height} x {width} = {height * width:,} pixels, over "
            f"the limit of {max_pixels:,} (the file declares {rows} x {columns}).",
            "check the file; if the size is genuine, raise the limit: "
            f"MammoDicomReader(max_pixels={height * width}).",
        )
    if (height, width) != (rows, columns):
        raise MammoReadError(
            filename,
            f"declares {rows} x {columns} pixels but its {tsyntax.name} codestream holds {height} x "
            f"{width}: the pixel data belongs to another image or is corrupt.",
            "export the image again.",
        )


def check_compressed(
    ds: pydicom.Dataset, filename: str, tsyntax: UID, rows: int, columns: int, max_pixels: int
) -> None:
    """Check that a compressed transfer syntax can be decoded here and that its codestream fits the file.

    Args:
        ds: the dataset.
        filename: for messages.
        tsyntax: its (compressed) transfer syntax.
        rows: the Rows the file declares.
        columns: the Columns the file declares.
        max_pixels: the reader's pixel limit.

    Raises:
        UnsupportedImageError: no decoder for still images exists for the syntax (video, unknown).
        MissingCodecError: the decoder exists but is not installed.
        ImageTooLargeError, MammoReadError: see :func:`check_codestream`.
    """
    ok, missing = codec_status(tsyntax)
    if not ok and not decoder_exists(tsyntax):
        raise UnsupportedImageError(
            filename,
            f"uses the transfer syntax {tsyntax.name} ({tsyntax}), which no DICOM decoder for "
            "still images reads (a video or an unknown encoding).",
            "export the image again with an image transfer syntax (e.g. Explicit VR Little Endian "
            "or JPEG 2000).",
        )
    if not ok:
        raise MissingCodecError(
            filename,
            f"uses the transfer syntax {tsyntax.name} ({tsyntax}) and no installed decoder can read "
            f"it ({missing}).",
            CODEC_FIX,
        )
    check_codestream(ds, filename, tsyntax, rows, columns, max_pixels)


def decode_frame(ds: pydicom.Dataset, filename: str, frame_index: int | None = None) -> np.ndarray:
    """Decode the stored values of one frame as a 2D integer array ``(Rows, Columns)``.

    Unused high bits are masked (unsigned) or sign-extended (signed), whatever the decoder did.

    Args:
        ds: a dataset that passed the reader's checks.
        filename: for messages.
        frame_index: the frame of a multi-frame file; ``None`` for a single-frame one.

    Returns:
        The stored values.

    Raises:
        MammoReadError: when the decoder fails on the data.
        UnsupportedImageError: when it decodes to something other than one 2D grey frame.
    """
    try:
        if frame_index is None:
            arr = ds.pixel_array
        elif PYDICOM_MAJOR >= 3:
            from pydicom.pixels import get_decoder

            tsyntax = UID(str(ds.file_meta.TransferSyntaxUID))
            arr = get_decoder(tsyntax).as_array(ds, index=frame_index)[0]
        else:
            arr = ds.pixel_array[frame_index]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # also the PanicException (a BaseException) of decoders written in Rust
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise
        raise MammoReadError(
            filename,
            f"the pixel data could not be decoded ({type(e).__name__}: {e}).",
            "check the file is complete (copy it again); if it is, try another decoder "
            "(pip install python-gdcm).",
        ) from e
    arr = np.asarray(arr)
    if arr.ndim == 3 and int(ds.get("NumberOfFrames") or 1) == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise UnsupportedImageError(
            filename, f"decoded to shape {arr.shape}, not a 2D grey image.", "check the file."
        )
    bits_allocated = int(ds.BitsAllocated)
    bits_stored = int(ds.get("BitsStored") or bits_allocated)
    if bits_stored < bits_allocated and arr.dtype.kind in "ui":
        signed = int(ds.get("PixelRepresentation") or 0) == 1
        itemsize = arr.dtype.itemsize
        if signed:
            shift = 8 * itemsize - bits_stored
            arr = arr.view(f"i{itemsize}")
            arr = np.right_shift(np.left_shift(arr, shift), shift)
        else:
            arr = np.bitwise_and(arr.view(f"u{itemsize}"), (1 << bits_stored) - 1)
    return arr
