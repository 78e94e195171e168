"""Mammogram readers, metadata helpers and typed read errors (``monai_mammo.data``)."""

from __future__ import annotations

from monai_mammo.data.errors import (
    BlankImageError,
    ConflictingTagsError,
    ImageTooLargeError,
    MammoReadError,
    MissingCodecError,
    NoPixelDataError,
    NotDicomError,
    SizeMismatchError,
    TruncatedFileError,
    UnsupportedImageError,
)
from monai_mammo.data.exam_grouping import ExamAssignment, ExamEvidence, group_exams
from monai_mammo.data.image_reader import MammoImageReader
from monai_mammo.data.loader_settings import available_cores, loader_settings
from monai_mammo.data.mammo_meta import laterality_from_image, laterality_from_text, view_from_text
from monai_mammo.data.nifti_reader import MammoNiftiReader
from monai_mammo.data.preprocessed_cache import PreprocessedCache, PreprocessedCacheDataset, item_key
from monai_mammo.data.readers.dicom import MammoDicomReader

__all__ = [
    "BlankImageError",
    "ConflictingTagsError",
    "ExamAssignment",
    "ExamEvidence",
    "ImageTooLargeError",
    "MammoDicomReader",
    "MammoImageReader",
    "MammoNiftiReader",
    "MammoReadError",
    "MissingCodecError",
    "NoPixelDataError",
    "NotDicomError",
    "PreprocessedCache",
    "PreprocessedCacheDataset",
    "SizeMismatchError",
    "TruncatedFileError",
    "UnsupportedImageError",
    "available_cores",
    "group_exams",
    "item_key",
    "laterality_from_image",
    "laterality_from_text",
    "loader_settings",
    "view_from_text",
]
