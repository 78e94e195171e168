"""Fuzzing the transforms of ``monai_mammo.transforms`` with hypothesis on random shapes, dtypes and values.

Each case draws one transform (array or dictionary version) and one input: numpy, torch or ``MetaTensor``
(with random laterality, view and window metadata); 0 to 4 dimensions, channel-first 2D most often;
``bool``, integer, ``float16``/``32``/``64`` or complex; values uniform, over the whole dtype range,
constant, huge, or sprinkled with NaN/Inf, or a synthetic breast.

The property: the call returns, or raises one of :data:`DOCUMENTED_TRANSFORM_ERRORS` whose message names a
``monai_mammo`` transform (or, for the ``MammoReadError`` subclasses of the input checks, the file or key);
and a well-formed input (``(1, H, W)``, H and W >= 8, finite real values in ``[0, 1]``, not constant, no
metadata window that the DICOM standard forbids) never raises.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from fuzzing import SLOW_FACTOR, CaseCounter, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from monai.data import MetaTensor
from monai.transforms import MapTransform
from results import record

import monai_mammo.transforms as mt
from monai_mammo.data.errors import MammoReadError

DOCUMENTED_TRANSFORM_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError)
"""What may escape a transform: ``ValueError`` (wrong shape, empty image, NaN/Inf where they cannot be
handled, values out of a required range; the ``MammoReadError`` subclasses ``BlankImageError`` and
``SizeMismatchError`` of the input checks are ``ValueError`` too), ``TypeError`` (not an array, a dtype that
is not real numbers) and ``KeyError`` (a dictionary transform's key or mask key is missing)."""

EXAMPLES = 1000
NAMES = {n for n in mt.__all__ if inspect.isclass(getattr(mt, n))}
ALWAYS = {"prob": 1.0}  # random transforms apply their draw on every case
VENDOR = {"prob": 1.0, "gamma_prob": 1.0, "sigmoid_prob": 1.0, "contrast_prob": 1.0, "unsharp_prob": 1.0}


def _resize_to_fit() -> Any:
    return mt.ResizeToFit(spatial_size=(24, 20)) if hasattr(mt, "ResizeToFit") else mt.RejectBlankImage()


def _resize_to_fitd() -> Any:
    if hasattr(mt, "ResizeToFitd"):
        return mt.ResizeToFitd(keys="image", spatial_size=(24, 20))
    return mt.RejectBlankImaged(keys="image")


# name -> factory; every public transform class of monai_mammo.transforms, array and dictionary versions
TRANSFORMS: dict[str, Callable[[], Any]] = {
    "BreastMask": lambda: mt.BreastMask(grid_size=64),
    "CanonicalLaterality": lambda: mt.CanonicalLaterality(grid_size=64),
    "CropBreast": lambda: mt.CropBreast(margin=2),
    "PectoralMask": lambda: mt.PectoralMask(grid_size=64),
    "MammoWindow": lambda: mt.MammoWindow(),
    "CorrectInvertedExport": lambda: mt.CorrectInvertedExport(grid_size=64),
    "BreastPercentileScale": lambda: mt.BreastPercentileScale(),
    "BreastZScore": lambda: mt.BreastZScore(),
    "Clahe": lambda: mt.Clahe(kernel_size=8),
    "RandVendorLook": lambda: mt.RandVendorLook(**VENDOR),
    "RandDetectorNoise": lambda: mt.RandDetectorNoise(**ALWAYS),
    "RejectBlankImage": lambda: mt.RejectBlankImage(),
    "ResizeToFit": _resize_to_fit,
    "BreastMaskd": lambda: mt.BreastMaskd(keys="image", grid_size=64),
    "CanonicalLateralityd": lambda: mt.CanonicalLateralityd(keys=["image", "label"], grid_size=64),
    "CropBreastd": lambda: mt.CropBreastd(keys=["image", "label"], margin=2),
    "PectoralMaskd": lambda: mt.PectoralMaskd(keys="image", grid_size=64),
    "MammoWindowd": lambda: mt.MammoWindowd(keys="image"),
    "CorrectInvertedExportd": lambda: mt.CorrectInvertedExportd(keys="image", grid_size=64),
    "BreastPercentileScaled": lambda: mt.BreastPercentileScaled(keys="image"),
    "BreastZScored": lambda: mt.BreastZScored(keys="image"),
    "Clahed": lambda: mt.Clahed(keys="image", kernel_size=8),
    "RandVendorLookd": lambda: mt.RandVendorLookd(keys="image", **VENDOR),
    "RandDetectorNoised": lambda: mt.RandDetectorNoised(keys="image", **ALWAYS),
    "RandLesionPatchd": lambda: mt.RandLesionPatchd(
        keys=["image", "label"], spatial_size=(8, 8), num_samples=2
    ),
    "RejectBlankImaged": lambda: mt.RejectBlankImaged(keys="image"),
    "FastRandAffined": lambda: mt.FastRandAffined(
        keys=["image", "label"], prob=1.0, rotate_range=0.3, scale_range=0.1, mode=["bilinear", "nearest"]
    ),
    "CheckSameSized": lambda: mt.CheckSameSized(keys=["image", "label"]),
    "ResizeToFitd": _resize_to_fitd,
    # box transforms: handed the image as boxes (refused, naming the transform) or a missing box key
    "ConvertDatalistBoxesd": lambda: mt.ConvertDatalistBoxesd(keys="image"),
    "ResizeBoxd": lambda: mt.ResizeBoxd(box_keys="image", box_ref_image_key="label"),
}
DTYPES = (
    np.float32,
    np.float64,
    np.float16,
    np.uint8,
    np.uint16,
    np.int16,
    np.int32,
    np.int64,
    np.bool_,
    np.complex64,
)
counter = CaseCounter()
pytestmark = pytest.mark.filterwarnings("ignore")  # warnings (empty masks, overruled metadata) are not errors


@pytest.fixture(scope="module", autouse=True)
def record_counts():
    """Write the case counts (``MONAI_MAMMO_RELIABILITY_RESULTS``) when the module is done."""
    yield
    record("fuzz_transforms", counter.as_dict())


def test_every_public_transform_is_fuzzed() -> None:
    fuzzed = {n for n in TRANSFORMS if n in NAMES}
    missing = sorted(n for n in NAMES if n[-1] not in "D" and not n.endswith("Dict") and n not in fuzzed)
    records = ("LateralityDecision", "InversionDecision", "InversionEvidence")  # records, not transforms
    # class labels from a lesion mask and the image's class, not image transforms
    # (tests/transforms/test_patch_class.py, tests/transforms/test_place_labels.py)
    labels = ("PatchClass", "PatchClassd", "LesionPlaceLabels", "LesionPlaceLabelsd")
    missing = [n for n in missing if n not in records + labels]
    assert not missing, f"add {missing} to TRANSFORMS in {__file__}"


@st.composite
def images(draw: st.DrawFn) -> tuple[Any, bool]:
    """An input array and whether it is well-formed (see the module docstring)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    # weighted towards well-formed inputs, so that the transforms' own code runs, not only their checks
    side = st.integers(8, 48) | st.integers(1, 7)
    if draw(st.sampled_from([True, True, True, False]), label="channel-first 2D"):
        shape = (1, draw(side, label="H"), draw(side, label="W"))
    else:
        shape = tuple(draw(st.lists(st.integers(0, 12), min_size=0, max_size=4), label="shape"))
    kinds = ["breast", "breast", "unit", "unit", "range", "constant", "huge", "nan", "inf"]
    values = draw(st.sampled_from(kinds), label="values")
    dtype = np.dtype(draw(st.sampled_from((np.float32,) * 4 + DTYPES), label="dtype"))
    if values == "breast" and len(shape) == 3:
        rows, cols = np.ogrid[: shape[1], : shape[2]]
        radius = max(shape[1], shape[2]) * 0.6
        base = (((rows - shape[1] / 2) ** 2 + cols**2) < radius**2) * 0.7 + rng.random(shape) * 0.2
    elif values == "range" and dtype.kind in "iu":
        info = np.iinfo(dtype)
        base = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=np.int64)
    elif values == "constant":
        base = np.full(shape, draw(st.sampled_from([0.0, 1.0, 0.5, 255.0]), label="constant"))
    elif values == "huge":
        base = rng.normal(0.0, 1e30, size=shape)
    else:
        base = rng.random(shape)
        if values in ("nan", "inf") and base.size:
            base.ravel()[rng.integers(0, base.size, size=max(1, base.size // 10))] = (
                np.nan if values == "nan" else np.inf
            )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        array = base.astype(dtype) if dtype.kind != "c" else (base + 0.5j).astype(dtype)
    finite = dtype.kind == "f" and bool(np.isfinite(array).all()) and array.size > 0
    good = (
        len(shape) == 3
        and shape[0] == 1
        and min(shape[1:]) >= 8
        and dtype in (np.float32, np.float64)
        and finite
        and values in ("unit", "breast")
        and float(array.min()) >= 0.0
        and float(array.max()) <= 1.0
        and float(array.max()) > float(array.min())
    )
    container = draw(st.sampled_from(["numpy", "torch", "metatensor"]), label="container")
    if container == "numpy":
        return array, good
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if container == "torch":
        return tensor, good
    meta = {
        "laterality": draw(st.sampled_from(["L", "R", "UNKNOWN", "X", ""]), label="laterality"),
        "view_position": draw(st.sampled_from(["CC", "MLO", "ML", "UNKNOWN", "bogus"]), label="view"),
        "WindowCenter": draw(st.sampled_from([0.5, 0.0, 1e9, float("nan")]), label="center"),
        "WindowWidth": draw(st.sampled_from([1.0, 0.5, 0.0, -5.0, float("nan")]), label="width"),
        "voi_mode": draw(st.sampled_from(["window", "raw", "full_range", "bogus"]), label="voi_mode"),
        "filename_or_obj": "/data/fuzz.dcm",
    }
    center, width = meta["WindowCenter"], meta["WindowWidth"]
    if np.isfinite(center) and np.isfinite(width) and width < 1:  # MammoWindow refuses it (documented)
        good = False
    return MetaTensor(tensor, meta=meta), good


def _copy(x: Any) -> Any:
    return x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True)


def check_transform(name: str, img: Any, good: bool, data: st.DataObject) -> str:
    """Call transform ``name`` on ``img`` (in a dictionary for a dictionary transform); check the property."""
    transform = TRANSFORMS[name]()
    if hasattr(transform, "set_random_state"):
        transform.set_random_state(0)
    arg: Any = _copy(img)
    is_dict = isinstance(transform, MapTransform)
    if is_dict:
        arg = {"image": arg}
        keys = ["label+mask", "label+mask", "label+mask", "label", "none", "mismatched label"]
        extras = data.draw(st.sampled_from(keys), label="keys")
        if extras != "none":
            shape = tuple(getattr(img, "shape", ()))
            label_shape = shape[:-1] + (shape[-1] + 1,) if extras == "mismatched label" and shape else shape
            arg["label"] = (np.random.default_rng(1).random(label_shape) > 0.8).astype(np.float32)
        if extras == "label+mask":
            arg["breast_mask"] = (_as_numpy(img) > 0.3).astype(np.uint8) if hasattr(img, "shape") else 1
    try:
        out = transform(arg)
    except DOCUMENTED_TRANSFORM_ERRORS as e:
        message = str(e)
        named = isinstance(e, MammoReadError) or any(n in message for n in NAMES)
        assert named, f"{name}: the {type(e).__name__} does not name a transform: {message}"
        assert not good or is_dict, f"{name} refused a well-formed image: {type(e).__name__}: {message}"
        return type(e).__name__
    if not is_dict:
        assert isinstance(out, (np.ndarray, torch.Tensor)), type(out)
        assert out.ndim == 3
    return "ok"


def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype in (torch.uint16, torch.uint32, torch.uint64):
            x = x.to(torch.int64)
        return x.numpy().real if x.is_complex() else x.numpy()
    return np.asarray(x).real


def run_fuzz(label: str, examples: int) -> int:
    """Run ``examples`` hypothesis cases; return how many ran."""
    before = counter.total(label)

    @fuzz_settings(examples)
    @given(name=st.sampled_from(sorted(TRANSFORMS)), case=images(), data=st.data())
    def case(name: str, case: tuple[Any, bool], data: st.DataObject) -> None:
        img, good = case
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = check_transform(name, img, good, data)
        counter.add(label, outcome)
        counter.add(f"{label}::{name}", outcome)

    case()
    return counter.total(label) - before


def test_fuzz_transforms() -> None:
    assert run_fuzz("transforms", EXAMPLES) >= EXAMPLES


@pytest.mark.slow
def test_fuzz_transforms_long() -> None:
    examples = SLOW_FACTOR * EXAMPLES
    assert run_fuzz("transforms_long", examples) >= examples
