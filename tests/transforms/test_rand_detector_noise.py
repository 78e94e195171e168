"""RandDetectorNoise(d): Poisson-Gaussian statistics, seeded replay, one draw for all keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from transform_helpers import ARRAY_TYPES, as_type, to_numpy

from monai_mammo.transforms import (
    RandDetectorNoise,
    RandDetectorNoiseD,
    RandDetectorNoised,
    RandDetectorNoiseDict,
)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
@pytest.mark.parametrize("level", [0.2, 0.7])
def test_noise_variance_follows_the_signal(kind, level):
    image = np.full((1, 256, 256), level, dtype=np.float32)
    t = RandDetectorNoise(prob=1.0, gain_range=(2e-3, 2e-3), sigma_range=(0.01, 0.01), clip=False)
    out = t.set_random_state(0)(as_type(image, kind, {"laterality": "L"}))
    assert type(out) is type(as_type(image, kind))
    if kind == "metatensor":
        assert out.meta["laterality"] == "L"
    noise = to_numpy(out) - image
    expected_std = np.sqrt(2e-3 * level + 0.01**2)
    assert abs(noise.mean()) < 3 * expected_std / 256
    assert noise.std() == pytest.approx(expected_std, rel=0.02)


def test_exact_poisson_mean_and_variance():
    image = np.full((1, 256, 256), 0.5, dtype=np.float32)
    t = RandDetectorNoise(
        prob=1.0, gain_range=(1e-3, 1e-3), sigma_range=(0.0, 0.0), exact_poisson=True, clip=False
    )
    out = to_numpy(t.set_random_state(1)(image))
    assert out.mean() == pytest.approx(0.5, abs=1e-3)
    assert out.std() == pytest.approx(np.sqrt(1e-3 * 0.5), rel=0.03)


def test_seeded_replay_prob_and_ranges():
    image = np.random.default_rng(0).random((1, 64, 64)).astype(np.float32)
    a = to_numpy(RandDetectorNoise(prob=1.0).set_random_state(3)(image))
    b = to_numpy(RandDetectorNoise(prob=1.0).set_random_state(3)(image))
    c = to_numpy(RandDetectorNoise(prob=1.0).set_random_state(4)(image))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 0.0 <= a.min() and a.max() <= 1.0
    t = RandDetectorNoise(prob=1.0, gain_range=(1e-4, 2e-3), sigma_range=(0.0, 0.01)).set_random_state(0)
    for _ in range(20):
        t.randomize()
        assert 1e-4 <= t.gain <= 2e-3 and 0.0 <= t.sigma <= 0.01
    assert RandDetectorNoise(prob=0.0)(image) is image


def test_errors():
    with pytest.raises(ValueError, match="gain_range"):
        RandDetectorNoise(gain_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="sigma_range"):
        RandDetectorNoise(sigma_range=(0.2, 0.1))
    with pytest.raises(ValueError, match="channel-first"):
        RandDetectorNoise(prob=1.0)(np.zeros((8, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="real numbers"):
        RandDetectorNoise(prob=1.0)(np.zeros((1, 8, 8), dtype=np.complex64))


def test_dict_same_noise_for_all_keys():
    image = np.random.default_rng(1).random((1, 32, 32)).astype(np.float32)
    data = {"image": MetaTensor(torch.from_numpy(image)), "twin": image.copy()}
    out = RandDetectorNoised(["image", "twin"], prob=1.0).set_random_state(9)(data)
    np.testing.assert_array_equal(to_numpy(out["image"]), to_numpy(out["twin"]))
    again = RandDetectorNoised(["image", "twin"], prob=1.0).set_random_state(9)(data)
    np.testing.assert_array_equal(to_numpy(again["image"]), to_numpy(out["image"]))
    assert RandDetectorNoised("image", prob=0.0)(data)["image"] is data["image"]
    with pytest.raises(KeyError):
        RandDetectorNoised("image", prob=1.0)({"twin": image})
    assert RandDetectorNoiseD is RandDetectorNoised and RandDetectorNoiseDict is RandDetectorNoised
