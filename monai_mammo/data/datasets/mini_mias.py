"""mini-MIAS: the Mammographic Image Analysis Society MiniMammographic Database.

Layout as distributed: ``mdb001.pgm`` ... ``mdb322.pgm`` (1024 x 1024, 8-bit, 200 micron pixels; PNG or
TIFF conversions are accepted, in any sub-folder) and ``Info.txt``, one row per abnormality::

    mdb001 G CIRC B 535 425 197     # refnum, tissue (F/G/D), class, severity (B/M), x, y, radius
    mdb003 D NORM
    mdb216 D CALC M *NOTE 3*        # widely spread calcifications: no centre, no radius

Quirks handled: ``y`` is measured from the **bottom** edge (row = 1024 - y); an image with several lesions
has several rows; some abnormal rows have no coordinates (their image keeps its class but gets no mask);
images listed but absent are reported and skipped. The films are MLO views; each pair is one woman: odd
numbers are right breasts, even numbers left ones, and woman = (refnum + 1) // 2 (mdb001 + mdb002).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from monai_mammo.data.datasets.files import FileIndex, find_files
from monai_mammo.data.datasets.masks import CircleMask, EmptyMask, MaskSpec
from monai_mammo.data.datasets.records import (
    UNKNOWN,
    DatasetLayoutError,
    ImageRecord,
    ScanResult,
    pathology_fields,
)

_ROW = re.compile(r"^\s*(mdb\d{3})\s+(\S+)\s+(\S+)(.*)$", re.IGNORECASE)
IMAGE_NAME = re.compile(r"^mdb(\d{3})$", re.IGNORECASE)
"""A mini-MIAS image's file stem: ``mdb001`` ... ``mdb322`` (group 1: the reference number)."""
TISSUE = {"F": "fatty", "G": "fatty-glandular", "D": "dense-glandular"}
CLASSES = {
    "CALC": "calcification",
    "CIRC": "circumscribed mass",
    "SPIC": "spiculated mass",
    "MISC": "ill-defined mass",
    "ARCH": "architectural distortion",
    "ASYM": "asymmetry",
    "NORM": "normal",
}
_SUFFIX_PREFERENCE = (".pgm", ".png", ".tif", ".tiff", ".jpg", ".jpeg")

INFO = {
    "name": "mini-MIAS",
    "description": "MIAS MiniMammographic Database: 322 digitised MLO films of 161 women, 1024 x "
    "1024, 200 um.",
    "reference": "J Suckling et al (1994) The Mammographic Image Analysis Society Digital Mammogram "
    "Database. "
    "Excerpta Medica, International Congress Series 1069, pp 375-378.",
    "licence": "MIAS licence (Licence.txt): research use only; cite the database; no renting, "
    "leasing or selling.",
    "url": "http://peipa.essex.ac.uk/info/mias.html",
}


@dataclass(frozen=True)
class MiasRow:
    """One row of ``Info.txt``.

    Attributes:
        name: ``mdbNNN``.
        refnum: NNN.
        tissue: ``F``, ``G`` or ``D``.
        abnormality: ``CALC``, ``CIRC``, ``SPIC``, ``MISC``, ``ARCH``, ``ASYM`` or ``NORM``.
        severity: ``B``, ``M`` or ``None`` (normal).
        x: column of the centre, or ``None``.
        y: centre measured from the bottom edge, or ``None``.
        radius: radius of the enclosing circle in pixels, or ``None``.
        line: line number in the file.
    """

    name: str
    refnum: int
    tissue: str
    abnormality: str
    severity: str | None
    x: float | None
    y: float | None
    radius: float | None
    line: int


def mias_woman(refnum: int) -> str:
    """The woman of film ``refnum``: ``W001`` for mdb001 and mdb002 (odd/even = her right/left breast)."""
    return f"W{(int(refnum) + 1) // 2:03d}"


def mias_laterality(refnum: int) -> str:
    """The breast of film ``refnum``: ``"R"`` for odd numbers, ``"L"`` for even ones."""
    return "R" if int(refnum) % 2 else "L"


def read_mias_info(path: str | os.PathLike[str]) -> tuple[list[MiasRow], list[str]]:
    """Parse a mini-MIAS ``Info.txt`` (the file may also hold the README text around the table).

    Args:
        path: the file.

    Returns:
        (the rows, descriptions of the ``mdb`` lines that could not be parsed).
    """
    rows: list[MiasRow] = []
    bad: list[str] = []
    text = Path(path).read_text(encoding="latin-1")
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ROW.match(line)
        if not match:
            continue
        name, tissue, abnormality, rest = match.groups()
        name, tissue, abnormality = name.lower(), tissue.upper(), abnormality.upper()
        tokens = rest.split()
        severity = None
        if tokens and tokens[0].upper() in ("B", "M"):
            severity = tokens.pop(0).upper()
        x = y = radius = None
        if len(tokens) >= 3:
            try:
                x, y, radius = (float(t) for t in tokens[:3])
            except ValueError:
                x = y = radius = None
        if tissue not in TISSUE or abnormality not in CLASSES:
            bad.append(f"line {number}: {line.strip()!r} (unknown tissue or class)")
            continue
        rows.append(MiasRow(name, int(name[3:]), tissue, abnormality, severity, x, y, radius, number))
    return rows, bad


def _find_info(root: Path) -> Path:
    found = next(find_files(root, lambda name: name.lower() == "info.txt"), None)
    if found is not None:
        return found
    raise DatasetLayoutError(
        f"{root}: no Info.txt found; mini-MIAS needs its Info.txt (the table of abnormalities) and "
        "the mdbNNN "
        "images. Fix: point --root at the unpacked archive, or pass info_file=."
    )


def scan_mini_mias(
    root: str | os.PathLike[str], info_file: str | os.PathLike[str] | None = None
) -> ScanResult:
    """Read mini-MIAS into image records (circle masks, class labels, one woman per pair of films).

    Args:
        root: the unpacked data set (``Info.txt`` and the ``mdbNNN`` images, in any sub-folder).
        info_file: the table to read instead of ``root/**/Info.txt`` (e.g. the README holding all 322 rows).

    Returns:
        The records: ``pathology`` normal / benign / malignant (the worst lesion), ``abnormality`` (the
        classes, ``;``-joined), ``tissue``, ``n_lesions``; a circle mask per image (empty for normal films),
        none where an abnormal row lacks coordinates.

    Raises:
        DatasetLayoutError: no ``Info.txt``, or no row in it.
    """
    root = Path(root)
    info_path = Path(info_file) if info_file is not None else _find_info(root)
    if not info_path.is_file():
        raise DatasetLayoutError(f"{info_path}: mini-MIAS info file not found.")
    rows, bad = read_mias_info(info_path)
    if not rows:
        raise DatasetLayoutError(
            f"{info_path}: no mini-MIAS rows (lines like 'mdb001 G CIRC B 535 425 197')."
        )
    result = ScanResult(info={**INFO, "labels": {"0": "background", "1": "lesion"}})
    for entry in bad:
        result.add_issue("unparsed_row", entry, file=str(info_path))
    index = FileIndex(root, suffixes=_SUFFIX_PREFERENCE)
    by_image: dict[str, list[MiasRow]] = defaultdict(list)
    for row in rows:
        by_image[row.name].append(row)
    for name in sorted(by_image):
        image_rows = by_image[name]
        candidates = sorted(index.by_stem(name), key=lambda p: _SUFFIX_PREFERENCE.index(p.suffix.lower()))
        if not candidates:
            result.add_issue(
                "missing_image",
                f"{name} is listed in {info_path.name} but no image file was found.",
                image=name,
            )
            continue
        refnum = image_rows[0].refnum
        lesions = [r for r in image_rows if r.abnormality != "NORM"]
        if lesions and len(lesions) != len(image_rows):
            result.add_issue(
                "mixed_rows", f"{name} has NORM and abnormal rows; the NORM rows are ignored.", image=name
            )
        severities = {r.severity for r in lesions}
        if not lesions:
            pathology = "normal"
        elif "M" in severities:
            pathology = "malignant"
        elif "B" in severities:
            pathology = "benign"
        else:
            pathology = UNKNOWN
        mask: MaskSpec | None
        if not lesions:
            mask = EmptyMask()
        elif all(r.x is not None for r in lesions):
            mask = CircleMask(
                tuple((float(r.x), float(r.y), float(r.radius)) for r in lesions),  # type: ignore[arg-type]
                y_from_bottom=True,
            )
        else:
            mask = None
            result.add_issue(
                "no_coordinates",
                f"{name} ({', '.join(r.abnormality for r in lesions)}) has an abnormality without "
                "centre/radius: "
                "kept with its class label, without a mask.",
                image=name,
            )
        classes = list(dict.fromkeys(r.abnormality for r in image_rows if r.abnormality != "NORM")) or [
            "NORM"
        ]
        fields = {
            "dataset": "mini_mias",
            "image_id": name,
            "laterality": mias_laterality(refnum),
            "view": "MLO",
            **pathology_fields(pathology),
            "birads": UNKNOWN,
            "density": UNKNOWN,
            "tissue": TISSUE[image_rows[0].tissue],
            "abnormality": ";".join(classes),
            "n_lesions": len(lesions),
        }
        result.records.append(
            ImageRecord(
                key=name,
                image=str(candidates[0].resolve()),
                patient_id=mias_woman(refnum),
                fields=fields,
                mask=mask,
                stratum=fields["class"],
            )
        )
    return result


__all__ = [
    "CLASSES",
    "IMAGE_NAME",
    "TISSUE",
    "MiasRow",
    "mias_laterality",
    "mias_woman",
    "read_mias_info",
    "scan_mini_mias",
]
