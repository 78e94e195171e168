"""Reader test helpers: a small real mammogram, DICOM writers for each variant, a lossless JPEG encoder.

The base image is a real CBIS-DDSM LEFT CC mammogram (``1-130.dcm``), subsampled by 6 and cropped to
512 x 416 (rows x columns) with the breast touching the left edge, so that every variant file is small and
fast to write and read while still holding real anatomy and the full 16-bit value range.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pydicom
import torch
from monai.data import ImageReader, MetaTensor
from monai.transforms import LoadImage
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    DigitalMammographyXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    JPEGLosslessSV1,
    generate_uid,
)

BASE_SHAPE = (512, 416)


def cbis_crop(shared_data: Path) -> np.ndarray:
    """The 512 x 416 uint16 crop of CBIS-DDSM 1-130.dcm (LEFT CC), breast on the left edge."""
    full = pydicom.dcmread(shared_data / "cbis_ddsm" / "dicom" / "1-130.dcm").pixel_array
    small = full[::6, ::6]
    top = (small.shape[0] - BASE_SHAPE[0]) // 2
    return np.ascontiguousarray(small[top : top + BASE_SHAPE[0], : BASE_SHAPE[1]]).astype(np.uint16)


def load_image(reader: ImageReader, path: str | Path) -> tuple[np.ndarray, dict]:
    """Read ``path`` with ``reader`` through MONAI's LoadImage, as a user would: float32 pixels, meta."""
    img, meta = LoadImage(reader=reader, image_only=False)(str(path))
    assert isinstance(img, MetaTensor) and img.dtype == torch.float32
    return img.numpy(), dict(meta)


def mg_dataset(stored: np.ndarray, bits_stored: int = 16, signed: bool = False, **tags) -> Dataset:
    """A DICOM MG dataset holding ``stored`` (2D, or 3D for multi-frame) as native little-endian pixel data.

    Args:
        stored: the stored values; uint16/int16 (16 allocated bits) or uint8.
        bits_stored: Bits Stored (High Bit = Bits Stored - 1).
        signed: Pixel Representation 1.
        tags: any other tags by keyword (``PhotometricInterpretation="MONOCHROME1"``, ``WindowCenter=...``).
    """
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = DigitalMammographyXRayImageStorageForPresentation
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MG"
    ds.PatientID = "TEST0001"
    frames = stored.shape[0] if stored.ndim == 3 else 1
    ds.Rows, ds.Columns = stored.shape[-2:]
    if stored.ndim == 3:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 8 * stored.dtype.itemsize
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = int(signed)
    ds.PixelData = np.ascontiguousarray(stored).astype(stored.dtype.newbyteorder("<")).tobytes()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    return ds


def save(ds: Dataset, path: Path) -> Path:
    """Write ``ds`` as a DICOM Part 10 file and return the path."""
    ds.save_as(path, enforce_file_format=True)
    return path


def compress(ds: Dataset, syntax: UID) -> Dataset:
    """Re-encode ``ds`` losslessly: pydicom's own encoders, or :func:`jpeg_lossless_encode` for process 14."""
    if syntax == JPEGLosslessSV1:
        frame = jpeg_lossless_encode(ds.pixel_array, precision=int(ds.BitsStored))
        ds.PixelData = encapsulate([frame])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
        return ds
    ds.compress(syntax)
    return ds


def jpeg_lossless_encode(image: np.ndarray, precision: int = 16) -> bytes:
    """Encode a 2D unsigned image as a lossless JPEG (ITU T.81 process 14, selection value 1, one component).

    pydicom has no encoder for JPEG lossless, so the tests write the codestream themselves: predictor
    Ra (left neighbour; above for the first column; 2**(P-1) for the first pixel), one Huffman table giving
    every difference category 0..16 a 5-bit code. Decoding it with pylibjpeg/libjpeg checks the reader's
    JPEG lossless path on data whose expected result is known exactly.
    """
    x = image.astype(np.int64)
    pred = np.empty_like(x)
    pred[:, 1:] = x[:, :-1]
    pred[1:, 0] = x[:-1, 0]
    pred[0, 0] = 1 << (precision - 1)
    diff = (x - pred) & 0xFFFF
    diff = np.where(diff >= 0x8000, diff - 0x10000, diff).ravel()
    magnitude = np.abs(diff)
    ssss = np.zeros_like(magnitude)
    nz = magnitude > 0
    ssss[nz] = np.floor(np.log2(magnitude[nz])).astype(np.int64) + 1
    extra = np.where(diff >= 0, diff, diff - 1) & ((1 << ssss) - 1)
    extra[ssss == 16] = 0  # category 16 (difference 32768) has no extra bits
    nbits = np.where(ssss == 16, 0, ssss)
    word = (ssss << nbits) | extra  # 5-bit code (= the category) followed by the extra bits
    length = 5 + nbits
    width = 21
    shifts = np.arange(width - 1, -1, -1)
    bits = (word[:, None] >> shifts[None, :]) & 1
    valid = shifts[None, :] < length[:, None]
    stream = bits[valid].astype(np.uint8)
    stream = np.concatenate([stream, np.ones((-stream.size) % 8, np.uint8)])  # pad with 1-bits
    scan = np.packbits(stream).tobytes().replace(b"\xff", b"\xff\x00")

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    rows, cols = image.shape
    sof3 = bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes([1, 1, 0x11, 0])
    counts = [0] * 16
    counts[4] = 17  # 17 codes of length 5
    dht = bytes([0x00]) + bytes(counts) + bytes(range(17))
    sos = bytes([1, 1, 0x00, 1, 0, 0])  # one component, table 0, predictor 1, Se 0, Ah/Al 0
    return b"\xff\xd8" + segment(0xC3, sof3) + segment(0xC4, dht) + segment(0xDA, sos) + scan + b"\xff\xd9"


def make_decoders_unavailable(monkeypatch, syntax: UID) -> list[str]:
    """Put pydicom's decoder for ``syntax`` in the state it has when its plugin packages are not installed.

    Each available plugin's module is made to answer ``is_available(uid) -> False`` and is registered again
    through pydicom's own ``Decoder.add_plugin``, which then files it under the missing dependencies exactly
    as at import time without pylibjpeg/pillow/gdcm. Everything is restored by ``monkeypatch``.

    Returns:
        The labels of the plugins made unavailable.
    """
    from pydicom.pixels import get_decoder

    decoder = get_decoder(syntax)
    available = dict(decoder._available)
    monkeypatch.setattr(decoder, "_available", {})
    monkeypatch.setattr(decoder, "_unavailable", dict(decoder._unavailable))
    for label, func in available.items():
        module = importlib.import_module(func.__module__)
        monkeypatch.setattr(module, "is_available", lambda uid: False)
        decoder.add_plugin(label, (func.__module__, func.__name__))
    assert not decoder.is_available
    return sorted(available)
