"""The documented compositions (docs/transforms.md): MONAI's RandAffined / Rand2DElasticd applied identically
to image, masks and boxes after the mammography steps, seeded, and inverted back to the original geometry.
"""

from __future__ import annotations

import numpy as np
import torch
from monai.apps.detection.transforms.dictionary import BoxToMaskd, MaskToBoxd
from monai.data import MetaTensor
from monai.transforms import Compose, DeleteItemsd, Invertd, Rand2DElasticd, RandAffined, Resized
from transform_helpers import synthetic_mammogram, to_numpy

from monai_mammo.transforms import (
    BreastMaskd,
    BreastPercentileScaled,
    CanonicalLateralityd,
    CropBreastd,
    RandDetectorNoised,
    RandVendorLookd,
)

KEYS = ["image", "label", "breast_mask"]
MODES = ["bilinear", "nearest", "nearest"]


def make_data():
    image, _ = synthetic_mammogram(shape=(256, 192), chest_wall="right", seed=4)
    label = np.zeros_like(image, dtype=np.uint8)
    label[0, 110:140, 130:160] = 1
    return {
        "image": MetaTensor(torch.from_numpy(image * 4000), meta={"laterality": "R"}),
        "label": MetaTensor(torch.from_numpy(label)),
        "boxes": np.array([[110.0, 130.0, 140.0, 160.0]], dtype=np.float32),
        "box_labels": np.array([1]),
    }


def preprocessing(extra_keys=(), between=()):
    keys = [*KEYS, *extra_keys]
    return [
        BreastMaskd("image"),
        CanonicalLateralityd(KEYS, box_keys="boxes"),
        CropBreastd(KEYS, box_keys="boxes"),
        *between,
        Resized(keys, spatial_size=(128, 96), mode=["area"] + ["nearest"] * (len(keys) - 1)),
        BreastPercentileScaled("image"),
    ]


def augmentation():
    return [
        RandVendorLookd("image", mask_key="breast_mask", prob=1.0),
        RandDetectorNoised("image", prob=1.0),
        RandAffined(KEYS, prob=1.0, rotate_range=0.2, scale_range=0.1, mode=MODES),
        Rand2DElasticd(KEYS, spacing=(20, 20), magnitude_range=(1, 2), prob=1.0, mode=MODES),
    ]


def test_affine_and_elastic_move_image_and_masks_together():
    data = make_data()
    pipeline = Compose(preprocessing() + augmentation()).set_random_state(0)
    out = pipeline(data)
    image, label, breast = (to_numpy(out[k])[0] for k in KEYS)
    assert image.shape == label.shape == breast.shape == (128, 96)
    assert label.sum() > 0 and (breast[label > 0] > 0).all()  # the lesion stays inside the breast
    # the breast mask follows the image: bright where the mask is, dark outside
    assert image[breast > 0].mean() > 0.2 > image[breast == 0].mean()
    again = Compose(preprocessing() + augmentation()).set_random_state(0)(make_data())
    np.testing.assert_array_equal(to_numpy(again["image"]), to_numpy(out["image"]))


def test_boxes_follow_random_affine_via_box_masks():
    """MONAI's detection recipe: boxes -> box masks -> resize and RandAffined with the image -> boxes."""
    data = make_data()
    keys = [*KEYS, "box_mask"]
    to_mask = BoxToMaskd("boxes", "box_mask", "box_labels", box_ref_image_keys="image", min_fg_label=0)
    pipeline = Compose(
        [
            *preprocessing(extra_keys=["box_mask"], between=[to_mask]),
            RandAffined(keys, prob=1.0, rotate_range=0.3, mode=[*MODES, "nearest"]),
            MaskToBoxd("boxes", "box_mask", "box_labels", min_fg_label=0),
            DeleteItemsd("box_mask"),
        ]
    ).set_random_state(1)
    out = pipeline(data)
    label = to_numpy(out["label"])[0]
    rows, cols = np.flatnonzero(label.any(1)), np.flatnonzero(label.any(0))
    r0, c0, r1, c1 = out["boxes"][0]
    # the rotated box encloses the rotated lesion (its own box, up to a pixel of resampling)
    assert r0 <= rows[0] + 1 and c0 <= cols[0] + 1 and r1 >= rows[-1] and c1 >= cols[-1]


def test_prediction_maps_back_to_the_original_image():
    """Heatmaps predicted on the canonical, cropped, resized image map back with Invertd."""
    data = make_data()
    pre = Compose(preprocessing())
    out = pre(data)
    out["pred"] = out["label"].float()
    back = Invertd("pred", pre, orig_keys="image", nearest_interp=False)(out)
    pred = to_numpy(back["pred"])[0]
    assert pred.shape == (256, 192)
    truth = to_numpy(data["label"])[0] > 0
    hit = (pred > 0.5) & truth
    assert hit.sum() / truth.sum() > 0.85 and ((pred > 0.5) & ~truth).sum() < 0.15 * truth.sum()
