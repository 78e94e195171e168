"""Clahe / Clahed: scikit-image CLAHE per channel, [0, 1] in and out, optional breast mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from skimage.exposure import equalize_adapthist
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import Clahe, ClaheD, Clahed, ClaheDict


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_equals_scikit_image_and_keeps_type(kind):
    image, _ = synthetic_mammogram(shape=(128, 96))
    image = np.clip(image, 0, 1)
    out = Clahe(clip_limit=0.02)(as_type(image, kind, {"laterality": "L"}))
    assert type(out) is type(as_type(image, kind))
    if kind == "metatensor":
        assert out.meta["laterality"] == "L"
    expected = equalize_adapthist(image[0], clip_limit=0.02).astype(np.float32)
    np.testing.assert_allclose(to_numpy(out)[0], expected, atol=1e-6)
    assert to_numpy(out).dtype == np.float32


def test_local_contrast_rises_on_a_real_mammogram(mias_cases):
    image = mias_cases[1].image[:, ::2, ::2] / 255.0
    out = to_numpy(Clahe()(image))
    assert 0.0 <= out.min() and out.max() <= 1.0
    tiles = [(slice(200, 260), slice(100, 160)), (slice(300, 360), slice(150, 210))]
    for rows, cols in tiles:  # inside the breast
        assert out[0, rows, cols].std() > image[0, rows, cols].std()


def test_mask_sets_the_outside():
    image, truth = synthetic_mammogram(shape=(128, 96))
    image = np.clip(image, 0, 1)
    out = to_numpy(Clahe(outside_value=0.0)(image, truth.astype(np.uint8)))
    assert (out[~truth] == 0).all()
    kept = to_numpy(Clahe(outside_value=None)(image, truth.astype(np.uint8)))
    assert (kept[~truth] != 0).any()


def test_errors():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Clahe()(np.full((1, 16, 16), 200.0, dtype=np.float32))
    with pytest.raises(ValueError, match="clip_limit"):
        Clahe(clip_limit=0)
    with pytest.raises(ValueError, match="channel-first"):
        Clahe()(np.zeros((16, 16), dtype=np.float32))


def test_dict_with_and_without_mask_key():
    image, truth = synthetic_mammogram(shape=(96, 64))
    image = np.clip(image, 0, 1)
    data = {"image": MetaTensor(torch.from_numpy(image)), "breast_mask": truth.astype(np.uint8)}
    out = Clahed("image", mask_key="breast_mask")(data)
    assert (to_numpy(out["image"])[~truth] == 0).all()
    plain = Clahed("image")({"image": image})
    np.testing.assert_allclose(to_numpy(plain["image"]), to_numpy(Clahe()(image)))
    with pytest.raises(KeyError, match="breast_mask"):
        Clahed("image", mask_key="breast_mask")({"image": image})
    assert ClaheD is Clahed and ClaheDict is Clahed
