"""Mammogram readers, metadata helpers, typed read errors, and the data sets and loaders that skip failed
items (``monai_mammo.data``)."""

from __future__ import annotations

from monai_mammo.data.cache_keys import item_key
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
from monai_mammo.data.export_variants import EXPORT_VARIANTS, export_variant, write_export_variants
from monai_mammo.data.failures import (
    FailureSkippingCacheDataset,
    FailureSkippingDataLoader,
    ItemFailure,
    SkipFailedItems,
    root_cause,
)
from monai_mammo.data.image_reader import MammoImageReader
from monai_mammo.data.loader_settings import available_cores, loader_settings
from monai_mammo.data.mammo_meta import laterality_from_image, laterality_from_text, view_from_text
from monai_mammo.data.nifti_reader import MammoNiftiReader
from monai_mammo.data.preprocessed_cache import PreprocessedCache
from monai_mammo.data.preprocessed_dataset import PreprocessedCacheDataset
from monai_mammo.data.readers.auto import MammoAutoReader, silence_unused_reader_notices
from monai_mammo.data.readers.dicom import MammoDicomReader
from monai_mammo.data.training_items import class_source_weights, patch_training_items

__all__ = [
    "EXPORT_VARIANTS",
    "BlankImageError",
    "ConflictingTagsError",
    "ExamAssignment",
    "ExamEvidence",
    "FailureSkippingCacheDataset",
    "FailureSkippingDataLoader",
    "ImageTooLargeError",
    "ItemFailure",
    "MammoAutoReader",
    "MammoDicomReader",
    "MammoImageReader",
    "MammoNiftiReader",
    "MammoReadError",
    "MissingCodecError",
    "NoPixelDataError",
    "NotDicomError",
    "PreprocessedCache",
    "PreprocessedCacheDataset",
    "SkipFailedItems",
    "SizeMismatchError",
    "TruncatedFileError",
    "UnsupportedImageError",
    "available_cores",
    "class_source_weights",
    "export_variant",
    "group_exams",
    "item_key",
    "laterality_from_image",
    "laterality_from_text",
    "loader_settings",
    "patch_training_items",
    "root_cause",
    "silence_unused_reader_notices",
    "view_from_text",
    "write_export_variants",
]
