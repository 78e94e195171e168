"""BoxMask: the ellipse inscribed in each box, in pixel-corner coordinates, scaled with the image."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from scipy import ndimage

from monai_mammo.data.datasets import BoxMask
from monai_mammo.data.datasets.masks import resize_nearest


def _extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def test_ellipse_fills_the_box_centre_not_its_corners():
    mask, notes = BoxMask(((2, 4, 12, 8),)).render((12, 16))
    assert notes == [] and mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    # pixel corners: the box covers columns 2..11 and rows 4..7; the ellipse touches each side's middle
    assert _extent(mask) == (2, 4, 12, 8)
    assert mask[5, 2] == mask[6, 11] == mask[4, 7] == mask[7, 6] == 1
    assert mask[4, 2] == mask[4, 11] == mask[7, 2] == mask[7, 11] == 0  # the corners stay background
    assert mask.sum() == pytest.approx(np.pi * 5 * 2, rel=0.2)


def test_whole_image_box_and_several_boxes():
    mask, _ = BoxMask(((0, 0, 64, 48),)).render((48, 64))
    assert _extent(mask) == (0, 0, 64, 48) and mask[0, 0] == mask[47, 63] == 0
    assert mask.sum() == pytest.approx(np.pi * 32 * 24, rel=0.02)
    two, _ = BoxMask(((0, 0, 10, 10), (20.5, 20.5, 30.5, 30.5))).render((40, 40))
    one_a, _ = BoxMask(((0, 0, 10, 10),)).render((40, 40))
    one_b, _ = BoxMask(((20.5, 20.5, 30.5, 30.5),)).render((40, 40))
    np.testing.assert_array_equal(two, one_a | one_b)


def test_thin_swapped_and_outside_boxes_are_drawn_or_reported():
    mask, notes = BoxMask(((5.2, 3.0, 5.4, 3.1),)).render((8, 8))
    assert notes == [] and mask.sum() == 1 and mask[3, 5] == 1  # thinner than a pixel: its centre pixel
    swapped, notes = BoxMask(((12, 8, 2, 4),)).render((12, 16))
    np.testing.assert_array_equal(swapped, BoxMask(((2, 4, 12, 8),)).render((12, 16))[0])
    assert len(notes) == 1 and "swapped" in notes[0]
    empty, notes = BoxMask(((20, 20, 30, 30),)).render((12, 16))
    assert not empty.any() and "outside" in notes[0]


@pytest.mark.parametrize("factor", [2, 0.5])
def test_image_size_scales_the_boxes_to_the_shape_rendered(factor):
    box = (8.0, 12.0, 40.0, 28.0)
    source = (48, 64)
    shape = (int(48 * factor), int(64 * factor))
    scaled, _ = BoxMask((box,), image_size=source).render(shape)
    direct, _ = BoxMask((tuple(v * factor for v in box),)).render(shape)
    np.testing.assert_array_equal(scaled, direct)
    assert _extent(scaled) == tuple(int(v * factor) for v in box)
    # and it agrees with what the cache does (draw at the source size, resize with nearest neighbour)
    cached = resize_nearest(BoxMask((box,)).render(source)[0], shape)
    rim = ndimage.binary_dilation(scaled) & ~ndimage.binary_erosion(scaled)
    assert not (np.logical_xor(cached, scaled) & ~rim).any()  # they differ only on the outline
    # same shape as image_size: no scaling
    np.testing.assert_array_equal(
        BoxMask((box,), image_size=source).render(source)[0], BoxMask((box,)).render(source)[0]
    )


def test_picklable_and_described():
    spec = BoxMask(((1.5, 2, 3, 4),), image_size=(10, 20))
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert json.loads(json.dumps(spec.describe())) == {
        "kind": "box_ellipses",
        "boxes": [[1.5, 2, 3, 4]],
        "image_size": [10, 20],
    }
    assert BoxMask(((1.5, 2, 3, 4),)).describe()["image_size"] is None
