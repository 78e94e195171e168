"""``prepare_dataset``: one call from a downloaded public data set to a validated MONAI datalist."""

from __future__ import annotations

import datetime
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monai_mammo.data.datalist import (
    DEFAULT_FRACTIONS,
    FOLDS,
    official_patient_folds,
    split_datalist,
    validate_datalist,
    write_datalist,
)
from monai_mammo.data.datasets.cache import materialize
from monai_mammo.data.datasets.records import BOX_FORMAT, DatasetLayoutError, ImageRecord, ScanResult
from monai_mammo.data.datasets.registry import get_dataset
from monai_mammo.io import atomic_write_bytes
from monai_mammo.utils.json_text import strict_json_text

logger = logging.getLogger(__name__)


def report_path(out: str | os.PathLike[str]) -> Path:
    """The report written beside a datalist: ``datalist.json`` -> ``datalist.report.json``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.report.json")


def files_dir(out: str | os.PathLike[str], name: str, cache_dir: str | os.PathLike[str] | None) -> Path:
    """Where the generated files (masks, cached images) of a run go.

    ``<cache_dir>/<name>/`` with a cache, else ``<datalist folder>/<datalist stem>_files/``.
    """
    if cache_dir is not None:
        return Path(cache_dir) / name
    out = Path(out)
    return out.parent / f"{out.stem}_files"


def _item(record: ImageRecord, result: dict[str, Any] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"image": record.image}
    if result is not None and result.get("image"):
        item["image"] = result["image"]
    if result is not None and result.get("label"):
        item["label"] = result["label"]
    item["patient_id"] = record.patient_id
    item.update(record.fields)
    if result is not None:
        item["original_size"] = result["original_size"]
        item["size"] = result["size"]
    if record.boxes is not None:
        item["boxes"] = (
            result["boxes"] if result is not None and result.get("boxes") is not None else record.boxes
        )
        item["box_format"] = BOX_FORMAT
    if record.official_split is not None:
        item["official_split"] = record.official_split
    return item


def _class_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(str(i.get("pathology", "UNKNOWN")) for i in items).items()))


def prepare_dataset(
    name: str,
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    size: Sequence[int] | None = None,
    workers: int = 2,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    official_split: bool = True,
    progress: bool = True,
    **options: Any,
) -> Path:
    """Import a public data set as downloaded into a MONAI datalist with patient-level splits.

    Steps: the importer reads the set's own tables and tree (fixing its known quirks); the images are
    split by patient (stratified by each patient's worst label, seeded, keeping the set's official split
    where it has one); lesion masks are drawn to PNG files; with ``cache_dir`` the images are decoded,
    optionally resized, and cached as 16-bit PNGs (in parallel, resumable); the datalist is written
    atomically and validated (no patient in two folds, every file present), beside a report
    (``<out stem>.report.json``) listing every missing, unreadable or corrected file.

    Args:
        name: the data set (``cbis_ddsm``, ``vindr``, ``inbreast``, ``mini_mias``, ``rsna``, ``cmmd``, or an
            alias such as ``CBIS-DDSM``).
        root: the data set's folder as downloaded.
        out: the datalist JSON file to write.
        seed: split seed.
        cache_dir: cache the decoded (and resized) images and the masks under ``<cache_dir>/<name>/``;
            ``None``: the datalist points at the original images and the masks go to ``<out stem>_files/``.
        size: (rows, columns) of the cached images and masks (needs ``cache_dir``); ``None``: source size.
        workers: parallel processes for masks and cache.
        fractions: (training, validation, test) shares of the patients; with an official split, only the
            training : validation ratio is used for the officially-training patients.
        official_split: keep the set's own split (``False``: split every patient anew).
        progress: show a progress bar.
        options: importer options (e.g. ``labels=`` for CBIS-DDSM, ``info_file=`` for mini-MIAS); see the
            ``scan_<name>`` functions.

    Returns:
        The path of the datalist written.

    Raises:
        UnknownDatasetError: no importer of that name.
        DatasetLayoutError: ``root`` lacks the set's tables or images (the message names what is missing).
        TypeError: an option the importer does not take.
        ValueError: a size without ``cache_dir``, or bad fractions.
    """
    spec = get_dataset(name)
    root = Path(root)
    out = Path(out)
    if not root.is_dir():
        raise DatasetLayoutError(f"{root}: the {spec.title} folder does not exist (--root).")
    if size is not None and cache_dir is None:
        raise ValueError("size needs a cache folder (cache_dir / --cache): only cached images are resized.")
    bound = spec.bind(root, options)
    scan: ScanResult = spec.scan(*bound.args, **bound.kwargs)
    if not scan.records:
        raise DatasetLayoutError(
            f"{root}: no {spec.title} image found ({len(scan.issues)} issue(s), e.g. "
            f"{scan.issues[0]['detail'] if scan.issues else 'no table rows'})."
        )
    seen: set[str] = set()
    for record in scan.records:
        if record.key in seen:
            raise DatasetLayoutError(f"{spec.name}: two images with the key {record.key!r} (importer bug).")
        seen.add(record.key)

    out.parent.mkdir(parents=True, exist_ok=True)
    target = files_dir(out, spec.name, cache_dir)
    results = materialize(
        scan.records,
        target,
        cache_images=cache_dir is not None,
        size=size,
        workers=workers,
        progress=progress,
        description=f"{spec.name}",
    )
    items: list[dict[str, Any]] = []
    strata: dict[str, Any] = {}
    failed: list[dict[str, Any]] = []
    for record in scan.records:
        result = results.get(record.key)
        if result is not None and not result.get("ok"):
            failed.append({k: result.get(k) for k in ("key", "source", "error_type", "error")})
            scan.add_issue("unreadable", f"{record.key}: {result.get('error')}", image=record.image)
            continue
        if result is not None:
            for note in result.get("notes", []):
                scan.add_issue("mask_resized" if "resized" in note else "mask_note", note, image=record.image)
        item = _item(record, result)
        strata[item["image"]] = record.stratum
        items.append(item)
    _write_report(out, spec.name, root, scan, [], failed, {}, settings={})  # kept if the steps below fail
    if not items:
        raise DatasetLayoutError(f"{root}: every {spec.title} image failed; see {report_path(out)}.")

    official_key = "official_split" if official_split else None
    conflicts: dict[str, list[str]] = {}
    if official_key is not None:
        _, conflicts = official_patient_folds(items, official_key=official_key)
        for patient, official_folds in conflicts.items():
            scan.add_issue(
                "official_split_conflict",
                f"patient {patient} has images in official folds {', '.join(official_folds)}; all of "
                f"them go to {official_folds[-1]}.",
                patient_id=patient,
            )
    folds = split_datalist(
        items,
        fractions=fractions,
        seed=seed,
        stratify_by=lambda item: strata[item["image"]],
        official_key=official_key,
    )
    datalist: dict[str, Any] = {
        "name": scan.info.get("name", spec.title),
        "description": scan.info.get("description", ""),
        "reference": scan.info.get("reference", ""),
        "licence": scan.info.get("licence", ""),
        "url": scan.info.get("url", ""),
        "dataset": spec.name,
        "created_by": "monai_mammo.data.datasets.prepare_dataset",
        "seed": seed,
        "fractions": list(fractions),
        "official_split": bool(official_split and spec.has_official_split),
        "cached": cache_dir is not None,
        "size": list(size) if size is not None else None,
        "classes": {"0": "normal", "1": "benign", "2": "malignant", "-1": "unknown"},
        "numTraining": len(folds["training"]),
        "numValidation": len(folds["validation"]),
        "numTest": len(folds["test"]),
    }
    if "labels" in scan.info:
        datalist["labels"] = scan.info["labels"]
    datalist.update({fold: folds[fold] for fold in FOLDS})
    report = validate_datalist(datalist, base_dir=out.parent)  # no patient in two folds: checked first
    write_datalist(datalist, out)
    summary = {
        fold: {
            "images": report.items.get(fold, 0),
            "patients": report.patients.get(fold, 0),
            "pathology": _class_counts(folds[fold]),
            "with_mask": sum("label" in i for i in folds[fold]),
        }
        for fold in FOLDS
    }
    settings = {
        "seed": seed,
        "fractions": list(fractions),
        "official_split": official_split,
        "cache_dir": os.fspath(cache_dir) if cache_dir is not None else None,
        "size": list(size) if size is not None else None,
        "workers": workers,
        "options": {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in options.items()},
        "files_dir": str(target),
        "resumed": sum(bool(r.get("resumed")) for r in results.values()),
    }
    _write_report(out, spec.name, root, scan, report.missing, failed, summary, settings)
    if report.missing:
        logger.warning("%s: %d file(s) named in the datalist are missing", out, len(report.missing))
    logger.info(
        "%s: %d images (%s), %d issue(s); report %s",
        out,
        len(items),
        ", ".join(f"{fold} {summary[fold]['images']}" for fold in FOLDS),
        len(scan.issues),
        report_path(out),
    )
    return out


def _write_report(
    out: Path,
    name: str,
    root: Path,
    scan: ScanResult,
    missing: list[str],
    failed: list[dict[str, Any]],
    folds: dict[str, Any],
    settings: dict[str, Any],
) -> Path:
    payload = {
        "dataset": name,
        "root": str(root.resolve()),
        "datalist": str(out.resolve()),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings,
        "images_found": len(scan.records),
        "folds": folds,
        "issue_counts": scan.issue_counts(),
        "failed": failed,
        "missing_in_datalist": missing,
        "issues": scan.issues,
    }
    text = strict_json_text(payload, indent=1, default=str) + "\n"
    return atomic_write_bytes(report_path(out), text.encode("utf-8"))


__all__ = ["files_dir", "prepare_dataset", "report_path"]
