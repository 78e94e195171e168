"""The DICOM SEG as a MONAI Label answer: what :class:`~monai_mammo.label.MammoSegmentationInfer` returns
when a viewer asks for ``result_extension=.dcm`` (OHIF and 3D Slicer load a SEG onto the image it references).

Kept apart from :mod:`.infer` so that it works, and is tested, without MONAI Label: the SEG itself is the one
the segmentation bundle writes (:func:`monai_mammo.io.dicom_seg.write_dicom_seg`), for the same source, mask
and algorithm.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from monai_mammo.io.dicom_derived import DerivedAlgorithm, read_source_header
from monai_mammo.io.dicom_seg import write_dicom_seg
from monai_mammo.utils.array_2d import as_2d

__all__ = ["dicom_seg_answer"]


def dicom_seg_answer(
    source: str | os.PathLike[str],
    prob: Any,
    threshold: float,
    algorithm: DerivedAlgorithm,
    lesion_class: str = "lesion",
    fractional: bool = False,
) -> str:
    """Write the DICOM SEG of one mammogram's prediction to a temporary ``.dcm`` file (MONAI Label's answer).

    Args:
        source: the DICOM MG file the prediction is of (the request's image).
        prob: its ``(H, W)`` or ``(1, H, W)`` probability map in the source's own geometry.
        threshold: the probability at or above which a pixel is lesion (a BINARY SEG).
        algorithm: the algorithm named in the SEG (:meth:`DerivedAlgorithm.from_metadata` of the bundle).
        lesion_class: the segment's class (a key of ``monai_mammo.io.dicom_codes.LESION_CLASS_CODES``).
        fractional: the probability map as a FRACTIONAL (PROBABILITY) SEG instead of the mask.

    Returns:
        The path of the SEG (a temporary file the caller, MONAI Label, removes after sending it).

    Raises:
        ValueError: when ``source`` is not a DICOM image (ask for ``.png`` or ``.nii.gz`` instead), or
            when the map does not fit the source's rows and columns.
    """
    header = read_source_header(source)
    if header is None:
        raise ValueError(
            f"result_extension .dcm: {source} is not a DICOM image a SEG can reference; "
            "ask for .png or .nii.gz."
        )
    p = as_2d(prob, "prob").astype(np.float32, copy=False)
    fd, path = tempfile.mkstemp(suffix=".dcm")
    os.close(fd)
    try:
        write_dicom_seg(
            path,
            header,
            {lesion_class: p if fractional else p >= float(threshold)},
            algorithm=algorithm,
            fractional=fractional,
        )
    except BaseException:
        os.unlink(path)
        raise
    return path
