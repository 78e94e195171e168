"""BreastPercentileScale(d), BreastZScore(d), masked_quantile: statistics taken inside the breast only."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import ScaleIntensityRangePercentiles
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import (
    BreastMask,
    BreastPercentileScale,
    BreastPercentileScaleD,
    BreastPercentileScaled,
    BreastPercentileScaleDict,
    BreastZScore,
    BreastZScoreD,
    BreastZScored,
    BreastZScoreDict,
    masked_quantile,
)


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).integers(0, 4096, (3, 50, 40)).astype(np.float32),
        np.random.default_rng(1).normal(size=(7, 13)).astype(np.float64),
        np.random.default_rng(2).integers(0, 60000, (20, 30)).astype(np.uint16),
        np.repeat(np.random.default_rng(3).random(5), 200),
    ],
)
def test_masked_quantile_equals_numpy(values):
    mask = np.random.default_rng(4).random(values.shape) > 0.5
    q = [0.0, 0.005, 0.25, 0.5, 0.995, 1.0]
    expected = np.percentile(values[mask].astype(np.float64), [100 * v for v in q])
    for x in (values, torch.as_tensor(values)):
        np.testing.assert_allclose(masked_quantile(x, q, mask).numpy(), expected, rtol=1e-6, atol=1e-6)
    assert float(masked_quantile(values, 0.3)) == pytest.approx(np.percentile(values, 30), rel=1e-6)
    assert masked_quantile(values, 0.3).shape == ()


def test_masked_quantile_errors():
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        masked_quantile(x, 1.5)
    with pytest.raises(ValueError, match="no value"):
        masked_quantile(x, 0.5, np.zeros_like(x))
    with pytest.raises(ValueError, match="does not match"):
        masked_quantile(x, 0.5, np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        masked_quantile(np.array([1.0, np.nan]), 0.5)
    with pytest.raises(TypeError, match="real"):
        masked_quantile(np.ones(3, dtype=bool), 0.5)


def image_and_mask():
    image, truth = synthetic_mammogram(shape=(160, 120), background=0.05, noise=0.01)
    return (image * 4000).astype(np.float32), truth.astype(np.uint8)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_percentiles_are_taken_inside_the_breast(kind):
    image, mask = image_and_mask()
    out = BreastPercentileScale(lower=1, upper=99)(
        as_type(image, kind, {"laterality": "L"}), as_type(mask, kind)
    )
    assert type(out) is type(as_type(image, kind))
    if kind == "metatensor":
        assert out.meta["laterality"] == "L"
    got = to_numpy(out)
    assert got.dtype == np.float32 and got.min() == 0.0 and got.max() == 1.0
    lo, hi = np.percentile(image[mask.astype(bool)], [1, 99])
    np.testing.assert_allclose(got, np.clip((image - lo) / (hi - lo), 0, 1), atol=1e-5)
    inside = got[mask.astype(bool)]
    assert abs((inside <= 0).mean() - 0.01) < 0.005 and abs((inside >= 1).mean() - 0.01) < 0.005


def test_full_mask_matches_monai_percentile_scaling():
    image, _ = image_and_mask()
    ours = to_numpy(BreastPercentileScale(0.5, 99.5)(image, np.ones_like(image, dtype=np.uint8)))
    monai = to_numpy(ScaleIntensityRangePercentiles(0.5, 99.5, 0.0, 1.0, clip=True)(image))
    np.testing.assert_allclose(ours, monai, atol=1e-5)


def test_percentile_options_and_computed_mask():
    image, mask = image_and_mask()
    out = to_numpy(BreastPercentileScale(b_min=-1, b_max=1, clip=False)(image, mask))
    assert out.min() < -1 and out.max() > 1
    auto = to_numpy(BreastPercentileScale()(image))  # mask computed with BreastMask
    with_mask = to_numpy(BreastPercentileScale()(image, BreastMask()(image)))
    np.testing.assert_array_equal(auto, with_mask)
    with pytest.warns(UserWarning, match="constant"):
        flat = BreastPercentileScale()(np.ones((1, 8, 8), dtype=np.float32), np.ones((1, 8, 8)))
    assert float(flat.max()) == 0.0


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_zscore_inside_breast(kind):
    image, mask = image_and_mask()
    out = to_numpy(BreastZScore()(as_type(image, kind), as_type(mask, kind)))
    inside = out[mask.astype(bool)]
    assert abs(inside.mean()) < 1e-4 and abs(inside.std() - 1) < 1e-4
    assert (out[~mask.astype(bool)] == 0).all()
    kept = to_numpy(BreastZScore(outside_value=None)(image, mask))
    m, s = image[mask.astype(bool)].mean(), image[mask.astype(bool)].std()
    np.testing.assert_allclose(kept, (image - m) / s, rtol=1e-4, atol=1e-4)


def test_errors():
    image, mask = image_and_mask()
    with pytest.raises(ValueError, match="lower < upper"):
        BreastPercentileScale(lower=90, upper=10)
    for t in (BreastPercentileScale(), BreastZScore()):
        with pytest.raises(ValueError, match="empty"):
            t(image, np.zeros_like(mask))
        with pytest.raises(ValueError, match="does not match"):
            t(image, mask[:, :10])
        with pytest.raises(ValueError, match="channel-first"):
            t(image[0], mask)
        with pytest.raises(TypeError, match="real numbers"):
            t(image.astype(np.complex64), mask)


def test_dicts_read_the_mask_key():
    image, mask = image_and_mask()
    data = {"image": MetaTensor(torch.from_numpy(image)), "breast_mask": MetaTensor(torch.from_numpy(mask))}
    scaled = BreastPercentileScaled("image")(data)
    np.testing.assert_array_equal(to_numpy(scaled["image"]), to_numpy(BreastPercentileScale()(image, mask)))
    z = BreastZScored("image")(data)
    np.testing.assert_array_equal(to_numpy(z["image"]), to_numpy(BreastZScore()(image, mask)))
    computed = BreastPercentileScaled("image", mask_key=None)({"image": image})
    assert computed["image"].max() == 1.0
    for cls in (BreastPercentileScaled, BreastZScored):
        with pytest.raises(KeyError, match="Run BreastMaskd first"):
            cls("image")({"image": image})
        with pytest.raises(ValueError, match="key 'image'"):
            cls("image")({"image": image[0], "breast_mask": mask})
    assert (
        BreastPercentileScaleD is BreastPercentileScaled
        and BreastPercentileScaleDict is BreastPercentileScaled
    )
    assert BreastZScoreD is BreastZScored and BreastZScoreDict is BreastZScored


def test_real_cbis_scaling_ignores_the_background(cbis_cases):
    """On a real full-field image the breast-only 0.5th percentile is far above the (zero) background."""
    case = cbis_cases[0]
    image = np.ascontiguousarray(case.image[:, ::4, ::4])
    mask = BreastMask()(image)
    lo_breast = float(masked_quantile(image, 0.005, mask))
    lo_all = float(masked_quantile(image, 0.005))
    assert lo_all == 0.0 and lo_breast > 1000.0
    out = to_numpy(BreastPercentileScale()(image, mask))
    assert np.median(out[to_numpy(mask).astype(bool)]) > 0.2
