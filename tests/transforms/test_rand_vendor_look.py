"""RandVendorLook / RandVendorLookd: each step's formula, seeded replay, masks, one draw for all keys."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import GaussianSmooth
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import RandVendorLook, RandVendorLookD, RandVendorLookd, RandVendorLookDict


def unit_image(seed=0):
    image, truth = synthetic_mammogram(shape=(96, 72), seed=seed)
    return np.clip(image, 0, 1).astype(np.float32), truth


ONLY = {"gamma_prob": 0.0, "sigmoid_prob": 0.0, "contrast_prob": 0.0, "unsharp_prob": 0.0}


def only(step: str, **kwargs) -> RandVendorLook:
    probs = dict(ONLY, **{f"{step}_prob": 1.0})
    return RandVendorLook(prob=1.0, **probs, **kwargs)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_gamma(kind):
    image, _ = unit_image()
    t = only("gamma").set_random_state(0)
    out = t(as_type(image, kind, {"laterality": "L"}))
    assert type(out) is type(as_type(image, kind))
    if kind == "metatensor":
        assert out.meta["laterality"] == "L"
    g = t.params["gamma"]
    assert 0.7 <= g <= 1.5
    np.testing.assert_allclose(to_numpy(out), image**g, rtol=1e-5, atol=1e-6)


def test_sigmoid_lut_keeps_ends_and_order():
    x = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, 1, 101)
    t = only("sigmoid").set_random_state(1)
    out = to_numpy(t(x))[0, 0]
    c, w = t.params["sigmoid"]
    s = 1 / (1 + np.exp(-4 * (x[0, 0] - c) / w))
    s0, s1 = 1 / (1 + math.exp(4 * c / w)), 1 / (1 + math.exp(-4 * (1 - c) / w))
    np.testing.assert_allclose(out, (s - s0) / (s1 - s0), atol=1e-5)
    assert out[0] == pytest.approx(0.0, abs=1e-6) and out[-1] == pytest.approx(1.0, abs=1e-6)
    assert (np.diff(out) > 0).all()


def test_contrast_around_mask_mean_and_mask_keeps_background():
    image, truth = unit_image()
    t = only("contrast", clip=False).set_random_state(2)
    out = to_numpy(t(image, truth.astype(np.uint8)))
    f = t.params["contrast"]
    m = image[truth].mean()
    np.testing.assert_allclose(out[truth], m + f * (image[truth] - m), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[~truth], image[~truth])


def test_unsharp_masking():
    image, _ = unit_image()
    t = only("unsharp", clip=False).set_random_state(3)
    out = to_numpy(t(image))
    sigma, amount = t.params["unsharp"]
    blurred = to_numpy(GaussianSmooth(sigma=sigma)(torch.from_numpy(image)))
    np.testing.assert_allclose(out, image + amount * (image - blurred), atol=1e-5)


def test_every_step_keeps_the_metadata():
    # unsharp masking once returned GaussianSmooth's fresh MetaTensor: a 2D image's (3, 3) affine became the
    # default (4, 4) one and its file name was lost, so a batch of images augmented or not could not collate
    image, _ = unit_image()
    img = MetaTensor(torch.from_numpy(image), affine=torch.eye(3), meta={"filename_or_obj": "a.png"})
    kwargs = {"prob": 1.0, "gamma_prob": 1.0, "sigmoid_prob": 1.0, "contrast_prob": 1.0, "unsharp_prob": 1.0}
    out = RandVendorLook(**kwargs).set_random_state(5)(img)
    assert isinstance(out, MetaTensor)
    assert out.affine.shape == (3, 3)
    assert out.meta["filename_or_obj"] == "a.png"


def test_seeded_replay_and_prob():
    image, _ = unit_image()
    kwargs = {"prob": 1.0, "gamma_prob": 1.0, "sigmoid_prob": 1.0, "contrast_prob": 1.0, "unsharp_prob": 1.0}
    a = to_numpy(RandVendorLook(**kwargs).set_random_state(7)(image))
    b = to_numpy(RandVendorLook(**kwargs).set_random_state(7)(image))
    c = to_numpy(RandVendorLook(**kwargs).set_random_state(8)(image))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 0.0 <= a.min() and a.max() <= 1.0
    same = RandVendorLook(prob=0.0)
    assert same(image) is image


def test_errors():
    with pytest.raises(ValueError, match="gamma_range"):
        RandVendorLook(gamma_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="sigmoid_center_range"):
        RandVendorLook(sigmoid_center_range=(0.6, 0.4))
    with pytest.raises(ValueError, match="channel-first"):
        RandVendorLook(prob=1.0)(np.zeros((8, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="real numbers"):
        RandVendorLook(prob=1.0)(np.zeros((1, 8, 8), dtype=bool))


def test_dict_one_draw_for_all_keys_and_replay():
    image, truth = unit_image()
    kwargs = {"prob": 1.0, "gamma_prob": 1.0, "contrast_prob": 1.0}
    data = {
        "image": MetaTensor(torch.from_numpy(image)),
        "copy": image.copy(),
        "breast_mask": truth.astype(np.uint8),
    }
    t = RandVendorLookd(["image", "copy"], mask_key="breast_mask", **kwargs).set_random_state(5)
    out = t(data)
    np.testing.assert_allclose(to_numpy(out["image"]), to_numpy(out["copy"]), atol=1e-6)
    np.testing.assert_array_equal(to_numpy(out["image"])[~truth], image[~truth])
    again = RandVendorLookd(["image", "copy"], mask_key="breast_mask", **kwargs).set_random_state(5)(data)
    np.testing.assert_array_equal(to_numpy(again["image"]), to_numpy(out["image"]))
    skipped = RandVendorLookd("image", prob=0.0)(data)
    assert skipped["image"] is data["image"]
    with pytest.raises(KeyError, match="breast_mask"):
        RandVendorLookd("image", mask_key="breast_mask", prob=1.0)({"image": image})
    assert RandVendorLookD is RandVendorLookd and RandVendorLookDict is RandVendorLookd
