"""Patient-level splits, datalist writing, loading and validation.

A datalist is a Medical Segmentation Decathlon style JSON file (what
:func:`monai.data.load_decathlon_datalist` reads): a few metadata keys and one list of items per fold,
``"training"``, ``"validation"`` and ``"test"``. Each item is a flat dictionary: ``"image"`` (and
``"label"``, a lesion mask, where there is one) hold file paths relative to the datalist's folder, the
other keys hold labels and metadata (``"patient_id"``, ``"laterality"``, ``"view"``, ...).

Mammography has several images per woman (two breasts, two or more views, sometimes several exams), so
a split by image leaks a woman's anatomy from the training into the test fold. Every split made here is
by patient, stratified by the patient's worst label, seeded, and keeps a data set's official split where
there is one; :func:`validate_datalist` refuses a datalist where one patient appears in two folds.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from monai_mammo.io import atomic as _atomic
from monai_mammo.utils.deprecation import moved_to
from monai_mammo.utils.json_text import strict_json_text

FOLDS: tuple[str, str, str] = ("training", "validation", "test")
"""The fold names, in the order in which :data:`DEFAULT_FRACTIONS` lists their shares."""

DEFAULT_FRACTIONS: tuple[float, float, float] = (0.7, 0.1, 0.2)
"""Default (training, validation, test) shares of the patients."""

PATH_KEYS: tuple[str, ...] = ("image", "label")
"""Item keys that hold file paths (relative to the datalist's folder on disk)."""

_OFFICIAL_ALLOWED: dict[str | None, tuple[str, ...]] = {
    None: FOLDS,
    "training": ("training", "validation"),
    "validation": ("validation",),
    "test": ("test",),
}
_OFFICIAL_PRIORITY = {"training": 0, "validation": 1, "test": 2}


class DatalistError(ValueError):
    """A datalist (or the items to split into one) is malformed."""


class PatientLeakError(DatalistError):
    """One patient's images appear in more than one fold.

    Args:
        patient_id: the patient found in several folds.
        folds: the folds in which the patient appears.
        source: the datalist file (or a description of the data), for the message.
    """

    def __init__(self, patient_id: str, folds: Sequence[str], source: str = "datalist") -> None:
        self.patient_id = str(patient_id)
        self.folds = tuple(folds)
        self.source = source
        super().__init__(
            f"{source}: patient {self.patient_id!r} appears in folds {', '.join(self.folds)}; a patient's "
            "images must all be in one fold (split by patient, e.g. with split_datalist)."
        )

    def __reduce__(self):  # keep the error picklable across worker processes
        return (type(self), (self.patient_id, self.folds, self.source))


class MissingFilesError(DatalistError):
    """Files named by a datalist do not exist.

    Args:
        missing: the missing paths (absolute).
        source: the datalist file, for the message.
    """

    def __init__(self, missing: Sequence[str], source: str = "datalist") -> None:
        self.missing = list(missing)
        self.source = source
        shown = ", ".join(self.missing[:5]) + (" ..." if len(self.missing) > 5 else "")
        super().__init__(
            f"{source}: {len(self.missing)} file(s) named in the datalist do not exist: {shown}. "
            "Fix: re-run the importer, or pass check_files=False to load anyway."
        )

    def __reduce__(self):
        return (type(self), (self.missing, self.source))


@dataclass
class DatalistReport:
    """What :func:`validate_datalist` found.

    Attributes:
        items: number of items per fold.
        patients: number of distinct patients per fold.
        missing: files named by the datalist that do not exist (absolute paths).
    """

    items: dict[str, int] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` when no file is missing."""
        return not self.missing


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(f) for f in fractions)
    if len(values) != 3 or any(not math.isfinite(f) or f < 0 for f in values) or sum(values) <= 0:
        raise DatalistError(
            f"fractions must be three non-negative numbers (training, validation, test) with a positive sum, "
            f"got {tuple(fractions)!r}."
        )
    total = sum(values)
    return (values[0] / total, values[1] / total, values[2] / total)


def _allocate(n: int, shares: np.ndarray, expected: np.ndarray, assigned: np.ndarray) -> np.ndarray:
    """Counts per fold for ``n`` patients so that the running totals track the expected totals.

    Largest-remainder rounding on the running (cumulative) targets: each stratum gets its proportional
    share, and the rounding errors of small strata do not add up across strata.
    """
    expected += n * shares
    target = np.clip(expected - assigned, 0.0, None)
    if target.sum() > 0:
        target = target * (n / target.sum())
    counts = np.floor(target).astype(int)
    remainder = target - counts
    for idx in np.argsort(-remainder, kind="stable")[: n - int(counts.sum())]:
        counts[idx] += 1
    assigned += counts
    return counts


def split_patients(
    strata: Mapping[str, Hashable],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
    official: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Assign each patient to a fold, stratified by a per-patient label and seeded.

    Patients are grouped by their stratum (e.g. their worst label); within each stratum they are shuffled
    with ``numpy.random.default_rng(seed)`` and dealt to the folds in proportion to ``fractions``, with
    rounding carried across strata so that the fold sizes also match the fractions overall. The result
    depends only on the inputs and the seed, not on the order of ``strata``.

    An official split is kept: a patient whose official fold is ``"test"`` (or ``"validation"``) stays
    there; a patient whose official fold is ``"training"`` goes to training or validation (in the ratio
    of the first two fractions); patients without an official fold are split across all three folds.

    Args:
        strata: patient id -> stratum (any sortable, hashable value, e.g. the worst class).
        fractions: (training, validation, test) shares; normalised to sum to one.
        seed: seed of the shuffle.
        official: patient id -> official fold (``"training"``, ``"validation"`` or ``"test"``), for the
            patients that have one.

    Returns:
        patient id -> fold name.

    Raises:
        DatalistError: bad fractions, or an official fold that is not a fold name.
    """
    shares = np.asarray(_check_fractions(fractions))
    official = dict(official or {})
    for patient, fold in official.items():
        if fold not in _OFFICIAL_ALLOWED or fold is None:
            raise DatalistError(f"official fold of patient {patient!r} is {fold!r}; expected one of {FOLDS}.")
    rng = np.random.default_rng(seed)
    result: dict[str, str] = {}
    for group in (None, "training", "validation", "test"):
        members = sorted(str(p) for p in strata if official.get(str(p)) == group)
        if not members:
            continue
        allowed = _OFFICIAL_ALLOWED[group]
        group_shares = np.array([shares[FOLDS.index(f)] for f in allowed])
        if group_shares.sum() <= 0:
            group_shares = np.eye(len(allowed))[0]
        group_shares = group_shares / group_shares.sum()
        by_stratum: dict[Hashable, list[str]] = defaultdict(list)
        for patient in members:
            by_stratum[strata[patient]].append(patient)
        expected = np.zeros(len(allowed))
        assigned = np.zeros(len(allowed), dtype=int)
        for stratum in sorted(by_stratum, key=lambda s: (str(type(s)), s)):
            patients = by_stratum[stratum]
            order = rng.permutation(len(patients))
            counts = _allocate(len(patients), group_shares, expected, assigned)
            start = 0
            for fold, count in zip(allowed, counts):
                for idx in order[start : start + count]:
                    result[patients[idx]] = fold
                start += count
    return result


def official_patient_folds(
    items: Iterable[Mapping[str, Any]], patient_key: str = "patient_id", official_key: str = "official_split"
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The official fold of each patient, and the patients whose images the official split spreads out.

    A patient with images in several official folds is put in the last of training < validation < test
    (so the test fold never loses a patient it officially has).

    Args:
        items: datalist items.
        patient_key: the item key that holds the patient id.
        official_key: the item key that holds the official fold (items without it have none).

    Returns:
        (patient id -> official fold, patient id -> the official folds of their images where those differ).

    Raises:
        DatalistError: an item without a patient id, or an official fold that is not a fold name.
    """
    folds: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if patient_key not in item:
            raise DatalistError(f"item {item.get('image', item)!r} has no {patient_key!r} key.")
        fold = item.get(official_key)
        if fold is None or fold == "":
            continue
        if fold not in _OFFICIAL_PRIORITY:
            raise DatalistError(
                f"item {item.get('image')!r}: {official_key}={fold!r}; expected one of {FOLDS}."
            )
        folds[str(item[patient_key])].add(str(fold))
    official = {p: max(f, key=_OFFICIAL_PRIORITY.__getitem__) for p, f in folds.items()}
    conflicts = {p: sorted(f, key=_OFFICIAL_PRIORITY.__getitem__) for p, f in folds.items() if len(f) > 1}
    return official, conflicts


def split_datalist(
    items: Iterable[Mapping[str, Any]],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
    patient_key: str = "patient_id",
    stratify_by: str | Callable[[Mapping[str, Any]], Any] | None = "class",
    official_key: str | None = "official_split",
) -> dict[str, list[dict[str, Any]]]:
    """Split items into training / validation / test by patient, stratified by each patient's worst label.

    Args:
        items: datalist items (flat dictionaries with at least ``patient_key``).
        fractions: (training, validation, test) shares of the patients.
        seed: split seed: the same items and seed give the same split.
        patient_key: the item key that holds the patient id.
        stratify_by: an item key or a function of an item giving a sortable label; a patient's stratum is
            the largest ("worst") label over their items (items without the key count as unlabelled).
            ``None``: no stratification.
        official_key: the item key holding an official fold to keep (see :func:`split_patients`), or
            ``None`` to ignore official folds.

    Returns:
        ``{"training": [...], "validation": [...], "test": [...]}``; items keep their input order.

    Raises:
        DatalistError: an item without a patient id, labels that cannot be compared, or bad fractions.
    """
    copies = [dict(item) for item in items]
    strata: dict[str, Any] = {}
    for item in copies:
        if patient_key not in item:
            raise DatalistError(f"item {item.get('image', item)!r} has no {patient_key!r} key.")
        patient = str(item[patient_key])
        if callable(stratify_by):
            value = stratify_by(item)
        elif stratify_by is None:
            value = None
        else:
            value = item.get(stratify_by)
        previous = strata.get(patient)
        try:
            strata[patient] = (
                value if previous is None else (previous if value is None else max(previous, value))
            )
        except TypeError as e:
            raise DatalistError(
                f"patient {patient!r}: labels {previous!r} and {value!r} of {stratify_by!r} cannot be "
                "compared."
            ) from e
    strata = {p: ("" if v is None else v) for p, v in strata.items()}
    official: dict[str, str] = {}
    if official_key is not None:
        official, _ = official_patient_folds(copies, patient_key, official_key)
    assignment = split_patients(strata, fractions, seed, official)
    folds: dict[str, list[dict[str, Any]]] = {fold: [] for fold in FOLDS}
    for item in copies:
        folds[assignment[str(item[patient_key])]].append(item)
    return folds


def _relative(path: str, base: Path) -> str:
    if not os.path.isabs(path):
        return Path(path).as_posix()
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive (Windows): keep the absolute path
        return Path(path).as_posix()


def write_datalist(
    datalist: Mapping[str, Any], path: str | os.PathLike[str], path_keys: Sequence[str] = PATH_KEYS
) -> Path:
    """Write a datalist JSON file atomically, with paths relative to the file's folder.

    Absolute paths under ``path_keys`` (strings or lists of strings) become relative to the datalist's
    folder, so that ``monai.data.load_decathlon_datalist(path)`` (whose ``base_dir`` defaults to that
    folder) and :func:`load_datalist` find the files, and the folder can be moved as a whole.

    Args:
        datalist: metadata keys plus a list of items per fold (``"training"``, ``"validation"``, ``"test"``).
        path: the JSON file to write.
        path_keys: item keys that hold file paths.

    Returns:
        The path written.

    Raises:
        DatalistError: a fold that is not a list of dictionaries.
    """
    path = Path(path)
    base = path.parent.resolve()
    out: dict[str, Any] = {}
    for key, value in datalist.items():
        if key not in FOLDS:
            out[key] = value
            continue
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise DatalistError(f"datalist fold {key!r} must be a list of dictionaries.")
        items = []
        for item in value:
            item = dict(item)
            for k in path_keys:
                if isinstance(item.get(k), (str, os.PathLike)):
                    item[k] = _relative(os.fspath(item[k]), base)
                elif isinstance(item.get(k), list):
                    item[k] = [_relative(os.fspath(v), base) for v in item[k]]
            items.append(item)
        out[key] = items
    text = strict_json_text(out) + "\n"
    return _atomic.atomic_write_bytes(path, text.encode("utf-8"))


def tag_source(
    items: Iterable[Mapping[str, Any]],
    source: str,
    base_dir: str | os.PathLike[str],
    keys: Sequence[str] | None = None,
    path_keys: Sequence[str] = PATH_KEYS,
    patient_key: str = "patient_id",
) -> list[dict[str, Any]]:
    """Items of one source's datalist made ready to merge with other sources' items into one datalist.

    Every item keeps ``keys`` (those it has, in that order; ``None``: all), gets its ``path_keys`` as absolute
    paths (resolved against ``base_dir``, the folder the source's relative paths refer to), the source
    prefixed to its patient id (``"mini_mias:W003"``, so two sources never share a patient and patient-level
    folds stay patient-disjoint when merged) and a ``"source"`` key. The bundles' training-data scripts
    merge mini-MIAS, CBIS-DDSM, CDD-CESM and phantoms this way.

    Args:
        items: the source's items (e.g. one fold of the datalist an importer wrote).
        source: the source's name.
        base_dir: the folder relative paths of ``items`` refer to (the source datalist's folder).
        keys: the item keys to keep (``None``: all).
        path_keys: the keys holding a file path; every item must have them.
        patient_key: the key holding the patient id; every item must have it.

    Returns:
        New items; the input is not changed.

    Raises:
        KeyError: an item without one of ``path_keys`` or without ``patient_key``.
    """
    base = Path(base_dir)
    out = []
    for item in items:
        row = dict(item) if keys is None else {k: item[k] for k in keys if k in item}
        for key in path_keys:
            row[key] = str((base / item[key]).resolve())
        row[patient_key] = f"{source}:{item[patient_key]}"
        row["source"] = source
        out.append(row)
    return out


def source_name(value: Any) -> str:
    """The source name of a datalist item's ``"source"`` (see :func:`tag_source`) as it reaches a consumer.

    A collated batch holds it as a one-element list, and MONAI's ``load_decathlon_datalist`` turns any string
    that names an existing file or folder under the data folder into an absolute path (``"ddsm_boxes"`` can
    arrive as ``"/data/ddsm_boxes"``): the name is the last path component. ``None`` or empty gives ``""``.
    """
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    text = "" if value is None else str(value)
    return os.path.basename(os.path.normpath(text)) if text else ""


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DatalistError(f"{path}: datalist file not found.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DatalistError(f"{path}: not valid JSON ({e}).") from e
    if not isinstance(data, dict):
        raise DatalistError(f"{path}: a datalist must be a JSON object with fold lists.")
    return data


def validate_datalist(
    datalist: Mapping[str, Any] | str | os.PathLike[str],
    base_dir: str | os.PathLike[str] | None = None,
    check_files: bool = True,
    patient_key: str = "patient_id",
    path_keys: Sequence[str] = PATH_KEYS,
) -> DatalistReport:
    """Check a datalist: every item has a patient, no patient is in two folds, the named files exist.

    Args:
        datalist: the datalist (a mapping) or the path of its JSON file.
        base_dir: the folder relative paths refer to (default: the datalist file's folder, or the current
            folder for a mapping).
        check_files: look for the files under ``path_keys``.
        patient_key: the item key holding the patient id.
        path_keys: the item keys holding file paths.

    Returns:
        A :class:`DatalistReport` with item and patient counts per fold and the missing files.

    Raises:
        PatientLeakError: a patient appears in two folds (the error names the patient and the folds).
        DatalistError: a malformed datalist (no fold, an item that is not a dictionary or has no patient id),
            or one image listed in two folds.
    """
    source = "datalist"
    if isinstance(datalist, (str, os.PathLike)):
        source = os.fspath(datalist)
        base = Path(base_dir) if base_dir is not None else Path(datalist).resolve().parent
        datalist = _read_json(Path(datalist))
    else:
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    present = [fold for fold in FOLDS if fold in datalist]
    if not present:
        raise DatalistError(f"{source}: no fold found; expected at least one of {FOLDS}.")
    report = DatalistReport()
    patient_folds: dict[str, list[str]] = defaultdict(list)
    image_folds: dict[str, list[str]] = defaultdict(list)
    missing: list[str] = []
    for fold in present:
        items = datalist[fold]
        if not isinstance(items, list):
            raise DatalistError(f"{source}: fold {fold!r} must be a list of items.")
        patients = set()
        for idx, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise DatalistError(f"{source}: {fold}[{idx}] is not a dictionary.")
            if patient_key not in item:
                raise DatalistError(
                    f"{source}: {fold}[{idx}] ({item.get('image')!r}) has no {patient_key!r} key."
                )
            patient = str(item[patient_key])
            patients.add(patient)
            if fold not in patient_folds[patient]:
                patient_folds[patient].append(fold)
            for key in path_keys:
                values = item.get(key)
                values = values if isinstance(values, list) else [values]
                for value in values:
                    if not isinstance(value, (str, os.PathLike)):
                        continue
                    full = os.path.normpath(os.path.join(base, os.fspath(value)))
                    if key == "image" and fold not in image_folds[full]:
                        image_folds[full].append(fold)
                    if check_files and not os.path.exists(full):
                        missing.append(full)
        report.items[fold] = len(items)
        report.patients[fold] = len(patients)
    for patient in sorted(patient_folds):
        if len(patient_folds[patient]) > 1:
            raise PatientLeakError(patient, patient_folds[patient], source)
    for image in sorted(image_folds):
        if len(image_folds[image]) > 1:
            raise DatalistError(
                f"{source}: image {image} is listed in folds {', '.join(image_folds[image])}."
            )
    report.missing = sorted(set(missing))
    return report


def load_datalist(
    path: str | os.PathLike[str],
    fold: str = "training",
    check_files: bool = True,
    patient_key: str = "patient_id",
    base_dir: str | os.PathLike[str] | None = None,
) -> list[dict[str, Any]]:
    """Load one fold of a datalist with absolute paths, after validating the whole file.

    Uses :func:`monai.data.load_decathlon_datalist` for the path handling, so the result is what a MONAI
    bundle's ``dataset::data`` would see.

    Args:
        path: the datalist JSON file.
        fold: ``"training"``, ``"validation"`` or ``"test"``.
        check_files: raise :class:`MissingFilesError` if a file named by the datalist is missing.
        patient_key: the item key holding the patient id.
        base_dir: the folder relative paths refer to (default: the datalist's folder).

    Returns:
        The fold's items, ``"image"``/``"label"`` as absolute paths.

    Raises:
        PatientLeakError: a patient appears in two folds.
        MissingFilesError: files are missing (with ``check_files``).
        DatalistError: a malformed datalist or an unknown fold.
    """
    from monai.data import load_decathlon_datalist

    if fold not in FOLDS:
        raise DatalistError(f"fold must be one of {FOLDS}, got {fold!r}.")
    report = validate_datalist(path, base_dir=base_dir, check_files=check_files, patient_key=patient_key)
    if report.missing:
        raise MissingFilesError(report.missing, os.fspath(path))
    data = _read_json(Path(path))
    if fold not in data or not data[fold]:
        return []
    return list(load_decathlon_datalist(path, is_segmentation=True, data_list_key=fold, base_dir=base_dir))


__all__ = [
    "DEFAULT_FRACTIONS",
    "FOLDS",
    "PATH_KEYS",
    "DatalistError",
    "DatalistReport",
    "MissingFilesError",
    "PatientLeakError",
    "load_datalist",
    "official_patient_folds",
    "split_datalist",
    "source_name",
    "split_patients",
    "tag_source",
    "validate_datalist",
    "write_datalist",
]

# the old place of the atomic writer (now monai_mammo.io): still importable, warns when called
atomic_write_bytes = moved_to("monai_mammo.io.atomic_write_bytes")(_atomic.atomic_write_bytes)
remove_stale_temporaries = moved_to("monai_mammo.io.remove_stale_temporaries")(
    _atomic.remove_stale_temporaries
)
