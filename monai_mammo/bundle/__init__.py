"""Support for running monai_mammo bundles: bundle location, per-image outputs, fault-tolerant batch loading.

- :mod:`.paths`: :func:`locate_bundle_root`, :func:`list_images`;
- :mod:`.outputs`: the per-image writers of a segmentation run (mask, probability map, overlay, lesion
  table), each file written atomically;
- :mod:`.readers`: :class:`MammoAutoReader`, the package reader that fits each file's suffix;
- :mod:`.failures`: :class:`FailureSkippingDataLoader`, which records and skips unreadable inputs.
"""

from __future__ import annotations

from monai_mammo.bundle.failures import FailureSkippingDataLoader, ItemFailure, SkipFailedItems, root_cause
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
from monai_mammo.bundle.readers import MammoAutoReader

__all__ = [
    "IMAGE_SUFFIXES",
    "FailureSkippingDataLoader",
    "ItemFailure",
    "MammoAutoReader",
    "SkipFailedItems",
    "WrittenOutputs",
    "encode_nifti",
    "encode_png",
    "list_images",
    "locate_bundle_root",
    "output_name",
    "overlay_image",
    "root_cause",
    "write_lesion_csv",
    "write_segmentation_outputs",
]
