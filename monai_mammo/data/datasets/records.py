"""What an importer returns: one :class:`ImageRecord` per image, plus the issues it met.

Every importer (``scan_<name>(root, ...)``) reads a data set's own tables and tree into a
:class:`ScanResult`; :func:`monai_mammo.data.datasets.prepare_dataset` then splits the records by patient,
draws the masks (and, optionally, caches the images) and writes the datalist. The datalist item of a record
is ``{"image": ..., "label": ... (if a mask), "patient_id": ..., **fields}``.

Field conventions shared by all importers (a value that a set does not have is ``"UNKNOWN"`` for text and
``-1`` for numbers, never ``null``, so that MONAI's default collation works):

- ``laterality``: ``"L"``/``"R"``; ``view``: ``"CC"``, ``"MLO"``, ...
  (:class:`~monai_mammo.utils.enums.ViewPosition`).
- ``pathology``: ``"normal"``, ``"benign"``, ``"malignant"`` or ``"UNKNOWN"``; ``class``: 0 / 1 / 2 / -1
  for the same; ``malignant``: 1 / 0 / -1.
- ``birads``: the BI-RADS assessment as text (``"0"`` ... ``"6"``, INbreast ``"4a"``), ``density``: ACR
  ``"A"``-``"D"``.
- ``boxes`` (sets with lesion boxes): ``[[x0, y0, x1, y1], ...]`` in pixels of the image the item points at
  (the source image, or the cached one, scaled with it), with ``box_format`` = :data:`BOX_FORMAT`: ``x`` the
  column, ``y`` the row from the top, pixel corners (pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``, so
  ``[0, 0, columns, rows]`` is the whole image). Note that MONAI's detection transforms order box
  coordinates by array axis (``[row0, col0, row1, col1]``); :mod:`monai_mammo.transforms.boxes` converts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from monai_mammo.data.datasets.masks import MaskSpec
from monai_mammo.utils.enums import Pathology

UNKNOWN = "UNKNOWN"
BOX_FORMAT = "xyxy_corner_px"
"""The datalist's box convention: ``[x0, y0, x1, y1]``, x = column, y = row, pixel corners (see above)."""
PATHOLOGY_CLASSES: dict[str, int] = {**{p.value: p.class_index for p in Pathology}, UNKNOWN: -1}
"""``pathology`` text -> ``class`` number."""

DENSITY_LETTERS: dict[str, str] = {
    "1": "A",
    "2": "B",
    "3": "C",
    "4": "D",
    "A": "A",
    "B": "B",
    "C": "C",
    "D": "D",
}


class DatasetLayoutError(ValueError):
    """A folder does not have the layout of the data set it is imported as (names what is missing)."""


def pathology_fields(pathology: str) -> dict[str, Any]:
    """The ``pathology``, ``class`` and ``malignant`` fields for a pathology.

    Args:
        pathology: ``"normal"``, ``"benign"``, ``"malignant"`` or ``"UNKNOWN"``.

    Returns:
        The three fields.

    Raises:
        ValueError: another pathology.
    """
    if pathology not in PATHOLOGY_CLASSES:
        raise ValueError(f"pathology must be one of {sorted(PATHOLOGY_CLASSES)}, got {pathology!r}.")
    cls = PATHOLOGY_CLASSES[pathology]
    return {"pathology": pathology, "class": cls, "malignant": -1 if cls < 0 else int(cls == 2)}


def density_letter(value: object) -> str:
    """ACR density as a letter: ``1``-``4``, ``"A"``-``"D"`` or ``"DENSITY C"`` -> ``"A"``-``"D"``.

    Anything else gives ``"UNKNOWN"``.

    Args:
        value: the value as the table has it.

    Returns:
        ``"A"``, ``"B"``, ``"C"``, ``"D"`` or ``"UNKNOWN"``.
    """
    text = str(value if value is not None else "").strip().upper().replace("DENSITY", "").strip()
    if text.endswith(".0"):
        text = text[:-2]
    return DENSITY_LETTERS.get(text, UNKNOWN)


def birads_text(value: object) -> str:
    """BI-RADS as text: ``4``, ``4.0``, ``"BI-RADS 4"``, ``"4a"`` -> ``"4"``/``"4a"``.

    Empty, NaN or unparseable values give ``"UNKNOWN"``.

    Args:
        value: the value as the table has it.

    Returns:
        The assessment category as text.
    """
    text = str(value if value is not None else "").strip()
    upper = text.upper().replace("BI-RADS", "").replace("BIRADS", "").strip()
    if upper.endswith(".0"):
        upper = upper[:-2]
    if not upper or upper in ("NAN", "NONE", UNKNOWN):
        return UNKNOWN
    return upper.lower() if upper[:1].isdigit() else UNKNOWN


def birads_rank(text: str) -> int:
    """Ordinal of a BI-RADS text for stratification (``"4c"`` -> 4; unknown -> -1)."""
    return int(text[0]) if text[:1].isdigit() else -1


@dataclass
class ImageRecord:
    """One image of a data set, as an importer found it.

    Attributes:
        key: unique, file-name-safe id of the image within the data set (names generated files).
        image: absolute path of the source image.
        patient_id: the woman the image belongs to (splits are by this id).
        fields: the other datalist fields (labels and metadata; see the module docstring).
        mask: how to draw the lesion mask, or ``None`` where the set gives none for this image.
        boxes: lesion boxes ``[x_min, y_min, x_max, y_max]`` in pixels of the source image (pixel corners,
            :data:`BOX_FORMAT`), or ``None``.
        official_split: the set's own fold for this image (``"training"``/``"validation"``/``"test"``).
        stratum: the label that the split stratifies by (larger = worse; a patient takes their maximum).
    """

    key: str
    image: str
    patient_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    mask: MaskSpec | None = None
    boxes: list[list[float]] | None = None
    official_split: str | None = None
    stratum: Hashable = 0


@dataclass
class ScanResult:
    """What an importer found.

    Attributes:
        records: the usable images.
        issues: one dictionary per problem met or quirk fixed: ``{"kind": ..., "detail": ..., ...}``
            (e.g. ``missing_image``, ``no_coordinates``, ``swapped_crop_roi``, ``path_resolved``).
        info: data-set metadata for the datalist header (``name``, ``description``, ``reference``,
            ``licence``, ``labels``).
    """

    records: list[ImageRecord] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add_issue(self, kind: str, detail: str, **extra: Any) -> None:
        """Record a problem or a fixed quirk.

        Args:
            kind: a short category name.
            detail: one sentence.
            extra: more JSON-serialisable fields (``image``, ``row``, ...).
        """
        self.issues.append({"kind": kind, "detail": detail, **extra})

    def issue_counts(self) -> dict[str, int]:
        """Number of issues per kind."""
        return dict(sorted(Counter(i["kind"] for i in self.issues).items()))


__all__ = [
    "BOX_FORMAT",
    "DatasetLayoutError",
    "DENSITY_LETTERS",
    "PATHOLOGY_CLASSES",
    "UNKNOWN",
    "ImageRecord",
    "ScanResult",
    "birads_rank",
    "birads_text",
    "density_letter",
    "pathology_fields",
]
