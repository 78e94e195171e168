"""CropBreast / CropBreastd: crop to the breast box + margin, exact inverse, boxes, and the real-data figures.

The mini-MIAS test is the acceptance figure of the crop: every annotated lesion centre of the set must be
inside the crop, and most of the background must go.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Invertd
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import (
    BreastMask,
    BreastMaskd,
    CanonicalLateralityd,
    CropBreast,
    CropBreastD,
    CropBreastd,
    CropBreastDict,
)


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


@pytest.mark.parametrize("kind", ARRAY_TYPES)
@pytest.mark.parametrize("margin", [0, 5])
def test_crop_is_mask_box_plus_margin_and_inverts_exactly(kind, margin):
    image, truth = synthetic_mammogram(shape=(200, 160))
    mask = truth.astype(np.uint8)
    r0, c0, r1, c1 = box_of(truth[0])
    crop = CropBreast(margin=margin)
    out = crop(as_type(image, kind), as_type(mask, kind))
    assert isinstance(out, torch.Tensor)
    e = (max(r0 - margin, 0), max(c0 - margin, 0), min(r1 + margin, 200), min(c1 + margin, 160))
    np.testing.assert_array_equal(to_numpy(out), image[:, e[0] : e[2], e[1] : e[3]])
    if isinstance(out, MetaTensor):
        back = crop.inverse(out)
        assert back.shape == image.shape and back.applied_operations == []
        expected = np.zeros_like(image)
        expected[:, e[0] : e[2], e[1] : e[3]] = image[:, e[0] : e[2], e[1] : e[3]]
        np.testing.assert_array_equal(to_numpy(back), expected)


def test_array_computes_mask_when_none_given_and_k_divisible():
    image, truth = synthetic_mammogram(shape=(200, 160))
    out = CropBreast(margin=0, k_divisible=16)(image)
    assert out.shape[1] % 16 == 0 and out.shape[2] % 16 == 0
    # the computed mask's box is inside the (k-divisible) crop
    assert out.shape[2] >= box_of(truth[0])[3] - box_of(truth[0])[1]


def test_empty_mask_keeps_the_whole_image_with_a_warning():
    image, _ = synthetic_mammogram(shape=(64, 48))
    with pytest.warns(UserWarning, match="empty"):
        out = CropBreast()(image, np.zeros((1, 64, 48), dtype=np.uint8))
    assert out.shape == image.shape


def test_array_errors():
    image, truth = synthetic_mammogram(shape=(64, 48))
    with pytest.raises(ValueError, match="does not match"):
        CropBreast()(image, np.ones((1, 32, 48), dtype=np.uint8))
    with pytest.raises(ValueError, match="channel-first"):
        CropBreast()(image[0], truth)


def make_data(seed=0):
    image, truth = synthetic_mammogram(shape=(240, 180), chest_wall="right", seed=seed)
    label = np.zeros_like(image, dtype=np.uint8)
    label[0, 90:120, 120:150] = 1
    data = {
        "image": MetaTensor(torch.from_numpy(image), meta={"laterality": "R"}),
        "label": MetaTensor(torch.from_numpy(label)),
        "boxes": torch.tensor([[90.0, 120.0, 120.0, 150.0]]),
    }
    return data, image, label


def test_dict_crops_all_keys_moves_boxes_and_inverts_to_original_geometry():
    data, image, label = make_data()
    pre = Compose(
        [
            BreastMaskd("image"),
            CanonicalLateralityd(["image", "label", "breast_mask"], box_keys="boxes"),
            CropBreastd(["image", "label", "breast_mask"], box_keys="boxes", start_coord_key="crop_start"),
        ]
    )
    out = pre(data)
    assert out["image"].shape == out["label"].shape == out["breast_mask"].shape
    assert out["image"].shape[-1] < image.shape[-1]
    assert [op["class"] for op in out["label"].applied_operations] == ["CanonicalLaterality", "CropBreast"]
    r0, c0, r1, c1 = out["boxes"][0].round().int().tolist()
    lab = to_numpy(out["label"])[0]
    assert lab[r0:r1, c0:c1].all() and lab.sum() == (r1 - r0) * (c1 - c0)
    back = pre.inverse({k: out[k] for k in ("image", "label", "breast_mask", "boxes")})
    assert back["image"].shape == image.shape
    np.testing.assert_array_equal(to_numpy(back["label"]), label)  # pixel-exact original geometry
    torch.testing.assert_close(back["boxes"], data["boxes"])
    m = to_numpy(back["breast_mask"]).astype(bool)
    np.testing.assert_array_equal(to_numpy(back["image"])[m], image[m])
    assert CropBreastD is CropBreastd and CropBreastDict is CropBreastd


def test_invertd_maps_prediction_back_through_flip_and_crop():
    data, image, label = make_data(seed=1)
    flip = CanonicalLateralityd(["image", "label", "breast_mask"])
    pre = Compose([BreastMaskd("image"), flip, CropBreastd(["image", "label"])])
    out = pre(data)
    out["pred"] = out["label"].float() * 0.9
    inv = Invertd(keys="pred", transform=pre, orig_keys="image", nearest_interp=False)(out)
    assert inv["pred"].shape == image.shape
    np.testing.assert_array_equal((to_numpy(inv["pred"]) > 0.5).astype(np.uint8), label)


def test_dict_refuses_a_mask_that_missed_a_flip():
    data, *_ = make_data()
    out = Compose([BreastMaskd("image"), CanonicalLateralityd(["image", "label"])])(data)
    with pytest.raises(ValueError, match="earlier spatial transforms"):
        CropBreastd(["image", "label"])(out)


def test_dict_errors():
    data, *_ = make_data()
    with pytest.raises(KeyError, match="Run BreastMaskd first"):
        CropBreastd(["image"])(data)
    data["breast_mask"] = BreastMask()(data["image"])
    data["small"] = np.zeros((1, 10, 10), dtype=np.float32)
    with pytest.raises(ValueError, match="'small'"):
        CropBreastd(["image", "small"])(data)


def crop_figures(cases, margin=0, step=1):
    """Fraction of lesion centres inside the crop, and of image area discarded, over ``cases``.

    ``step`` > 1 subsamples each image by ``step`` (and divides the lesion coordinates) for speed.
    """
    inside = total = 0
    discarded, missed = [], []
    for case in cases:
        image = case.image
        if step > 1:
            image = np.ascontiguousarray(image[:, ::step, ::step])
        mask = BreastMask()(image)
        start, end = CropBreast(margin=margin).compute_bounding_box(mask)
        for row, col in case.lesions:
            total += 1
            r, c = row // step, col // step
            ok = start[0] <= r < end[0] and start[1] <= c < end[1]
            inside += ok
            if not ok:
                missed.append((case.name, row, col))
        discarded.append(1.0 - float(np.prod(end - start)) / float(np.prod(image.shape[1:])))
    return inside, total, float(np.mean(discarded)), missed


def test_mini_mias_every_lesion_centre_inside_the_crop(mias_cases):
    """All 216 mini-MIAS images (at 512x512): every annotated lesion centre inside the crop (margin 0)."""
    inside, total, discarded, missed = crop_figures(mias_cases, margin=0, step=2)
    assert total >= 80
    assert inside == total, missed
    assert discarded > 0.45  # measured 0.53: about half of every film is background, labels or padding


def test_cbis_ddsm_crop_discards_background(cbis_cases):
    for case in cbis_cases:
        mask = BreastMask()(case.image)
        start, end = CropBreast(margin=16).compute_bounding_box(mask)
        kept = float(np.prod(end - start)) / float(np.prod(case.image.shape[1:]))
        assert kept < 0.6, case.name  # measured 0.40-0.51


def test_cdd_cesm_crop_keeps_every_lesion_pixel(cesm_cases):
    for case in cesm_cases:
        mask = BreastMask()(case.image)
        cropped = CropBreast()(case.lesion_mask.astype(np.uint8), mask)  # default margin
        assert int(to_numpy(cropped).sum()) == int(case.lesion_mask.sum()), case.name
