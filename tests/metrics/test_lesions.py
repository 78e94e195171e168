"""lesion_table and lesion_label_map: exact rows on synthetic maps, real lesion masks from CDD-CESM."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from PIL import Image
from scipy import ndimage

from monai_mammo.metrics import LESION_COLUMNS, lesion_label_map, lesion_table


def _map():
    p = np.zeros((40, 60), dtype=np.float32)
    p[2:5, 3:8] = 0.7  # 15 px
    p[3, 4] = 0.9
    p[20:22, 30:32] = 0.6  # 4 px, all equal: the peak is the first in raster order
    p[30, 50] = 0.55  # 1 px
    p[31, 51] = 0.55  # diagonal neighbour: joined with 8-connectivity only
    return p


def test_rows_exact():
    rows = lesion_table(_map(), threshold=0.5, pixel_spacing=(0.1, 0.2))
    assert [r["label"] for r in rows] == [1, 2, 3]
    assert all(tuple(r) == LESION_COLUMNS for r in rows)
    first, second, third = rows
    assert (first["bbox_row0"], first["bbox_col0"], first["bbox_row1"], first["bbox_col1"]) == (2, 3, 5, 8)
    assert (first["centre_row"], first["centre_col"]) == (3.0, 5.0)
    assert (first["peak_row"], first["peak_col"]) == (3, 4)
    assert first["area_px"] == 15 and first["area_mm2"] == pytest.approx(15 * 0.02)
    assert first["max_prob"] == pytest.approx(0.9)
    assert first["mean_prob"] == pytest.approx((14 * 0.7 + 0.9) / 15)
    assert (second["peak_row"], second["peak_col"]) == (20, 30)
    assert (second["centre_row"], second["centre_col"]) == (20.5, 30.5)
    assert third["area_px"] == 2


def test_connectivity_threshold_min_area():
    assert len(lesion_table(_map(), 0.5, connectivity=1)) == 4
    assert [r["area_px"] for r in lesion_table(_map(), 0.5, min_area_px=3)] == [15, 4]
    assert [r["label"] for r in lesion_table(_map(), 0.5, min_area_px=3)] == [1, 2]
    assert len(lesion_table(_map(), 0.65)) == 1
    assert lesion_table(np.zeros((8, 8)), 0.5) == []


def test_spacing_from_metatensor_or_unknown():
    meta = MetaTensor(torch.from_numpy(_map())[None], meta={"pixel_spacing": [0.05, 0.05]})
    assert lesion_table(meta, 0.5)[0]["area_mm2"] == pytest.approx(15 * 0.0025)
    assert math.isnan(lesion_table(_map(), 0.5)[0]["area_mm2"])
    assert lesion_table(_map(), 0.5, pixel_spacing=0.1)[0]["area_mm2"] == pytest.approx(0.15)
    with pytest.raises(ValueError, match="pixel_spacing"):
        lesion_table(_map(), 0.5, pixel_spacing=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="2D"):
        lesion_table(np.zeros((2, 8, 8)), 0.5)


def test_label_map_from_mask_circles_boxes():
    mask = np.zeros((10, 10), dtype=bool)
    mask[0:2, 0:2] = True
    mask[5:7, 5:7] = True
    labels = lesion_label_map((10, 10), mask=mask, circles=[(8, 1, 1)], boxes=[(0, 7, 2, 10)])
    assert labels.max() == 4
    assert labels[0, 0] == 1 and labels[5, 5] == 2 and labels[8, 1] == 3 and labels[7, 1] == 3
    assert labels[1, 9] == 4 and labels[2, 9] == 0
    assert labels[8, 3] == 0  # outside the circle (distance 2 > radius 1)
    # a labelled mask keeps one lesion per value, even when two lesions touch
    labelled = np.zeros((6, 6), dtype=np.int32)
    labelled[1:3, 1:3] = 5
    labelled[1:3, 3:5] = 9
    out = lesion_label_map((6, 6), mask=labelled)
    assert out.max() == 2 and out[1, 1] == 1 and out[1, 4] == 2
    with pytest.raises(ValueError, match="does not match"):
        lesion_label_map((5, 5), mask=mask)
    with pytest.raises(ValueError, match="circle"):
        lesion_label_map((5, 5), circles=[(1, 1)])


def test_real_lesion_masks_cdd_cesm(shared_data):
    """On real (irregular) lesion masks, a map equal to the mask gives one row per lesion, same area."""
    files = sorted((shared_data / "cdd_cesm" / "masks").glob("*.png"))
    assert files
    for path in files:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        lesion = (rgb[..., 0] > 128) | (rgb[..., 1] > 128)
        truth, n = ndimage.label(lesion, structure=np.ones((3, 3)))
        rows = lesion_table(lesion.astype(np.float32) * 0.8, 0.5, pixel_spacing=(0.1, 0.1))
        assert len(rows) == n == lesion_label_map(lesion.shape, mask=lesion).max(), path.name
        assert sorted(r["area_px"] for r in rows) == sorted(np.bincount(truth.ravel())[1:].tolist())
        for r in rows:  # the peak lies inside its own component
            assert lesion[r["peak_row"], r["peak_col"]]
