"""MONAI Label infer tasks for the monai_mammo bundles, answering in the original image geometry.

Both tasks run the bundle's own ``inference.json`` pieces (``preprocessing``, ``network_def`` with
``models/model.pt``, ``inferer``, ``postprocessing``) through MONAI Label's :class:`BundleInferTask`, so
that the server gives what ``python -m monai.bundle run`` gives. What differs is the answer:

- :class:`MammoSegmentationInfer`: the lesion mask as a PNG (or NIfTI) of exactly the input's rows and
  columns (value 1 = lesion), or for a DICOM input with ``result_extension=.dcm`` the DICOM SEG that the
  bundle writes (:func:`~monai_mammo.label.dicom_answer.dicom_seg_answer`), and in the JSON the lesion table
  of :func:`monai_mammo.metrics.lesion_table`.
  MONAI Label's own ``Restored`` step and ITK writer are not used: the bundle's ``Invertd`` already maps the
  probabilities back to the original image, and the ITK writer would transpose a 2D mask.
- :class:`MammoClassificationInfer`: the JSON holds the class probabilities and the predicted class, the
  file the Grad-CAM heat map in the original geometry (both from the bundle's own postprocessing).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import SaveImaged
from monailabel.interfaces.tasks.infer_v2 import InferType
from monailabel.tasks.infer.bundle import BundleInferTask

from monai_mammo.data.mammo_meta import pixel_spacing_pair
from monai_mammo.io.dicom_derived import DerivedAlgorithm
from monai_mammo.io.png import encode_png
from monai_mammo.label.dicom_answer import dicom_seg_answer
from monai_mammo.metrics.lesions import DEFAULT_MIN_AREA_MM2, DEFAULT_MIN_AREA_PX, lesion_table
from monai_mammo.outputs.segmentation import encode_nifti
from monai_mammo.utils.array_2d import as_2d
from monai_mammo.utils.enums import MammoMetaKey
from monai_mammo.utils.json_text import strict_json

__all__ = ["MammoClassificationInfer", "MammoSegmentationInfer", "probability_map"]

MASK_EXTENSIONS = (".png", ".nii.gz", ".nii", ".dcm")
"""The mask file types :class:`MammoSegmentationInfer` writes (``result_extension`` in the request); ``.dcm``,
the DICOM SEG, for DICOM inputs only."""


def probability_map(pred: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """A ``(1, H, W)``/``(H, W)`` prediction as a float32 ``(H, W)`` array, with its metadata (or ``{}``)."""
    meta = dict(pred.meta) if isinstance(pred, MetaTensor) else {}
    return as_2d(pred, "pred").astype(np.float32, copy=False), meta


class MammoSegmentationInfer(BundleInferTask):
    """Lesion segmentation of a 2D mammogram through MONAI Label, from a monai_mammo segmentation bundle.

    Args:
        path: the bundle folder (``configs/inference.json``, ``configs/metadata.json``, ``models/model.pt``).
        conf: the MONAI Label app's ``--conf`` options.
        threshold: the probability at or above which a pixel is lesion (default: the bundle's ``threshold``).
        kwargs: passed to :class:`BundleInferTask`.

    The lesion table lists what the bundle's ``lesions.csv`` lists: candidates of at least the bundle's
    ``min_lesion_area_mm2`` when the pixel spacing is known, else of ``min_lesion_area_px`` pixels of its
    working image (longest side ``image_size``); see :func:`monai_mammo.metrics.min_candidate_area_px`.
    """

    labels: dict[str, int]

    def __init__(
        self, path: str, conf: dict[str, str], threshold: float | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("post_filter", [SaveImaged])
        super().__init__(path, conf, type=InferType.SEGMENTATION, add_post_restore=False, **kwargs)
        self.metadata_file = Path(path) / "configs" / "metadata.json"
        if not self.valid:
            return
        value = threshold if threshold is not None else self.bundle_config.get("threshold", 0.5)
        self.threshold = float(value)
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {value}.")
        min_area_mm2 = self.bundle_config.get("min_lesion_area_mm2", DEFAULT_MIN_AREA_MM2)
        self.min_area_mm2 = None if min_area_mm2 is None else float(min_area_mm2)
        self.min_area_px = float(self.bundle_config.get("min_lesion_area_px", DEFAULT_MIN_AREA_PX))
        self.lesion_class = str(self.bundle_config.get("lesion_class", "lesion"))
        size = self.bundle_config.get("image_size")
        self.working_size = (
            None if size is None else int(max(np.atleast_1d(np.asarray(size, dtype=np.int64))))
        )
        # BundleInferTask numbers the channels from 0; as a mask value, 0 is the background
        self.labels = {name: index + 1 for name, index in sorted(self.labels.items(), key=lambda kv: kv[1])}

    def writer(
        self, data: dict[str, Any], extension: str | None = None, dtype: Any = None
    ) -> tuple[Any, Any]:
        """Write the mask (value 1 = lesion) to a temporary file and describe the lesions in the JSON.

        Args:
            data: the post-processed data; ``data["pred"]`` holds the probabilities in the image's geometry.
            extension: ``.png`` (default), ``.nii.gz``, ``.nii`` or ``.dcm`` (a DICOM SEG of the mask that
                references the request's DICOM image, ``data["image_path"]``); else the request's
                ``result_extension``.
            dtype: unused (the mask is uint8).

        Returns:
            The mask file and the result JSON: ``lesions`` (the rows of
            :func:`monai_mammo.metrics.lesion_table`, unknown values as ``null``), ``threshold``,
            ``image_shape`` (rows, columns), ``pixel_spacing`` (mm, ``[null, null]`` when unknown),
            ``max_prob``.

        Raises:
            ValueError: for another extension, or ``.dcm`` for an input that is not DICOM.
        """
        prob, meta = probability_map(data[self.output_label_key])
        ext = (extension or data.get("result_extension") or ".png").lower()
        if ext not in MASK_EXTENSIONS:
            raise ValueError(f"result_extension must be one of {', '.join(MASK_EXTENSIONS)}, got {ext!r}.")
        spacing = list(pixel_spacing_pair(meta.get(MammoMetaKey.PIXEL_SPACING.value)))
        mask = (prob >= self.threshold).astype(np.uint8)
        if ext == ".dcm":
            source = data.get("image_path") or meta.get("filename_or_obj")
            algorithm = DerivedAlgorithm.from_metadata(self.metadata_file, {"threshold": self.threshold})
            path = dicom_seg_answer(str(source), prob, self.threshold, algorithm, self.lesion_class)
        else:
            payload = (
                encode_png(mask) if ext == ".png" else encode_nifti(mask, spacing, compress=ext == ".nii.gz")
            )
            fd, path = tempfile.mkstemp(suffix=ext)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
        result = {
            "threshold": self.threshold,
            "image_shape": [int(n) for n in prob.shape],
            "pixel_spacing": spacing,
            "max_prob": round(float(prob.max()), 6),
            "lesions": lesion_table(
                prob,
                threshold=self.threshold,
                pixel_spacing=spacing,
                min_area_px=self.min_area_px,
                min_area_mm2=self.min_area_mm2,
                working_size=self.working_size,
            ),
        }
        return path, strict_json(result)


class MammoClassificationInfer(BundleInferTask):
    """Normal/benign/malignant classification of a 2D mammogram through MONAI Label.

    Runs the bundle's preprocessing, network, inferer and postprocessing, which give ``pred``, the class
    probabilities, and (with the bundle's Grad-CAM inferer) ``cam``, the heat map mapped back to the original
    image. The answer: JSON ``probabilities`` (class name -> probability), ``prediction`` (the likeliest
    class) and ``malignancy`` (the probability of the class named ``malignant``, when there is one); the file
    (``output=image``) is the heat map as a PNG of the image's rows and columns (0-255), when there is one.

    Args:
        path: the bundle folder.
        conf: the MONAI Label app's ``--conf`` options.
        kwargs: passed to :class:`BundleInferTask`.
    """

    heatmap_key = "cam"

    def __init__(self, path: str, conf: dict[str, str], **kwargs: Any) -> None:
        super().__init__(path, conf, type=InferType.CLASSIFICATION, add_post_restore=False, **kwargs)
        if not self.valid:
            return
        self.class_names = [name for name, _ in sorted(self.labels.items(), key=lambda kv: kv[1])]

    def writer(
        self, data: dict[str, Any], extension: str | None = None, dtype: Any = None
    ) -> tuple[Any, Any]:
        """The class probabilities as JSON, the heat map (if any) as a PNG.

        Args:
            data: the post-processed data: ``pred`` the probabilities ``(n_classes,)``, ``cam`` the heat map.
            extension: unused (the heat map is a PNG).
            dtype: unused.

        Returns:
            The heat map file (or ``None``) and the result JSON.

        Raises:
            ValueError: when ``pred`` is not a probability per class of the bundle.
        """
        probs = torch.as_tensor(data[self.output_label_key]).detach().float().cpu().reshape(-1)
        if probs.numel() != len(self.class_names):
            raise ValueError(
                f"the bundle gave {probs.numel()} outputs for {len(self.class_names)} classes "
                f"({', '.join(self.class_names)})."
            )
        if not bool(torch.isfinite(probs).all()) or probs.min() < 0 or abs(float(probs.sum()) - 1.0) > 1e-3:
            raise ValueError(f"the bundle's pred is not class probabilities: {probs.tolist()}.")
        probabilities = {name: round(float(p), 6) for name, p in zip(self.class_names, probs, strict=True)}
        result: dict[str, Any] = {
            "probabilities": probabilities,
            "prediction": self.class_names[int(torch.argmax(probs))],
        }
        if "malignant" in probabilities:
            result["malignancy"] = probabilities["malignant"]
        path = None
        if data.get(self.heatmap_key) is not None:
            heatmap, _ = probability_map(data[self.heatmap_key])
            result["heatmap_shape"] = [int(n) for n in heatmap.shape]
            fd, path = tempfile.mkstemp(suffix=".png")
            with os.fdopen(fd, "wb") as handle:
                handle.write(encode_png(np.round(np.clip(heatmap, 0.0, 1.0) * 255).astype(np.uint8)))
        return path, result
