"""Support for running monai_mammo bundles: bundle location, per-image outputs, fault-tolerant batch loading.

- :mod:`.paths`: :func:`locate_bundle_root`, :func:`list_images`;
- :mod:`.outputs`: the per-image writers of a segmentation run (mask, probability map, overlay, lesion
  table), each file written atomically;
- :mod:`.classification_outputs`: the per-image writers of a classification run (heat map, overlay,
  prediction record), each file written atomically;
- :mod:`.naming`: :class:`UniqueOutputNames`, output folder names that stay unique within a run;
- :mod:`.exam_report`: :class:`ExamReport`, one report folder per exam from a classification and a
  segmentation run;
- :mod:`.exam_page`: :func:`exam_page_html` and :func:`index_page_html`, the self-contained HTML pages of
  those reports (:func:`view_layers`: a view's image, heat map and lesion-outline layers);
- :mod:`.readers`: :class:`MammoAutoReader`, the package reader that fits each file's suffix;
- :mod:`.failures`: :class:`FailureSkippingDataLoader` and :class:`FailureSkippingCacheDataset`, which record
  and skip unreadable inputs;
- :mod:`.command_line`: :func:`check_overrides`, which refuses a mistyped ``--name`` on the
  ``python -m monai.bundle run`` command line, and :func:`exits_on_command_line`;
- :mod:`.run_checks`: :func:`check_inputs`, :func:`check_checkpoint` and :func:`check_outcome`, the checks
  before and after a bundle's inference run.
"""

from __future__ import annotations

from monai_mammo.bundle.classification_outputs import (
    ClassificationOutputs,
    heatmap_overlay,
    write_classification_outputs,
)
from monai_mammo.bundle.command_line import (
    UnknownOverride,
    UnknownOverrideError,
    check_overrides,
    exits_on_command_line,
    unknown_overrides,
)
from monai_mammo.bundle.exam_page import exam_page_html, index_page_html, view_layers
from monai_mammo.bundle.exam_report import ExamReport, exam_folder_name
from monai_mammo.bundle.failures import (
    FailureSkippingCacheDataset,
    FailureSkippingDataLoader,
    ItemFailure,
    SkipFailedItems,
    root_cause,
)
from monai_mammo.bundle.naming import UniqueOutputNames
from monai_mammo.bundle.outputs import (
    WrittenOutputs,
    encode_nifti,
    encode_png,
    output_name,
    overlay_image,
    write_lesion_csv,
    write_segmentation_outputs,
)
from monai_mammo.bundle.paths import IMAGE_SUFFIXES, list_images, locate_bundle_root
from monai_mammo.bundle.readers import MammoAutoReader, silence_unused_reader_notices
from monai_mammo.bundle.run_checks import (
    AllInputsFailedError,
    TrainingStateError,
    check_checkpoint,
    check_inputs,
    check_outcome,
)
from monai_mammo.bundle.training_items import class_source_weights, patch_training_items

__all__ = [
    "class_source_weights",
    "patch_training_items",
    "IMAGE_SUFFIXES",
    "AllInputsFailedError",
    "ClassificationOutputs",
    "ExamReport",
    "FailureSkippingCacheDataset",
    "FailureSkippingDataLoader",
    "ItemFailure",
    "MammoAutoReader",
    "SkipFailedItems",
    "TrainingStateError",
    "UniqueOutputNames",
    "UnknownOverride",
    "UnknownOverrideError",
    "WrittenOutputs",
    "check_checkpoint",
    "check_inputs",
    "check_outcome",
    "check_overrides",
    "encode_nifti",
    "encode_png",
    "exam_folder_name",
    "exam_page_html",
    "exits_on_command_line",
    "heatmap_overlay",
    "index_page_html",
    "list_images",
    "locate_bundle_root",
    "output_name",
    "overlay_image",
    "root_cause",
    "silence_unused_reader_notices",
    "unknown_overrides",
    "view_layers",
    "write_classification_outputs",
    "write_lesion_csv",
    "write_segmentation_outputs",
]
