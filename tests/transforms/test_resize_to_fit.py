"""ResizeToFit / ResizeToFitd: fit inside a fixed size keeping the aspect ratio, pad at the end, invert.

The real-data test runs the classification bundle's chain (canonical side, breast crop, fit) on the real
mammograms and checks that the breast keeps its proportions and that a heat map made on the network input
lands back inside the breast of the original image.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Invertd
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import (
    BreastMaskd,
    CanonicalLateralityd,
    CropBreastd,
    ResizeToFit,
    ResizeToFitD,
    ResizeToFitd,
    ResizeToFitDict,
)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
@pytest.mark.parametrize(
    ("shape", "fitted"),
    [((300, 150), (128, 64)), ((100, 200), (48, 96)), ((64, 96), (64, 96)), ((32, 24), (128, 96))],
)
def test_fit_keeps_the_aspect_ratio_and_pads_the_bottom_and_right(kind, shape, fitted):
    image = np.random.default_rng(0).uniform(0.5, 1.0, (1, *shape)).astype(np.float32)
    fit = ResizeToFit((128, 96))
    out = fit(as_type(image, kind))
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (1, 128, 96)
    assert fit.fitted_size(shape) == fitted
    data = to_numpy(out)[0]
    assert data[: fitted[0], : fitted[1]].min() > 0.4  # the image fills the top-left corner
    assert np.all(data[fitted[0] :, :] == 0) and np.all(data[:, fitted[1] :] == 0)  # padding
    assert abs(fitted[0] / fitted[1] - shape[0] / shape[1]) < 0.05 * shape[0] / shape[1]


def test_inverse_restores_the_shape_affine_and_content():
    image, _ = synthetic_mammogram(shape=(240, 130))
    x = MetaTensor(torch.from_numpy(image.copy()))
    fit = ResizeToFit((128, 96), mode="bilinear", anti_aliasing=False)
    out = fit(x)
    assert out.applied_operations[-1]["class"] == "ResizeToFit"
    assert not torch.allclose(out.affine, x.affine)  # the scaling is in the affine
    back = fit.inverse(out)
    assert tuple(back.shape) == (1, 240, 130)
    assert back.applied_operations == []
    assert torch.allclose(back.affine, x.affine, atol=1e-6)
    # a smooth image survives a down-and-up resampling closely
    assert float(torch.mean(torch.abs(back.as_tensor() - x.as_tensor()))) < 0.02


def test_nearest_mode_keeps_mask_values_and_dtype():
    mask = np.zeros((1, 90, 60), dtype=np.uint8)
    mask[0, 30:60, 10:40] = 1
    out = ResizeToFit((64, 64), mode="nearest", dtype=None)(torch.from_numpy(mask))
    assert set(np.unique(to_numpy(out))) <= {0, 1}


@pytest.mark.parametrize("bad", [(0, 10), (10, -1), (1, 2, 3)])
def test_bad_spatial_size_is_rejected(bad):
    with pytest.raises(ValueError, match="spatial_size"):
        ResizeToFit(bad)


def test_non_2d_input_is_rejected():
    with pytest.raises(ValueError, match=r"\(1, H, W\)"):
        ResizeToFit((32, 32))(torch.zeros(32, 32))


def test_dict_version_aliases_keys_and_invertd():
    assert ResizeToFitD is ResizeToFitd and ResizeToFitDict is ResizeToFitd
    image, truth = synthetic_mammogram(shape=(200, 120))
    data = {
        "image": MetaTensor(torch.from_numpy(image)),
        "label": MetaTensor(torch.from_numpy(truth.astype(np.float32))),
    }
    chain = Compose([ResizeToFitd(["image", "label"], (64, 64), mode=["bilinear", "nearest"])])
    out = chain(data)
    assert tuple(out["image"].shape) == tuple(out["label"].shape) == (1, 64, 64)
    out["heat"] = MetaTensor(out["label"].as_tensor().clone())
    inv = Invertd(keys=["heat", "image"], transform=chain, orig_keys="image", nearest_interp=True)(out)
    assert tuple(inv["heat"].shape) == (1, 200, 120)
    overlap = (to_numpy(inv["heat"])[0] > 0.5) & truth[0]
    assert overlap.sum() / truth[0].sum() > 0.9


def test_dict_version_rejects_keys_of_different_shapes():
    data = {"image": torch.zeros(1, 40, 30), "label": torch.zeros(1, 40, 31)}
    with pytest.raises(ValueError, match="differs"):
        ResizeToFitd(["image", "label"], (32, 32))(data)


def test_real_breast_crops_keep_their_proportions_and_invert_into_the_breast(mias_cases, cbis_cases):
    chain = Compose(
        [
            CanonicalLateralityd("image"),
            BreastMaskd("image"),
            CropBreastd(["image", "breast_mask"], margin=8),
            ResizeToFitd(["image", "breast_mask"], (512, 416), mode=["bilinear", "nearest"]),
        ]
    )
    for case in [*mias_cases[:40:8], *cbis_cases[:2]]:
        out = chain({"image": case.meta_tensor()})
        crop_shape = out["image"].applied_operations[-1]["orig_size"]
        fitted = out["image"].applied_operations[-1]["extra_info"]["fitted_size"]
        assert tuple(out["image"].shape) == (1, 512, 416)
        assert (
            abs(fitted[0] / fitted[1] - crop_shape[0] / crop_shape[1]) < 0.02 * crop_shape[0] / crop_shape[1]
        )
        # a "heat map" equal to the breast mask on the network input maps back onto the original breast
        out["heat"] = MetaTensor(out["breast_mask"].as_tensor().float())
        inv = Invertd(keys=["heat"], transform=chain, orig_keys="image", nearest_interp=False)(out)
        heat = to_numpy(inv["heat"])[0] > 0.5
        assert heat.shape == case.image.shape[1:]
        original = to_numpy(chain.transforms[1].masker(case.meta_tensor()))[0] > 0
        assert (heat & original).sum() / original.sum() > 0.95, case.name
        assert (heat & ~original).sum() / heat.sum() < 0.05, case.name


@pytest.mark.parametrize("box_mode", [None, "ccwh"])
def test_dict_version_scales_boxes_and_scales_them_back(box_mode):
    from monai.data.box_utils import convert_box_mode

    label = np.zeros((1, 300, 150), dtype=np.float32)
    label[0, 60:120, 30:90] = 1  # rows 60..120, columns 30..90
    data = {"image": MetaTensor(torch.rand(1, 300, 150)), "label": MetaTensor(torch.from_numpy(label))}
    boxes = np.array([[60.0, 30.0, 120.0, 90.0]], dtype=np.float32)  # [row0, col0, row1, col1]
    data["boxes"] = convert_box_mode(boxes, src_mode="xyxy", dst_mode=box_mode) if box_mode else boxes
    t = ResizeToFitd(
        ["image", "label"], (128, 96), mode=["bilinear", "nearest"], box_keys="boxes", box_mode=box_mode
    )
    out = t(data)
    got = convert_box_mode(out["boxes"], src_mode=box_mode, dst_mode="xyxy") if box_mode else out["boxes"]
    np.testing.assert_allclose(got, [[25.6, 12.8, 51.2, 38.4]], rtol=1e-6)  # fitted (128, 64): x 128/300
    rows, cols = np.nonzero(to_numpy(out["label"])[0])
    np.testing.assert_allclose([rows.min(), cols.min(), rows.max() + 1, cols.max() + 1], got[0], atol=1)
    back = t.inverse(out)
    np.testing.assert_allclose(back["boxes"], data["boxes"], rtol=1e-6)
    assert tuple(back["image"].shape) == (1, 300, 150)
    with pytest.raises(KeyError, match="ResizeToFitd: key 'boxes'"):
        t({"image": MetaTensor(torch.rand(1, 30, 20)), "label": MetaTensor(torch.rand(1, 30, 20))})
