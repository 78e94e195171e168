"""The bad-input corpus: damaged and unusual files generated from the real mammograms in ../shared/data.

Nothing here is committed as an image: :func:`build_corpus` writes every file into a folder at test time,
from a real CBIS-DDSM DICOM (``1-130.dcm``, LEFT CC, RLE lossless), real mini-MIAS PNGs, a real CDD-CESM JPEG
and its colour mask, and a small phantom DICOM (:mod:`monai_mammo.data.phantom`). Each :class:`Case` says
what the file is and what must happen when it is read:

- ``good``: it is read (and, in a bundle run, gets all its outputs);
- ``bad``: reading it raises exactly ``error``, whose message starts with the file name (for
  ``MammoReadError`` types) and matches ``cause``;
- ``blank``: it is read, and the bundle's preprocessing refuses it (``RejectBlankImaged``,
  ``BlankImageError``): a reader cannot tell a blank mammogram from an empty mask.

The DICOM variants keep the real file's header (patient, study, Laterality ``L``, the Patient ID
``Mass-Test_P_00173_LEFT_CC``) and its pixels subsampled by 8 (554 x 358, 16 bits, uncompressed), so that
each file is small while holding real anatomy.
"""

from __future__ import annotations

import gzip
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    BasicTextSRStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    RLELossless,
    generate_uid,
)

from monai_mammo.data.errors import (
    BlankImageError,
    ConflictingTagsError,
    ImageTooLargeError,
    MammoReadError,
    NoPixelDataError,
    NotDicomError,
    TruncatedFileError,
    UnsupportedImageError,
)
from monai_mammo.data.phantom import make_phantom, write_phantom_dicom

CBIS_SOURCE = "cbis_ddsm/dicom/1-130.dcm"
MIAS_SOURCE = "mini_mias/images/mdb001.png"
SUBSAMPLE = 8


@dataclass(frozen=True)
class Case:
    """One corpus file and what reading it must do.

    Attributes:
        name: the file name in the corpus folder.
        what: what the file is, for the report and the docs.
        kind: ``"good"``, ``"bad"`` or ``"blank"`` (see the module docstring).
        error: the exact error type a bad (or blank) file must raise.
        cause: a regular expression the error message must match (searched).
    """

    name: str
    what: str
    kind: str = "bad"
    error: type[BaseException] | None = None
    cause: str = ""


# every case of the corpus, in the order of the docs' table
CASES: tuple[Case, ...] = (
    # -------------------------------------------------------------- good files (real anatomy)
    Case("good_cbis.dcm", "CBIS-DDSM film, real header, pixels subsampled (uncompressed)", "good"),
    Case(
        "good_no_laterality_tags.dcm",
        "the same without Laterality / view tags and with neutral names: side inferred from the image",
        "good",
    ),
    Case("good_phantom_rle.dcm", "phantom MG DICOM, RLE lossless, conformant tags", "good"),
    Case("good_mias.png", "mini-MIAS film (8-bit PNG, 1024 x 1024)", "good"),
    Case("good_cesm.jpg", "CDD-CESM low-energy image (grey JPEG stored as RGB)", "good"),
    Case("good_mias.nii.gz", "mini-MIAS film as a 2D NIfTI", "good"),
    # -------------------------------------------------------------- DICOM
    Case("truncated_native.dcm", "cut at 2/3 of its pixel data", error=TruncatedFileError, cause="cut short"),
    Case(
        "truncated_rle.dcm",
        "the real RLE file cut after 3 MB",
        error=TruncatedFileError,
        cause="inside its Pixel Data element",
    ),
    Case(
        "truncated_header.dcm",
        "cut after 600 bytes, inside the header",
        error=TruncatedFileError,
        cause="Secondary Capture Image Storage instance, which must hold an image",
    ),
    Case(
        "header_only.dcm",
        "image attributes but no Pixel Data (a header-only export)",
        error=TruncatedFileError,
        cause="declares a 554 x 358 image but ends before its Pixel Data",
    ),
    Case(
        "no_pixel_data.dcm",
        "a Basic Text SR of the same study (no image at all)",
        error=NoPixelDataError,
        cause="without Pixel Data \\(Basic Text SR Storage\\)",
    ),
    Case(
        "transfer_syntax_unknown.dcm",
        "a private, non-standard Transfer Syntax UID",
        error=UnsupportedImageError,
        cause="'1.2.826.0.1.3680043.9.9999.1', which is not a DICOM transfer syntax",
    ),
    Case(
        "transfer_syntax_video.dcm",
        "MPEG2 video transfer syntax",
        error=UnsupportedImageError,
        cause="MPEG2 .* which no DICOM decoder for still images reads",
    ),
    Case(
        "transfer_syntax_wrong.dcm",
        "declares JPEG Baseline, holds uncompressed pixels",
        error=MammoReadError,
        cause="the pixel data could not be decoded",
    ),
    Case(
        "colour_rgb.dcm",
        "RGB, 3 samples per pixel",
        error=UnsupportedImageError,
        cause="colour image \\(Photometric Interpretation RGB, 3 samples",
    ),
    Case("multi_frame.dcm", "2 frames", error=UnsupportedImageError, cause="has 2 frames"),
    Case(
        "bomb_60000_native.dcm",
        "header 60000 x 60000, 128 bytes of pixel data (decompression bomb)",
        error=ImageTooLargeError,
        cause="60000 x 60000 pixels x 1 frame\\(s\\) = 3,600,000,000 pixels, over the limit of 80,000,000",
    ),
    Case(
        "bomb_60000_rle.dcm",
        "RLE, header 60000 x 60000, a few kB of segments",
        error=ImageTooLargeError,
        cause="3,600,000,000 pixels",
    ),
    Case(
        "bomb_frames.dcm",
        "4000 x 3000 x 200 frames declared",
        error=ImageTooLargeError,
        cause="4000 x 3000 pixels x 200 frame\\(s\\) = 2,400,000,000 pixels",
    ),
    Case(
        "bomb_jpeg2000.dcm",
        "Rows/Columns 554 x 358, JPEG 2000 codestream header 60000 x 60000",
        error=ImageTooLargeError,
        cause="codestream of 60000 x 60000 = 3,600,000,000 pixels",
    ),
    Case(
        "bomb_jpeg_lossless.dcm",
        "Rows/Columns 554 x 358, JPEG lossless SOF header 60000 x 60000",
        error=ImageTooLargeError,
        cause="codestream of 60000 x 60000",
    ),
    Case(
        "bits_stored_20_of_16.dcm",
        "Bits Stored 20 > Bits Allocated 16",
        error=UnsupportedImageError,
        cause="Bits Allocated 16 / Bits Stored 20",
    ),
    Case(
        "rescale_slope_1e38.dcm",
        "Rescale Slope 1e38 (values beyond float32)",
        error=UnsupportedImageError,
        cause="outside the finite float32 range",
    ),
    Case(
        "laterality_contradictory.dcm",
        "Image Laterality R, Laterality L",
        error=ConflictingTagsError,
        cause="names both breasts \\(ImageLaterality R, Laterality L\\)",
    ),
    Case(
        "view_contradictory.dcm",
        "View Position CC, View Code Sequence medio-lateral oblique",
        error=ConflictingTagsError,
        cause="View Position CC but its View Code Sequence says MLO",
    ),
    Case("png_named.dcm", "a PNG named .dcm", error=NotDicomError, cause="is not a DICOM file"),
    Case("empty.dcm", "0 bytes", error=NotDicomError, cause="is an empty file"),
    Case("missing.dcm", "a link to a deleted file", error=FileNotFoundError, cause="no such file"),
    Case("blank.dcm", "real header, every pixel 0", "blank", BlankImageError, "is blank: every pixel is 0"),
    # -------------------------------------------------------------- PNG / JPEG
    Case("truncated.png", "mini-MIAS PNG cut in half", error=TruncatedFileError, cause="could not be decod"),
    Case(
        "bomb_60000.png",
        "PNG header 60000 x 60000, 100 bytes of data",
        error=ImageTooLargeError,
        cause="refused by Pillow before decoding",
    ),
    Case(
        "colour_mask.png",
        "CDD-CESM colour lesion mask given as an image",
        error=UnsupportedImageError,
        cause="is a colour image",
    ),
    Case("blank.png", "all-black PNG, 1024 x 1024", "blank", BlankImageError, "is blank: every pixel is 0"),
    # -------------------------------------------------------------- NIfTI
    Case("nan.nii.gz", "one NaN pixel", error=UnsupportedImageError, cause="holds 1 NaN or infinite"),
    Case("inf.nii.gz", "one +Inf pixel", error=UnsupportedImageError, cause="holds 1 NaN or infinite"),
    Case("volume.nii.gz", "a 3-slice volume", error=UnsupportedImageError, cause="shape \\(256, 256, 3\\)"),
    Case(
        "truncated.nii.gz",
        "gzip stream cut in half",
        error=TruncatedFileError,
        cause="could not be read to its end",
    ),
    Case(
        "bomb_30000.nii.gz",
        "header 30000 x 30000 (NIfTI-1's int16 limit is 32767), 64 kB of data",
        error=ImageTooLargeError,
        cause="30000 x 30000 pixels x 1 frame\\(s\\) = 900,000,000 pixels",
    ),
)
GOOD = tuple(c for c in CASES if c.kind == "good")
BAD = tuple(c for c in CASES if c.kind == "bad")
BLANK = tuple(c for c in CASES if c.kind == "blank")


# ---------------------------------------------------------------------------------------------- writers
def _with_transfer_syntax(raw: bytes, uid: str) -> bytes:
    """A Part 10 file whose file meta declares ``uid``, its data set left as written (explicit VR LE)."""
    group_length = int.from_bytes(raw[140:144], "little")  # (0002,0000) UL at offset 132
    body = raw[144 + group_length :]
    meta = pydicom.dcmread(DicomBytesIO(raw), stop_before_pixels=True).file_meta
    meta.TransferSyntaxUID = UID(uid)
    out = DicomBytesIO()
    write_file_meta_info(out, meta, enforce_standard=True)
    return raw[:132] + out.getvalue() + body


def _save(ds: Dataset, path: Path, transfer_syntax: str | None = None) -> bytes:
    buffer = DicomBytesIO()
    if int(pydicom.__version__.split(".")[0]) >= 3:
        ds.save_as(buffer, enforce_file_format=True)
    else:  # pydicom 2 (the MONAI Label environment builds the corpus too)
        ds.save_as(buffer, write_like_original=False)
    raw = buffer.getvalue()
    if transfer_syntax is not None:
        raw = _with_transfer_syntax(raw, transfer_syntax)
    path.write_bytes(raw)
    return raw


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


def _j2k_header(rows: int, columns: int) -> bytes:
    """A JPEG 2000 codestream start (SOC, SIZ for one 16-bit component) then EOC: a header, no image."""
    siz = struct.pack(">HHIIIIIIIIH", 41, 0, columns, rows, 0, 0, columns, rows, 0, 0, 1) + bytes([15, 1, 1])
    return b"\xff\x4f\xff\x51" + siz + b"\xff\xd9"


def _jpeg_lossless_header(rows: int, columns: int) -> bytes:
    """A JPEG lossless (SOF3) frame header for one 16-bit component, then EOI: a header, no image."""
    sof = struct.pack(">HBHHB", 11, 16, rows, columns, 1) + bytes([1, 0x11, 0])
    return b"\xff\xd8\xff\xc3" + sof + b"\xff\xd9"


def _encapsulated(ds: Dataset, frame: bytes, uid: UID) -> Dataset:
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = uid
    return ds


class _Cbis:
    """The real CBIS-DDSM header with subsampled pixels, as fresh datasets."""

    def __init__(self, shared_data: Path) -> None:
        self.path = shared_data / CBIS_SOURCE
        full = pydicom.dcmread(self.path)
        self.pixels = np.ascontiguousarray(full.pixel_array[::SUBSAMPLE, ::SUBSAMPLE]).astype(np.uint16)

    def dataset(self, pixels: np.ndarray | None = None) -> Dataset:
        pixels = self.pixels if pixels is None else pixels
        ds = pydicom.dcmread(self.path, stop_before_pixels=True)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.Rows, ds.Columns = pixels.shape[-2:]
        ds.PixelData = np.ascontiguousarray(pixels).astype("<u2").tobytes()
        ds["PixelData"].VR = "OW"
        return ds


def build_corpus(shared_data: Path, root: Path) -> dict[str, Case]:
    """Write every file of :data:`CASES` into ``root``.

    Args:
        shared_data: the real data folder (``../shared/data``).
        root: the folder to write (created).

    Returns:
        ``{file name: Case}`` for every file written.
    """
    root.mkdir(parents=True, exist_ok=True)
    cbis = _Cbis(shared_data)
    rows, columns = cbis.pixels.shape

    # good files
    good = _save(cbis.dataset(), root / "good_cbis.dcm")
    ds = cbis.dataset()
    for keyword in ("Laterality", "PatientOrientation"):
        delattr(ds, keyword)
    ds.PatientID = ds.PatientName = "ANONYMOUS"
    ds.SeriesDescription = "screening"
    _save(ds, root / "good_no_laterality_tags.dcm")
    phantom = make_phantom((256, 208), seed=5, laterality="R", view="MLO")
    write_phantom_dicom(phantom, root / "good_phantom_rle.dcm", transfer_syntax=RLELossless)
    shutil.copyfile(shared_data / MIAS_SOURCE, root / "good_mias.png")
    cesm = sorted((shared_data / "cdd_cesm" / "images").glob("*.jpg"))[0]
    shutil.copyfile(cesm, root / "good_cesm.jpg")
    mias = np.asarray(Image.open(shared_data / MIAS_SOURCE).convert("L"), dtype=np.float32)[::4, ::4]
    nib.save(nib.Nifti1Image(np.ascontiguousarray(mias), np.eye(4)), root / "good_mias.nii.gz")

    # DICOM
    (root / "truncated_native.dcm").write_bytes(good[: len(good) * 2 // 3])
    (root / "truncated_rle.dcm").write_bytes(cbis.path.read_bytes()[:3_000_000])
    (root / "truncated_header.dcm").write_bytes(good[:600])
    ds = cbis.dataset()
    del ds.PixelData
    _save(ds, root / "header_only.dcm")
    _save(_structured_report(cbis.dataset()), root / "no_pixel_data.dcm")
    _save(cbis.dataset(), root / "transfer_syntax_unknown.dcm", "1.2.826.0.1.3680043.9.9999.1")
    _save(cbis.dataset(), root / "transfer_syntax_video.dcm", "1.2.840.10008.1.2.4.100")
    _save(cbis.dataset(), root / "transfer_syntax_wrong.dcm", "1.2.840.10008.1.2.4.50")
    ds = cbis.dataset()
    grey = (cbis.pixels >> 8).astype(np.uint8)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.repeat(grey[..., None], 3, axis=-1).tobytes()
    _save(ds, root / "colour_rgb.dcm")
    ds = cbis.dataset(np.stack([cbis.pixels, cbis.pixels]))
    ds.NumberOfFrames = 2
    _save(ds, root / "multi_frame.dcm")
    ds = cbis.dataset(cbis.pixels[:8, :8])
    ds.Rows = ds.Columns = 60000
    _save(ds, root / "bomb_60000_native.dcm")
    ds = cbis.dataset(cbis.pixels[:64, :64].copy())
    ds.compress(RLELossless)
    ds.Rows = ds.Columns = 60000
    _save(ds, root / "bomb_60000_rle.dcm")
    ds = cbis.dataset(cbis.pixels[:8, :8])
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4000, 3000, 200
    _save(ds, root / "bomb_frames.dcm")
    ds = _encapsulated(cbis.dataset(), _j2k_header(60000, 60000), JPEG2000Lossless)
    ds.Rows, ds.Columns = rows, columns
    _save(ds, root / "bomb_jpeg2000.dcm")
    ds = _encapsulated(cbis.dataset(), _jpeg_lossless_header(60000, 60000), JPEGLosslessSV1)
    ds.Rows, ds.Columns = rows, columns
    _save(ds, root / "bomb_jpeg_lossless.dcm")
    ds = cbis.dataset()
    ds.BitsStored, ds.HighBit = 20, 19
    _save(ds, root / "bits_stored_20_of_16.dcm")
    ds = cbis.dataset()
    ds.RescaleSlope, ds.RescaleIntercept = "1e38", "0"
    _save(ds, root / "rescale_slope_1e38.dcm")
    ds = cbis.dataset()
    ds.ImageLaterality = "R"  # Laterality is L in the real header
    _save(ds, root / "laterality_contradictory.dcm")
    ds = cbis.dataset()
    ds.ViewPosition = "CC"
    ds.ViewCodeSequence = Sequence([Dataset()])
    ds.ViewCodeSequence[0].CodeValue = "399368009"
    ds.ViewCodeSequence[0].CodingSchemeDesignator = "SCT"
    ds.ViewCodeSequence[0].CodeMeaning = "medio-lateral oblique"
    _save(ds, root / "view_contradictory.dcm")
    shutil.copyfile(shared_data / MIAS_SOURCE, root / "png_named.dcm")
    (root / "empty.dcm").write_bytes(b"")
    (root / "missing.dcm").symlink_to(root / "deleted_before_the_run.dcm")
    _save(cbis.dataset(np.zeros_like(cbis.pixels)), root / "blank.dcm")

    # PNG / JPEG
    mias_bytes = (shared_data / MIAS_SOURCE).read_bytes()
    (root / "truncated.png").write_bytes(mias_bytes[: len(mias_bytes) // 2])
    (root / "bomb_60000.png").write_bytes(_png_header_only(60000, 60000))
    shutil.copyfile(shared_data / "cdd_cesm" / "masks" / f"{cesm.stem}.png", root / "colour_mask.png")
    Image.fromarray(np.zeros((1024, 1024), np.uint8)).save(root / "blank.png")

    # NIfTI
    for name, value in (("nan", np.nan), ("inf", np.inf)):
        bad = mias.copy()
        bad[100, 100] = value
        nib.save(nib.Nifti1Image(bad, np.eye(4)), root / f"{name}.nii.gz")
    nib.save(nib.Nifti1Image(np.stack([mias] * 3, axis=-1), np.eye(4)), root / "volume.nii.gz")
    whole = (root / "good_mias.nii.gz").read_bytes()
    (root / "truncated.nii.gz").write_bytes(whole[: len(whole) // 2])
    header = nib.Nifti1Image(np.zeros((128, 128), np.float32), np.eye(4))
    header.header.set_data_shape((30000, 30000))
    small = nib.Nifti1Image(np.zeros((128, 128), np.float32), np.eye(4)).to_bytes()
    forged = header.header.binaryblock + b"\0" * 4 + small[352:]
    (root / "bomb_30000.nii.gz").write_bytes(gzip.compress(forged, mtime=0))

    written = {p.name for p in root.iterdir()}
    cases = {c.name: c for c in CASES}
    assert written == set(cases), f"corpus and CASES differ: {sorted(written ^ set(cases))}"
    return cases


def _structured_report(template: Dataset) -> Dataset:
    """A Basic Text SR of the template's patient and study: a DICOM file that holds no image."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID = BasicTextSRStorage, ds.file_meta.MediaStorageSOPInstanceUID
    for keyword in ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "AccessionNumber"):
        setattr(ds, keyword, template.get(keyword, ""))
    ds.Modality = "SR"
    ds.SeriesInstanceUID = generate_uid()
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    return ds


def pair_corpus(shared_data: Path, root: Path) -> list[dict[str, str]]:
    """Image / lesion-mask pairs for the training pipeline: one good pair, a mask of half the size, and a
    blank image with a mask.

    Args:
        shared_data: the real data folder.
        root: the folder to write (created).

    Returns:
        The datalist items (``image``, ``label``, ``case``).
    """
    root.mkdir(parents=True, exist_ok=True)
    pixels = np.asarray(Image.open(shared_data / MIAS_SOURCE).convert("L"))
    mask = ((pixels > 200) * 255).astype(np.uint8)
    Image.fromarray(mask).save(root / "mask.png")
    Image.fromarray(mask[::2, ::2]).save(root / "mask_half_size.png")
    Image.fromarray(np.zeros_like(pixels)).save(root / "blank.png")
    image = str(shared_data / MIAS_SOURCE)
    return [
        {"image": image, "label": str(root / "mask.png"), "case": "good"},
        {"image": image, "label": str(root / "mask_half_size.png"), "case": "mask_half_size"},
        {"image": str(root / "blank.png"), "label": str(root / "mask.png"), "case": "blank"},
    ]
