"""RejectBlankImage(d) and CheckSameSized: typed errors naming the file, data passed through unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import Dataset, MetaTensor
from monai.transforms import Compose, LoadImaged
from PIL import Image
from transform_helpers import ARRAY_TYPES, as_type, to_numpy

from monai_mammo.data import FailureSkippingDataLoader, MammoAutoReader
from monai_mammo.data.errors import BlankImageError, MammoReadError, SizeMismatchError
from monai_mammo.transforms import (
    CheckSameSizeD,
    CheckSameSized,
    CheckSameSizeDict,
    RejectBlankImage,
    RejectBlankImageD,
    RejectBlankImaged,
    RejectBlankImageDict,
)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64])
def test_blank_images_are_refused_and_others_pass_unchanged(mias_cases, kind, dtype):
    real = mias_cases[0].image.astype(dtype)
    img = as_type(real, kind, {"filename_or_obj": "/data/mdb001.png"})
    out = RejectBlankImage()(img)
    assert out is img
    np.testing.assert_array_equal(to_numpy(out), real)
    for value in (0, 255):
        meta = {"filename_or_obj": "/data/black.png"}
        blank = as_type(np.full((1, 64, 48), value, dtype=dtype), kind, meta)
        with pytest.raises(BlankImageError) as info:
            RejectBlankImage()(blank)
        message = str(info.value)
        assert f"every pixel is {value}" in message
        assert message.startswith("/data/black.png: is blank" if kind == "metatensor" else "image: is blank")


def test_min_range_refuses_near_constant_images():
    noise = np.random.default_rng(0).normal(10.0, 0.01, (1, 32, 32)).astype(np.float32)
    assert RejectBlankImage()(noise) is noise
    with pytest.raises(BlankImageError, match=r"values span only .* <= min_range 0.5"):
        RejectBlankImage(min_range=0.5)(noise)
    with pytest.raises(ValueError, match="min_range"):
        RejectBlankImage(min_range=-1)


def test_bad_arrays_get_the_transform_errors():
    with pytest.raises(ValueError, match="RejectBlankImage expects a channel-first 2D image"):
        RejectBlankImage()(np.zeros((8, 8), np.float32))
    with pytest.raises(TypeError, match="RejectBlankImage expects real numbers"):
        RejectBlankImage()(torch.zeros((1, 8, 8), dtype=torch.bool))


def test_dict_version_names_the_key_or_file_and_checks_only_its_keys():
    assert RejectBlankImageD is RejectBlankImaged and RejectBlankImageDict is RejectBlankImaged
    data = {"image": np.zeros((1, 8, 8), np.float32), "label": np.zeros((1, 8, 8), np.uint8)}
    with pytest.raises(BlankImageError, match="^key 'image': is blank"):
        RejectBlankImaged(keys="image")(data)
    data["image"][0, 2, 3] = 1.0
    out = RejectBlankImaged(keys="image")(data)  # the empty label is a valid mask
    assert out["image"] is data["image"] and out["label"] is data["label"]
    with pytest.raises(KeyError):
        RejectBlankImaged(keys="other")(data)


def test_check_same_size_names_the_mask_and_its_image():
    assert CheckSameSizeD is CheckSameSized and CheckSameSizeDict is CheckSameSized
    image = MetaTensor(torch.rand(1, 64, 48), meta={"filename_or_obj": "/d/img.dcm"})
    good = MetaTensor(torch.zeros(1, 64, 48), meta={"filename_or_obj": "/d/img_mask.png"})
    bad = MetaTensor(torch.zeros(1, 32, 24), meta={"filename_or_obj": "/d/small_mask.png"})
    out = CheckSameSized(keys=["image", "label"])({"image": image, "label": good})
    assert out["image"] is image and out["label"] is good
    with pytest.raises(SizeMismatchError) as info:
        CheckSameSized(keys=["image", "label"])({"image": image, "label": bad})
    assert str(info.value).startswith(
        "/d/small_mask.png: (key 'label') has size (32, 24) but /d/img.dcm (key 'image') has (64, 48)"
    )
    assert info.value.filename == "/d/small_mask.png" and info.value.fix
    with pytest.raises(SizeMismatchError, match="^key 'label': .* but it "):  # plain arrays: the keys
        CheckSameSized(keys=["image", "label"])({"image": np.zeros((1, 4, 4)), "label": np.zeros((1, 4, 5))})
    lenient = CheckSameSized(keys=["image", "label"], allow_missing_keys=True)
    assert lenient({"image": image})["image"] is image
    with pytest.raises(TypeError, match="CheckSameSized, key 'label'"):
        CheckSameSized(keys=["image", "label"])({"image": image, "label": 3})


def test_a_batch_lists_the_blank_image_and_the_wrong_mask_and_keeps_the_good_pair(shared_data, tmp_path):
    """Real mini-MIAS films: the typed errors survive MONAI's Compose and reach the failure report."""
    mias = shared_data / "mini_mias" / "images"
    pixels = np.asarray(Image.open(mias / "mdb001.png"))
    Image.fromarray(np.zeros_like(pixels)).save(tmp_path / "black.png")
    Image.fromarray((pixels > 200).astype(np.uint8) * 255).save(tmp_path / "mask.png")
    Image.fromarray((pixels[::2, ::2] > 200).astype(np.uint8) * 255).save(tmp_path / "half_mask.png")
    items = [
        {"image": str(mias / "mdb001.png"), "label": str(tmp_path / "mask.png")},
        {"image": str(tmp_path / "black.png"), "label": str(tmp_path / "mask.png")},
        {"image": str(mias / "mdb001.png"), "label": str(tmp_path / "half_mask.png")},
    ]
    transform = Compose(
        [
            LoadImaged(keys=["image", "label"], reader=MammoAutoReader()),
            CheckSameSized(keys=["image", "label"]),
            RejectBlankImaged(keys="image"),
        ]
    )
    report = tmp_path / "f.json"
    loader = FailureSkippingDataLoader(Dataset(items, transform), keys="image", report_path=report)
    batches = list(loader)
    assert len(batches) == 1 and batches[0]["image"].shape == (1, 1, 1024, 1024)
    failures = {f.error: f.message for f in loader.failures}
    assert set(failures) == {"BlankImageError", "SizeMismatchError"}
    assert failures["BlankImageError"].startswith(f"{tmp_path / 'black.png'}: is blank")
    assert failures["SizeMismatchError"].startswith(f"{tmp_path / 'half_mask.png'}: (key 'label') has size")
    assert all(issubclass(t, MammoReadError) for t in (BlankImageError, SizeMismatchError))
