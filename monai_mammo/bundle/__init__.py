"""What a bundle needs to run: where it is, its command line, the checks around a run, its copies, releases.

- :mod:`.paths`: :func:`locate_bundle_root`, :func:`list_images`;
- :mod:`.command_line`: :func:`check_overrides`, which refuses a mistyped ``--name`` on the
  ``python -m monai.bundle run`` command line, and :func:`exits_on_command_line`;
- :mod:`.run_checks`: :func:`check_inputs`, :func:`check_checkpoint` and :func:`check_outcome`, the checks
  before and after a bundle's inference run;
- :mod:`.distribution`: a user's editable copy of a bundle (``monai-mammo bundle get``);
- :mod:`.release`: model-zoo release archives (``monai-mammo bundle release``);
- :mod:`.cache_build`: a bundle's preprocessed cache filled ahead of training (``monai-mammo cache build``).

The reader, the data sets and the output writers that used to live here moved to the packages named after
what they hold: :class:`~monai_mammo.data.MammoAutoReader` (:mod:`monai_mammo.data.readers.auto`), the
failure-skipping loaders (:mod:`monai_mammo.data.failures`), the training items
(:mod:`monai_mammo.data.training_items`), and the per-image writers and the exam report
(:mod:`monai_mammo.outputs`). Their old names here stay importable with a ``DeprecationWarning``.
"""

from __future__ import annotations

from monai_mammo.bundle.command_line import (
    UnknownOverride,
    UnknownOverrideError,
    check_overrides,
    exits_on_command_line,
    unknown_overrides,
)
from monai_mammo.bundle.paths import IMAGE_SUFFIXES, list_images, locate_bundle_root
from monai_mammo.bundle.run_checks import (
    AllInputsFailedError,
    TrainingStateError,
    check_checkpoint,
    check_inputs,
    check_outcome,
)
from monai_mammo.utils.deprecation import moved_names

__all__ = [
    "IMAGE_SUFFIXES",
    "AllInputsFailedError",
    "TrainingStateError",
    "UnknownOverride",
    "UnknownOverrideError",
    "check_checkpoint",
    "check_inputs",
    "check_outcome",
    "check_overrides",
    "exits_on_command_line",
    "list_images",
    "locate_bundle_root",
    "unknown_overrides",
]

# old name -> its new module (the name is unchanged)
_MOVED = {
    "MammoAutoReader": "monai_mammo.data.readers.auto",
    "silence_unused_reader_notices": "monai_mammo.data.readers.auto",
    "FailureSkippingCacheDataset": "monai_mammo.data.failures",
    "FailureSkippingDataLoader": "monai_mammo.data.failures",
    "ItemFailure": "monai_mammo.data.failures",
    "SkipFailedItems": "monai_mammo.data.failures",
    "root_cause": "monai_mammo.data.failures",
    "class_source_weights": "monai_mammo.data.training_items",
    "patch_training_items": "monai_mammo.data.training_items",
    "WrittenOutputs": "monai_mammo.outputs.segmentation",
    "encode_nifti": "monai_mammo.outputs.segmentation",
    "encode_png": "monai_mammo.io.png",
    "output_name": "monai_mammo.outputs.segmentation",
    "overlay_image": "monai_mammo.outputs.segmentation",
    "write_lesion_csv": "monai_mammo.outputs.segmentation",
    "write_segmentation_outputs": "monai_mammo.outputs.segmentation",
    "ClassificationOutputs": "monai_mammo.outputs.classification",
    "heatmap_overlay": "monai_mammo.outputs.classification",
    "write_classification_outputs": "monai_mammo.outputs.classification",
    "UniqueOutputNames": "monai_mammo.outputs.naming",
    "ExamReport": "monai_mammo.outputs.exam_report",
    "exam_folder_name": "monai_mammo.outputs.exam_report",
    "exam_page_html": "monai_mammo.outputs.exam_page",
    "index_page_html": "monai_mammo.outputs.exam_page",
    "view_layers": "monai_mammo.outputs.exam_page",
}


__getattr__, __dir__ = moved_names(__name__, _MOVED, globals())
