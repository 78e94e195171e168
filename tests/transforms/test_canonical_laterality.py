"""CanonicalLaterality / CanonicalLateralityd: chest wall on the left, decision rule, exact inverse, boxes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Invertd
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import (
    BreastMaskd,
    CanonicalLaterality,
    CanonicalLateralityD,
    CanonicalLateralityd,
    CanonicalLateralityDict,
)


def right_breast(shape=(256, 192), seed=0):
    return synthetic_mammogram(shape=shape, chest_wall="right", seed=seed)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
@pytest.mark.parametrize("laterality,flips", [("R", True), ("L", False)])
def test_metadata_laterality_decides_and_inverse_is_exact(kind, laterality, flips):
    image, _ = synthetic_mammogram(chest_wall="right" if flips else "left")
    img = as_type(image, kind, {"laterality": laterality})
    transform = CanonicalLaterality()
    arg = None if kind == "metatensor" else laterality
    out = transform(img, laterality=arg)
    assert isinstance(out, torch.Tensor)
    expected = image[:, :, ::-1] if flips else image
    np.testing.assert_array_equal(to_numpy(out), expected)
    if isinstance(out, MetaTensor):
        record = out.applied_operations[-1]
        assert record["class"] == "CanonicalLaterality"
        assert record["extra_info"]["flipped"] is flips
        assert record["extra_info"]["source"] == "metadata"
        back = transform.inverse(out)
        np.testing.assert_array_equal(to_numpy(back), image)
        assert back.applied_operations == []
        torch.testing.assert_close(back.affine, torch.eye(4, dtype=torch.float64))
        if flips:
            assert out.affine[1, 1] == -1  # the flip is in the affine, as with MONAI's Flip


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_unsigned_16_bit_stored_values_flip_and_invert(kind):
    """DICOM stored values are uint16, for which torch has no flip kernel."""
    image, _ = synthetic_mammogram(chest_wall="right")
    stored = np.round(image * 4095).astype(np.uint16)
    transform = CanonicalLaterality()
    given = None if kind == "metatensor" else "R"
    out = transform(as_type(stored, kind, {"laterality": "R"}), laterality=given)
    assert out.dtype == (torch.int32 if kind == "numpy" else torch.uint16)  # MONAI's convert_to_tensor
    np.testing.assert_array_equal(to_numpy(out), stored[:, :, ::-1])
    if isinstance(out, MetaTensor):
        assert out.affine[1, 1] == -1
        np.testing.assert_array_equal(to_numpy(transform.inverse(out)), stored)


def test_canonical_output_has_chest_wall_on_the_left():
    image, _ = right_breast()
    out = to_numpy(CanonicalLaterality()(MetaTensor(torch.from_numpy(image), meta={"laterality": "R"})))
    cols = out[0].mean(0)
    assert cols[:20].mean() > cols[-20:].mean()


@pytest.mark.parametrize("chest_wall,expected", [("right", "R"), ("left", "L")])
def test_unknown_laterality_comes_from_image_and_fills_metadata(chest_wall, expected):
    image, _ = synthetic_mammogram(chest_wall=chest_wall)
    img = MetaTensor(torch.from_numpy(image), meta={"laterality": "UNKNOWN"})
    transform = CanonicalLaterality()
    decision = transform.decide(img)
    assert decision.source == "image" and decision.laterality.value == expected
    out = transform(img)
    assert out.meta["laterality"] == expected and out.meta["laterality_source"] == "image"
    assert out.applied_operations[-1]["extra_info"]["flipped"] is (expected == "R")


def test_contradicting_image_overrules_metadata_with_warning():
    image, _ = right_breast()
    img = MetaTensor(torch.from_numpy(image), meta={"laterality": "L"})
    with pytest.warns(UserWarning, match="chest wall is on the right"):
        out = CanonicalLaterality()(img)
    assert out.applied_operations[-1]["extra_info"]["flipped"] is True
    assert out.meta["laterality"] == "L"  # the image tells the side of the chest wall, not which breast
    # never looking at the image follows the metadata
    out2 = CanonicalLaterality(override_threshold=None)(
        MetaTensor(torch.from_numpy(image), meta={"laterality": "L"})
    )
    assert out2.applied_operations[-1]["extra_info"]["flipped"] is False
    assert np.isnan(out2.applied_operations[-1]["extra_info"]["score"])


def _given(image: np.ndarray, laterality: str, source: str | None) -> MetaTensor:
    meta = (
        {"laterality": laterality}
        if source is None
        else {"laterality": laterality, "laterality_source": source}
    )
    return MetaTensor(torch.from_numpy(image.copy()), meta=meta)


@pytest.mark.parametrize("source", ["ImageLaterality", "Laterality", None])
def test_a_tag_laterality_needs_strong_evidence_to_be_overruled(source):
    image, _ = right_breast()
    transform = CanonicalLaterality(override_threshold=1.0, text_override_threshold=0.15)
    score = transform.image_score(image)
    assert -1.0 < score <= -0.3  # a clear right chest wall, but not the impossible 1.0 asked for
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decision = transform.decide(_given(image, "L", source))
    assert (decision.flip, decision.source, decision.contradiction) == (False, "metadata", False)
    assert decision.laterality_source == (source or "metadata")
    argument = transform.decide(image, laterality="L")  # an argument (datalist column) is trusted as a tag
    assert (argument.flip, argument.laterality_source) == (False, "argument")


def test_a_text_laterality_is_overruled_by_clear_evidence():
    image, _ = right_breast()
    transform = CanonicalLaterality(override_threshold=1.0, text_override_threshold=0.15)
    with pytest.warns(UserWarning, match=r"laterality L \(from text\) but the chest wall is on the right"):
        out = transform(_given(image, "L", "text"))
    record = out.applied_operations[-1]["extra_info"]
    assert record["flipped"] is True and record["source"] == "image" and record["laterality_source"] == "text"
    assert (out.meta["laterality"], out.meta["laterality_source"]) == ("L", "text")  # the side is kept
    # agreeing text is followed; override_threshold=None never looks at the image, for text too
    assert CanonicalLaterality().decide(_given(image, "R", "text")).source == "metadata"
    never = CanonicalLaterality(override_threshold=None).decide(_given(image, "L", "text"))
    assert never.flip is False and math.isnan(never.score)
    with pytest.raises(ValueError, match="text_override_threshold"):
        CanonicalLaterality(text_override_threshold=0.0)


def test_a_laterality_the_reader_inferred_from_pixels_is_measured_again():
    """Source "image": the pixels of now decide, without a warning, and refresh the metadata."""
    image, _ = right_breast()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = CanonicalLaterality()(_given(image, "L", "image"))  # e.g. inferred before a correction
    assert out.applied_operations[-1]["extra_info"]["flipped"] is True
    assert (out.meta["laterality"], out.meta["laterality_source"]) == ("R", "image")


def test_the_reader_and_the_transform_measure_the_same_evidence(cbis_cases, cesm_cases):
    """One pixel laterality: the readers' laterality_score is the transform's image evidence."""
    from monai_mammo.data.mammo_meta import laterality_from_image, laterality_score

    transform = CanonicalLaterality()
    for case in [*cbis_cases, *cesm_cases]:
        score = transform.image_score(case.image)
        assert laterality_score(case.image) == pytest.approx(score, abs=1e-6)
        assert abs(score) >= 0.15 and laterality_from_image(case.image).value == case.laterality
        decision = transform.decide(case.image, laterality="UNKNOWN")
        assert decision.flip == (case.laterality == "R") and decision.laterality_source == "unknown"


def test_trust_metadata_false_uses_the_image():
    image, _ = right_breast()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = CanonicalLaterality(trust_metadata=False)(
            MetaTensor(torch.from_numpy(image), meta={"laterality": "L"})
        )
    assert out.applied_operations[-1]["extra_info"]["flipped"] is True


def test_decision_from_image_on_real_mammograms(mias_cases, cbis_cases, cesm_cases):
    """Without metadata the image alone gives the right flip on all real images but the ambiguous ones."""
    transform = CanonicalLaterality()
    wrong, ambiguous = [], []
    for case in [*mias_cases[::2], *cbis_cases, *cesm_cases]:
        decision = transform.decide(case.image, laterality="UNKNOWN")
        if abs(decision.score) < 0.1:
            ambiguous.append(case.name)
        elif decision.flip != (case.laterality == "R"):
            wrong.append(case.name)
    assert not wrong
    assert len(ambiguous) <= 2, ambiguous


def test_real_metadata_is_never_overruled_wrongly(mias_cases):
    """With the true laterality in the metadata, no real image triggers an override."""
    transform = CanonicalLaterality()
    for case in mias_cases[::6]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            decision = transform.decide(case.meta_tensor())
        assert decision.source == "metadata" and decision.flip == (case.laterality == "R")


def test_errors():
    with pytest.raises(ValueError, match="channel-first"):
        CanonicalLaterality()(np.zeros((64, 48), dtype=np.float32), laterality="R")
    with pytest.raises(TypeError, match="real numbers"):
        CanonicalLaterality()(np.zeros((1, 64, 48), dtype=bool))
    with pytest.raises(ValueError, match="override_threshold"):
        CanonicalLaterality(override_threshold=0.0)


def make_case(seed=0):
    image, truth = right_breast(seed=seed)
    label = np.zeros_like(image, dtype=np.uint8)
    label[0, 100:130, 150:170] = 1
    boxes = np.array([[100.0, 150.0, 130.0, 170.0], [10.0, 5.0, 20.0, 40.0]], dtype=np.float32)
    data = {
        "image": MetaTensor(torch.from_numpy(image), meta={"laterality": "R"}),
        "label": MetaTensor(torch.from_numpy(label)),
        "boxes": boxes,
    }
    return data, image, label, boxes


def test_dict_applies_one_decision_to_all_keys_and_boxes_and_inverts():
    data, image, label, boxes = make_case()
    t = CanonicalLateralityd(keys=["image", "label"], box_keys="boxes")
    out = t(data)
    np.testing.assert_array_equal(to_numpy(out["image"]), image[:, :, ::-1])
    np.testing.assert_array_equal(to_numpy(out["label"]), label[:, :, ::-1])
    width = image.shape[-1]
    np.testing.assert_allclose(out["boxes"][0], [100, width - 170, 130, width - 150])
    # the flipped box still frames the flipped label
    r0, c0, r1, c1 = out["boxes"][0].astype(int)
    assert to_numpy(out["label"])[0, r0:r1, c0:c1].all()
    back = t.inverse(out)
    np.testing.assert_array_equal(to_numpy(back["image"]), image)
    np.testing.assert_array_equal(to_numpy(back["label"]), label)
    np.testing.assert_array_equal(back["boxes"], boxes)
    assert CanonicalLateralityD is CanonicalLateralityd and CanonicalLateralityDict is CanonicalLateralityd


def test_dict_uses_breast_mask_and_laterality_key():
    data, image, _, _ = make_case()
    data["image"].meta["laterality"] = "UNKNOWN"
    data["side"] = "R"
    pre = Compose(
        [BreastMaskd("image"), CanonicalLateralityd(["image", "label", "breast_mask"], laterality_key="side")]
    )
    out = pre(data)
    assert out["image"].applied_operations[-1]["extra_info"]["source"] == "metadata"
    np.testing.assert_array_equal(
        to_numpy(out["breast_mask"])[0, :, -1], to_numpy(BreastMaskd("image")(data)["breast_mask"])[0, :, 0]
    )


def test_invertd_maps_a_heatmap_back():
    data, image, label, _ = make_case()
    pre = Compose([CanonicalLateralityd(keys=["image", "label"])])
    out = pre(data)
    out["pred"] = out["label"].float()  # a "prediction" made in the canonical orientation
    inverted = Invertd(keys="pred", transform=pre, orig_keys="image", nearest_interp=True)(out)
    np.testing.assert_array_equal(to_numpy(inverted["pred"]).astype(np.uint8), label)


def test_dict_errors():
    data, *_ = make_case()
    with pytest.raises(KeyError, match="'missing'"):
        CanonicalLateralityd(keys=["image"], ref_key="missing")(data)
    with pytest.raises(KeyError, match="'boxes2'"):
        CanonicalLateralityd(keys=["image"], box_keys="boxes2")(data)
    bad = dict(data, label=np.zeros((1, 10, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match="key 'label'"):
        CanonicalLateralityd(keys=["image", "label"])(bad)
    bad_boxes = dict(data, boxes=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        CanonicalLateralityd(keys=["image"], box_keys="boxes")(bad_boxes)
