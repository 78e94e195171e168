"""Every public transform is exported with its aliases, is MONAI-shaped and is in docs/transforms.md."""

from __future__ import annotations

import inspect
from pathlib import Path

from monai.transforms import MapTransform, Randomizable, Transform

import monai_mammo.transforms as mt

ARRAY = [
    "BreastMask",
    "BreastPercentileScale",
    "BreastZScore",
    "CanonicalLaterality",
    "Clahe",
    "CorrectInvertedExport",
    "CropBreast",
    "MammoWindow",
    "PectoralMask",
    "RandDetectorNoise",
    "RandVendorLook",
    "ResizeToFit",
    "RejectBlankImage",
]
DICT_ONLY = ["CheckSameSize", "ConvertDatalistBoxes", "RandLesionPatch", "ResizeBox"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "transforms.md"


def test_array_and_dict_classes_with_aliases():
    for name in ARRAY + DICT_ONLY:
        d = getattr(mt, f"{name}d")
        assert getattr(mt, f"{name}D") is d and getattr(mt, f"{name}Dict") is d
        assert issubclass(d, MapTransform)
        for alias in (f"{name}d", f"{name}D", f"{name}Dict"):
            assert alias in mt.__all__
        if name in ARRAY:
            array = getattr(mt, name)
            assert issubclass(array, Transform) and name in mt.__all__
            assert getattr(array, "backend", None), f"{name} declares no backend"
            assert array.__doc__ and "Args:" in array.__doc__
        if name.startswith("Rand"):
            assert issubclass(d, Randomizable)


def test_all_names_resolve():
    for name in mt.__all__:
        assert getattr(mt, name) is not None
    assert sorted(mt.__all__) == mt.__all__


def test_every_public_class_is_in_the_user_guide():
    text = DOCS.read_text()
    missing = [n for n in mt.__all__ if inspect.isclass(getattr(mt, n)) and n[-1] != "D" and n not in text]
    missing = [n for n in missing if not n.endswith("Dict")]
    assert not missing, f"not mentioned in {DOCS}: {missing}"
