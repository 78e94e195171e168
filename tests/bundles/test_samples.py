"""Each bundle's embedded sample is what its ``scripts/make_sample.py`` writes.

The phantom's pixels are float computations rounded to integers, and the last bit of a float result can
differ between CPUs (vector units, libm), so a pixel exactly on a rounding edge may come out one grey level
apart on another machine. The test therefore compares every DICOM element but the pixel data, the
datalist and every file name exactly, and the pixels in integers: at most one grey level apart on at most
one pixel in ten thousand.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
MAX_GREY_DIFF = 1
MAX_DIFFERING_FRACTION = 1e-4


def _load_make_sample(bundle: str):
    script = REPO / "bundles" / bundle / "scripts" / "make_sample.py"
    spec = importlib.util.spec_from_file_location(f"{bundle}_make_sample", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_pixels_close(made: np.ndarray, shipped: np.ndarray, name: Path) -> None:
    assert made.shape == shipped.shape and made.dtype == shipped.dtype, name
    diff = np.abs(made.astype(np.int64) - shipped.astype(np.int64))
    n_diff = int(np.count_nonzero(diff))
    assert int(diff.max()) <= MAX_GREY_DIFF, f"{name}: a pixel differs by {int(diff.max())} grey levels"
    assert n_diff <= MAX_DIFFERING_FRACTION * diff.size, f"{name}: {n_diff} of {diff.size} pixels differ"


def _assert_same_file(made: Path, shipped: Path, name: Path) -> None:
    if name.suffix == ".dcm":
        a, b = pydicom.dcmread(made), pydicom.dcmread(shipped)
        assert a.file_meta == b.file_meta, name
        tags = sorted(set(a.keys()) | set(b.keys()))
        differing = [str(t) for t in tags if t != 0x7FE00010 and a.get(t) != b.get(t)]
        assert not differing, f"{name}: elements {differing} differ"
        _assert_pixels_close(a.pixel_array, b.pixel_array, name)
    elif name.suffix == ".png":
        _assert_pixels_close(np.asarray(Image.open(made)), np.asarray(Image.open(shipped)), name)
    else:
        assert made.read_bytes() == shipped.read_bytes(), name


@pytest.mark.parametrize("bundle", ["mammo_lesion_segmentation", "mammo_classification"])
def test_make_sample_reproduces_the_shipped_sample(bundle: str, tmp_path: Path) -> None:
    _load_make_sample(bundle).write_sample(tmp_path)
    shipped = REPO / "bundles" / bundle / "sample"
    names = sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in names:
        _assert_same_file(tmp_path / name, shipped / name, name)


@pytest.mark.parametrize(
    ("n_pixels", "delta", "passes"),
    [(1, 1, True), (1, 2, False), (1000, 1, False)],
    ids=["rounding", "2", "many"],
)
def test_the_comparison_tolerates_rounding_only(
    tmp_path: Path, n_pixels: int, delta: int, passes: bool
) -> None:
    """One pixel one grey level off passes; a larger or a wider change does not."""
    name = Path("images/phantom-11-0000_L_CC.dcm")
    shipped = REPO / "bundles" / "mammo_lesion_segmentation" / "sample" / name
    ds = pydicom.dcmread(shipped)
    pixels = ds.pixel_array.copy()
    flat = pixels.reshape(-1)
    flat[np.linspace(0, flat.size - 1, n_pixels).astype(int)] += delta
    ds.compress(ds.file_meta.TransferSyntaxUID, pixels, generate_instance_uid=False)
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    if passes:
        _assert_same_file(changed, shipped, name)
    else:
        with pytest.raises(AssertionError):
            _assert_same_file(changed, shipped, name)
