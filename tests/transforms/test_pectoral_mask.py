"""PectoralMask / PectoralMaskd: a plausible muscle wedge on real MLO views, empty for CC views."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from transform_helpers import ARRAY_TYPES, as_type, to_numpy

from monai_mammo.transforms import (
    BreastMask,
    BreastMaskd,
    CanonicalLateralityd,
    PectoralMask,
    PectoralMaskD,
    PectoralMaskd,
    PectoralMaskDict,
)


def half(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::2, ::2])


def test_mini_mias_pectoral_masks_are_plausible(mias_cases):
    """On mini-MIAS MLO views: a bright wedge at the top of the chest wall, never over an annotated lesion."""
    found, lesions_inside, lesions = 0, 0, 0
    cases = mias_cases[::3]
    for case in cases:
        image = half(case.image)
        breast = to_numpy(BreastMask()(image))[0].astype(bool)
        side = "left" if case.laterality == "L" else "right"
        muscle = to_numpy(PectoralMask(chest_wall=side)(image, breast[None].astype(np.uint8)))[0].astype(bool)
        assert not (muscle & ~breast).any(), case.name  # inside the breast mask
        for row, col in case.lesions:
            lesions += 1
            lesions_inside += bool(muscle[row // 2, col // 2])
        if not muscle.any():
            continue  # no reliable edge: empty by design
        found += 1
        rows, cols = np.flatnonzero(muscle.any(1)), np.flatnonzero(muscle.any(0))
        breast_rows, breast_cols = np.flatnonzero(breast.any(1)), np.flatnonzero(breast.any(0))
        assert rows[0] <= breast_rows[0] + 0.1 * breast.shape[0], case.name  # starts at the top
        if side == "left":
            assert cols[0] <= breast_cols[0] + 2, case.name  # and at the chest wall
        else:
            assert cols[-1] >= breast_cols[-1] - 2, case.name
        assert muscle.sum() < 0.6 * breast.sum(), case.name
        assert image[0][muscle].mean() > image[0][breast & ~muscle].mean(), (
            case.name
        )  # brighter than the rest
    assert found >= 0.4 * len(cases)  # measured 114 of 216 (53%); the others are empty, not wrong
    assert lesions_inside <= 0.05 * max(lesions, 1)  # measured 0 of 82


def test_cbis_mlo_has_muscle_and_cc_has_none(cbis_cases):
    for case in cbis_cases:
        image = np.ascontiguousarray(case.image[:, ::8, ::8])
        img = MetaTensor(torch.from_numpy(image), meta={"view_position": case.view})
        muscle = to_numpy(PectoralMask()(img))
        if case.view == "CC":
            assert muscle.sum() == 0, case.name
        else:
            assert 0 < muscle.mean() < 0.3, case.name


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_types_view_argument_and_unknown_view(kind, mias_cases):
    case = mias_cases[0]
    image = half(case.image)
    meta = {"view_position": "CC"}
    out_cc = PectoralMask(chest_wall="right")(as_type(image, kind, meta), view="CC")
    assert to_numpy(out_cc).sum() == 0 and out_cc.shape == image.shape
    out = PectoralMask(chest_wall="right")(as_type(image, kind, meta), view="MLO")
    assert to_numpy(out).dtype == np.uint8 and to_numpy(out).sum() > 0
    if kind == "numpy":
        assert isinstance(out, np.ndarray)
    unknown = PectoralMask(chest_wall="right", process_unknown_view=False)(image, view="UNKNOWN")
    assert to_numpy(unknown).sum() == 0


def test_auto_side_matches_explicit_side(mias_cases):
    case = mias_cases[0]  # mdb001, a right breast
    image = half(case.image)
    auto = to_numpy(PectoralMask()(image))
    explicit = to_numpy(PectoralMask(chest_wall="right")(image))
    np.testing.assert_array_equal(auto, explicit)


def test_dict_after_canonical_flip(mias_cases):
    case = mias_cases[0]
    data = {
        "image": MetaTensor(
            torch.from_numpy(half(case.image)), meta={"laterality": "R", "view_position": "MLO"}
        )
    }
    pre = [
        BreastMaskd("image"),
        CanonicalLateralityd(["image", "breast_mask"]),
        PectoralMaskd("image", chest_wall="left"),
    ]
    for t in pre:
        data = t(data)
    muscle = to_numpy(data["pectoral_mask"])[0].astype(bool)
    assert (
        muscle.any() and muscle[:, : muscle.shape[1] // 2].sum() == muscle.sum()
    )  # on the left, after the flip
    assert isinstance(data["pectoral_mask"], MetaTensor)
    assert PectoralMaskD is PectoralMaskd and PectoralMaskDict is PectoralMaskd


def test_errors():
    image = np.zeros((1, 64, 48), dtype=np.float32)
    with pytest.raises(ValueError, match="chest_wall"):
        PectoralMask(chest_wall="top")
    with pytest.raises(ValueError, match="does not match"):
        PectoralMask()(image, np.ones((1, 32, 48), dtype=np.uint8))
    with pytest.raises(ValueError, match="channel-first"):
        PectoralMask()(image[0])
    with pytest.raises(ValueError, match="^PectoralMask: the image holds NaN"):
        PectoralMask()(np.full((1, 64, 48), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="one image key"):
        PectoralMaskd(keys=["a", "b"])
    with pytest.raises(KeyError):
        PectoralMaskd("image")({"label": image})
