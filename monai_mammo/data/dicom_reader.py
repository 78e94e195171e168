"""Deprecated module: the DICOM reader now lives in :mod:`monai_mammo.data.readers`, split by concern.

Every name this module held stays importable from here with a ``DeprecationWarning`` naming its new place:
``MammoDicomReader`` (:mod:`~monai_mammo.data.readers.dicom`; also ``monai_mammo.data.MammoDicomReader``,
unchanged), the window and LUT maths (:mod:`~monai_mammo.data.readers.voi`), the transfer syntax and
codestream checks (:mod:`~monai_mammo.data.readers.codestream`) and the tag helpers
(:mod:`~monai_mammo.data.readers.dicom_meta`).
"""

from __future__ import annotations

from monai_mammo.utils.deprecation import moved_names

# old name -> (new module, new name)
_MOVED = {
    "MammoDicomReader": ("monai_mammo.data.readers.dicom", "MammoDicomReader"),
    "_not_dicom_error": ("monai_mammo.data.readers.dicom", "not_dicom_error"),
    "CODEC_FIX": ("monai_mammo.data.readers.codestream", "CODEC_FIX"),
    "PYDICOM_MAJOR": ("monai_mammo.data.readers.codestream", "PYDICOM_MAJOR"),
    "codec_status": ("monai_mammo.data.readers.codestream", "codec_status"),
    "codestream_size": ("monai_mammo.data.readers.codestream", "codestream_size"),
    "_first_fragment": ("monai_mammo.data.readers.codestream", "first_fragment"),
    "_decoder_exists": ("monai_mammo.data.readers.codestream", "decoder_exists"),
    "VOI_FUNCTIONS": ("monai_mammo.data.readers.voi", "VOI_FUNCTIONS"),
    "window_to_unit": ("monai_mammo.data.readers.voi", "window_to_unit"),
    "lut_to_unit": ("monai_mammo.data.readers.voi", "lut_to_unit"),
    "lut_table": ("monai_mammo.data.readers.voi", "lut_table"),
    "lut_indices": ("monai_mammo.data.readers.voi", "lut_indices"),
    "DICOM_META_TAGS": ("monai_mammo.data.readers.dicom_meta", "DICOM_META_TAGS"),
    "_int_tag": ("monai_mammo.data.readers.dicom_meta", "int_tag"),
    "_floats": ("monai_mammo.data.readers.dicom_meta", "dicom_floats"),
    "_first_float": ("monai_mammo.data.readers.dicom_meta", "first_float"),
}


__getattr__, __dir__ = moved_names(__name__, _MOVED, globals())
