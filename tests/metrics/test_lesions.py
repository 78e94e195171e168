"""lesion_table and lesion_label_map: exact rows on synthetic maps, real lesion masks from CDD-CESM."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from PIL import Image
from scipy import ndimage

from monai_mammo.metrics import (
    LESION_COLUMNS,
    lesion_label_map,
    lesion_table,
    min_candidate_area_px,
    pixel_spacing_of,
)


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


def _specks() -> np.ndarray:
    """Components of 15, 4 and 2 pixels (the 2-pixel one a speck at any scale)."""
    p = np.zeros((40, 60), dtype=np.float32)
    p[2:5, 3:8] = 0.7  # 15 px
    p[20:22, 30:32] = 0.6  # 4 px
    p[30, 50:52] = 0.55  # 2 px
    return p


@pytest.mark.parametrize(
    "spacing, min_area_mm2, min_area_px, kept",
    [
        ((0.5, 0.5), 1.0, 100, [15, 4]),  # spacing known: mm² (4 px = 1 mm² is kept, 2 px = 0.5 mm² not)
        ((0.5, 0.5), 1.01, 1, [15]),
        ((0.1, 0.1), 4.0, 1, []),  # 15 px at 0.1 mm is 0.15 mm²: no lesion
        (None, 1.0, 4, [15, 4]),  # spacing unknown: pixels
        (None, 1.0, 5, [15]),
        ((math.nan, math.nan), 1.0, 16, []),
        ((0.5, 0.5), None, 3, [15, 4]),  # no mm² minimum: pixels even with a spacing
    ],
)
def test_minimum_area_in_mm2_when_the_spacing_is_known_else_in_pixels(
    spacing, min_area_mm2, min_area_px, kept
):
    rows = lesion_table(
        _specks(), 0.5, pixel_spacing=spacing, min_area_px=min_area_px, min_area_mm2=min_area_mm2
    )
    assert [r["area_px"] for r in rows] == kept
    assert [r["label"] for r in rows] == list(range(1, len(kept) + 1))


def test_minimum_in_pixels_of_the_working_image_scales_to_the_map():
    """A map twice the working image's side (60 vs 30) holds 4 of its pixels per working pixel; a map smaller
    than the working image never keeps a component below ``min_area_px`` of its own pixels."""

    def areas(**kwargs):
        return [r["area_px"] for r in lesion_table(_specks(), 0.5, **kwargs)]

    assert areas(min_area_px=1, working_size=30) == [15, 4]  # 4 map px: 1 working px
    assert areas(min_area_px=2, working_size=30) == [15]  # 8 map px
    assert areas(min_area_px=1, working_size=15) == []  # 16 map px
    assert areas(min_area_px=4, working_size=600) == [15, 4]  # 4 map px, not 0.04
    assert min_candidate_area_px((1024, 1024), None, 4.0, 16, working_size=512) == 64
    assert min_candidate_area_px((1024, 1024), (0.2, 0.2), 4.0, 16, working_size=512) == pytest.approx(100)
    for bad in ({"min_area_px": -1}, {"min_area_mm2": -1.0}, {"working_size": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            lesion_table(_specks(), 0.5, **bad)


def test_spacing_of_a_resized_metatensor_follows_its_affine():
    """The readers' ``pixel_spacing`` is the original one; after a resize the affine gives the new size."""
    meta = {
        "pixel_spacing": [0.1, 0.1],
        "original_affine": np.diag([0.1, 0.1, 1.0]),
        "affine": np.diag([0.2, 0.4, 1.0]),
    }
    resized = MetaTensor(torch.from_numpy(_specks())[None], meta=meta)
    assert pixel_spacing_of(resized) == pytest.approx((0.2, 0.4))
    assert lesion_table(resized, 0.5)[0]["area_mm2"] == pytest.approx(15 * 0.08)
    assert pixel_spacing_of(MetaTensor(torch.zeros(1, 4, 4), meta={"pixel_spacing": [0.1, 0.2]})) == (
        0.1,
        0.2,
    )
    assert all(math.isnan(v) for v in pixel_spacing_of(np.zeros((4, 4))))


def test_as_map_2d_old_name_still_works_with_a_deprecation_warning() -> None:
    from monai_mammo.metrics.lesions import as_map_2d

    with pytest.warns(DeprecationWarning, match="monai_mammo.utils.array_2d.as_2d"):
        assert as_map_2d(np.ones((1, 1, 3, 2)), "mask").shape == (3, 2)
