"""Builders of fixture trees in each public data set's exact layout: small files with real headers.

Every builder writes into a fresh folder, in the set's own file names, tables and quirks, tiny images
(DICOM MG with the tags the importers read, or PNG/PGM), and returns the root plus what the importer should
find. The images carry a bright "breast" touching the chest-wall edge (left for L, right for R), so that
tests can also check orientation.
"""

from __future__ import annotations

import plistlib
import shutil
from pathlib import Path

import numpy as np

ROWS, COLS = 48, 64  # tiny full-field images: 48 rows x 64 columns


def breast_image(laterality: str = "L", rows: int = ROWS, cols: int = COLS, seed: int = 0, dtype=np.uint16):
    """A synthetic mammogram: a bright half-disc touching the left (L) or right (R) edge, noise elsewhere."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:rows, :cols]
    x0 = 0 if laterality == "L" else cols - 1
    inside = (yy - rows / 2) ** 2 / (rows / 2.2) ** 2 + (xx - x0) ** 2 / (cols * 0.6) ** 2 <= 1
    top = 4095 if dtype == np.uint16 else 255
    image = rng.integers(0, top // 20, size=(rows, cols))
    image[inside] = rng.integers(top // 2, top, size=int(inside.sum()))
    return image.astype(dtype)


def write_dicom(
    path: Path,
    pixels: np.ndarray,
    *,
    patient_id: str = "P",
    laterality: str | None = None,
    view: str | None = None,
    view_code: tuple[str, str] | None = None,
    image_laterality: bool = True,
    photometric: str = "MONOCHROME2",
    window: tuple[float, float] | None = None,
    rle: bool = False,
    modality: str = "MG",
    extra: dict | None = None,
) -> Path:
    """Write a single-frame DICOM file with a real file-meta header (pydicom, no mocks)."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

    sop_class = "1.2.840.10008.5.1.4.1.1.1.2"  # Digital Mammography X-Ray Image Storage - For Presentation
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientID = patient_id
    ds.PatientName = patient_id
    if laterality:
        if image_laterality:
            ds.ImageLaterality = laterality
        else:
            ds.Laterality = laterality
    if view:
        ds.ViewPosition = view
    if view_code:
        item = pydicom.Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = view_code[0], "SCT", view_code[1]
        ds.ViewCodeSequence = Sequence([item])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = pixels.shape
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds.BitsAllocated = bits
    ds.BitsStored = bits if bits == 8 else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    for key, value in (extra or {}).items():
        setattr(ds, key, value)
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    if rle:
        ds.compress(RLELossless, np.ascontiguousarray(pixels), generate_instance_uid=False)
    ds.save_as(str(path), enforce_file_format=True)
    assert pydicom.dcmread(str(path)).pixel_array.shape == pixels.shape
    return path


def write_png(path: Path, pixels: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def write_pgm(path: Path, pixels: np.ndarray) -> Path:
    """Binary PGM (P5), the format mini-MIAS is distributed in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"P5\n{pixels.shape[1]} {pixels.shape[0]}\n255\n".encode()
    path.write_bytes(header + pixels.astype(np.uint8).tobytes())
    return path


# --------------------------------------------------------------------------------------------- mini-MIAS
MIAS_INFO = """Some README text before the table.
mdb001 G CIRC B 40 30 6
mdb002 G CIRC B 20 10 4
mdb003 D NORM
mdb004 D NORM
mdb005 F CIRC B 10 20 3
mdb005 F CIRC M 50 20 5
mdb006 F NORM
mdb007 G CALC M *NOTE 3*
mdb008 G NORM
mdb009 F ARCH B
mdb010 F NORM
mdb011 F SPIC M 30 24 8
mdb012 F NORM
=================================================================
"""


def build_mini_mias(root: Path) -> Path:
    """mini-MIAS: PGM films (64 columns x 48 rows here) + Info.txt; mdb012 is listed but absent."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Info.txt").write_text(MIAS_INFO)
    for n in range(1, 12):
        side = "R" if n % 2 else "L"
        write_pgm(root / f"mdb{n:03d}.pgm", breast_image(side, seed=n, dtype=np.uint8))
    return root


# --------------------------------------------------------------------------------------------- CBIS-DDSM
CBIS_COLUMNS_MASS = [
    "patient_id",
    "breast_density",
    "left or right breast",
    "image view",
    "abnormality id",
    "abnormality type",
    "mass shape",
    "mass margins",
    "assessment",
    "pathology",
    "subtlety",
    "image file path",
    "cropped image file path",
    "ROI mask file path",
]
CBIS_COLUMNS_CALC = [
    "patient_id",
    "breast density",
    "left or right breast",
    "image view",
    "abnormality id",
    "abnormality type",
    "calc type",
    "calc distribution",
    "assessment",
    "pathology",
    "subtlety",
    "image file path",
    "cropped image file path",
    "ROI mask file path",
]


def _uid(n: int) -> str:
    return f"1.3.6.1.4.1.9590.100.1.2.{n:012d}"


def build_cbis_ddsm(root: Path) -> dict:
    """CBIS-DDSM with its quirks. Returns the root and what each film should become.

    - P_00001 LEFT CC: mass (train), new-NBIA folder names (CSV paths do not match), mask 1-2.dcm;
      the same film is also in the calc train table (merged), its calc ROI 2 pixels smaller (resized).
    - P_00001 LEFT MLO: mass (train), crop and ROI mask paths swapped in the CSV (old layout, as listed).
    - P_00002 RIGHT CC: calc (test), BENIGN_WITHOUT_CALLBACK.
    - P_00003 RIGHT MLO: mass (train) and P_00003 LEFT CC calc (test): patient in both official folds.
    - P_00004 LEFT CC: listed, but its image is missing on disk.
    - P_00005 LEFT CC .. P_00012: plain mass training films (enough patients for a validation fold).
    """
    import csv

    tree = root / "CBIS-DDSM"
    counter = iter(range(1, 10_000))

    def case_path(case: str, kind: str, new_layout: bool, file_name: str) -> tuple[Path, str]:
        study, series = _uid(next(counter)), _uid(next(counter))
        csv_path = f"{case}/{study}/{series}/{'000000.dcm' if file_name == '1-1.dcm' else '000001.dcm'}"
        if new_layout:
            folder = tree / case / f"07-20-2016-DDSM-{study[-5:]}" / f"1.000000-{kind}-{series[-5:]}"
            return folder / file_name, csv_path
        disk = tree / csv_path
        return disk, csv_path

    def film(case: str, laterality: str, new_layout: bool, seed: int) -> tuple[Path, str]:
        disk, csv_path = case_path(case, "full mammogram images", new_layout, "1-1.dcm")
        write_dicom(
            disk, breast_image(laterality, seed=seed), patient_id=case, laterality=laterality, rle=True
        )
        return disk, csv_path

    def roi(case: str, laterality: str, new_layout: bool, box: tuple[int, int, int, int], shape=(ROWS, COLS)):
        """Crop (small, many grey values) and mask (full size, 0/255) in one series folder."""
        mask = np.zeros(shape, dtype=np.uint8)
        r0, c0, r1, c1 = box
        mask[r0:r1, c0:c1] = 255
        crop = breast_image(laterality, rows=r1 - r0 + 4, cols=c1 - c0 + 4, seed=7, dtype=np.uint8)
        study, series = _uid(next(counter)), _uid(next(counter))
        if new_layout:
            folder = tree / case / f"07-21-2016-DDSM-{study[-5:]}" / f"1.000000-ROI mask images-{series[-5:]}"
            crop_disk, mask_disk = folder / "1-1.dcm", folder / "1-2.dcm"
        else:
            crop_disk = tree / case / study / series / "000000.dcm"
            mask_disk = tree / case / study / series / "000001.dcm"
        write_dicom(crop_disk, crop, patient_id=case)
        write_dicom(mask_disk, mask, patient_id=case)
        crop_csv = f"{case}/{study}/{series}/000000.dcm"
        mask_csv = f"{case}/{study}/{series}/000001.dcm\n"  # the official CSVs end this column with a newline
        return crop_csv, mask_csv, mask_disk

    rows = {"mass_train": [], "mass_test": [], "calc_train": [], "calc_test": []}
    # P_00001 LEFT CC, mass and calc copies of one film, new layout (paths do not match).
    _, img = film("Mass-Training_P_00001_LEFT_CC", "L", True, 1)
    crop, mask, _ = roi("Mass-Training_P_00001_LEFT_CC_1", "L", True, (10, 5, 20, 15))
    rows["mass_train"].append(
        [
            "P_00001",
            "3",
            "LEFT",
            "CC",
            "1",
            "mass",
            "OVAL",
            "CIRCUMSCRIBED",
            "4",
            "MALIGNANT",
            "4",
            img,
            crop,
            mask,
        ]
    )
    _, img = film("Calc-Training_P_00001_LEFT_CC", "L", True, 1)
    crop, mask, _ = roi(
        "Calc-Training_P_00001_LEFT_CC_1", "L", True, (30, 30, 36, 40), shape=(ROWS - 2, COLS - 2)
    )
    rows["calc_train"].append(
        [
            "P_00001",
            "3",
            "LEFT",
            "CC",
            "1",
            "calcification",
            "PLEOMORPHIC",
            "CLUSTERED",
            "3",
            "BENIGN",
            "3",
            img,
            crop,
            mask,
        ]
    )
    # P_00001 LEFT MLO: old layout, crop and ROI mask paths swapped.
    _, img = film("Mass-Training_P_00001_LEFT_MLO", "L", False, 2)
    crop, mask, _ = roi("Mass-Training_P_00001_LEFT_MLO_1", "L", False, (12, 8, 22, 18))
    rows["mass_train"].append(
        [
            "P_00001",
            "3",
            "LEFT",
            "MLO",
            "1",
            "mass",
            "OVAL",
            "CIRCUMSCRIBED",
            "4",
            "MALIGNANT",
            "4",
            img,
            mask.strip(),
            crop + "\n",
        ]
    )
    # P_00002 RIGHT CC: calc test, benign without callback.
    _, img = film("Calc-Test_P_00002_RIGHT_CC", "R", True, 3)
    crop, mask, _ = roi("Calc-Test_P_00002_RIGHT_CC_1", "R", True, (5, 40, 12, 50))
    rows["calc_test"].append(
        [
            "P_00002",
            "2",
            "RIGHT",
            "CC",
            "1",
            "calcification",
            "PUNCTATE",
            "CLUSTERED",
            "2",
            "BENIGN_WITHOUT_CALLBACK",
            "2",
            img,
            crop,
            mask,
        ]
    )
    # P_00003: RIGHT MLO mass training, LEFT CC calc test -> the patient goes to test.
    _, img = film("Mass-Training_P_00003_RIGHT_MLO", "R", True, 4)
    crop, mask, _ = roi("Mass-Training_P_00003_RIGHT_MLO_1", "R", True, (20, 40, 30, 50))
    rows["mass_train"].append(
        [
            "P_00003",
            "4",
            "RIGHT",
            "MLO",
            "1",
            "mass",
            "IRREGULAR",
            "SPICULATED",
            "5",
            "MALIGNANT",
            "5",
            img,
            crop,
            mask,
        ]
    )
    _, img = film("Calc-Test_P_00003_LEFT_CC", "L", True, 5)
    crop, mask, _ = roi("Calc-Test_P_00003_LEFT_CC_1", "L", True, (20, 5, 26, 12))
    rows["calc_test"].append(
        [
            "P_00003",
            "4",
            "LEFT",
            "CC",
            "1",
            "calcification",
            "AMORPHOUS",
            "SEGMENTAL",
            "4",
            "MALIGNANT",
            "3",
            img,
            crop,
            mask,
        ]
    )
    # P_00004: image missing on disk.
    rows["mass_train"].append(
        [
            "P_00004",
            "2",
            "LEFT",
            "CC",
            "1",
            "mass",
            "OVAL",
            "CIRCUMSCRIBED",
            "3",
            "BENIGN",
            "3",
            f"Mass-Training_P_00004_LEFT_CC/{_uid(9001)}/{_uid(9002)}/000000.dcm",
            "x",
            "y",
        ]
    )
    # P_00005..P_00012: plain training films, alternating pathology.
    for n in range(5, 13):
        side, lat = ("LEFT", "L") if n % 2 else ("RIGHT", "R")
        _, img = film(f"Mass-Training_P_{n:05d}_{side}_CC", lat, True, 10 + n)
        crop, mask, _ = roi(f"Mass-Training_P_{n:05d}_{side}_CC_1", lat, True, (10, 20, 20, 30))
        pathology = "MALIGNANT" if n % 3 == 0 else "BENIGN"
        rows["mass_train"].append(
            [
                f"P_{n:05d}",
                "2",
                side,
                "CC",
                "1",
                "mass",
                "ROUND",
                "OBSCURED",
                "4",
                pathology,
                "3",
                img,
                crop,
                mask,
            ]
        )
    for key, columns in (("mass", CBIS_COLUMNS_MASS), ("calc", CBIS_COLUMNS_CALC)):
        for split in ("train", "test"):
            with open(root / f"{key}_case_description_{split}_set.csv", "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(rows[f"{key}_{split}"])
    return {"root": root}


# --------------------------------------------------------------------------------------------- VinDr-Mammo
def build_vindr(root: Path) -> Path:
    """VinDr-Mammo: 6 studies x 4 views (.dicom), breast-level and finding tables; one image missing."""
    import csv

    root.mkdir(parents=True, exist_ok=True)
    breast_rows, finding_rows = [], []
    header = [
        "study_id",
        "series_id",
        "image_id",
        "laterality",
        "view_position",
        "height",
        "width",
        "breast_birads",
        "breast_density",
        "split",
    ]
    for s in range(6):
        study, split = f"{s:02d}a7f9c3e1b2d4f6a8c0e2b4d6f8a0c2e4", "training" if s < 4 else "test"
        for v, (lat, view) in enumerate((("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO"))):
            image_id = f"{s:02d}{v}b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"
            birads = "BI-RADS 4" if (s == 1 and lat == "L") else "BI-RADS 1"
            row = [study, f"se{s}", image_id, lat, view, str(ROWS), str(COLS), birads, "DENSITY C", split]
            breast_rows.append(row)
            if s == 5 and v == 3:
                continue  # listed, not on disk
            write_dicom(
                root / "images" / study / f"{image_id}.dicom",
                breast_image(lat, seed=s * 4 + v),
                patient_id=study,
                laterality=lat,
                view=view,
                window=(2048, 4096),
            )
            if s == 1 and lat == "L":
                finding_rows.append(row[:9] + ["['Mass']", "BI-RADS 4", "10.5", "8.0", "30.0", "20.5", split])
                finding_rows.append(
                    row[:9]
                    + ["['Suspicious Calcification', 'Mass']", "BI-RADS 4", "40", "5", "50", "15", split]
                )
            else:
                finding_rows.append(row[:9] + ["['No Finding']", "", "", "", "", "", split])
    with open(root / "breast-level_annotations.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(breast_rows)
    with open(root / "finding_annotations.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            header[:9] + ["finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax", "split"]
        )
        writer.writerows(finding_rows)
    return root


# --------------------------------------------------------------------------------------------- INbreast
def _roi_plist(rois: list[tuple[str, list[tuple[float, float]]]]) -> bytes:
    entries = []
    for index, (name, points) in enumerate(rois):
        entries.append(
            {
                "Area": 0.0,
                "Center": "(0.0, 0.0, 0.0)",
                "IndexInImage": index,
                "Name": name,
                "NumberOfPoints": len(points),
                "Point_mm": [f"({x * 0.07:.3f}, {y * 0.07:.3f}, 0.000)" for x, y in points],
                "Point_px": [f"({x:.3f}, {y:.3f})" for x, y in points],
                "Type": 15 if len(points) > 2 else 19,
            }
        )
    data = {
        "Images": [
            {
                "ImageHeight": ROWS,
                "ImageIndex": 0,
                "ImageWidth": COLS,
                "NumberOfROIs": len(entries),
                "ROIs": entries,
            }
        ]
    }
    return plistlib.dumps(data, fmt=plistlib.FMT_XML)


INBREAST_ROWS = [
    # file id, patient hash, laterality, view, ACR, Bi-Rads
    ("20586908", "6c613a14b80a8591", "R", "CC", "2", "1"),
    ("20586934", "6c613a14b80a8591", "R", "MLO", "2", "1"),
    ("22614236", "8d0b9620c53c0268", "L", "CC", "3", "4a"),
    ("22614266", "8d0b9620c53c0268", "L", "MLO", "3", "5"),
    ("24055274", "3a5d7e5c6f1b2a90", "R", "CC", "1", "2"),
    ("24055355", "3a5d7e5c6f1b2a90", "R", "MLO", "1", "2"),
    ("50997304", "9f1e2d3c4b5a6978", "L", "CC", "4", "6"),
    ("50997334", "9f1e2d3c4b5a6978", "L", "MLO", "4", "3"),
]


def build_inbreast(root: Path) -> Path:
    """INbreast: AllDICOMs (named <id>_<hash>_MG_<L|R>_<view>_ANON.dcm), AllXML plists, INbreast.csv (;)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["Patient ID;Patient age;Laterality;View;Acquisition date;File Name;ACR;Bi-Rads"]
    for n, (file_id, patient, lat, view, acr, birads) in enumerate(INBREAST_ROWS):
        write_dicom(
            root / "AllDICOMs" / f"{file_id}_{patient}_MG_{lat}_{view}_ANON.dcm",
            breast_image(lat, seed=n),
            patient_id=patient,
            laterality=lat,
            view=view,
        )
        lines.append(f"removed;{50 + n};{lat};{view};201001;{file_id};{acr};{birads}")
    lines.append(";;;;;;;")  # trailing empty row, as in the spreadsheet export
    (root / "INbreast.csv").write_text("\n".join(lines) + "\n")
    xml = root / "AllXML"
    xml.mkdir()
    (xml / "22614236.xml").write_bytes(
        _roi_plist([("Mass", [(10, 10), (20, 10), (20, 20), (10, 20)]), ("Calcification", [(40.0, 30.0)])])
    )
    (xml / "22614266.xml").write_bytes(
        _roi_plist(
            [
                ("Spiculated Region", [(5, 5), (15, 5), (10, 15)]),
                ("Pectoral Muscle", [(0, 0), (5, 0), (0, 5)]),
            ]
        )
    )
    (xml / "50997304.xml").write_bytes(b"<plist><dict><key>Images</key>")  # truncated file
    # one DICOM the table does not list
    write_dicom(
        root / "AllDICOMs" / "99999999_0000000000000000_MG_L_CC_ANON.dcm", breast_image("L"), laterality="L"
    )
    return root


# --------------------------------------------------------------------------------------------- RSNA 2023
def build_rsna(root: Path) -> Path:
    """RSNA 2023: train.csv + train_images/<patient_id>/<image_id>.dcm; 10 patients, 4 images each."""
    import csv

    root.mkdir(parents=True, exist_ok=True)
    header = [
        "site_id",
        "patient_id",
        "image_id",
        "laterality",
        "view",
        "age",
        "cancer",
        "biopsy",
        "invasive",
        "BIRADS",
        "implant",
        "density",
        "machine_id",
        "difficult_negative_case",
    ]
    rows = []
    for p in range(10):
        patient = str(10006 + p * 13)
        for v, (lat, view) in enumerate((("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO"))):
            image_id = str(462822612 + p * 10 + v)
            cancer = int(p in (0, 1) and lat == "L")
            biopsy = int(cancer or (p == 2 and lat == "R"))
            birads = "0" if biopsy else ("1" if p % 2 else "")
            rows.append(
                [
                    "2",
                    patient,
                    image_id,
                    lat,
                    view,
                    "" if p == 9 else str(50 + p),
                    str(cancer),
                    str(biopsy),
                    str(cancer),
                    birads,
                    "0",
                    "BCD"[p % 3] if p != 8 else "",
                    "49",
                    "False",
                ]
            )
            write_dicom(
                root / "train_images" / patient / f"{image_id}.dcm",
                breast_image(lat, seed=p * 4 + v),
                patient_id=patient,
                laterality=lat,
                photometric="MONOCHROME1" if p == 3 else "MONOCHROME2",
            )
    with open(root / "train.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return root


# --------------------------------------------------------------------------------------------- CMMD
CMMD_CLINICAL = [
    # ID1, LeftRight, Age, number, abnormality, classification, subtype
    ("D1-0001", "R", 44, 2, "calcification", "Benign", ""),
    ("D1-0002", "L", 40, 2, "calcification", "Benign", ""),
    ("D1-0003", "L", 39, 2, "both", "Malignant", ""),
    ("D1-0003", "R", 39, 2, "mass", "Benign", ""),
    ("D2-0001", "L", 61, 2, "mass", "Malignant", "Luminal B"),
    ("D2-0002", "R", 55, 2, "both", "Malignant", "HER2-enriched"),
]


def build_cmmd(root: Path, clinical: str = "xlsx") -> Path:
    """CMMD: CMMD_clinicaldata_revision.xlsx + CMMD/<ID1>/<study>/<series>/1-N.dcm with ViewCodeSequence."""
    import pandas as pd

    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        CMMD_CLINICAL,
        columns=["ID1", "LeftRight", "Age", "number", "abnormality", "classification", "subtype"],
    )
    if clinical == "xlsx":
        frame.to_excel(root / "CMMD_clinicaldata_revision.xlsx", index=False)
    else:
        frame.to_csv(root / "CMMD_clinicaldata_revision.csv", index=False)
    views = (("399162004", "cranio-caudal"), ("399368009", "medio-lateral oblique"))
    seen = set()
    for n, (patient, side, *_rest) in enumerate(CMMD_CLINICAL):
        series = root / "CMMD" / patient / f"07-18-2010-NA-NA-{79377 + n}" / f"1.000000-NA-{70244 + n}"
        first = 1 if patient not in seen else 3
        seen.add(patient)
        for k, code in enumerate(views):
            write_dicom(
                series / f"1-{first + k}.dcm",
                breast_image(side, seed=n * 2 + k, dtype=np.uint8),
                patient_id=patient,
                laterality=side,
                view_code=code,
            )
    # an image of a breast without a clinical row
    write_dicom(
        root / "CMMD" / "D1-0001" / "07-18-2010-NA-NA-11111" / "1.000000-NA-22222" / "1-1.dcm",
        breast_image("L", dtype=np.uint8),
        patient_id="D1-0001",
        laterality="L",
        view_code=views[0],
    )
    return root


def mini_mias_subset(source: Path, root: Path, n_images: int = 24) -> Path:
    """A small real mini-MIAS tree: the first ``n_images`` films of ``source`` (symlinks) and their rows."""
    rows = [line for line in (source / "Info.txt").read_text().splitlines() if line.startswith("mdb")]
    names = sorted({line.split()[0] for line in rows})[:n_images]
    root.mkdir(parents=True)
    (root / "Info.txt").write_text("\n".join(r for r in rows if r.split()[0] in names) + "\n")
    for name in names:
        (root / f"{name}.png").symlink_to(source / "images" / f"{name}.png")
    return root


def real_ddsm_boxes_subset(source: Path, root: Path, cases: tuple[str, ...]) -> Path:
    """A copy of the real ``ddsm_boxes`` folder ``source`` holding only the women ``cases`` (rows of both
    tables and their images), in ``root``."""
    (root / "images").mkdir(parents=True)
    for name in ("images", "boxes"):
        table = (source / f"{name}.csv").read_text().splitlines()
        rows = [line for line in table[1:] if line.split(",")[1] in cases]
        (root / f"{name}.csv").write_text("\n".join([table[0], *rows]) + "\n")
        for line in rows:
            shutil.copy(source / "images" / line.split(",")[0], root / "images")
    return root


def build_ddsm_boxes(root: Path) -> Path:
    """The ``ddsm_boxes`` layout (images/, images.csv, boxes.csv) with its statuses and some broken rows.

    Cases: A_0001 (Cancer, L CC + MLO, two boxes on the CC), B_0002 (Benign, R CC), C_0003 (unknown status, no
    age/density/outlines, L MLO), D_0004 (Normal, R CC without box), D_0005 (listed, image missing); a box row
    for an image not listed, one with an empty corner and one inverted.
    """
    images = [
        # image, case, laterality, view, status, age, density, n_boxes, mddsm_outlines
        ("A_0001_1-LEFT_CC.png", "A_0001", "LEFT", "CC", "Cancer", "61", "2", "2", "2"),
        ("A_0001_1-LEFT_MLO.png", "A_0001", "LEFT", "MLO", "Cancer", "61", "2", "1", "1"),
        ("B_0002_1-RIGHT_CC.png", "B_0002", "RIGHT", "CC", "Benign", "45", "4", "1", "1"),
        ("C_0003_1-LEFT_MLO.png", "C_0003", "LEFT", "MLO", "unknown", "", "", "1", ""),
        ("D_0004_1-RIGHT_CC.png", "D_0004", "RIGHT", "CC", "Normal", "50", "1", "0", "0"),
        ("D_0005_1-RIGHT_CC.png", "D_0005", "RIGHT", "CC", "Cancer", "70", "3", "1", "1"),
    ]
    boxes = [
        # image, x0, y0, x1, y1, rf_class
        ("A_0001_1-LEFT_CC.png", "10", "8", "30", "20", "1"),
        ("A_0001_1-LEFT_CC.png", "40.5", "30.5", "50.5", "40.5", "1"),
        ("A_0001_1-LEFT_MLO.png", "5", "5", "25", "15", "1"),
        ("B_0002_1-RIGHT_CC.png", "30", "10", "60", "30", "tumor"),
        ("C_0003_1-LEFT_MLO.png", "0", "0", "64", "48", "tumor"),
        ("D_0004_1-RIGHT_CC.png", "", "", "", "", ""),
        ("D_0005_1-RIGHT_CC.png", "1", "1", "9", "9", "1"),
        ("E_0006_1-LEFT_CC.png", "1", "1", "9", "9", "1"),
        ("A_0001_1-LEFT_MLO.png", "3", "", "9", "9", "1"),
        ("A_0001_1-LEFT_MLO.png", "9", "9", "3", "12", "1"),
    ]
    for n, row in enumerate(images[:-1]):
        laterality = "L" if row[2] == "LEFT" else "R"
        write_png(root / "images" / row[0], breast_image(laterality, seed=n, dtype=np.uint8))
    meta = {row[0]: row for row in images}
    (root / "images.csv").write_text(
        "image,case_id,laterality,view,status,age,density,n_boxes,mddsm_outlines\n"
        + "".join(",".join(row) + "\n" for row in images)
    )
    lines = []
    for image, *corners, rf_class in boxes:
        _, case, laterality, view, status = meta.get(image, (image, image[:6], "LEFT", "CC", "Cancer"))[:5]
        lines.append(",".join([image, case, laterality, view, status, *corners, rf_class]) + "\n")
    (root / "boxes.csv").write_text(
        "image,case_id,laterality,view,status,x0,y0,x1,y1,rf_class\n" + "".join(lines)
    )
    return root
