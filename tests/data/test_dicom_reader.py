"""MammoDicomReader on the real CBIS-DDSM files and on variants of a real image written by the tests.

Every lossless variant (MONOCHROME1, RLE, JPEG lossless, JPEG-LS, JPEG 2000, 12 bits in 16 with garbage in the
high bits, signed) must read back to exactly the same values; windows and VOI LUTs are compared with an
independent implementation of the DICOM formulas (and with pydicom's own).
"""

from __future__ import annotations

import csv
import math
import tracemalloc

import numpy as np
import pydicom
import pytest
from monai.data import DataLoader, Dataset
from monai.transforms import Compose, LoadImage, LoadImaged
from pydicom.dataset import Dataset as DicomDataset
from pydicom.pixels import apply_voi, apply_windowing
from pydicom.sequence import Sequence
from pydicom.uid import (
    BasicTextSRStorage,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from reader_helpers import (
    BASE_SHAPE,
    compress,
    load_image,
    make_decoders_unavailable,
    mg_dataset,
    save,
)

from monai_mammo.data import (
    ConflictingTagsError,
    ImageTooLargeError,
    MammoDicomReader,
    MammoReadError,
    MissingCodecError,
    NoPixelDataError,
    NotDicomError,
    TruncatedFileError,
    UnsupportedImageError,
)
from monai_mammo.data.mammo_meta import laterality_from_image, laterality_from_text, view_from_text
from monai_mammo.data.reader_base import FILE_SIZE_MARGIN
from monai_mammo.data.readers.codestream import codec_status, codestream_size, first_fragment
from monai_mammo.utils.enums import MammoMetaKey

HAVE_PYJPEGLS = pydicom.pixels.get_encoder(JPEGLSLossless).is_available


def read(path, **kwargs) -> tuple[np.ndarray, dict]:
    return load_image(MammoDicomReader(**kwargs), path)


# ----------------------------------------------------------------------------- real files
def _cbis_labels(shared_data):
    with open(shared_data / "cbis_ddsm" / "labels.csv") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("name", ["1-130.dcm", "1-131.dcm", "1-132.dcm", "1-133.dcm"])
def test_real_cbis_ddsm(shared_data, name):
    path = shared_data / "cbis_ddsm" / "dicom" / name
    label = _cbis_labels(shared_data)[f"dicom/{name}"]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    img, meta = read(path, voi="raw")
    assert img.shape == (1, ds.Rows, ds.Columns)
    expected_side = label["breast"][0]  # LEFT/RIGHT -> L/R
    # the three sources agree: the tag, the text (PatientID ..._LEFT_CC), the image (which edge it touches)
    assert meta["laterality"] == expected_side and meta["laterality_source"] == "Laterality"
    assert laterality_from_text(ds.PatientID).value == expected_side
    assert laterality_from_image(img).value == expected_side
    assert meta["view_position"] == label["view"] == view_from_text(ds.PatientID).value
    assert meta["Rows"] == ds.Rows and meta["Modality"] == "MG"
    assert meta["voi_mode"] == "raw" and meta["bits_stored"] == 16
    assert math.isnan(meta["pixel_spacing"][0]) and meta["manufacturer"] == "UNKNOWN"
    np.testing.assert_array_equal(img[0], pydicom.dcmread(path).pixel_array)


def test_real_file_window_falls_back_to_full_range(shared_data):
    img, meta = read(shared_data / "cbis_ddsm" / "dicom" / "1-132.dcm")
    assert meta["voi_mode"] == "full_range"  # CBIS-DDSM has no window: recorded fallback
    assert img.min() == 0.0 and img.max() == 1.0


def test_laterality_from_image_when_tags_and_text_are_missing(base, tmp_path):
    left = save(mg_dataset(base), tmp_path / "a.dcm")
    right = save(mg_dataset(np.ascontiguousarray(base[:, ::-1])), tmp_path / "b.dcm")
    assert read(left)[1]["laterality"] == "L" and read(left)[1]["laterality_source"] == "image"
    assert read(right)[1]["laterality"] == "R"
    meta = read(left, infer_laterality=False)[1]
    assert meta["laterality"] == "UNKNOWN" and meta["laterality_source"] == "unknown"


# ----------------------------------------------------------------------------- lossless variants
def _variant(base: np.ndarray, kind: str) -> tuple[DicomDataset, np.ndarray]:
    """A dataset and the RAW values it must read back to."""
    if kind == "native":
        return mg_dataset(base), base
    if kind == "monochrome1":  # stored inverted: reads back as the original (dense bright)
        return mg_dataset(65535 - base, PhotometricInterpretation="MONOCHROME1"), base
    if kind in ("rle", "jpeg_lossless", "jpeg_ls", "jpeg2000"):
        syntax = {
            "rle": RLELossless,
            "jpeg_lossless": JPEGLosslessSV1,
            "jpeg_ls": JPEGLSLossless,
            "jpeg2000": JPEG2000Lossless,
        }[kind]
        return compress(mg_dataset(base.copy()), syntax), base
    b12 = base >> 4
    if kind == "bits12_garbage_high_bits":  # overlay-like bits 12-15 set in a pattern: must be masked
        garbage = (np.indices(base.shape).sum(0) % 16).astype(np.uint16) << 12
        return mg_dataset(b12 | garbage, bits_stored=12), b12
    if kind == "bits12_signed":  # two's complement in 12 bits, high bits 0 (no sign extension stored)
        values = b12.astype(np.int16) - 2048
        return mg_dataset((values.astype(np.uint16) & 0x0FFF), bits_stored=12, signed=True), values
    if kind == "bits12_monochrome1_rle":
        return compress(
            mg_dataset(4095 - b12, bits_stored=12, PhotometricInterpretation="MONOCHROME1"), RLELossless
        ), b12
    raise ValueError(kind)


LOSSLESS = [
    "native",
    "monochrome1",
    "rle",
    "jpeg_lossless",
    pytest.param(
        "jpeg_ls", marks=pytest.mark.skipif(not HAVE_PYJPEGLS, reason="no JPEG-LS encoder (pyjpegls)")
    ),
    "jpeg2000",
    "bits12_garbage_high_bits",
    "bits12_signed",
    "bits12_monochrome1_rle",
]


@pytest.mark.parametrize("kind", LOSSLESS)
def test_lossless_variants_read_back_exactly(base, tmp_path, kind):
    ds, expected = _variant(base, kind)
    path = save(ds, tmp_path / f"{kind}.dcm")
    img, meta = read(path, voi="raw")
    assert img.shape == (1, *BASE_SHAPE)
    np.testing.assert_array_equal(img[0], expected.astype(np.float32))
    assert meta["TransferSyntaxUID"] == str(ds.file_meta.TransferSyntaxUID)
    assert meta["photometric_interpretation"] == str(ds.PhotometricInterpretation)
    assert meta["bits_stored"] == int(ds.BitsStored)
    # FULL_RANGE of every variant is the same picture
    full, _ = read(path, voi="full_range")
    e = expected.astype(np.float64)
    np.testing.assert_allclose(full[0], (e - e.min()) / (e.max() - e.min()), atol=1e-6)


def test_rescale_slope_intercept_and_monochrome1_raw_range(base, tmp_path):
    b12 = base >> 4
    ds = mg_dataset(b12, bits_stored=12, RescaleSlope="0.5", RescaleIntercept="-100")
    img, meta = read(save(ds, tmp_path / "r.dcm"), voi="raw")
    np.testing.assert_array_equal(img[0], b12.astype(np.float32) * 0.5 - 100)
    assert meta["RescaleSlope"] == 0.5 and meta["RescaleIntercept"] == -100.0
    # MONOCHROME1 with rescale: inverted over the possible modality range [-100, 4095 * 0.5 - 100]
    ds = mg_dataset(
        b12,
        bits_stored=12,
        RescaleSlope="0.5",
        RescaleIntercept="-100",
        PhotometricInterpretation="MONOCHROME1",
    )
    img, _ = read(save(ds, tmp_path / "r1.dcm"), voi="raw")
    lo, hi = -100.0, 4095 * 0.5 - 100
    np.testing.assert_allclose(img[0], lo + hi - (b12 * 0.5 - 100), atol=1e-4)
    assert img.min() >= lo and img.max() <= hi


# ----------------------------------------------------------------------------- VOI: windows and LUTs
def dicom_window(x: np.ndarray, c: float, w: float, function: str) -> np.ndarray:
    """PS3.3 C.11.2.1.2 written out case by case (float64), output range [0, 1]."""
    x = x.astype(np.float64)
    if function == "LINEAR":
        return np.where(
            x <= c - 0.5 - (w - 1) / 2,
            0.0,
            np.where(x > c - 0.5 + (w - 1) / 2, 1.0, (x - (c - 0.5)) / (w - 1) + 0.5),
        )
    if function == "LINEAR_EXACT":
        return np.where(x <= c - w / 2, 0.0, np.where(x > c + w / 2, 1.0, (x - c) / w + 0.5))
    return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_window_functions(base, tmp_path, function, photometric):
    b12 = base >> 4
    c, w = 2100.0, 1500.0
    stored = b12 if photometric == "MONOCHROME2" else 4095 - b12
    ds = mg_dataset(
        stored,
        bits_stored=12,
        WindowCenter=[str(c), "1000"],
        WindowWidth=[str(w), "400"],
        VOILUTFunction=function,
        RescaleSlope="1",
        RescaleIntercept="0",
        PhotometricInterpretation=photometric,
    )
    path = save(ds, tmp_path / "w.dcm")
    img, meta = read(path)  # default voi=WINDOW
    expected = dicom_window(stored, c, w, function)
    if photometric == "MONOCHROME1":
        expected = 1.0 - expected
    np.testing.assert_allclose(img[0], expected, atol=2e-6)
    assert meta["voi_mode"] == "window" and meta["WindowCenter"] == c and meta["WindowWidth"] == w
    assert meta["VOILUTFunction"] == function
    # pydicom's own implementation agrees (its output spans the stored range 0..4095)
    theirs = apply_windowing(stored.astype(np.float64), pydicom.dcmread(path)) / 4095.0
    if photometric == "MONOCHROME1":
        theirs = 1.0 - theirs
    np.testing.assert_allclose(img[0], theirs, atol=1e-5)
    # window_index picks the second window
    img2, meta2 = read(path, window_index=1)
    expected2 = dicom_window(stored, 1000.0, 400.0, function)
    np.testing.assert_allclose(
        img2[0], expected2 if photometric == "MONOCHROME2" else 1 - expected2, atol=2e-6
    )
    assert meta2["WindowCenter"] == 1000.0
    with pytest.raises(MammoReadError, match="window_index=2"):
        read(path, window_index=2)


def _voi_lut_item(first: int, entries: int, bits: int) -> DicomDataset:
    item = DicomDataset()
    curve = 1.0 / (1.0 + np.exp(-(np.arange(entries) - entries / 2) / (entries / 10)))
    item.LUTDescriptor = [entries, first, bits]
    item.LUTData = [int(v) for v in np.round(curve * (2**bits - 1) * 0.9 + 100)]
    item["LUTData"].VR = "US"
    item.LUTExplanation = "test sigmoid"
    return item


@pytest.mark.parametrize("prefer_voi_lut", [True, False])
def test_voi_lut_sequence(base, tmp_path, prefer_voi_lut):
    b12 = base >> 4
    ds = mg_dataset(b12, bits_stored=12, WindowCenter="2000", WindowWidth="1000")
    ds.VOILUTSequence = Sequence([_voi_lut_item(first=500, entries=3000, bits=16)])
    path = save(ds, tmp_path / "lut.dcm")
    img, meta = read(path, prefer_voi_lut=prefer_voi_lut)
    assert meta["voi_mode"] == "window"
    if not prefer_voi_lut:
        np.testing.assert_allclose(img[0], dicom_window(b12, 2000.0, 1000.0, "LINEAR"), atol=2e-6)
        return
    # independent lookup: below the first mapped value -> first entry, past the end -> last entry
    table = np.asarray(ds.VOILUTSequence[0].LUTData, dtype=np.float64)
    idx = np.clip(b12.astype(np.int64) - 500, 0, 2999)
    expected = (table[idx] - table.min()) / (table.max() - table.min())
    np.testing.assert_allclose(img[0], expected, atol=1e-6)
    theirs = apply_voi(b12, pydicom.dcmread(path)).astype(np.float64)
    np.testing.assert_allclose(img[0], (theirs - table.min()) / (table.max() - table.min()), atol=1e-6)


def test_voi_lut_as_ow_bytes(base, tmp_path):
    b12 = base >> 4
    item = _voi_lut_item(first=0, entries=4096, bits=16)
    table = np.asarray(item.LUTData, dtype=np.uint16)
    del item.LUTData
    item.add_new("LUTData", "OW", table.astype("<u2").tobytes())
    ds = mg_dataset(b12, bits_stored=12)
    ds.VOILUTSequence = Sequence([item])
    img, _ = read(save(ds, tmp_path / "ow.dcm"))
    t = table.astype(np.float64)
    np.testing.assert_allclose(img[0], (t[b12] - t.min()) / (t.max() - t.min()), atol=1e-6)


def test_modality_lut_sequence(base, tmp_path):
    b12 = base >> 4
    item = DicomDataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "US"
    table = (np.arange(4096) * 3 + 7).astype(np.uint16)
    item.LUTData = [int(v) for v in table]
    item["LUTData"].VR = "US"
    ds = mg_dataset(b12, bits_stored=12)
    ds.ModalityLUTSequence = Sequence([item])
    img, _ = read(save(ds, tmp_path / "mlut.dcm"), voi="raw")
    np.testing.assert_array_equal(img[0], table[b12].astype(np.float32))


# ----------------------------------------------------------------------------- metadata
def test_metadata_keys_spacing_and_collation(base, tmp_path):
    ds = mg_dataset(
        base,
        PixelSpacing=["0.07", "0.065"],
        ImageLaterality="R",
        Laterality="L",  # ImageLaterality wins (strict_tags=False; the default refuses the conflict)
        ViewCodeSequence=Sequence([DicomDataset()]),
        PresentationIntentType="FOR PROCESSING",
        Manufacturer="HOLOGIC, Inc.",
        SeriesDescription="L CC",  # text is only consulted when the tags are silent
    )
    ds.ViewCodeSequence[0].CodeMeaning = "medio-lateral oblique"
    path = save(ds, tmp_path / "m.dcm")
    img, meta = read(path, strict_tags=False)
    for key in MammoMetaKey:
        assert key.value in meta
    assert meta["laterality"] == "R" and meta["laterality_source"] == "ImageLaterality"
    assert meta["view_position"] == "MLO"
    assert meta["pixel_spacing"] == [0.07, 0.065]
    assert meta["presentation_intent"] == "FOR PROCESSING" and meta["manufacturer"] == "HOLOGIC, Inc."
    np.testing.assert_allclose(meta["affine"], np.diag([0.07, 0.065, 1.0]))
    assert tuple(meta["spatial_shape"]) == BASE_SHAPE and meta["original_channel_dim"] == 0
    assert meta["filename_or_obj"] == str(path)
    assert "PixelData" not in meta and all(not isinstance(v, (bytes, DicomDataset)) for v in meta.values())
    # ImagerPixelSpacing fallback, then unknown
    del ds.PixelSpacing
    ds.ImagerPixelSpacing = ["0.1", "0.1"]
    assert read(save(ds, tmp_path / "i.dcm"), strict_tags=False)[1]["pixel_spacing"] == [0.1, 0.1]
    del ds.ImagerPixelSpacing
    meta2 = read(save(ds, tmp_path / "n.dcm"), strict_tags=False)[1]
    assert all(math.isnan(v) for v in meta2["pixel_spacing"])
    np.testing.assert_allclose(meta2["affine"], np.eye(3))
    # a batch of two collates through MONAI's DataLoader
    data = [{"image": str(tmp_path / "i.dcm")}, {"image": str(tmp_path / "n.dcm")}]
    load = LoadImaged(keys="image", reader=MammoDicomReader(strict_tags=False))
    loader = DataLoader(Dataset(data, load), batch_size=2)
    batch = next(iter(loader))
    assert batch["image"].shape == (2, 1, *BASE_SHAPE)
    assert list(batch["image"].meta["laterality"]) == ["R", "R"]


def test_dotted_reader_name_and_kwargs(base, tmp_path):
    path = save(mg_dataset(base), tmp_path / "x.dcm")
    loader = LoadImaged(keys="image", reader="monai_mammo.data.MammoDicomReader", voi="raw")
    out = loader({"image": str(path)})
    np.testing.assert_array_equal(out["image"][0].numpy(), base.astype(np.float32))


def test_text_laterality_and_view_when_tags_absent(base, tmp_path):
    folder = tmp_path / "Calc-Training_P_00005_RIGHT_MLO"
    folder.mkdir()
    flipped = np.ascontiguousarray(base[:, ::-1])  # make the image agree with the folder name
    meta = read(save(mg_dataset(flipped), folder / "1-1.dcm"))[1]
    assert (meta["laterality"], meta["laterality_source"], meta["view_position"]) == ("R", "text", "MLO")


def test_multi_frame(base, tmp_path):
    frames = np.stack([base, base // 2])
    path = save(mg_dataset(frames), tmp_path / "mf.dcm")
    with pytest.raises(UnsupportedImageError, match="2 frames"):
        read(path)
    img, _ = read(path, voi="raw", frame_index=1)
    np.testing.assert_array_equal(img[0], (base // 2).astype(np.float32))
    with pytest.raises(UnsupportedImageError, match="out of range"):
        read(path, frame_index=2)


def test_two_files_stack_as_channels(base, tmp_path):
    a = save(mg_dataset(base), tmp_path / "a.dcm")
    b = save(mg_dataset(base // 2), tmp_path / "b.dcm")
    img = LoadImage(reader=MammoDicomReader(voi="raw"))([str(a), str(b)])
    assert img.shape == (2, *BASE_SHAPE)


# ----------------------------------------------------------------------------- bad input
def test_not_dicom(shared_data, tmp_path):
    png = shared_data / "mini_mias" / "images" / "mdb001.png"
    with pytest.raises(NotDicomError, match="mdb001.png.*not a DICOM file.*MammoImageReader"):
        read(png)  # through LoadImage: the typed error, not PIL silently reading the PNG
    with pytest.raises(RuntimeError) as info:  # inside Compose, MONAI wraps it: the typed error is the cause
        Compose([LoadImaged(keys="image", reader=MammoDicomReader())])({"image": str(png)})
    assert isinstance(info.value.__cause__, NotDicomError)
    garbage = tmp_path / "garbage.dcm"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(NotDicomError):
        read(garbage)
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    with pytest.raises(NotDicomError, match="empty"):
        read(empty)
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "missing.dcm")


def test_dicom_without_preamble_is_accepted(base, tmp_path):
    ds = mg_dataset(base)
    del ds.file_meta
    stripped = tmp_path / "nopreamble.dcm"
    pydicom.dcmwrite(stripped, ds, implicit_vr=True, little_endian=True)  # no preamble, no file meta
    assert stripped.read_bytes()[128:132] != b"DICM"
    img, _ = read(stripped, voi="raw")
    np.testing.assert_array_equal(img[0], base.astype(np.float32))


def test_no_pixel_data(tmp_path):
    ds = mg_dataset(np.zeros((4, 4), np.uint16))
    for keyword in ("PixelData", "Rows", "Columns"):
        delattr(ds, keyword)
    # an image instance (MG) without its image attributes was cut short
    with pytest.raises(TruncatedFileError, match="Mammography X-Ray Image Storage.*cut short"):
        read(save(ds, tmp_path / "cut.dcm"))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage  # a report: no image at all
    with pytest.raises(NoPixelDataError, match="without Pixel Data.*Basic Text SR"):
        read(save(ds, tmp_path / "sr.dcm"))


def test_colour(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    ds = mg_dataset(np.zeros((8, 8), np.uint8), bits_stored=8)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.PixelData = rgb.tobytes()
    with pytest.raises(UnsupportedImageError, match="colour"):
        read(save(ds, tmp_path / "rgb.dcm"))


@pytest.mark.parametrize("cut", ["native", "rle", "header_only"])
def test_truncated(base, tmp_path, cut):
    if cut == "header_only":
        ds = mg_dataset(base)
        del ds.PixelData
        path = save(ds, tmp_path / "h.dcm")
    else:
        ds = mg_dataset(base) if cut == "native" else compress(mg_dataset(base.copy()), RLELossless)
        full = save(ds, tmp_path / "full.dcm").read_bytes()
        path = tmp_path / "cut.dcm"
        path.write_bytes(full[: len(full) * 2 // 3])
    with pytest.raises(TruncatedFileError, match="cut short|ends before"):
        read(path)


def test_absurd_size_refused_before_decoding(tmp_path, monkeypatch):
    ds = mg_dataset(np.zeros((4, 4), np.uint16))
    ds.Rows, ds.Columns = 60000, 60000
    path = save(ds, tmp_path / "huge.dcm")

    def must_not_decode(*args, **kwargs):
        raise AssertionError("decode was reached")

    monkeypatch.setattr(MammoDicomReader, "decode", must_not_decode)
    with pytest.raises(ImageTooLargeError, match="3,600,000,000 pixels.*max_pixels="):
        read(path)
    ds.Rows, ds.Columns = 5000, 5000
    with pytest.raises(ImageTooLargeError):
        read(save(ds, tmp_path / "big.dcm"), max_pixels=10_000_000)


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLosslessSV1, RLELossless])
def test_missing_codec(base, tmp_path, monkeypatch, syntax):
    path = save(compress(mg_dataset(base.copy()), syntax), tmp_path / "c.dcm")
    assert codec_status(syntax)[0]
    removed = make_decoders_unavailable(monkeypatch, syntax)
    assert removed  # there was something to remove
    available, missing = codec_status(syntax)
    assert not available and "requires" in missing
    with pytest.raises(
        MissingCodecError, match=r"c\.dcm.*no installed decoder.*pip install monai_mammo\[dicom\]"
    ):
        read(path)
    monkeypatch.undo()
    assert read(path, voi="raw")[0].shape == (1, *BASE_SHAPE)


def test_file_larger_than_any_accepted_image_is_refused_unread(tmp_path):
    huge = tmp_path / "huge.dcm"
    with huge.open("wb") as f:  # sparse: 8 MiB over the limit without using the disk
        f.truncate(4 * 1000 + FILE_SIZE_MARGIN + 8 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError, match=r"huge\.dcm: is 75,501,\d+ bytes.*max_pixels="):
            read(huge, max_pixels=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # nothing of the file was read


@pytest.mark.parametrize(
    "tags, cause",
    [
        ({"ImageLaterality": "L", "Laterality": "R"}, r"names both breasts \(ImageLaterality L, Lat"),
        ({"ViewPosition": "CC", "code": "medio-lateral oblique"}, "has View Position CC but .* says MLO"),
    ],
)
def test_contradictory_tags(base, tmp_path, tags, cause, caplog):
    ds = mg_dataset(base)
    if "code" in tags:
        ds.ViewCodeSequence = Sequence([DicomDataset()])
        ds.ViewCodeSequence[0].CodeMeaning = tags.pop("code")
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    path = save(ds, tmp_path / "c.dcm")
    with pytest.raises(ConflictingTagsError, match=rf"c\.dcm: {cause}.*strict_tags=False"):
        read(path)
    _, meta = read(path, strict_tags=False)  # Image Laterality and View Position win, with a warning
    assert meta["laterality"] == tags.get("ImageLaterality", "UNKNOWN") or "ViewPosition" in tags
    assert meta["view_position"] == tags.get("ViewPosition", "UNKNOWN")
    assert "c.dcm" in caplog.text


def test_variant_view_codes_are_not_a_contradiction(base, tmp_path):
    ds = mg_dataset(base, ViewPosition="CC", ImageLaterality="L", Laterality="L")
    ds.ViewCodeSequence = Sequence([DicomDataset()])
    ds.ViewCodeSequence[0].CodeMeaning = "cranio-caudal exaggerated laterally"
    assert read(save(ds, tmp_path / "x.dcm"))[1]["view_position"] == "CC"


@pytest.mark.parametrize("slope", ["inf", "1e38", "nan"])
def test_rescale_out_of_float32_range_is_refused(base, tmp_path, slope):
    ds = mg_dataset(base, RescaleSlope=slope, RescaleIntercept="0")
    with pytest.raises(UnsupportedImageError, match="Rescale Slope.*finite float32"):
        read(save(ds, tmp_path / "r.dcm"), voi="raw")


def test_non_finite_window_falls_back_to_full_range(base, tmp_path):
    ds = mg_dataset(base, WindowCenter="nan", WindowWidth="4000")
    img, meta = read(save(ds, tmp_path / "w.dcm"))
    assert meta["voi_mode"] == "full_range" and np.isfinite(img).all() and img.max() == 1.0


def test_garbled_image_pixel_value_is_a_typed_error(base, tmp_path):
    path = save(mg_dataset(base[:64, :48].copy(), NumberOfFrames="1"), tmp_path / "g.dcm")
    raw = path.read_bytes()
    assert raw.count(b"IS\x02\x001 ") == 1  # Number of Frames, explicit VR: becomes the IS string "x!"
    path.write_bytes(raw.replace(b"IS\x02\x001 ", b"IS\x02\x00x!"))
    with pytest.raises(MammoReadError, match=r"g\.dcm: has a malformed data element"):
        read(path)


def _with_frame_of(base: np.ndarray, frame_ds: DicomDataset) -> DicomDataset:
    """A small 64 x 48 dataset carrying the encapsulated pixel data (and syntax) of ``frame_ds``."""
    ds = mg_dataset(base[:64, :48].copy())
    ds.PixelData = frame_ds.PixelData
    ds["PixelData"].VR, ds["PixelData"].is_undefined_length = "OB", True
    ds.file_meta.TransferSyntaxUID = frame_ds.file_meta.TransferSyntaxUID
    return ds


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLosslessSV1])
def test_codestream_of_another_size_is_refused_before_decoding(base, tmp_path, syntax):
    big = compress(mg_dataset(base.copy()), syntax)  # a 512 x 416 codestream
    assert codestream_size(first_fragment(big.PixelData)) == BASE_SHAPE
    path = save(_with_frame_of(base, big), tmp_path / "other.dcm")
    with pytest.raises(
        MammoReadError, match=r"other\.dcm: declares 64 x 48 pixels but its .* holds 512 x 416"
    ):
        read(path)
    with pytest.raises(ImageTooLargeError, match=r"codestream of 512 x 416 = 212,992 pixels"):
        read(path, max_pixels=100_000)


def test_forged_jpeg2000_header_is_a_bomb_refused_unallocated(base, tmp_path):
    small = compress(mg_dataset(base[:64, :48].copy()), JPEG2000Lossless)
    data = bytearray(small.PixelData)
    siz = data.index(b"\xff\x4f\xff\x51") + 4
    data[siz + 4 : siz + 12] = (60000).to_bytes(4, "big") * 2  # Xsiz, Ysiz: 60000 x 60000
    small.PixelData = bytes(data)
    path = save(small, tmp_path / "j2k_bomb.dcm")
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError, match="60000 x 60000 = 3,600,000,000 pixels"):
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_rle_data_holding_a_jpeg2000_marker_is_not_taken_for_a_codestream(tmp_path):
    from monai_mammo.data.phantom import make_phantom, write_phantom_dicom

    path = write_phantom_dicom(
        make_phantom((256, 208), seed=5, laterality="R", view="MLO"),
        tmp_path / "p.dcm",
        transfer_syntax=RLELossless,
    )
    assert b"\xff\x4f\xff\x51" in first_fragment(pydicom.dcmread(path).PixelData)  # by chance
    assert read(path)[0].shape == (1, 256, 208)


def test_rle_segments_longer_than_the_image_are_a_typed_error(base, tmp_path):
    """pylibjpeg-rle panics (a BaseException) on such data: the reader still raises MammoReadError."""
    path = save(_with_frame_of(base, compress(mg_dataset(base.copy()), RLELossless)), tmp_path / "rle.dcm")
    with pytest.raises(MammoReadError, match=r"rle\.dcm: the pixel data could not be decoded") as info:
        read(path)
    assert type(info.value) is MammoReadError


def test_unusable_modality_lut_is_refused_and_unusable_voi_lut_falls_back(base, tmp_path):
    item = DicomDataset()
    item.LUTDescriptor = [0, 0, 16]  # 65536 entries declared
    item.LUTData = b"\x00\x01"  # one present
    item["LUTData"].VR = "OW"
    ds = mg_dataset(base, ModalityLUTSequence=Sequence([item]))
    with pytest.raises(UnsupportedImageError, match=r"m\.dcm: has an unusable Modality LUT .*65536 entries"):
        read(save(ds, tmp_path / "m.dcm"))
    del ds.ModalityLUTSequence
    ds.VOILUTSequence = Sequence([item])
    img, meta = read(save(ds, tmp_path / "v.dcm"))
    assert meta["voi_mode"] == "full_range" and np.isfinite(img).all()


def test_element_with_a_corrupted_vr_is_a_typed_error(base, tmp_path):
    raw = save(mg_dataset(base[:64, :48].copy()), tmp_path / "ok.dcm").read_bytes()
    assert raw.count(b"\x10\x00\x20\x00LO") == 1  # Patient ID, explicit VR
    bad = tmp_path / "vr.dcm"
    bad.write_bytes(raw.replace(b"\x10\x00\x20\x00LO", b"\x10\x00\x20\x00MO"))  # one bit: no such VR
    with pytest.raises(MammoReadError, match=r"vr\.dcm: has a malformed data element .*'MO'"):
        read(bad)


def test_bad_arguments():
    with pytest.raises(ValueError, match="voi must be one of"):
        MammoDicomReader(voi="bright")
    with pytest.raises(ValueError):
        MammoDicomReader(window_index=-1)
    with pytest.raises(TypeError, match="takes no options"):
        MammoDicomReader().read("x.dcm", force=True)


def test_verify_suffix():
    reader = MammoDicomReader()
    assert reader.verify_suffix("a.dcm") and reader.verify_suffix(["IM0001", "1.2.840.1234"])
    assert not reader.verify_suffix("a.png")


@pytest.mark.parametrize(
    "old,module,new",
    [
        ("MammoDicomReader", "monai_mammo.data.readers.dicom", "MammoDicomReader"),
        ("window_to_unit", "monai_mammo.data.readers.voi", "window_to_unit"),
        ("codec_status", "monai_mammo.data.readers.codestream", "codec_status"),
        ("_first_fragment", "monai_mammo.data.readers.codestream", "first_fragment"),
    ],
)
def test_old_module_names_warn_and_point_to_the_readers_package(old, module, new):
    import importlib

    import monai_mammo.data.dicom_reader as old_module

    with pytest.warns(DeprecationWarning, match=f"use {module}.{new}"):
        found = getattr(old_module, old)
    assert found is getattr(importlib.import_module(module), new)
    with pytest.raises(AttributeError):
        old_module.no_such_name  # noqa: B018
