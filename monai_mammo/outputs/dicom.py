"""The DICOM outputs of a segmentation run: a SEG per DICOM input, then an SR per exam (DICOM study).

:class:`DicomOutputs` is what :class:`~monai_mammo.handlers.SegmentationWriter` holds when its
``dicom_outputs`` switch is on: :meth:`DicomOutputs.add_image` writes an image's ``seg.dcm`` (and
``prob_seg.dcm``) beside its other outputs and keeps its findings; :meth:`DicomOutputs.write_reports` writes,
when the run completes, one SR per study into ``<output_dir>/dicom_sr/``. Inputs that are not DICOM get none,
said once per run in the log; an image whose SEG cannot be made (a mask of another geometry than its
source) is logged and the run goes on.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from monai_mammo.io.dicom_derived import (
    DerivedAlgorithm,
    lesion_class_code,
    read_source_header,
    require_highdicom,
)
from monai_mammo.io.dicom_seg import SEG_SERIES_NUMBER, write_dicom_seg
from monai_mammo.io.dicom_sr import SR_SERIES_NUMBER, ImageFindings, write_dicom_sr
from monai_mammo.outputs.segmentation import WrittenOutputs
from monai_mammo.utils.array_2d import as_2d

__all__ = ["DicomOutputs"]

_REFERENCE_KEYS = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")


class DicomOutputs:
    """Write the DICOM SEG of each DICOM input of a run and, at its end, an SR per exam.

    Args:
        algorithm: the algorithm named in the SEG and SR (:meth:`DerivedAlgorithm.from_metadata`).
        lesion_class: the class of the segment (a key of ``LESION_CLASS_CODES``).
        fractional: also write ``prob_seg.dcm``, the probability map as a FRACTIONAL SEG.
        logger: where the notices go.
    """

    def __init__(
        self,
        algorithm: DerivedAlgorithm,
        lesion_class: str = "lesion",
        fractional: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        lesion_class_code(lesion_class)  # a class without codes is refused at once
        # highdicom logs every module it copies at INFO: a run's log keeps our one line per image instead
        logging.getLogger("highdicom").setLevel(logging.WARNING)
        self.algorithm = algorithm
        self.lesion_class = lesion_class
        self.fractional = fractional
        self.logger = logger or logging.getLogger(__name__)
        self.reset()

    def reset(self) -> None:
        """Forget the previous run: its exams, series, and notices."""
        self.exams: dict[str, list[ImageFindings]] = {}
        self.written: list[Path] = []
        self._series: dict[tuple[str, str], tuple[str, int]] = {}
        self._told_non_dicom = False
        self._disabled = False

    def _series_for(self, study: str, kind: str) -> tuple[str, int]:
        """This run's series UID of ``kind`` (seg, prob, sr) in ``study``, and the next instance number."""
        hd = require_highdicom()
        uid, count = self._series.get((study, kind), (str(hd.UID()), 0))
        self._series[(study, kind)] = (uid, count + 1)
        return uid, count + 1

    def add_image(
        self,
        source: str | os.PathLike[str],
        prob: Any,
        written: WrittenOutputs,
        pixel_spacing: Sequence[float],
        threshold: float,
    ) -> Path | None:
        """Write the SEG(s) of one image into its output folder and keep its findings for the exam's SR.

        Args:
            source: the input file.
            prob: its ``(H, W)`` (or ``(1, H, W)``) probability map in the original geometry.
            written: what :func:`~monai_mammo.outputs.segmentation.write_segmentation_outputs` wrote for it
                (the folder and the lesion rows).
            pixel_spacing: ``(row_mm, col_mm)``, NaN when unknown.
            threshold: the mask's threshold.

        Returns:
            The SEG written, or ``None`` (not DICOM, or no highdicom).
        """
        if self._disabled:
            return None
        header = read_source_header(source)
        if header is None:
            if not self._told_non_dicom:
                self.logger.info(
                    f"DICOM SEG/SR outputs are made for DICOM inputs only: {source} (and any other PNG, "
                    "JPEG, TIFF or NIfTI input of this run) gets none."
                )
                self._told_non_dicom = True
            return None
        try:
            require_highdicom()
        except ImportError as e:
            self.logger.warning(f"no DICOM SEG/SR outputs in this run: {e}")
            self._disabled = True
            return None
        p = as_2d(prob, "prob").astype(np.float32, copy=False)
        mask = p >= float(threshold)
        study = str(header.StudyInstanceUID)
        try:
            series, number = self._series_for(study, "seg")
            path, seg = write_dicom_seg(
                written.folder / "seg.dcm",
                header,
                {self.lesion_class: mask},
                algorithm=self.algorithm,
                series_instance_uid=series,
                instance_number=number,
            )
            self.written.append(path)
            if self.fractional:
                series, number = self._series_for(study, "prob")
                path_p, _ = write_dicom_seg(
                    written.folder / "prob_seg.dcm",
                    header,
                    {self.lesion_class: p},
                    algorithm=self.algorithm,
                    fractional=True,
                    series_instance_uid=series,
                    instance_number=number,
                )
                self.written.append(path_p)
        except ValueError as e:
            self.logger.error(f"no DICOM SEG for {source}: {e}")
            return None
        reference = Dataset()
        for key in _REFERENCE_KEYS:
            setattr(reference, key, seg[key].value)
        row_mm, col_mm = (float(v) for v in pixel_spacing)
        area = float(mask.sum()) * row_mm * col_mm
        self.exams.setdefault(study, []).append(
            ImageFindings(
                source=header,
                lesions=list(written.lesions),
                lesion_class=self.lesion_class,
                segmentation=reference,
                segment_number=1,
                segment_area_mm2=area if math.isfinite(area) else math.nan,
                segment_max_prob=float(p.max()) if p.size else math.nan,
            )
        )
        return path

    def write_reports(self, output_dir: str | os.PathLike[str]) -> list[Path]:
        """Write one SR per exam seen in this run into ``<output_dir>/dicom_sr/<StudyInstanceUID>.dcm``.

        Args:
            output_dir: the run's output folder.

        Returns:
            The SR files written.
        """
        paths = []
        for study, images in self.exams.items():
            series, number = self._series_for(study, "sr")
            try:
                path, _ = write_dicom_sr(
                    Path(output_dir) / "dicom_sr" / f"{study}.dcm",
                    images,
                    algorithm=self.algorithm,
                    series_instance_uid=series,
                    series_number=SR_SERIES_NUMBER,
                    instance_number=number,
                )
            except ValueError as e:
                self.logger.error(f"no DICOM SR for study {study}: {e}")
                continue
            paths.append(path)
            self.written.append(path)
        if paths:
            self.logger.info(
                f"wrote {len(paths)} DICOM SR(s) and {sum(len(v) for v in self.exams.values())} SEG(s) "
                f"(series {SEG_SERIES_NUMBER}) for {len(self.exams)} exam(s)."
            )
        return paths
