"""BreastMask / BreastMaskd: robust breast foreground on synthetic and real mammograms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from transform_helpers import ARRAY_TYPES, as_type, synthetic_mammogram, to_numpy

from monai_mammo.transforms import BreastMask, BreastMaskD, BreastMaskd, BreastMaskDict


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_synthetic_mask_matches_truth_and_drops_label(kind):
    image, truth = synthetic_mammogram(shape=(320, 240))
    out = BreastMask()(as_type(image, kind, {"laterality": "L"}))
    if kind == "numpy":
        assert isinstance(out, np.ndarray)
    else:
        assert isinstance(out, torch.Tensor)
    if kind == "metatensor":
        assert isinstance(out, MetaTensor) and out.meta["laterality"] == "L"
    mask = to_numpy(out)
    assert mask.shape == image.shape and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1}
    assert iou(mask.astype(bool), truth) > 0.95
    assert mask[0, 20:40, 200:230].sum() == 0  # the burnt-in label block is not breast


@pytest.mark.parametrize("background,noise", [(0.2, 0.03), (0.0, 0.08), (0.1, 0.0)])
def test_nonzero_and_noisy_background_stays_out(background, noise):
    image, truth = synthetic_mammogram(shape=(320, 240), background=background, noise=noise, seed=3)
    mask = to_numpy(BreastMask()(image)).astype(bool)
    assert iou(mask, truth) > 0.93
    assert (mask & ~truth).sum() < 0.03 * truth.sum()


def test_dense_breast_and_implant_are_kept_whole():
    image, truth = synthetic_mammogram(shape=(320, 240))
    image[0][truth[0]] = 0.95  # very dense: the breast as bright as the label
    rows, cols = np.mgrid[0:320, 0:240]
    implant = ((rows - 160) / 50) ** 2 + (cols / 60) ** 2 <= 1
    image[0][implant] = 1.0  # a saturated implant at the chest wall
    mask = to_numpy(BreastMask()(image)).astype(bool)
    assert iou(mask, truth) > 0.95
    assert mask[0][implant].all()


def test_bool_dtype_and_torch_dtype_options():
    image, _ = synthetic_mammogram()
    out = BreastMask(dtype=torch.bool)(torch.from_numpy(image))
    assert out.dtype == torch.bool


def test_constant_image_gives_full_mask():
    out = BreastMask()(np.full((1, 64, 48), 3.0, dtype=np.float32))
    assert out.all()


@pytest.mark.parametrize(
    "bad,error",
    [
        (np.zeros((64, 48), dtype=np.float32), ValueError),
        (np.zeros((1, 1, 64, 48), dtype=np.float32), ValueError),
        (np.zeros((0, 64, 48), dtype=np.float32), ValueError),  # no channel
        (np.zeros((1, 64, 48), dtype=bool), TypeError),
        (np.zeros((1, 64, 48), dtype=np.complex64), TypeError),
        ([[1.0, 2.0]], TypeError),
    ],
)
def test_bad_inputs_raise_clear_errors(bad, error):
    with pytest.raises(error, match="BreastMask"):
        BreastMask()(bad)


def test_nan_raises():
    image, _ = synthetic_mammogram()
    image[0, 5, 5] = np.nan
    with pytest.raises(ValueError, match="^BreastMask: .*NaN"):
        BreastMask()(image)


def test_bad_parameters():
    with pytest.raises(ValueError):
        BreastMask(threshold_fraction=1.5)
    with pytest.raises(ValueError, match="grid_size"):
        BreastMask(grid_size=4)(np.ones((1, 32, 32), dtype=np.float32))


def test_dict_writes_mask_key_with_image_metadata_and_trace():
    image, truth = synthetic_mammogram()
    img = MetaTensor(torch.from_numpy(image), meta={"laterality": "L"})
    img.push_applied_operation({"class": "Something"})
    d = BreastMaskd(keys="image")({"image": img})
    assert set(d) == {"image", "breast_mask"}
    assert d["image"] is img
    assert isinstance(d["breast_mask"], MetaTensor)
    assert d["breast_mask"].meta["laterality"] == "L"
    assert d["breast_mask"].applied_operations == img.applied_operations
    assert iou(to_numpy(d["breast_mask"]).astype(bool), truth) > 0.95
    assert BreastMaskD is BreastMaskd and BreastMaskDict is BreastMaskd


def test_dict_missing_key_and_bad_mask_keys():
    with pytest.raises(KeyError):
        BreastMaskd(keys="image")({"label": np.zeros((1, 8, 8))})
    assert BreastMaskd(keys="image", allow_missing_keys=True)({"label": 1}) == {"label": 1}
    with pytest.raises(ValueError, match="distinct"):
        BreastMaskd(keys=["a", "b"], mask_key="m")
    with pytest.raises(ValueError, match="key 'image'"):
        BreastMaskd(keys="image")({"image": np.zeros((8, 8), dtype=np.float32)})


def test_real_lesions_inside_mask_cdd_cesm(cesm_cases):
    """Every CDD-CESM lesion pixel (red/green mask) lies in the breast mask (dense, mirrored images)."""
    for case in cesm_cases:
        mask = to_numpy(BreastMask()(case.image)).astype(bool)
        lesion = case.lesion_mask
        inside = (mask & lesion).sum() / lesion.sum()
        assert inside > 0.99, f"{case.name}: only {inside:.3f} of the lesion inside the breast mask"
        assert 0.1 < mask.mean() < 0.95, case.name


def test_real_cbis_mask_excludes_burnt_in_label(cbis_cases):
    """CBIS-DDSM films carry a large 'LCC'/'RMLO' label away from the breast: the mask must not reach it."""
    for case in cbis_cases:
        mask = to_numpy(BreastMask()(case.image))[0].astype(bool)
        cols = np.flatnonzero(mask.any(0))
        width = case.image.shape[-1]
        assert cols.size and (cols[-1] - cols[0] + 1) < 0.6 * width, case.name
        # the breast touches the chest-wall edge given by the laterality
        assert (cols[0] == 0) if case.laterality == "L" else (cols[-1] == width - 1), case.name
