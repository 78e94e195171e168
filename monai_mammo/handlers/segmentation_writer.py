"""``SegmentationWriter``: an Ignite handler that writes the per-image outputs of a segmentation run."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from monai.data import MetaTensor
from monai.utils import convert_to_numpy

from monai_mammo.data.mammo_meta import pixel_spacing_pair
from monai_mammo.handlers.per_image import PerImageHandler
from monai_mammo.io import atomic_write_bytes
from monai_mammo.io.dicom_derived import DerivedAlgorithm
from monai_mammo.metrics.lesions import DEFAULT_MIN_AREA_MM2, DEFAULT_MIN_AREA_PX, min_candidate_area_px
from monai_mammo.outputs.dicom import DicomOutputs
from monai_mammo.outputs.naming import UniqueOutputNames
from monai_mammo.outputs.segmentation import write_segmentation_outputs
from monai_mammo.utils.enums import MammoMetaKey

__all__ = ["SegmentationWriter"]

SUMMARY_COLUMNS = ("name", "source", "height", "width", "n_lesions", "max_prob", "folder")


class SegmentationWriter(PerImageHandler):
    """Write, for every image an evaluator infers, its mask, probability map, overlay and lesion table.

    Attach it to a :class:`monai.engines.SupervisedEvaluator` whose postprocessing turns ``pred`` into
    probabilities in the original image geometry, e.g. ``Activationsd(sigmoid=True)`` then
    ``Invertd(keys=["pred", "image"], transform=preprocessing, orig_keys="image")`` (inverting ``image``
    too gives the overlay its background). At each iteration it calls
    :func:`monai_mammo.outputs.segmentation.write_segmentation_outputs` per image (every file written
    atomically);
    when the run completes it writes ``summary.csv`` (one row per image) into ``output_dir``.

    ``lesions.csv`` and the ``n_lesions`` of ``summary.csv`` count only candidates of at least the minimum
    lesion size: ``min_area_mm2`` when the image's pixel spacing is known, else ``min_area_px`` pixels of the
    working image (longest side ``working_size``, the bundle's ``image_size``); on an original image of
    longest side ``L`` that is ``(L / working_size)²`` times as many of its pixels, and never fewer than
    ``min_area_px`` (see :func:`monai_mammo.metrics.min_candidate_area_px`). A few-pixel speck of the
    probability map is not a lesion. The masks keep every pixel at or above ``threshold``.

    With ``dicom_outputs``, a DICOM input also gets ``seg.dcm``, a DICOM Segmentation of its mask
    (:func:`monai_mammo.io.dicom_seg.dicom_segmentation`: one segment of class ``lesion_class``, referencing
    the input image; with ``dicom_fractional`` also ``prob_seg.dcm``, the probability map as a FRACTIONAL
    SEG), and when the run completes each exam (DICOM study) gets one Structured Report,
    ``<output_dir>/dicom_sr/<StudyInstanceUID>.dcm`` (:func:`monai_mammo.io.dicom_sr.exam_measurement_report`:
    the lesions of ``lesions.csv`` with their boxes, areas and probabilities, and each SEG's segment). A
    run's SEGs of one study share one series, its SRs another; every UID is new. Inputs that are not DICOM
    (PNG, JPEG, NIfTI) get no DICOM outputs, said once in the log; so does a run without highdicom.

    Two inputs that would share an output folder in one run (``scan.dcm`` and ``scan.png`` side by side)
    do not overwrite each other: the later one's folder keeps its suffix (``scan_png``), with a warning.

    Args:
        output_dir: the folder of the outputs; each image gets ``<output_dir>/<name>/``.
        pred_key: the key of the probability map in the engine's output.
        image_key: the key of the image used for the overlay (``None``: no overlay).
        threshold: the probability at or above which a pixel is lesion.
        data_root_dir: input folder the output names are relative to (see
            :func:`monai_mammo.outputs.segmentation.output_name`); ``None`` uses the file name alone.
        overlay_max_size: the longest side of ``overlay.png``.
        min_area_mm2: the smallest lesion reported, in mm², when the pixel spacing is known (default 4 mm²,
            about 2 x 2 mm); ``None``: always count in pixels.
        min_area_px: the smallest lesion reported when the spacing is unknown, in pixels of the working image
            (default 16, 4 x 4).
        working_size: the longest side of the working image the network saw (the bundle's ``image_size``);
            ``None``: pixels of the written (original) image.
        output_transform: maps ``engine.state.output`` to a list of per-image dictionaries (default: the
            decollated output itself).
        dicom_outputs: write the DICOM SEG of each DICOM input and an SR per exam (needs highdicom: the
            ``pacs`` extra).
        dicom_fractional: also write the probability map as a FRACTIONAL SEG (``prob_seg.dcm``).
        lesion_class: the class of the model's lesions in the DICOM outputs, a key of
            :data:`monai_mammo.io.dicom_derived.LESION_CLASS_CODES` (``lesion``, ``mass``, ...).
        metadata_file: the bundle's metadata.json; its name and version identify the algorithm in the DICOM
            outputs (``None``: ``monai_mammo`` and the package version).
        name: logger name (default: the engine's logger).

    Example:
        .. code-block:: json

            {"_target_": "monai_mammo.handlers.SegmentationWriter", "output_dir": "@output_dir",
             "data_root_dir": "@dataset_dir", "min_area_mm2": 4.0, "min_area_px": 16,
             "working_size": "@image_size"}
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        pred_key: str = "pred",
        image_key: str | None = "image",
        threshold: float = 0.5,
        data_root_dir: str | os.PathLike[str] | None = None,
        overlay_max_size: int | None = 1024,
        min_area_mm2: float | None = DEFAULT_MIN_AREA_MM2,
        min_area_px: float = DEFAULT_MIN_AREA_PX,
        working_size: int | None = None,
        output_transform: Callable[[Any], Any] | None = None,
        dicom_outputs: bool = False,
        dicom_fractional: bool = False,
        lesion_class: str = "lesion",
        metadata_file: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> None:
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}.")
        min_candidate_area_px((1, 1), None, min_area_mm2, min_area_px, working_size)  # checks the arguments
        self.output_dir = Path(output_dir)
        self.pred_key = pred_key
        self.image_key = image_key
        self.threshold = float(threshold)
        self.data_root_dir = data_root_dir
        self.overlay_max_size = overlay_max_size
        self.min_area_mm2 = None if min_area_mm2 is None else float(min_area_mm2)
        self.min_area_px = float(min_area_px)
        self.working_size = None if working_size is None else int(working_size)
        super().__init__(output_transform=output_transform, name=name)
        self.rows: list[dict[str, Any]] = []
        self._names = UniqueOutputNames(data_root_dir)
        self.dicom: DicomOutputs | None = None
        if dicom_outputs:
            parameters = {"threshold": self.threshold, "lesion_class": lesion_class}
            algorithm = (
                DerivedAlgorithm.from_metadata(metadata_file, parameters)
                if metadata_file is not None
                else DerivedAlgorithm(parameters={k: str(v) for k, v in parameters.items()})
            )
            self.dicom = DicomOutputs(algorithm, lesion_class=lesion_class, fractional=bool(dicom_fractional))

    def _reset(self, engine: Any = None) -> None:
        self.rows = []
        self._names.reset()
        if self.dicom is not None:
            self.dicom.reset()

    def _completed(self, engine: Any = None) -> None:
        self.write_summary(engine)
        if self.dicom is not None:
            self.dicom.logger = self.logger
            self.dicom.write_reports(self.output_dir)

    def unique_name(self, source: str) -> str:
        """The output folder name of ``source`` (:func:`~monai_mammo.outputs.output_name`), unique in a run.

        When another input already took the name, the suffix is kept (``scan_png``), then a counter added.

        Args:
            source: the input file.

        Returns:
            The output folder name.
        """
        self._names.logger = self.logger
        return self._names(source)

    def __call__(self, engine: Any) -> None:
        """Write the outputs of the images of the current iteration.

        Args:
            engine: the engine, whose ``state.output`` holds the images' predictions.

        Raises:
            KeyError: when an output lacks ``pred_key`` (or ``image_key``).
        """
        for item in self._items(engine.state.output):
            if self.pred_key not in item:
                raise KeyError(f"SegmentationWriter: the engine output has no {self.pred_key!r} key.")
            pred = item[self.pred_key]
            meta = pred.meta if isinstance(pred, MetaTensor) else {}
            source = str(meta.get("filename_or_obj", f"image_{len(self.rows)}"))
            pixel_spacing = pixel_spacing_pair(meta.get(MammoMetaKey.PIXEL_SPACING.value))
            image = None
            if self.image_key is not None:
                if self.image_key not in item:
                    raise KeyError(f"SegmentationWriter: the engine output has no {self.image_key!r} key.")
                image = item[self.image_key]
            name = self.unique_name(source)
            written = write_segmentation_outputs(
                self.output_dir,
                name,
                pred,
                image=image,
                pixel_spacing=pixel_spacing,
                threshold=self.threshold,
                overlay_max_size=self.overlay_max_size,
                min_area_mm2=self.min_area_mm2,
                min_area_px=self.min_area_px,
                working_size=self.working_size,
            )
            prob = convert_to_numpy(pred, dtype=np.float32)
            if self.dicom is not None:
                self.dicom.logger = self.logger
                self.dicom.add_image(source, prob, written, pixel_spacing, self.threshold)
            n_lesions = len(written.lesions)
            self.rows.append(
                {
                    "name": name,
                    "source": source,
                    "height": prob.shape[-2],
                    "width": prob.shape[-1],
                    "n_lesions": n_lesions,
                    "max_prob": round(float(prob.max()) if prob.size else math.nan, 5),
                    "folder": str(written.folder),
                }
            )
            self.logger.info(f"wrote {name}: {n_lesions} lesion(s), max prob {self.rows[-1]['max_prob']}.")

    def write_summary(self, engine: Any = None) -> Path:
        """Write ``summary.csv`` (one row per image written in this run) atomically.

        Args:
            engine: unused (Ignite passes the engine).

        Returns:
            The path written.
        """
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return atomic_write_bytes(self.output_dir / "summary.csv", buffer.getvalue().encode("utf-8"))
