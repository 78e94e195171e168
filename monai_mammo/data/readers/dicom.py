"""``MammoDicomReader``: a MONAI ``ImageReader`` for full-field digital mammograms (DICOM MG, DX, SC).

What it does that MONAI's ``PydicomReader`` does not, for a mammogram:

- returns the image the way a radiologist sees it: channel-first ``(1, Rows, Columns)`` (no transpose),
  dense tissue bright (MONOCHROME1 inverted), Rescale Slope/Intercept (or a Modality LUT) applied, then
  the file's own VOI (a VOI LUT Sequence table, or Window Center/Width with the LINEAR, LINEAR_EXACT or
  SIGMOID function) mapping it to [0, 1] (``voi=VoiMode.WINDOW``), or the raw modality values
  (``VoiMode.RAW``), or a min-max scaling (``VoiMode.FULL_RANGE``);
- masks unused high bits (Bits Stored < Bits Allocated, e.g. overlays in bits 12-15) and sign-extends
  signed data;
- fills small, collatable metadata: every :class:`~monai_mammo.utils.enums.MammoMetaKey` (laterality with
  its source, view, pixel spacing, presentation intent, manufacturer, photometric interpretation, applied
  VOI mode, bits stored), a 3x3 affine ``diag(row_mm, column_mm, 1)`` and a few scalar DICOM tags, and no
  Pixel Data copy;
- raises the typed errors of :mod:`monai_mammo.data.errors` naming the file, the cause and the fix.

This module parses, checks and decodes; the pieces it calls live by concern beside it:
:mod:`~monai_mammo.data.readers.codestream` (transfer syntax, codecs, codestream size),
:mod:`~monai_mammo.data.readers.voi` (Modality LUT, VOI LUT, window) and
:mod:`~monai_mammo.data.readers.dicom_meta` (tag values, spacing, view, tag conflicts).

Compressed transfer syntaxes are decoded by pydicom's plugins: RLE natively, JPEG lossless, JPEG-LS and
JPEG 2000 with ``pylibjpeg`` + ``pylibjpeg-libjpeg``/``-openjpeg``/``-rle`` (the ``monai_mammo[dicom]``
extra) or ``python-gdcm``. Works with pydicom 3.x and 2.4 (MONAI Label environments).
"""

from __future__ import annotations

import errno
import io
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from monai.utils import ImageMetaKey
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ImplicitVRLittleEndian

from monai_mammo.data.errors import (
    ConflictingTagsError,
    MammoReadError,
    NoPixelDataError,
    NotDicomError,
    TruncatedFileError,
    UnsupportedImageError,
)
from monai_mammo.data.file_types import DICOM, SNIFF_BYTES, rename_fix, sniff_file_type
from monai_mammo.data.mammo_meta import (
    SOURCE_IMAGE_LATERALITY,
    SOURCE_LATERALITY,
    file_stem,
    folder_names,
    geometry_meta,
    mammo_meta,
    parse_photometric,
    parse_presentation_intent,
    resolve_laterality,
)
from monai_mammo.data.reader_base import DEFAULT_MAX_PIXELS, MammoReaderBase, parse_voi_mode, scale_full_range
from monai_mammo.data.readers.codestream import check_compressed, decode_frame, transfer_syntax
from monai_mammo.data.readers.dicom_meta import (
    first_float,
    int_tag,
    pixel_spacing,
    scalar_tags,
    stored_range,
    tag_conflicts,
    view,
)
from monai_mammo.data.readers.voi import (
    VOI_FUNCTIONS,
    file_windows,
    lut_to_unit,
    modality_values,
    window_to_unit,
)
from monai_mammo.utils.enums import PhotometricInterpretation, ViewPosition, VoiMode

__all__ = ["MammoDicomReader", "not_dicom_error"]

logger = logging.getLogger(__name__)

FLOAT32_MAX = float(np.finfo(np.float32).max)
# little- and big-endian encodings of the Pixel Data tag (7FE0,0010)
PIXEL_DATA_TAG_BYTES = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")


def not_dicom_error(filename: str, raw: bytes, cause: str) -> NotDicomError:
    """The error for a file that is not DICOM; what it is instead, when its first bytes tell.

    A file named as DICOM but holding a JPEG/PNG/TIFF/NIfTI image gets "rename it" as the fix (the readers
    go by the suffix); one named as that other format was handed to the wrong reader.
    """
    found = sniff_file_type(raw[:SNIFF_BYTES])
    if found is None or found is DICOM:
        return NotDicomError(filename, cause, "check that it is a DICOM mammogram; copy or export it again.")
    if found.matches(filename):
        return NotDicomError(
            filename,
            f"is not a DICOM file: it is {found.description}.",
            "read it with MammoImageReader (PNG/JPEG/TIFF/PGM) or MammoNiftiReader (NIfTI); "
            "MammoAutoReader picks the reader by the suffix.",
        )
    return NotDicomError(
        filename, f"is not a DICOM file: its content is {found.description}.", rename_fix(filename, found)
    )


class MammoDicomReader(MammoReaderBase):
    """Read a single-frame grey-scale DICOM mammogram as a ``(1, Rows, Columns)`` float32 image.

    Use it as any MONAI reader::

        LoadImaged(keys="image", reader=MammoDicomReader())
        LoadImage(reader=MammoDicomReader(voi="raw"), image_only=False)
        LoadImaged(keys="image", reader="monai_mammo.data.MammoDicomReader", voi="window")

    Intensities (``voi``):

    - ``VoiMode.WINDOW`` (default): Rescale Slope/Intercept, then the file's VOI LUT Sequence item or
      Window Center/Width (LINEAR, LINEAR_EXACT, SIGMOID per VOI LUT Function) to [0, 1]; files without
      VOI information fall back to ``FULL_RANGE``, and ``meta["voi_mode"]`` records what was applied.
    - ``VoiMode.RAW``: modality values (Rescale Slope/Intercept or Modality LUT applied), MONOCHROME1
      inverted over the possible value range (``lo + hi - x``), so values stay in range.
    - ``VoiMode.FULL_RANGE``: modality values min-max scaled to [0, 1].

    In every mode dense tissue is bright (MONOCHROME1 is inverted). ``read`` is lazy: the file is parsed,
    checked and decoded in ``get_data``, so ``LoadImage`` passes the typed errors through instead of
    falling back to its other readers.

    Args:
        voi: how stored values map to output intensities (:class:`~monai_mammo.utils.enums.VoiMode` or its
            value).
        window_index: which window (Window Center/Width value) or VOI LUT Sequence item to use.
        prefer_voi_lut: when a file has both a VOI LUT Sequence and a window, use the LUT (as pydicom's
            ``apply_voi_lut`` does); ``False`` uses the window.
        frame_index: for multi-frame files, the frame to read; ``None`` (default) refuses multi-frame files.
        max_pixels: refuse files declaring more than this many pixels (Rows x Columns x frames x samples),
            before anything is decoded, and files larger than ``4 x max_pixels`` bytes + 64 MiB, before they
            are read (:class:`~monai_mammo.data.errors.ImageTooLargeError`).
        infer_laterality: when neither the tags nor the text name the breast side, infer it from the
            image (see :func:`~monai_mammo.data.mammo_meta.laterality_from_image`).
        strict_tags: refuse (:class:`~monai_mammo.data.errors.ConflictingTagsError`) a file whose Image
            Laterality and Laterality name different breasts, or whose View Position and View Code
            Sequence name different projections; ``False`` logs a warning and takes Image Laterality and
            View Position.

    Raises:
        ValueError: for an unknown ``voi`` or a negative index.
    """

    suffixes = (".dcm", ".dicom", ".dic")

    def __init__(
        self,
        voi: VoiMode | str = VoiMode.WINDOW,
        window_index: int = 0,
        prefer_voi_lut: bool = True,
        frame_index: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        infer_laterality: bool = True,
        strict_tags: bool = True,
    ) -> None:
        super().__init__(max_pixels=max_pixels)
        self.voi = parse_voi_mode(voi)
        if int(window_index) < 0:
            raise ValueError(f"window_index must be >= 0, got {window_index}.")
        if frame_index is not None and int(frame_index) < 0:
            raise ValueError(f"frame_index must be None or >= 0, got {frame_index}.")
        self.window_index = int(window_index)
        self.prefer_voi_lut = bool(prefer_voi_lut)
        self.frame_index = None if frame_index is None else int(frame_index)
        self.infer_laterality = bool(infer_laterality)
        self.strict_tags = bool(strict_tags)

    def _suffix_ok(self, filename: Any) -> bool:
        """DICOM files often have no suffix or a numeric one (``IM0001``, ``1.2.840.1234``): accept those."""
        suffix = Path(str(filename)).suffix.lower()
        return suffix in self.suffixes or suffix == "" or suffix[1:].isdigit()

    # ------------------------------------------------------------------ parsing and checks
    def parse(self, filename: str) -> pydicom.Dataset:
        """Read the DICOM dataset (pixel bytes included, nothing decoded) and check it holds one grey image.

        The file is read into memory once (after :meth:`check_file_size`) and parsed from there, so that a
        corrupt element length can never make the parser allocate more than the file holds.

        Args:
            filename: the file path.

        Returns:
            The dataset.

        Raises:
            FileNotFoundError: when the file does not exist.
            NotDicomError: not a DICOM file.
            TruncatedFileError: the file ends inside the header or the pixel data.
            NoPixelDataError: no Pixel Data element (and not an image instance cut short).
            UnsupportedImageError: colour, multi-frame (without ``frame_index``), empty, odd bit depth,
                unusable Rescale Slope/Intercept, or a transfer syntax no decoder exists for.
            ImageTooLargeError: more than ``max_pixels`` declared pixels, or a file too large for them.
            MissingCodecError: the transfer syntax needs a decoder that is not installed.
            ConflictingTagsError: (``strict_tags``) the laterality or view tags contradict each other.
        """
        path = Path(filename)
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "no such file", str(filename))
        nbytes = path.stat().st_size
        if nbytes == 0:
            raise NotDicomError(
                filename, "is an empty file, not a DICOM file.", "check the path and the copy."
            )
        self.check_file_size(filename, nbytes)
        raw = path.read_bytes()
        try:
            ds: pydicom.Dataset = pydicom.dcmread(io.BytesIO(raw))
        except InvalidDicomError:
            ds = self._parse_without_preamble(filename, raw)
        except EOFError as e:
            raise TruncatedFileError(
                filename, f"ends inside its DICOM header ({e}).", "copy or download the file again."
            ) from e
        except Exception as e:  # pydicom raises many types on garbage input
            raise not_dicom_error(
                filename, raw, f"could not be parsed as DICOM ({type(e).__name__}: {e})."
            ) from e
        try:
            self._check_pixel_module(ds, filename, raw)
            self._check_tags(ds, filename)
        except MammoReadError:
            raise
        except Exception as e:  # an element whose value pydicom cannot convert (wrong VR or length)
            raise MammoReadError(
                filename,
                f"has a malformed data element ({type(e).__name__}: {e}).",
                "check the file with a DICOM validator (e.g. dciodvfy); copy or export it again.",
            ) from e
        return ds

    def _parse_without_preamble(self, filename: str, raw: bytes) -> pydicom.Dataset:
        """Accept a DICOM dataset written without the 128-byte preamble, if it parses to an image."""
        not_dicom = not_dicom_error(
            filename,
            raw,
            "is not a DICOM file (no 'DICM' marker and no DICOM image dataset could be parsed).",
        )
        try:
            ds = pydicom.dcmread(io.BytesIO(raw), force=True)
            ok = "PixelData" in ds and int_tag(ds, "Rows") > 0 and int_tag(ds, "Columns") > 0
        except Exception as e:
            raise not_dicom from e
        if not ok:
            raise not_dicom
        if "TransferSyntaxUID" not in ds.file_meta:
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        return ds

    def _check_pixel_module(self, ds: pydicom.Dataset, filename: str, raw: bytes = b"") -> None:
        if "PixelData" not in ds:
            self._raise_no_pixel_data(ds, filename, raw)
        rows, columns = int_tag(ds, "Rows"), int_tag(ds, "Columns")
        frames = int_tag(ds, "NumberOfFrames", 1)
        samples = int_tag(ds, "SamplesPerPixel", 1)
        self.check_size(filename, rows, columns, frames, samples)
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        if samples != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
            raise UnsupportedImageError(
                filename,
                f"is a colour image (Photometric Interpretation {photometric}, {samples} samples per pixel); "
                "a mammogram is grey-scale (MONOCHROME1/2).",
                "convert it to grey-scale first, or check that this is the mammogram and not a secondary "
                "capture of a screen.",
            )
        if frames > 1 and self.frame_index is None:
            raise UnsupportedImageError(
                filename,
                f"has {frames} frames (e.g. tomosynthesis) where one 2D frame is expected.",
                "pass MammoDicomReader(frame_index=i) to read one frame, or read the volume with MONAI's "
                "PydicomReader.",
            )
        if self.frame_index is not None and self.frame_index >= frames:
            raise UnsupportedImageError(
                filename,
                f"has {frames} frame(s); frame_index={self.frame_index} is out of range.",
                f"use a frame_index below {frames}.",
            )
        bits_allocated = int_tag(ds, "BitsAllocated")
        bits_stored = int_tag(ds, "BitsStored", bits_allocated)
        if bits_allocated not in (8, 16, 32) or not 1 <= bits_stored <= bits_allocated:
            raise UnsupportedImageError(
                filename,
                f"has Bits Allocated {bits_allocated} / Bits Stored {bits_stored}; expected 8, 16 or 32 "
                "allocated and 1..allocated stored.",
                "check the Image Pixel module of the file.",
            )
        self._check_rescale(ds, filename)
        tsyntax = transfer_syntax(ds, filename)
        if tsyntax.is_compressed:
            check_compressed(ds, filename, tsyntax, rows, columns, self.max_pixels)
        else:
            expected = rows * columns * frames * samples * bits_allocated // 8
            if len(ds.PixelData) < expected:
                raise TruncatedFileError(
                    filename,
                    f"holds {len(ds.PixelData):,} bytes of pixel data where {rows} x {columns} x {frames} "
                    f"frame(s) at {bits_allocated} bits need {expected:,}: the file is cut short.",
                    "copy or download the file again.",
                )

    @staticmethod
    def transfer_syntax(ds: pydicom.Dataset, filename: str) -> UID:
        """The file's Transfer Syntax UID: :func:`~monai_mammo.data.readers.codestream.transfer_syntax`."""
        return transfer_syntax(ds, filename)

    def _check_rescale(self, ds: pydicom.Dataset, filename: str) -> None:
        """Refuse a Rescale Slope/Intercept that would give NaN or infinite modality values."""
        slope = first_float(ds.get("RescaleSlope"), 1.0)
        intercept = first_float(ds.get("RescaleIntercept"), 0.0)
        lo, hi = self.stored_range(ds)
        ends = (lo * slope + intercept, hi * slope + intercept)
        if not all(math.isfinite(v) and abs(v) < FLOAT32_MAX for v in ends):
            raise UnsupportedImageError(
                filename,
                f"has Rescale Slope {slope!r} / Intercept {intercept!r}, which map its stored values "
                f"[{lo}, {hi}] outside the finite float32 range.",
                "check the Modality LUT module (Rescale Slope/Intercept) of the file.",
            )

    def _check_tags(self, ds: pydicom.Dataset, filename: str) -> None:
        """With ``strict_tags``, refuse laterality or view tags that contradict each other."""
        for cause in tag_conflicts(ds):
            self._conflict(filename, cause)

    def _conflict(self, filename: str, cause: str) -> None:
        if self.strict_tags:
            raise ConflictingTagsError(
                filename,
                cause,
                "correct the tags at the source; MammoDicomReader(strict_tags=False) reads the file anyway, "
                "taking Image Laterality and View Position.",
            )
        logger.warning("%s: %s Using Image Laterality / View Position.", filename, cause)

    @staticmethod
    def _raise_no_pixel_data(ds: pydicom.Dataset, filename: str, raw: bytes = b"") -> None:
        if not raw:
            with open(filename, "rb") as f:
                raw = f.read()
        if any(tag in raw for tag in PIXEL_DATA_TAG_BYTES):
            raise TruncatedFileError(
                filename,
                "ends inside its Pixel Data element (the encapsulated fragments stop before their end "
                "delimiter): the file is cut short.",
                "copy or download the file again.",
            )
        if ds.get("Rows") is not None:
            raise TruncatedFileError(
                filename,
                f"declares a {ds.get('Rows')} x {ds.get('Columns')} image but ends before its Pixel Data.",
                "copy or download the file again (a header-only export has no image to read).",
            )
        sop = ds.get("SOPClassUID")
        kind = UID(str(sop)).name if sop else ""
        if kind.endswith("Image Storage") or "Image Storage -" in kind:
            raise TruncatedFileError(
                filename,
                f"is a {kind} instance, which must hold an image, but it ends after {len(raw):,} bytes "
                "without its image attributes or Pixel Data: the file is cut short.",
                "copy or download the file again.",
            )
        raise NoPixelDataError(
            filename,
            f"is a DICOM file without Pixel Data{f' ({kind})' if kind else ''}.",
            "point the reader at the image instances of the study (Modality MG), not at reports or "
            "presentation states; if the file was cut short, copy it again.",
        )

    # ------------------------------------------------------------------ decoding
    def decode(self, ds: pydicom.Dataset, filename: str) -> np.ndarray:
        """Decode the stored values of one frame as a 2D integer array ``(Rows, Columns)``.

        Unused high bits are masked (unsigned) or sign-extended (signed), whatever the decoder did.

        Args:
            ds: a dataset that passed :meth:`parse`.
            filename: for messages.

        Returns:
            The stored values.

        Raises:
            MammoReadError: when the decoder fails on the data.
        """
        return decode_frame(ds, filename, self.frame_index)

    # ------------------------------------------------------------------ intensities
    @staticmethod
    def stored_range(ds: pydicom.Dataset) -> tuple[int, int]:
        """The possible stored values ``(lo, hi)``: :func:`~.dicom_meta.stored_range`."""
        return stored_range(ds)

    def modality(self, arr: np.ndarray, ds: pydicom.Dataset) -> tuple[np.ndarray, float, float]:
        """Stored values to modality values: :func:`~monai_mammo.data.readers.voi.modality_values`."""
        return modality_values(arr, ds)

    def apply_voi(self, x: np.ndarray, ds: pydicom.Dataset, filename: str) -> tuple[np.ndarray, VoiMode]:
        """Map modality values to [0, 1] with the file's VOI LUT or window (before any MONOCHROME1 inversion).

        Args:
            x: float32 modality values (may be overwritten).
            ds: the dataset.
            filename: for messages.

        Returns:
            ``(image, applied)``: ``applied`` is ``WINDOW``, or ``FULL_RANGE`` when the file has no usable
            VOI information (then ``image`` is still the unscaled ``x``).

        Raises:
            MammoReadError: when ``window_index`` is past the windows/LUTs the file has.
        """
        luts = list(ds.get("VOILUTSequence") or [])
        windows = file_windows(ds)
        use_lut = bool(luts) and (self.prefer_voi_lut or not windows)
        if use_lut:
            if self.window_index >= len(luts):
                raise MammoReadError(
                    filename,
                    f"has {len(luts)} VOI LUT(s); window_index={self.window_index} is out of range.",
                    f"use a window_index below {len(luts)}.",
                )
            item = luts[self.window_index]
            little = getattr(ds, "is_little_endian", True) is not False
            try:
                return lut_to_unit(x, item.get("LUTDescriptor"), item.get("LUTData"), little), VoiMode.WINDOW
            except ValueError as e:
                logger.warning("%s: unusable VOI LUT (%s); falling back to full range.", filename, e)
                return x, VoiMode.FULL_RANGE
        if not windows:
            return x, VoiMode.FULL_RANGE
        if self.window_index >= len(windows):
            raise MammoReadError(
                filename,
                f"has {len(windows)} window(s); window_index={self.window_index} is out of range.",
                f"use a window_index below {len(windows)}.",
            )
        center, width = windows[self.window_index]
        function = str(ds.get("VOILUTFunction") or "LINEAR").strip().upper()
        if function not in VOI_FUNCTIONS:
            logger.warning("%s: unknown VOI LUT Function %r, using LINEAR.", filename, function)
            function = "LINEAR"
        try:
            return window_to_unit(x, center, width, function), VoiMode.WINDOW
        except ValueError as e:
            logger.warning("%s: unusable window (%s); falling back to full range.", filename, e)
            return x, VoiMode.FULL_RANGE

    def intensities(self, arr: np.ndarray, ds: pydicom.Dataset, filename: str) -> tuple[np.ndarray, VoiMode]:
        """Stored values to the output image of the configured ``voi`` mode, dense tissue bright.

        Args:
            arr: stored values from :meth:`decode`.
            ds: the dataset.
            filename: for messages.

        Returns:
            ``(image, applied_mode)`` with ``image`` float32 ``(H, W)``.
        """
        invert = str(ds.get("PhotometricInterpretation", "")).strip().upper() == "MONOCHROME1"
        try:
            x, lo, hi = self.modality(arr, ds)
        except ValueError as e:
            raise UnsupportedImageError(
                filename,
                f"has an unusable Modality LUT Sequence ({e}).",
                "check the Modality LUT module of the file; without a usable LUT its values mean nothing.",
            ) from e
        if self.voi is VoiMode.RAW:
            if invert:
                np.subtract(np.float32(lo + hi), x, out=x)
            return x, VoiMode.RAW
        if self.voi is VoiMode.WINDOW:
            y, applied = self.apply_voi(x, ds, filename)
            if applied is VoiMode.WINDOW:
                if invert:
                    np.subtract(np.float32(1.0), y, out=y)
                return y, applied
            x = y
        return scale_full_range(x, invert=invert), VoiMode.FULL_RANGE

    # ------------------------------------------------------------------ metadata
    @staticmethod
    def pixel_spacing(ds: pydicom.Dataset) -> list[float] | None:
        """``[row_mm, column_mm]``: :func:`~monai_mammo.data.readers.dicom_meta.pixel_spacing`."""
        return pixel_spacing(ds)

    @staticmethod
    def view(ds: pydicom.Dataset, texts: list[object]) -> ViewPosition:
        """View from ViewPosition, else the View Code Sequence, else text: :func:`~.dicom_meta.view`."""
        return view(ds, texts)

    def metadata(self, ds: pydicom.Dataset, filename: str, image: np.ndarray, applied: VoiMode) -> dict:
        """The metadata dict of one file (small and collatable: no Pixel Data, no nested datasets).

        Args:
            ds: the dataset.
            filename: the file path.
            image: the output image ``(H, W)`` (for laterality inference).
            applied: the VOI mode actually applied.

        Returns:
            The metadata: MammoMetaKey entries, MONAI geometry keys, ``filename_or_obj`` and scalar tags.
        """
        texts: list[object] = [ds.get("SeriesDescription"), ds.get("PatientID"), file_stem(filename)]
        folders = folder_names(filename)
        laterality, source = resolve_laterality(
            tags=[
                (SOURCE_IMAGE_LATERALITY, ds.get("ImageLaterality")),
                (SOURCE_LATERALITY, ds.get("Laterality")),
            ],
            texts=texts,
            folder_texts=folders,
            image=image if self.infer_laterality else None,
        )
        spacing = self.pixel_spacing(ds)
        meta = scalar_tags(ds)
        windows = file_windows(ds)
        chosen = windows[min(self.window_index, len(windows) - 1)] if windows else (math.nan, math.nan)
        meta["WindowCenter"], meta["WindowWidth"] = float(chosen[0]), float(chosen[1])
        meta.update(
            mammo_meta(
                laterality=laterality,
                laterality_source=source,
                view=self.view(ds, [*texts, *folders]),
                pixel_spacing=spacing,
                presentation_intent=parse_presentation_intent(ds.get("PresentationIntentType")),
                manufacturer=ds.get("Manufacturer"),
                photometric=parse_photometric(ds.get("PhotometricInterpretation")),
                voi_mode=applied,
                bits_stored=int(ds.get("BitsStored") or ds.get("BitsAllocated") or 0),
            )
        )
        meta.update(geometry_meta(image.shape, spacing))
        meta[ImageMetaKey.FILENAME_OR_OBJ] = str(filename)
        return meta

    def load(self, filename: str) -> tuple[np.ndarray, dict]:
        """Parse, check, decode and map one DICOM file.

        Args:
            filename: the file path.

        Returns:
            ``(image, meta)``: float32 ``(1, Rows, Columns)`` and its metadata.

        Raises:
            MammoReadError: or one of its subclasses (see :meth:`parse`, :meth:`decode`); also for a data
                element that pydicom cannot convert when it is read (a corrupted VR or length), which
                ``MemoryError`` aside is the only other kind of error the tags can raise.
        """
        ds = self.parse(filename)
        try:
            stored = self.decode(ds, filename)
            image, applied = self.intensities(stored, ds, filename)
            meta = self.metadata(ds, filename, image, applied)
        except (MammoReadError, MemoryError):
            raise
        except Exception as e:  # pydicom converts elements on first access: a corrupt one fails here
            raise MammoReadError(
                filename,
                f"has a malformed data element ({type(e).__name__}: {e}).",
                "check the file with a DICOM validator (e.g. dciodvfy); copy or export it again.",
            ) from e
        if PhotometricInterpretation(meta["photometric_interpretation"]) is PhotometricInterpretation.UNKNOWN:
            meta["photometric_interpretation"] = PhotometricInterpretation.MONOCHROME2.value
        return image[None], meta
