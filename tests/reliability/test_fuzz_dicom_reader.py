"""Fuzzing ``MammoDicomReader`` with hypothesis on randomly corrupted real headers.

Seeds: small phantom DICOMs (uncompressed, RLE, JPEG 2000; :mod:`monai_mammo.data.phantom`) and the real
CBIS-DDSM header of ``1-130.dcm`` with its pixels subsampled by 16 (uncompressed and RLE). Each case mutates
one seed: byte flips in the header or anywhere, a truncation, a tag replaced by raw bytes of its VR (numbers
at the edges of their range, odd strings, random bytes), a random VOI / Modality LUT or window, or a tag and
byte flips together; then reads it through ``LoadImage``'s calls (``read`` + ``get_data``).

The property: reading either returns a finite float32 ``(1, H, W)`` image (in ``[0, 1]`` for the window and
full-range modes) within the memory a ``max_pixels`` image needs, or raises one of
:data:`DOCUMENTED_READER_ERRORS`, whose message starts with the file name.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from fuzzing import SLOW_FACTOR, CaseCounter, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless
from results import record

from monai_mammo.data import MammoDicomReader, MammoReadError
from monai_mammo.data.phantom import make_phantom, write_phantom_dicom

DOCUMENTED_READER_ERRORS: tuple[type[BaseException], ...] = (MammoReadError,)
"""What may escape the reader for any file that exists: ``MammoReadError`` and its subclasses
(``NotDicomError``, ``TruncatedFileError``, ``NoPixelDataError``, ``UnsupportedImageError``,
``ImageTooLargeError``, ``MissingCodecError``, ``ConflictingTagsError``, ...). A missing file is a
``FileNotFoundError``, not fuzzed here."""

EXAMPLES = 200  # per seed: 5 seeds, 1000 cases in the normal suite
MAX_PIXELS = 2_000_000  # the fuzzed reader's limit: a mutated Rows/Columns may ask for up to 8 MB
MEMORY_LIMIT = 64 * 2**20  # traced peak per case (the float32 image of MAX_PIXELS is 8 MB)
MUTATIONS = ("flip_header", "flip_any", "truncate", "tag", "delete", "lut", "window", "tag_and_flip")
SEEDS = ("phantom_native", "phantom_rle", "phantom_jpeg2000", "cbis_native", "cbis_rle")
TAGS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "NumberOfFrames",
    "PlanarConfiguration",
    "RescaleSlope",
    "RescaleIntercept",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
    "ImageLaterality",
    "Laterality",
    "ViewPosition",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "PresentationIntentType",
    "SOPClassUID",
    "Modality",
    "PatientID",
    "PixelData",
)
STRINGS = (
    "",
    " ",
    "0",
    "1",
    "-1",
    "2",
    "8",
    "16",
    "65536",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "1e38",
    "0.07\\0.07",
    "0\\0",
    "-0.1\\nan",
    "L",
    "R",
    "B",
    "U",
    "LEFT",
    "CC",
    "MLO",
    "XCCL",
    "MONOCHROME1",
    "MONOCHROME2",
    "RGB",
    "PALETTE COLOR",
    "YBR_FULL_422",
    "SIGMOID",
    "LINEAR_EXACT",
    "FOR PROCESSING",
    "1.2.840.10008.5.1.4.1.1.1.2",
    "1.2.840.10008.5.1.4.1.1.88.11",
    "1.2.3.4",
    "x" * 70,
)
EDGE_INTS = (0, 1, 2, 3, 7, 8, 9, 11, 12, 15, 16, 17, 24, 31, 32, 33, 64, 255, 256, 4096, 32767, 32768, 65535)
counter = CaseCounter()
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns on every invalid value


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, bytes]:
    """The seed files as bytes (the CBIS-DDSM ones only when ../shared/data is there)."""
    folder = tmp_path_factory.mktemp("fuzz_seeds")
    phantom = make_phantom((96, 80), seed=3, laterality="R", view="MLO")
    out: dict[str, bytes] = {}
    for name, syntax in (
        ("phantom_native", ExplicitVRLittleEndian),
        ("phantom_rle", RLELossless),
        ("phantom_jpeg2000", JPEG2000Lossless),
    ):
        try:
            path = write_phantom_dicom(phantom, folder / f"{name}.dcm", transfer_syntax=syntax)
        except ValueError:  # no JPEG 2000 encoder here (the monai_mammo[dicom] extra)
            continue
        out[name] = path.read_bytes()
    try:
        shared: Path = request.getfixturevalue("shared_data")
    except pytest.skip.Exception:
        return out
    full = pydicom.dcmread(shared / "cbis_ddsm" / "dicom" / "1-130.dcm")
    pixels = np.ascontiguousarray(full.pixel_array[::16, ::16]).astype(np.uint16)
    for name, rle in (("cbis_native", False), ("cbis_rle", True)):
        ds = pydicom.dcmread(shared / "cbis_ddsm" / "dicom" / "1-130.dcm", stop_before_pixels=True)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelData = pixels.astype("<u2").tobytes()
        ds["PixelData"].VR = "OW"
        if rle:
            ds.compress(RLELossless)
        buffer = DicomBytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        out[name] = buffer.getvalue()
    return out


@pytest.fixture(scope="module", autouse=True)
def record_counts():
    """Write the case counts (``MONAI_MAMMO_RELIABILITY_RESULTS``) when the module is done."""
    yield
    record("fuzz_dicom", counter.as_dict())


def _raw_value(data: st.DataObject, vr: str) -> bytes:
    """Bytes for an element of ``vr``: an edge number, an odd string or random bytes."""
    kind = data.draw(st.sampled_from(["number", "string", "bytes"]), label="value kind")
    if kind == "number":
        value = data.draw(st.sampled_from(EDGE_INTS) | st.integers(-(2**31), 2**32 - 1), label="number")
        fmt = {"US": "<H", "SS": "<h", "UL": "<I", "SL": "<i"}.get(vr)
        if fmt is not None:
            bits = 8 * struct.calcsize(fmt)
            signed = fmt[1].islower()
            lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
            return struct.pack(fmt, min(max(value, lo), hi))
        text = str(value)
    elif kind == "string":
        text = data.draw(st.sampled_from(STRINGS) | st.text(max_size=12), label="string")
    else:
        return data.draw(st.binary(max_size=16), label="bytes")
    raw = text.encode("latin-1", "replace")
    return raw + b" " * (len(raw) % 2)


def _lut_item(data: st.DataObject) -> Dataset:
    item = Dataset()
    entries = data.draw(st.sampled_from([0, 1, 2, 256, 4096]) | st.integers(0, 70000), label="entries")
    first = data.draw(st.sampled_from([0, -1000, 4095]) | st.integers(-40000, 70000), label="first mapped")
    bits = data.draw(st.sampled_from([8, 12, 16, 0, 17]), label="bits")
    item.LUTDescriptor = [entries & 0xFFFF, first & 0xFFFF, bits]
    n = data.draw(st.integers(0, min(entries if entries else 65536, 5000) + 8), label="entries present")
    values = data.draw(st.lists(st.integers(0, 65535), min_size=min(n, 1), max_size=1), label="lut value")
    item.LUTData = bytes(np.resize(np.array(values or [0], "<u2"), n).tobytes())
    item["LUTData"].VR = "OW"
    return item


def mutate(seed: bytes, data: st.DataObject) -> bytes:
    """One random corruption of ``seed`` (see the module docstring)."""
    kind = data.draw(
        st.sampled_from(
            ["flip_header", "flip_any", "truncate", "tag", "delete", "lut", "window", "tag_and_flip"]
        ),
        label="mutation",
    )
    raw = bytearray(seed)
    if kind in ("tag", "delete", "lut", "window", "tag_and_flip"):
        ds = pydicom.dcmread(io.BytesIO(seed))
        if kind == "delete":
            keyword = data.draw(st.sampled_from(TAGS), label="deleted")
            if keyword in ds:
                delattr(ds, keyword)
        elif kind == "lut":
            sequence = data.draw(st.sampled_from(["VOILUTSequence", "ModalityLUTSequence"]), label="lut")
            setattr(ds, sequence, Sequence([_lut_item(data)]))
        elif kind == "window":
            number = st.sampled_from([0.0, 0.5, 1.0, -1.0, 1e9, float("nan"), float("inf")]) | st.floats(
                -1e6, 1e6
            )
            ds.WindowCenter = f"{data.draw(number, label='center'):.6g}"[:16]
            ds.WindowWidth = f"{data.draw(number, label='width'):.6g}"[:16]
            ds.VOILUTFunction = data.draw(st.sampled_from(["LINEAR", "LINEAR_EXACT", "SIGMOID", "CUBIC", ""]))
        else:
            keyword = data.draw(st.sampled_from(TAGS), label="tag")
            tag = Tag(keyword)
            vr = dictionary_VR(tag).split(" or ")[0]
            value = _raw_value(data, vr)
            ds[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)
        buffer = DicomBytesIO()
        try:
            ds.save_as(buffer, enforce_file_format=False)
        except Exception:  # pydicom refuses to write this value: the case becomes the seed itself
            buffer = DicomBytesIO(seed)
        raw = bytearray(buffer.getvalue())
    if kind in ("flip_header", "flip_any", "tag_and_flip"):
        header_end = raw.find(b"\xe0\x7f\x10\x00")
        header_end = header_end if header_end > 0 and kind != "flip_any" else len(raw)
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            at = data.draw(st.integers(0, max(header_end - 1, 0)), label="at")
            raw[at] ^= data.draw(st.integers(1, 255), label="xor")
    if kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")]
    return bytes(raw)


def check_reader(path: Path, voi: str, frame_index: int | None) -> str:
    """Read ``path`` as LoadImage does; assert the property; return the outcome."""
    reader = MammoDicomReader(voi=voi, frame_index=frame_index, max_pixels=MAX_PIXELS)
    tracemalloc.start()
    try:
        try:
            image, meta = reader.get_data(reader.read(path))
        except DOCUMENTED_READER_ERRORS as e:
            assert str(e).startswith(f"{path}: "), f"the message does not start with the file: {e}"
            return type(e).__name__
        finally:
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{peak:,} bytes traced"
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[0] == 1 and image.size
    assert np.isfinite(image).all()
    if voi != "raw":
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert meta["filename_or_obj"] == str(path)
    return "ok"


def run_fuzz(name: str, seed: bytes, folder: Path, examples: int) -> int:
    """Run ``examples`` hypothesis cases on ``seed``; return how many ran."""
    path = folder / f"{name}.dcm"
    before = counter.total(name)

    @fuzz_settings(examples)
    @given(data=st.data())
    def case(data: st.DataObject) -> None:
        path.write_bytes(mutate(seed, data))
        voi = data.draw(st.sampled_from(["window", "raw", "full_range"]), label="voi")
        frame_index = data.draw(st.sampled_from([None, None, 0]), label="frame_index")
        counter.add(name, check_reader(path, voi, frame_index))

    case()
    return counter.total(name) - before


def _seed(seeds: dict[str, bytes], name: str) -> Any:
    if name not in seeds:
        pytest.skip(f"seed {name} unavailable here (needs ../shared/data or a JPEG 2000 encoder)")
    return seeds[name]


@pytest.mark.parametrize("name", SEEDS)
def test_fuzz_dicom_reader(name: str, seeds: dict[str, bytes], tmp_path: Path) -> None:
    assert run_fuzz(name, _seed(seeds, name), tmp_path, EXAMPLES) >= EXAMPLES


@pytest.mark.slow
@pytest.mark.parametrize("name", SEEDS)
def test_fuzz_dicom_reader_long(name: str, seeds: dict[str, bytes], tmp_path: Path) -> None:
    examples = SLOW_FACTOR * EXAMPLES
    assert run_fuzz(f"{name}_long", _seed(seeds, name), tmp_path, examples) >= examples
