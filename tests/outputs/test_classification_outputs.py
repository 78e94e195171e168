"""write_classification_outputs and heatmap_overlay: per-image files of a classification run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from monai_mammo.outputs import heatmap_overlay, write_classification_outputs


def test_files_are_written_in_the_original_geometry(tmp_path: Path) -> None:
    heat = np.zeros((60, 40), dtype=np.float32)
    heat[30:40, 5:15] = 1.0
    heat[50, 30] = 0.5
    image = torch.rand(1, 60, 40)
    out = write_classification_outputs(
        tmp_path,
        "case/a",
        [0.1, 0.2, 0.7],
        heatmap=torch.from_numpy(heat)[None],
        image=image,
        heatmap_class=2,
        identity={"exam_id": "e1", "laterality": "L"},
    )
    assert out.folder == tmp_path / "case" / "a"
    assert set(out.files) == {"heatmap_png", "overlay_png", "prediction_json"}
    png = np.asarray(Image.open(out.files["heatmap_png"]))
    assert png.dtype == np.uint8 and png.shape == (60, 40)
    assert png[35, 10] == 255 and png[50, 30] == 128 and png[55, 5] == 0
    overlay = np.asarray(Image.open(out.files["overlay_png"]))
    assert overlay.shape == (60, 40, 3)
    assert overlay[35, 10, 0] > overlay[35, 10, 2] + 50  # red heat over the hot region (below the caption)
    record = json.loads(out.files["prediction_json"].read_text())
    assert record == out.record
    assert record["exam_id"] == "e1" and record["predicted_class"] == "malignant"
    assert record["heatmap_class"] == "malignant" and (record["height"], record["width"]) == (60, 40)
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


def test_caption_is_drawn_and_size_is_capped() -> None:
    image = np.zeros((400, 200), dtype=np.float32)
    heat = np.zeros((400, 200), dtype=np.float32)
    plain = heatmap_overlay(image, heat, caption="", max_size=100)
    captioned = heatmap_overlay(image, heat, caption="malignant 0.70", max_size=100)
    assert plain.shape == captioned.shape == (100, 50, 3)
    assert plain.max() == 0 and captioned[:12].max() > 0  # yellow text on the black band


def test_mismatches_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="3 probabilities for 2 classes"):
        write_classification_outputs(tmp_path, "x", [0.2, 0.3, 0.5], class_names=("a", "b"))
    with pytest.raises(ValueError, match="not finite"):
        write_classification_outputs(tmp_path, "x", [float("nan"), 0.5, 0.5])
    with pytest.raises(ValueError, match="original geometry"):
        heatmap_overlay(np.zeros((10, 10)), np.zeros((12, 10)))
