"""Per-image outputs of a classification run, each written atomically (temporary file, then ``os.replace``).

For one image, in its original geometry, :func:`write_classification_outputs` writes into
``<output_dir>/<name>/``:

- ``heatmap.png``: the heat map (``EvidenceMapInferer``: the malignant probability per place; or Grad-CAM),
  uint8 ``0..255`` for ``0..1``, the size of the original image
  (row-major, as the image is shown), so that it can be laid over the image pixel for pixel;
- ``overlay.png``: the image in grey with the heat map in red and the class probabilities written in the
  top-left corner, reduced to at most ``overlay_max_size`` pixels on its longest side, for a person;
- ``prediction.json``: the image's identity (exam, patient, laterality, view), class probabilities,
  predicted class, the class the heat map explains, and the files written.

The tables over all images (``predictions.csv``, ``breasts.csv``, ``exams.csv``, ``report.json``) are
written by :class:`monai_mammo.handlers.ClassificationWriter`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from monai_mammo.io import atomic_write_bytes
from monai_mammo.io.png import encode_png
from monai_mammo.outputs.segmentation import overlay_image
from monai_mammo.utils.array_2d import as_2d
from monai_mammo.utils.json_text import strict_json_text

__all__ = ["ClassificationOutputs", "heatmap_overlay", "write_classification_outputs"]


@dataclass
class ClassificationOutputs:
    """What :func:`write_classification_outputs` wrote for one image.

    Args:
        folder: the image's output folder.
        files: output kind (``heatmap_png``, ``overlay_png``, ``prediction_json``) -> path.
        record: the content of ``prediction.json``.
    """

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)


def heatmap_overlay(
    image: Any, heatmap: Any, caption: str = "", max_size: int | None = 1024, alpha: float = 0.6
) -> np.ndarray:
    """An RGB picture of a heat map over its image, with an optional caption in the top-left corner.

    Args:
        image: ``(H, W)`` or ``(1, H, W)`` image, any intensity scale.
        heatmap: the same shape, values in ``[0, 1]`` (clipped; NaN counts as 0).
        caption: text drawn in yellow on a black band (e.g. the class probabilities); ``""``: none.
        max_size: the longest side of the result (subsampled); ``None`` keeps the size.
        alpha: opacity of the heat at 1.

    Returns:
        ``(h, w, 3)`` uint8 array.

    Raises:
        ValueError: when the two arrays are not 2D images of the same shape.
    """
    img = as_2d(image, "image")
    heat = as_2d(heatmap, "heatmap")
    if img.shape != heat.shape:
        raise ValueError(
            f"image shape {img.shape} differs from the heat map's {heat.shape}; map the heat map back to the "
            "original geometry first (Invertd(keys=['cam', 'image'], orig_keys='image'))."
        )
    rgb = overlay_image(img, heat, np.zeros(heat.shape, dtype=bool), max_size=max_size, alpha=alpha)
    if caption:
        picture = Image.fromarray(rgb)
        draw = ImageDraw.Draw(picture)
        left, top, right, bottom = draw.textbbox((4, 4), caption)
        draw.rectangle((0, 0, right + 4, bottom + 4), fill=(0, 0, 0))
        draw.text((4, 4), caption, fill=(255, 255, 0))
        rgb = np.asarray(picture)
    return rgb


def write_classification_outputs(
    output_dir: str | os.PathLike[str],
    name: str,
    probs: Sequence[float] | np.ndarray,
    heatmap: Any | None = None,
    image: Any | None = None,
    class_names: Sequence[str] = ("normal", "benign", "malignant"),
    heatmap_class: int | None = None,
    identity: Mapping[str, Any] | None = None,
    overlay_max_size: int | None = 1024,
) -> ClassificationOutputs:
    """Write the outputs of one image into ``<output_dir>/<name>/`` (see the module docstring).

    Args:
        output_dir: the run's output folder.
        name: the image's output name (e.g. from :func:`monai_mammo.outputs.output_name`).
        probs: the class probabilities.
        heatmap: ``(H, W)`` or ``(1, H, W)`` heat map in ``[0, 1]`` in the original geometry (``None``: none).
        image: the image, same shape, for the overlay (``None``: no overlay).
        class_names: the names of the classes, in the order of ``probs``.
        heatmap_class: the class index the heat map explains (recorded; ``None``: the predicted class).
        identity: further fields of ``prediction.json`` (source, exam, patient, laterality, view, ...).
        overlay_max_size: the longest side of ``overlay.png``.

    Returns:
        The folder, the files written and the record.

    Raises:
        ValueError: for probabilities that do not match ``class_names`` or are not finite, or a heat map and
            image of different shapes.
    """
    p = [float(v) for v in np.asarray(probs, dtype=np.float64).ravel()]
    if len(p) != len(class_names):
        raise ValueError(
            f"{name}: {len(p)} probabilities for {len(class_names)} classes {list(class_names)}."
        )
    if not all(math.isfinite(v) for v in p):
        raise ValueError(f"{name}: the class probabilities are not finite: {p}.")
    predicted = int(np.argmax(p))
    folder = Path(output_dir) / name
    files: dict[str, Path] = {}
    shape: tuple[int, ...] | None = None
    if heatmap is not None:
        heat = np.clip(np.nan_to_num(as_2d(heatmap, "heatmap").astype(np.float32)), 0.0, 1.0)
        shape = heat.shape
        grey = np.round(heat * 255.0).astype(np.uint8)
        files["heatmap_png"] = atomic_write_bytes(folder / "heatmap.png", encode_png(grey))
        if image is not None:
            caption = "  ".join(f"{c} {v:.2f}" for c, v in zip(class_names, p))
            picture = heatmap_overlay(image, heat, caption=caption, max_size=overlay_max_size)
            files["overlay_png"] = atomic_write_bytes(folder / "overlay.png", encode_png(picture))
    explained = predicted if heatmap_class is None else int(heatmap_class)
    record: dict[str, Any] = {
        "name": name,
        **dict(identity or {}),
        "probabilities": {c: round(v, 6) for c, v in zip(class_names, p)},
        "predicted_class": class_names[predicted],
        "heatmap_class": class_names[explained] if heatmap is not None else None,
        "height": None if shape is None else int(shape[0]),
        "width": None if shape is None else int(shape[1]),
    }
    record["files"] = {k: v.name for k, v in files.items()}
    record["files"]["prediction_json"] = "prediction.json"
    files["prediction_json"] = atomic_write_bytes(
        folder / "prediction.json", (strict_json_text(record, default=str) + "\n").encode("utf-8")
    )
    return ClassificationOutputs(folder=folder, files=files, record=record)
