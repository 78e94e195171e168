"""ResizeBoxd (boxes follow MONAI's Resized, and back) and scale_boxes, its maths (MONAI's resize_boxes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Flipd, Invertd, Resized
from transform_helpers import to_numpy

from monai_mammo.transforms import ResizeBoxD, ResizeBoxd, ResizeBoxDict, scale_boxes


def _data():
    label = np.zeros((1, 64, 48), dtype=np.float32)
    label[0, 8:24, 12:36] = 1  # rows 8..24, columns 12..36
    return {
        "image": MetaTensor(torch.rand(1, 64, 48)),
        "label": MetaTensor(torch.from_numpy(label)),
        "boxes": torch.tensor([[8.0, 12.0, 24.0, 36.0]]),
    }


@pytest.mark.parametrize(
    ("spatial_size", "size_mode", "expected"),
    [
        ((32, 96), "all", [4.0, 24.0, 12.0, 72.0]),  # rows halved, columns doubled
        (128, "longest", [16.0, 24.0, 48.0, 72.0]),  # (64, 48) -> (128, 96)
    ],
)
def test_boxes_follow_resized_and_invert(spatial_size, size_mode, expected):
    assert ResizeBoxD is ResizeBoxd and ResizeBoxDict is ResizeBoxd
    keys = ["image", "label"]
    chain = Compose(
        [
            Resized(keys, spatial_size=spatial_size, size_mode=size_mode, mode=["bilinear", "nearest"]),
            ResizeBoxd("boxes", box_ref_image_key="image"),
        ]
    )
    data = _data()
    out = chain(data)
    np.testing.assert_allclose(out["boxes"].numpy(), [expected])
    rows, cols = np.nonzero(to_numpy(out["label"])[0])
    assert [rows.min(), cols.min(), rows.max() + 1, cols.max() + 1] == expected  # the box frames the mask
    back = chain.inverse(out)
    np.testing.assert_allclose(back["boxes"].numpy(), data["boxes"].numpy())
    # Invertd of a prediction: the boxes are not in its dictionary, ResizeBoxd lets it through
    out = chain(_data())
    out["pred"] = MetaTensor(out["label"].as_tensor().clone())
    inv = Invertd("pred", chain, orig_keys="label", nearest_interp=True)(out)
    assert tuple(inv["pred"].shape) == (1, 64, 48)


def test_needs_the_resize_record_of_the_reference_image():
    data = _data()
    with pytest.raises(ValueError, match="ResizeBoxd: the last operation on 'image' is none"):
        ResizeBoxd("boxes")(data)
    flipped = Flipd("image", spatial_axis=1)(data)
    with pytest.raises(ValueError, match="is Flip, not a Resize; put ResizeBoxd right after Resized"):
        ResizeBoxd("boxes")(flipped)
    with pytest.raises(KeyError, match="ResizeBoxd: key 'scan' is missing"):
        ResizeBoxd("boxes", box_ref_image_key="scan")(data)
    with pytest.raises(
        ValueError, match=r"ResizeBoxd, key 'boxes': scale_boxes: boxes must have shape \(N, 4\)"
    ):
        ResizeBoxd("boxes")(dict(Resized("image", (32, 24))(data), boxes=torch.zeros(1, 3)))


def test_scale_boxes_keeps_type_and_mode():
    boxes = np.array([[2, 4, 6, 8]], dtype=np.int64)  # integer boxes are scaled in float
    np.testing.assert_allclose(scale_boxes(boxes, (10, 20), (5, 40)), [[1.0, 8.0, 3.0, 16.0]])
    ccwh = torch.tensor([[4.0, 6.0, 4.0, 4.0]])  # centre (4, 6), size 4 x 4 = xyxy [2, 4, 6, 8]
    out = scale_boxes(ccwh, (10, 20), (5, 40), box_mode="ccwh")
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), [[2.0, 12.0, 2.0, 8.0]])
    with pytest.raises(ValueError, match="scale_boxes: dst_size must be two positive sizes"):
        scale_boxes(boxes, (10, 20), (0, 4))
