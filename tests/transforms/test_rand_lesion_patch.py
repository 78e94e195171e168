"""RandLesionPatchd: positives on lesions, negatives inside the breast only; seeded; patch positions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import RandCropByPosNegLabeld
from transform_helpers import synthetic_mammogram, to_numpy

from monai_mammo.transforms import RandLesionPatchD, RandLesionPatchd, RandLesionPatchDict

SIZE = (16, 16)


def make_data():
    image, truth = synthetic_mammogram(shape=(256, 192), seed=2)
    label = np.zeros_like(image, dtype=np.uint8)
    label[0, 120:140, 40:60] = 1
    return (
        {
            "image": MetaTensor(torch.from_numpy(image)),
            "label": MetaTensor(torch.from_numpy(label)),
            "breast_mask": MetaTensor(torch.from_numpy(truth.astype(np.uint8))),
        },
        truth[0],
        label[0].astype(bool),
    )


def centres(patches):
    """Patch centres (row, col) from each patch's crop record."""
    out = []
    for p in patches:
        record = p["image"].applied_operations[-1]["extra_info"]  # MONAI nests the SpatialCrop record
        before_r, _, before_c, _ = record["extra_info"]["cropped"]
        out.append((before_r + SIZE[0] // 2, before_c + SIZE[1] // 2))
    return out


def test_negatives_fall_inside_the_breast_only():
    data, truth, label = make_data()
    t = RandLesionPatchd(["image", "label"], SIZE, pos=0.0, neg=1.0, num_samples=40).set_random_state(0)
    patches = t(data)
    assert len(patches) == 40 and all(p["image"].shape == (1, *SIZE) for p in patches)
    for r, c in centres(patches):
        assert truth[r, c] and not label[r, c]
    # plain MONAI draws negatives from the background too (half of this image)
    plain = RandCropByPosNegLabeld(["image", "label"], "label", SIZE, pos=0.0, neg=1.0, num_samples=40)
    plain.set_random_state(0)
    assert any(not truth[r, c] for r, c in centres(plain(data)))


def test_positives_fall_on_lesions_and_ratio():
    data, _, label = make_data()
    only_pos = RandLesionPatchd(["image", "label"], SIZE, pos=1.0, neg=0.0, num_samples=20)
    only_pos.set_random_state(1)
    for r, c in centres(only_pos(data)):
        assert label[r, c]
    mixed = RandLesionPatchd(["image", "label"], SIZE, pos=3.0, neg=1.0, num_samples=200).set_random_state(2)
    hits = np.mean([label[r, c] for r, c in centres(mixed(data))])
    assert 0.65 < hits < 0.85  # pos / (pos + neg) = 0.75


def test_seeded_replay_and_patch_position():
    data, _, _ = make_data()
    a = RandLesionPatchd(["image", "label"], SIZE, num_samples=4).set_random_state(3)(data)
    b = RandLesionPatchd(["image", "label"], SIZE, num_samples=4).set_random_state(3)(data)
    assert centres(a) == centres(b)
    patch = RandLesionPatchd(["image", "label"], SIZE, num_samples=2).set_random_state(4)(data)[0]
    r, c = centres([patch])[0]  # the crop record places the patch back in the image
    rs, cs = slice(r - SIZE[0] // 2, r + SIZE[0] // 2), slice(c - SIZE[1] // 2, c + SIZE[1] // 2)
    np.testing.assert_array_equal(to_numpy(patch["label"])[0], to_numpy(data["label"])[0, rs, cs])
    np.testing.assert_array_equal(to_numpy(patch["image"])[0], to_numpy(data["image"])[0, rs, cs])
    assert RandLesionPatchD is RandLesionPatchd and RandLesionPatchDict is RandLesionPatchd


def test_errors():
    data, _, _ = make_data()
    t = RandLesionPatchd(["image", "label"], SIZE)
    with pytest.raises(KeyError, match="Run BreastMaskd first"):
        t({k: v for k, v in data.items() if k != "breast_mask"})
    with pytest.raises(KeyError, match="'label'"):
        t({k: v for k, v in data.items() if k != "label"})
    with pytest.raises(ValueError, match="empty"):
        t(dict(data, breast_mask=torch.zeros_like(data["breast_mask"])))
    with pytest.raises(ValueError, match="differs"):
        t(dict(data, breast_mask=torch.ones(1, 10, 10)))
    small = {k: v[:, 120:128, 40:48] for k, v in data.items()}  # 8 x 8: smaller than the patch
    with pytest.raises(ValueError, match="^RandLesionPatchd: The size of the proposed random crop ROI"):
        RandLesionPatchd(["image", "label"], SIZE, allow_smaller=False)(small)
