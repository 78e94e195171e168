"""FastRandAffined: MONAI's RandAffined, its grid made by affine_grid; same draws, outputs, metadata, inverse.

Compared, seed for seed, with ``monai.transforms.RandAffined`` on a phantom mammogram, its lesion mask and its
breast mask, over several successive calls (the random stream must stay the same), each padding mode, numpy,
torch and MetaTensor inputs; the cases MONAI's path keeps (spline order) are MONAI's exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import RandAffined

from monai_mammo.data.phantom import make_phantom
from monai_mammo.transforms import FastRandAffineD, FastRandAffined, FastRandAffineDict

KEYS = ["image", "label", "breast_mask"]
MODES = ["bilinear", "nearest", "nearest"]
SETTINGS = {"prob": 0.7, "rotate_range": 0.26, "scale_range": 0.15, "translate_range": (12, 12)}


PHANTOM = make_phantom((192, 160), seed=3, view="MLO")


def phantom_item(kind: str) -> dict[str, object]:
    """A fresh item (a transform that does not fire records itself on its input MetaTensor)."""
    arrays = {
        "image": (PHANTOM.image.astype(np.float32) / 4095.0)[None],
        "label": PHANTOM.lesion_mask.astype(np.float32)[None],
        "breast_mask": PHANTOM.breast_mask.astype(np.float32)[None],
    }
    if kind == "numpy":
        return dict(arrays)
    if kind == "torch":
        return {k: torch.from_numpy(v) for k, v in arrays.items()}
    return {k: MetaTensor(torch.from_numpy(v)) for k, v in arrays.items()}


def pair(seed: int, **kwargs: object) -> tuple[RandAffined, FastRandAffined]:
    settings = {**SETTINGS, "mode": MODES, **kwargs}
    return (
        RandAffined(KEYS, **settings).set_random_state(seed),  # type: ignore[arg-type]
        FastRandAffined(KEYS, **settings).set_random_state(seed),  # type: ignore[arg-type]
    )


def plain(x: object) -> torch.Tensor:
    return x.as_tensor() if isinstance(x, MetaTensor) else torch.as_tensor(x)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("kind", ["numpy", "torch", "metatensor"])
def test_the_same_draws_give_the_same_outputs_metadata_and_inverse(padding_mode: str, kind: str) -> None:
    monai_affine, fast = pair(11, padding_mode=padding_mode)
    fired = 0
    for _ in range(8):  # successive calls: the random stream must stay RandAffined's
        expected, got = monai_affine(phantom_item(kind)), fast(phantom_item(kind))
        fired += int(fast._do_transform)
        assert fast._do_transform == monai_affine._do_transform
        torch.testing.assert_close(plain(got["image"]), plain(expected["image"]), atol=2e-4, rtol=0)
        for mask in ("label", "breast_mask"):  # nearest: a boundary coordinate may round the other way
            differ = (plain(got[mask]) != plain(expected[mask])).float().mean().item()
            assert differ <= 1e-3
        assert got["image"].dtype == expected["image"].dtype == torch.float32
        assert type(got["image"]) is type(expected["image"])
        if isinstance(expected["image"], MetaTensor):
            torch.testing.assert_close(got["image"].affine, expected["image"].affine)
            ops, expected_ops = got["image"].applied_operations, expected["image"].applied_operations
            assert [op["class"] for op in ops] == [f"Fast{op['class']}" for op in expected_ops]
            back, expected_back = fast.inverse(got), monai_affine.inverse(expected)
            assert back["image"].shape == expected_back["image"].shape == (1, 192, 160)
            torch.testing.assert_close(plain(back["image"]), plain(expected_back["image"]), atol=2e-4, rtol=0)
    assert 2 <= fired <= 7  # prob 0.7 over 8 calls: both outcomes were compared


def test_a_transform_that_moves_the_image_moves_its_masks_the_same_way() -> None:
    _, fast = pair(5, prob=1.0)
    item = phantom_item("torch")
    out = fast(dict(item))
    assert not torch.equal(out["image"], item["image"])
    inside = plain(out["image"])[plain(out["breast_mask"]) > 0].mean()
    outside = plain(out["image"])[plain(out["breast_mask"]) == 0].mean()
    assert inside > outside + 0.1  # the breast mask still covers the breast


def test_cases_outside_the_fast_path_are_monai_s() -> None:
    monai_affine, fast = pair(2, prob=1.0, mode=[1, 0, 0])  # spline orders: MONAI's own resampling
    item = phantom_item("metatensor")
    expected, got = monai_affine(dict(item)), fast(dict(item))
    for key in KEYS:
        assert torch.equal(plain(got[key]), plain(expected[key]))


def test_set_random_state_replays_and_aliases() -> None:
    assert FastRandAffineD is FastRandAffineDict is FastRandAffined
    _, a = pair(9, prob=1.0)
    _, b = pair(9, prob=1.0)
    item = phantom_item("torch")
    assert torch.equal(a(dict(item))["image"], b(dict(item))["image"])


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((1, 8, 8, 8), dtype=np.float32), ValueError),  # a volume
        (np.zeros((1, 8, 8), dtype=np.complex64), TypeError),
        ("not an image", TypeError),
    ],
)
def test_bad_input_names_the_transform_and_the_key(image: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="FastRandAffined.*'image'"):
        FastRandAffined("image", prob=1.0, rotate_range=0.1)({"image": image})
