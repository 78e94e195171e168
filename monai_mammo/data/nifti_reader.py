"""``MammoNiftiReader``: 2D mammograms stored as NIfTI, read through MONAI's ``NibabelReader``, returned in
the same ``(1, H, W)`` layout and with the same metadata keys as the other mammogram readers.

The NIfTI array's first axis is taken as the image rows (H) and the second as the columns (W): this is what
``nibabel.Nifti1Image(image_hw, affine)`` and MONAI's ``SaveImage`` of a ``(1, H, W)`` tensor write. Trailing
axes of size 1 are dropped; anything else (a volume, a time series) is refused.

For a 3D reader with the orientation handling of ITK, use MONAI's own ``LoadImaged(keys="image",
reader="ITKReader")``, which needs the ``itk`` package (``pip install monai_mammo[itk]``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from monai.data.image_reader import NibabelReader
from monai.utils import ImageMetaKey, optional_import

from monai_mammo.data.errors import TruncatedFileError, UnsupportedImageError
from monai_mammo.data.mammo_meta import (
    file_stem,
    folder_names,
    geometry_meta,
    mammo_meta,
    resolve_laterality,
    view_from_text,
)
from monai_mammo.data.reader_base import DEFAULT_MAX_PIXELS, MammoReaderBase, parse_voi_mode, scale_full_range
from monai_mammo.utils.enums import PhotometricInterpretation, VoiMode

nib, _ = optional_import("nibabel")

# NIfTI spatial units -> millimetres
_UNIT_TO_MM = {"mm": 1.0, "micron": 1e-3, "meter": 1e3}


def nifti_pixel_spacing(header: Any) -> list[float] | None:
    """``[row_mm, column_mm]`` from a NIfTI header's zooms and spatial unit, or ``None`` when unknown.

    A header that declares no unit is taken as millimetres (as ITK and MONAI do), except when its zooms are
    nibabel's defaults of exactly 1.0, which usually means the spacing was never set.

    Args:
        header: a nibabel NIfTI header.

    Returns:
        The spacing, or ``None``.
    """
    zooms = [float(z) for z in header.get_zooms()[:2]]
    if len(zooms) != 2 or not all(math.isfinite(z) and z > 0 for z in zooms):
        return None
    unit = header.get_xyzt_units()[0] if hasattr(header, "get_xyzt_units") else "unknown"
    if unit in _UNIT_TO_MM:
        return [z * _UNIT_TO_MM[unit] for z in zooms]
    if zooms == [1.0, 1.0]:
        return None
    return zooms


class MammoNiftiReader(MammoReaderBase):
    """Read a 2D NIfTI mammogram (``.nii``/``.nii.gz``) as a ``(1, H, W)`` float32 image.

    Wraps MONAI's :class:`~monai.data.NibabelReader` for the file handling and adds the mammogram layout,
    intensity modes and metadata. Values are the stored values with the header's ``scl_slope``/``scl_inter``
    applied. NaN or infinite values are refused (:class:`~monai_mammo.data.errors.UnsupportedImageError`):
    intensity normalisation and the breast mask cannot handle them.

    Args:
        voi: ``VoiMode.WINDOW`` (no window in NIfTI: falls back to FULL_RANGE, recorded), ``RAW`` or
            ``FULL_RANGE``.
        max_pixels: refuse larger declared images before loading them.
        infer_laterality: infer the breast side from the image when the file name does not give it.

    Raises:
        ValueError: for an unknown ``voi``.
    """

    suffixes = (".nii", ".nii.gz")

    def __init__(
        self,
        voi: VoiMode | str = VoiMode.WINDOW,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        infer_laterality: bool = True,
    ) -> None:
        super().__init__(max_pixels=max_pixels)
        self.voi = parse_voi_mode(voi)
        self.infer_laterality = bool(infer_laterality)
        self._nibabel = NibabelReader()

    def load(self, filename: str) -> tuple[np.ndarray, dict]:
        """Load one NIfTI file.

        Args:
            filename: the file path.

        Returns:
            ``(image, meta)``: float32 ``(1, H, W)`` and the metadata.

        Raises:
            FileNotFoundError: no such file.
            UnsupportedImageError: not NIfTI, not 2D, or NaN/Inf values.
            ImageTooLargeError: over ``max_pixels``.
            TruncatedFileError: the file ends before its data does.
        """
        if not Path(filename).is_file():
            raise FileNotFoundError(f"{filename}: no such file.")
        try:
            img = self._nibabel.read(filename)
        except Exception as e:
            raise UnsupportedImageError(
                filename, f"is not a readable NIfTI file ({type(e).__name__}: {e}).", "check the file type."
            ) from e
        shape = tuple(int(s) for s in img.shape)
        if len(shape) < 2 or any(s != 1 for s in shape[2:]):
            raise UnsupportedImageError(
                filename,
                f"has shape {shape}; a 2D mammogram (H, W) is expected (trailing axes of size 1 are fine).",
                "save one 2D view per file.",
            )
        self.check_size(filename, shape[0], shape[1])
        try:
            arr = np.asarray(img.dataobj, dtype=np.float32).reshape(shape[:2])
        except (OSError, EOFError, ValueError) as e:
            raise TruncatedFileError(
                filename, f"could not be read to its end ({e}).", "copy or write the file again."
            ) from e
        if not np.isfinite(arr).all():
            bad = int(arr.size - np.isfinite(arr).sum())
            raise UnsupportedImageError(
                filename,
                f"holds {bad} NaN or infinite values.",
                "replace them (numpy.nan_to_num) before saving.",
            )
        image = np.array(arr, dtype=np.float32, copy=True) if not arr.flags.writeable else arr
        applied = VoiMode.RAW
        if self.voi is not VoiMode.RAW:
            scale_full_range(image)
            applied = VoiMode.FULL_RANGE
        spacing = nifti_pixel_spacing(img.header)
        texts, folders = [file_stem(filename)], folder_names(filename)
        laterality, source = resolve_laterality(
            texts=texts, folder_texts=folders, image=image if self.infer_laterality else None
        )
        meta: dict[str, Any] = mammo_meta(
            laterality=laterality,
            laterality_source=source,
            view=view_from_text(*texts, *folders),
            pixel_spacing=spacing,
            photometric=PhotometricInterpretation.MONOCHROME2,
            voi_mode=applied,
            bits_stored=8 * img.get_data_dtype().itemsize,
        )
        meta.update(geometry_meta(image.shape, spacing))
        meta[ImageMetaKey.FILENAME_OR_OBJ] = str(filename)
        return image[None], meta

    def verify_suffix(self, filename: Any) -> bool:
        """Whether every name is a NIfTI file (``.nii``, ``.nii.gz``), as MONAI's NibabelReader checks.

        Args:
            filename: one file name or a sequence of them.

        Returns:
            ``True`` when all of them are.
        """
        return super().verify_suffix(filename) and self._nibabel.verify_suffix(filename)


__all__ = ["MammoNiftiReader", "nifti_pixel_spacing"]
