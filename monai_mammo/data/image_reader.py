"""``MammoImageReader``: 8/16-bit PNG, TIFF, PGM and JPEG mammograms with the same layout and metadata keys
as :class:`~monai_mammo.data.MammoDicomReader`.

Public data sets often ship mammograms as plain images: mini-MIAS (8-bit PGM/PNG), CBIS-DDSM and VinDr
conversions (16-bit PNG), INbreast exports (TIFF), CDD-CESM (8-bit JPEG stored as 3-channel RGB with equal
channels). This reader returns them channel-first ``(1, H, W)`` float32 with rows first (no transpose, unlike
MONAI's ``PILReader``), and fills every :class:`~monai_mammo.utils.enums.MammoMetaKey`: what a plain image
cannot say is ``"UNKNOWN"``/NaN, laterality and view come from the file name (else laterality from the
image), the pixel spacing from the ``pixel_spacing`` argument.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.utils import ImageMetaKey, optional_import

from monai_mammo.data.errors import (
    ImageTooLargeError,
    MammoReadError,
    TruncatedFileError,
    UnsupportedImageError,
)
from monai_mammo.data.file_types import rename_fix, sniff_file
from monai_mammo.data.mammo_meta import (
    file_stem,
    folder_names,
    geometry_meta,
    mammo_meta,
    pixel_spacing_pair,
    resolve_laterality,
    view_from_text,
)
from monai_mammo.data.reader_base import DEFAULT_MAX_PIXELS, MammoReaderBase, parse_voi_mode, scale_full_range
from monai_mammo.utils.enums import PhotometricInterpretation, VoiMode

PILImage, _ = optional_import("PIL.Image")
tifffile, _ = optional_import("tifffile")

TIFF_SUFFIXES = (".tif", ".tiff")
# Channel spread (max - min over R, G, B) allowed in a grey image stored as RGB, in levels of 255. Measured:
# CDD-CESM JPEGs and equal-channel JPEGs written by Pillow at quality 50-95 (4:4:4 and 4:2:0) have 0;
# a simulated tinted scanner (channel gains 1.0/0.985/1.015, noise sigma 1) saved as JPEG q90 has 7.
DEFAULT_GREY_TOLERANCE = 8.0


def grey_from_channels(arr: np.ndarray, tolerance: float, filename: str) -> np.ndarray:
    """Collapse an ``(H, W, C)`` RGB(A) image whose colour channels are equal (up to ``tolerance``) to grey.

    Args:
        arr: ``(H, W, 3)`` or ``(H, W, 4)`` (alpha ignored).
        tolerance: largest channel spread allowed in any pixel, in levels of 255 (scaled to the dtype's
            range for 16-bit images).
        filename: for the message.

    Returns:
        The ``(H, W)`` mean of the colour channels, float32.

    Raises:
        UnsupportedImageError: when some pixel's channels differ by more than ``tolerance``.
    """
    rgb = arr[..., :3]
    scale = 257.0 if rgb.dtype.itemsize == 2 else 1.0
    spread = rgb.max(axis=-1).astype(np.float32) - rgb.min(axis=-1).astype(np.float32)
    worst = float(spread.max()) / scale
    if worst > tolerance:
        coloured = float((spread > tolerance * scale).mean())
        raise UnsupportedImageError(
            filename,
            f"is a colour image: its R, G, B channels differ by up to {worst:.0f} levels (of 255) in "
            f"{coloured:.2%} of the pixels, over the grey tolerance of {tolerance:g}.",
            "pass the grey-scale mammogram, not a colour mask or screenshot; if it is a tinted grey image, "
            "raise MammoImageReader(grey_tolerance=...).",
        )
    if not worst:
        return rgb[..., 0].astype(np.float32)
    return rgb.astype(np.float32).mean(axis=-1)


def _not_an_image_error(filename: str, cause: str, fix: str) -> UnsupportedImageError:
    """The error for a file this reader cannot decode; what it is instead, when its first bytes tell.

    A DICOM or NIfTI file named ``.png``/``.jpg``/``.tif`` gets "rename it" as the fix (the readers go by the
    suffix); an image named as its own format was handed to the wrong reader.
    """
    found = sniff_file(filename)
    own = found is not None and found.suffixes[0] in MammoImageReader.suffixes
    if found is None or (own and found.matches(filename)):
        return UnsupportedImageError(filename, cause, fix)
    if found.matches(filename):
        return UnsupportedImageError(
            filename,
            f"is {found.description}, not a PNG, JPEG, TIFF or PGM image.",
            "read it with MammoDicomReader (DICOM) or MammoNiftiReader (NIfTI); MammoAutoReader picks the "
            "reader by the suffix.",
        )
    if own:  # e.g. a PNG named .tif: the decoder the suffix chose failed
        cause = f"{cause.rstrip('.')}: its content is {found.description}."
    else:
        cause = f"is not a PNG, JPEG, TIFF or PGM image: its content is {found.description}."
    return UnsupportedImageError(filename, cause, rename_fix(filename, found))


class MammoImageReader(MammoReaderBase):
    """Read a grey-scale PNG/TIFF/PGM/JPEG mammogram as a ``(1, H, W)`` float32 image.

    Usage::

        LoadImaged(keys="image", reader=MammoImageReader(pixel_spacing=(0.2, 0.2)))  # mini-MIAS: 200 um

    Intensities (``voi``): ``VoiMode.RAW`` keeps the stored values (0-255 or 0-65535) and
    ``VoiMode.FULL_RANGE`` min-max scales them to [0, 1]; ``VoiMode.WINDOW`` (default, for a pipeline shared
    with DICOM files) has no window to apply in a plain image and falls back to ``FULL_RANGE``, which
    ``meta["voi_mode"]`` records. A TIFF marked min-is-white is inverted so that dense tissue is bright.

    Grey images stored as 3-channel RGB with equal channels (CDD-CESM) are read as grey; a colour image
    raises :class:`~monai_mammo.data.errors.UnsupportedImageError`. The file's DPI is ignored (it is rarely
    the detector pixel size): give ``pixel_spacing`` when it is known.

    Args:
        voi: ``VoiMode.WINDOW`` (falls back to FULL_RANGE), ``RAW`` or ``FULL_RANGE``.
        pixel_spacing: ``(row_mm, column_mm)`` (one number for square pixels) for every file read, or ``None``
            (metadata ``[nan, nan]``).
        grey_tolerance: largest R/G/B spread (levels of 255) for an RGB file to count as grey.
        max_pixels: refuse larger declared images before decoding them.
        infer_laterality: infer the breast side from the image when the file name does not give it.

    Raises:
        ValueError: for an unknown ``voi`` or an invalid ``pixel_spacing``.
    """

    suffixes = (".png", ".tif", ".tiff", ".pgm", ".pnm", ".jpg", ".jpeg")

    def __init__(
        self,
        voi: VoiMode | str = VoiMode.WINDOW,
        pixel_spacing: Sequence[float] | None = None,
        grey_tolerance: float = DEFAULT_GREY_TOLERANCE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        infer_laterality: bool = True,
    ) -> None:
        super().__init__(max_pixels=max_pixels)
        self.voi = parse_voi_mode(voi)
        if pixel_spacing is not None:
            values = pixel_spacing_pair(pixel_spacing)
            if math.isnan(values[0]):
                raise ValueError(
                    f"pixel_spacing must be two positive numbers (row_mm, col_mm), got {pixel_spacing}."
                )
            pixel_spacing = list(values)
        self.pixel_spacing = pixel_spacing
        self.grey_tolerance = float(grey_tolerance)
        self.infer_laterality = bool(infer_laterality)

    # ------------------------------------------------------------------ decoding
    def _decode_tiff(self, filename: str) -> tuple[np.ndarray, bool]:
        try:
            with tifffile.TiffFile(filename) as tif:
                series = tif.series[0]
                page = series.pages[0]
                shape = tuple(int(s) for s in series.shape)
                samples = int(getattr(page, "samplesperpixel", 1))
                plane = shape[-3:-1] if samples > 1 else shape[-2:]
                frames = int(np.prod(shape)) // (int(np.prod(plane)) * samples)
                self.check_size(filename, plane[0], plane[1], frames)
                if frames > 1:
                    raise UnsupportedImageError(
                        filename,
                        f"holds {frames} image planes (shape {shape}) where one 2D image is expected.",
                        "save each view as its own file.",
                    )
                min_is_white = int(page.photometric) == 0
                arr = series.asarray()
        except MammoReadError:
            raise
        except (tifffile.TiffFileError, ValueError) as e:
            raise _not_an_image_error(
                filename, f"is not a readable TIFF ({e}).", "check the file and the copy."
            ) from e
        except (OSError, EOFError) as e:
            raise TruncatedFileError(
                filename, f"could not be read to its end ({e}).", "copy the file again."
            ) from e
        return np.squeeze(arr) if arr.ndim > 2 and samples == 1 else arr, min_is_white

    def _decode_pil(self, filename: str) -> np.ndarray:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
                im = PILImage.open(filename)
        except PILImage.DecompressionBombError as e:
            raise ImageTooLargeError(
                filename,
                f"declares an absurd size, refused by Pillow before decoding ({e}).",
                "check the file; for a genuine image this large, raise PIL.Image.MAX_IMAGE_PIXELS.",
            ) from e
        except PILImage.UnidentifiedImageError as e:
            raise _not_an_image_error(
                filename,
                "is not a PNG, TIFF, PGM or JPEG image that Pillow can identify.",
                "check that it is a PNG, JPEG, TIFF or PGM image; copy or export it again.",
            ) from e
        with im:
            width, height = im.size
            frames = int(getattr(im, "n_frames", 1))
            self.check_size(filename, height, width, frames)
            if frames > 1:
                raise UnsupportedImageError(
                    filename, f"holds {frames} frames where one image is expected.", "save one view per file."
                )
            if im.mode == "1":
                raise UnsupportedImageError(
                    filename, "is a 1-bit (black/white) image, not a grey-scale mammogram.", "check the file."
                )
            try:
                if im.mode == "P":
                    im = im.convert("RGBA")
                elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                    im = im.convert("RGB")
                arr = np.asarray(im)
            except (OSError, SyntaxError, ValueError) as e:
                raise TruncatedFileError(
                    filename, f"could not be decoded to its end ({e}).", "copy or download the file again."
                ) from e
        if arr.ndim == 3 and im.mode == "LA":
            arr = arr[..., 0]
        if arr.dtype == np.int32 and arr.size and arr.min() >= 0 and arr.max() <= 65535:  # 16-bit PNG as "I"
            arr = arr.astype(np.uint16)
        return arr

    def load(self, filename: str) -> tuple[np.ndarray, dict]:
        """Decode one image file and build its metadata.

        Args:
            filename: the file path.

        Returns:
            ``(image, meta)``: float32 ``(1, H, W)`` and the metadata.

        Raises:
            FileNotFoundError: no such file.
            UnsupportedImageError: unreadable, colour, multi-frame or binary image; ImageTooLargeError
                (a subclass) over ``max_pixels``.
            TruncatedFileError: the file ends before the image data does.
        """
        if not Path(filename).is_file():
            raise FileNotFoundError(f"{filename}: no such file.")
        min_is_white = False
        if filename.lower().endswith(TIFF_SUFFIXES):
            arr, min_is_white = self._decode_tiff(filename)
        else:
            arr = self._decode_pil(filename)
        bits, integer = 8 * arr.dtype.itemsize, arr.dtype.kind in "ui"
        if arr.ndim == 3:
            arr = grey_from_channels(arr, self.grey_tolerance, filename)
        if arr.ndim != 2:
            raise UnsupportedImageError(
                filename, f"decoded to shape {arr.shape}, not a 2D image.", "check it."
            )
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise UnsupportedImageError(
                filename, "holds NaN or infinite values.", "replace them (numpy.nan_to_num) before saving."
            )
        image = np.array(arr, dtype=np.float32)  # a writable copy
        applied = VoiMode.RAW
        if self.voi is VoiMode.RAW:
            if min_is_white:
                hi = float(2**bits - 1) if integer else float(image.max() + image.min())
                np.subtract(np.float32(hi), image, out=image)
        else:
            scale_full_range(image, invert=min_is_white)
            applied = VoiMode.FULL_RANGE
        texts, folders = [file_stem(filename)], folder_names(filename)
        laterality, source = resolve_laterality(
            texts=texts, folder_texts=folders, image=image if self.infer_laterality else None
        )
        photometric = (
            PhotometricInterpretation.MONOCHROME1 if min_is_white else PhotometricInterpretation.MONOCHROME2
        )
        meta: dict[str, Any] = mammo_meta(
            laterality=laterality,
            laterality_source=source,
            view=view_from_text(*texts, *folders),
            pixel_spacing=self.pixel_spacing,
            photometric=photometric,
            voi_mode=applied,
            bits_stored=bits,
        )
        meta.update(geometry_meta(image.shape, self.pixel_spacing))
        meta[ImageMetaKey.FILENAME_OR_OBJ] = str(filename)
        return image[None], meta


__all__ = ["DEFAULT_GREY_TOLERANCE", "MammoImageReader", "grey_from_channels"]
