"""What a run writes: the per-image files of a segmentation or classification run and the exam report.

- :mod:`.segmentation`: the per-image writers of a segmentation run (mask, probability map, overlay, lesion
  table), each file written atomically, and the NIfTI encoder;
- :mod:`.classification`: the per-image writers of a classification run (heat map, overlay, prediction
  record), each file written atomically;
- :mod:`.dicom`: :class:`~monai_mammo.outputs.dicom.DicomOutputs`, a DICOM SEG per DICOM input and a DICOM
  SR per exam;
- :mod:`.naming`: :class:`UniqueOutputNames`, output folder names that stay unique within a run;
- :mod:`.exam_report`: :class:`ExamReport`, one report folder per exam from a classification and a
  segmentation run;
- :mod:`.exam_page`: :func:`exam_page_html` and :func:`index_page_html`, the self-contained HTML pages of
  those reports (:func:`view_layers`: a view's image, heat map and lesion-outline layers).
"""

from __future__ import annotations

from monai_mammo.outputs.classification import (
    ClassificationOutputs,
    heatmap_overlay,
    write_classification_outputs,
)
from monai_mammo.outputs.exam_page import exam_page_html, index_page_html, view_layers
from monai_mammo.outputs.exam_report import ExamReport, exam_folder_name
from monai_mammo.outputs.naming import UniqueOutputNames
from monai_mammo.outputs.segmentation import (
    WrittenOutputs,
    encode_nifti,
    output_name,
    overlay_image,
    write_lesion_csv,
    write_segmentation_outputs,
)

__all__ = [
    "ClassificationOutputs",
    "ExamReport",
    "UniqueOutputNames",
    "WrittenOutputs",
    "encode_nifti",
    "exam_folder_name",
    "exam_page_html",
    "heatmap_overlay",
    "index_page_html",
    "output_name",
    "overlay_image",
    "view_layers",
    "write_classification_outputs",
    "write_lesion_csv",
    "write_segmentation_outputs",
]
