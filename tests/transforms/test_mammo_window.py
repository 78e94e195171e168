"""MammoWindow / MammoWindowd: DICOM VOI windowing from arguments or metadata, output range and metadata."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import LoadImage
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_windowing
from pydicom.uid import (
    DigitalMammographyXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    generate_uid,
)
from transform_helpers import ARRAY_TYPES, as_type, to_numpy

from monai_mammo.data import MammoDicomReader
from monai_mammo.data.readers.voi import window_to_unit
from monai_mammo.transforms import MammoWindow, MammoWindowD, MammoWindowd, MammoWindowDict

RAW = np.linspace(0, 4095, 4096, dtype=np.float32).reshape(1, 64, 64)


def dicom_linear(x, c, w):
    """PS3.3 C.11.2.1.2.1 written out with its three cases."""
    y = (x - (c - 0.5)) / (w - 1) + 0.5
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0.0, y)
    return np.where(x > c - 0.5 + (w - 1) / 2, 1.0, y)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_linear_window_matches_the_standard(kind):
    out = MammoWindow(center=2048, width=1000)(as_type(RAW, kind))
    assert type(out) is type(as_type(RAW, kind))
    got = to_numpy(out)
    assert got.dtype == np.float32 and got.min() == 0.0 and got.max() == 1.0
    np.testing.assert_allclose(got, dicom_linear(RAW, 2048, 1000), atol=1e-6)


def _windowed_mg_file(path, center, width, function):
    """A 64 x 64 MONOCHROME2 DICOM mammogram of 12-bit ramp values with one window."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = DigitalMammographyXRayImageStorageForPresentation
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.ImageLaterality, ds.ViewPosition = "MG", "L", "CC"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 64, 64, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
    ds.PixelData = RAW[0].astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("center,width", [(2048.0, 1000.0), (300.5, 1.0), (3000.0, 5000.0)])
def test_same_values_as_the_reader_and_as_pydicom(tmp_path, function, center, width):
    """The two ways to a window agree: MammoDicomReader's (voi="window") and MammoWindow on the raw read,
    which finds the window in the reader's metadata; both match pydicom's apply_windowing (the standard's
    formulas written by others) scaled to [0, 1]."""
    path = _windowed_mg_file(tmp_path / "window.dcm", center, width, function)
    windowed = LoadImage(reader=MammoDicomReader(), image_only=True)(path)
    assert windowed.meta["voi_mode"] == "window"
    raw = LoadImage(reader=MammoDicomReader(voi="raw"), image_only=True)(path)
    np.testing.assert_array_equal(to_numpy(raw), RAW)
    got = MammoWindow()(raw)
    assert got.meta["voi_mode"] == "window"
    np.testing.assert_allclose(to_numpy(got), to_numpy(windowed), atol=2e-6)
    if function != "LINEAR" or width > 1.0:
        theirs = apply_windowing(RAW.astype(np.float64), pydicom.dcmread(path)) / 4095.0
        np.testing.assert_allclose(to_numpy(got), theirs, atol=1e-5)
    else:  # LINEAR width 1: 0 at and below c - 0.5, 1 above (pydicom draws the step at another point)
        np.testing.assert_array_equal(to_numpy(got), (RAW > center - 0.5).astype(np.float32))


def test_window_to_unit_on_numpy_and_torch_in_place():
    """The one window implementation works in place on a numpy array and on a tensor, with equal values."""
    arr = RAW.copy()
    assert window_to_unit(arr, 2048, 1000) is arr
    t = torch.from_numpy(RAW.copy())
    assert window_to_unit(t, 2048, 1000) is t
    np.testing.assert_allclose(arr, dicom_linear(RAW, 2048, 1000), atol=1e-6)
    np.testing.assert_array_equal(t.numpy(), arr)
    with pytest.raises(TypeError, match="floating-point"):
        window_to_unit(RAW.astype(np.int32), 2048, 1000)
    with pytest.raises(ValueError, match="CUBIC"):
        window_to_unit(RAW.copy(), 2048, 1000, "CUBIC")


@pytest.mark.parametrize(
    "meta",
    [
        {"WindowCenter": 2048.0, "WindowWidth": 1000.0},
        {"window_center": "2048", "window_width": "1000"},
        {"WindowCenter": "2048\\1024", "WindowWidth": [1000, 200]},
        {"00281050": {"vr": "DS", "Value": [2048]}, "00281051": {"vr": "DS", "Value": [1000]}},
    ],
)
def test_window_from_metadata_forms(meta):
    img = MetaTensor(torch.from_numpy(RAW.copy()), meta=dict(meta, voi_mode="raw"))
    out = MammoWindow()(img)
    np.testing.assert_allclose(to_numpy(out), dicom_linear(RAW, 2048, 1000), atol=1e-6)
    assert out.meta["voi_mode"] == "window"


def test_window_index_and_function_from_metadata():
    meta = {"WindowCenter": [2048, 1024], "WindowWidth": [1000, 200], "VOILUTFunction": "SIGMOID"}
    out = MammoWindow(window_index=1)(MetaTensor(torch.from_numpy(RAW.copy()), meta=meta))
    np.testing.assert_allclose(to_numpy(out), 1.0 / (1.0 + np.exp(-4.0 * (RAW - 1024) / 200)), atol=2e-6)


def test_already_windowed_images_are_left_alone():
    img = MetaTensor(
        torch.rand(1, 8, 8), meta={"voi_mode": "window", "WindowCenter": 10.0, "WindowWidth": 4.0}
    )
    assert MammoWindow()(img) is img
    assert not torch.equal(MammoWindow(skip_if_applied=False)(img), img)


def test_fallbacks_without_a_window():
    nan_meta = {
        "WindowCenter": float("nan"),
        "WindowWidth": float("nan"),
        "voi_mode": "raw",
    }  # as the readers
    img = MetaTensor(torch.from_numpy(RAW.copy()), meta=nan_meta)
    out = MammoWindow()(img)
    np.testing.assert_allclose(to_numpy(out), RAW / 4095.0, atol=1e-6)
    assert out.meta["voi_mode"] == "full_range"
    assert MammoWindow(fallback="none")(img) is img
    with pytest.raises(ValueError, match="no window"):
        MammoWindow(fallback="error")(img)


def test_output_range_and_dtype_options():
    out = MammoWindow(center=2048, width=1000, y_min=-1, y_max=1, dtype=torch.float16)(torch.from_numpy(RAW))
    assert out.dtype == torch.float16 and float(out.min()) == -1 and float(out.max()) == 1


def test_errors():
    with pytest.raises(ValueError, match="function"):
        MammoWindow(function="LOG")
    with pytest.raises(ValueError, match="both"):
        MammoWindow(center=1.0)
    with pytest.raises(ValueError, match="fallback"):
        MammoWindow(fallback="guess")
    with pytest.raises(ValueError, match=">= 1"):
        MammoWindow(center=10, width=0.5)(RAW)
    with pytest.raises(ValueError, match="channel-first"):
        MammoWindow(center=10, width=5)(RAW[0])
    with pytest.raises(TypeError, match="real numbers"):
        MammoWindow(center=10, width=5)(RAW > 3)
    bad = MetaTensor(
        torch.from_numpy(RAW.copy()), meta={"VOILUTFunction": "CUBIC", "WindowCenter": 1, "WindowWidth": 2}
    )
    with pytest.raises(ValueError, match="CUBIC"):
        MammoWindow()(bad)


def test_dict():
    d = MammoWindowd(keys="image", center=2048, width=1000)({"image": RAW.copy(), "other": 1})
    np.testing.assert_allclose(d["image"], dicom_linear(RAW, 2048, 1000), atol=1e-6)
    assert d["other"] == 1
    with pytest.raises(KeyError):
        MammoWindowd(keys="image")({"label": RAW})
    with pytest.raises(ValueError, match="key 'image'"):
        MammoWindowd(keys="image", center=1, width=2)({"image": RAW[0]})
    assert MammoWindowD is MammoWindowd and MammoWindowDict is MammoWindowd
