"""Build the training datalist of the shipped weights from the real data beside the project, plus phantoms.

Sources (nothing is copied into the repository; generated files go to ``--out``):

- mini-MIAS (``<shared>/mini_mias``): imported with :func:`monai_mammo.data.datasets.prepare_dataset`
  (class from ``Info.txt``: normal / benign / malignant, the worst lesion of the film; split by woman, both
  breasts together). The images are read from the shared folder as they are (1024 x 1024 PNG).
- CBIS-DDSM (``<shared>/cbis_ddsm``): 4 full-field DICOMs of one patient; the class of a file is the worst
  pathology of its rows in ``labels.csv`` (all four are benign masses).
- CDD-CESM (``<shared>/cdd_cesm``): 9 low-energy JPEGs; the class comes from the colour mask (any red pixel:
  malignant, else any green pixel: benign, else normal); split by patient (``P<number>`` in the file name).
- phantoms: :func:`monai_mammo.data.phantom.write_phantom_dataset` (4 views per phantom woman, about half the
  breasts with a lesion; split by woman).

Every split is by patient and the sources share no patient, so the merged folds stay patient-disjoint. The
splits use the same importer calls and seed as ``mammo_lesion_segmentation``'s script, so the two bundles
hold out the same women. Writes ``<out>/datalist.json`` (training/validation/test of all sources, items
``image``, ``class``, ``patient_id``, ``laterality``, ``view``, ``source``) and ``<out>/test_<source>.json``
plus ``<out>/test_all.json`` (test folds, for ``evaluate.json``)::

    B=bundles/mammo_classification
    python $B/scripts/prepare_training_data.py --out $B/runs/train_data
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from typing import Any

from monai_mammo.data.datalist import split_datalist, tag_source, write_datalist
from monai_mammo.data.datasets import colour_lesion_masks, prepare_dataset
from monai_mammo.data.phantom import write_phantom_dataset
from monai_mammo.utils.enums import Pathology

REPO = Path(__file__).resolve().parents[3]
FOLDS = ("training", "validation", "test")
KEEP = ("image", "class", "pathology", "patient_id", "laterality", "view")
CBIS_PATHOLOGY = {
    "BENIGN": Pathology.BENIGN,
    "BENIGN_WITHOUT_CALLBACK": Pathology.BENIGN,
    "MALIGNANT": Pathology.MALIGNANT,
}


def mini_mias(root: Path, out: Path, seed: int) -> dict[str, list[dict[str, Any]]]:
    """mini-MIAS through the package importer; films without a known class are left out."""
    path = prepare_dataset(
        "mini_mias", root, out / "mini_mias" / "datalist.json", seed=seed, workers=2, progress=False
    )
    data = json.loads(Path(path).read_text())
    known = {f: [i for i in data[f] if int(i["class"]) >= 0] for f in FOLDS}
    return {f: tag_source(known[f], "mini_mias", Path(path).parent, KEEP, ("image",)) for f in FOLDS}


def cbis_ddsm(root: Path, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The CBIS-DDSM files with their worst pathology from ``labels.csv``, split by patient."""
    worst: dict[str, dict[str, Any]] = {}
    with open(root / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            pathology = CBIS_PATHOLOGY[row["pathology"].strip().upper()]
            item = worst.setdefault(
                row["file"],
                {
                    "image": str((root / row["file"]).resolve()),
                    "class": pathology.class_index,
                    "pathology": pathology.value,
                    "patient_id": f"cbis_ddsm:{row['patient_id']}",
                    "laterality": row["breast"].strip().upper()[0],
                    "view": row["view"].strip().upper(),
                    "source": "cbis_ddsm",
                },
            )
            if pathology.class_index > item["class"]:
                item["class"], item["pathology"] = pathology.class_index, pathology.value
    return split_datalist(
        list(worst.values()), fractions=(0.6, 0.2, 0.2), seed=seed, patient_key="patient_id"
    )


def cdd_cesm(root: Path, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The CDD-CESM images with the class of their colour mask, split by patient."""
    items = []
    for image in sorted((root / "images").glob("*.jpg")):
        malignant, benign = colour_lesion_masks(root / "masks" / f"{image.stem}.png")
        pathology = (
            Pathology.MALIGNANT if malignant.any() else Pathology.BENIGN if benign.any() else Pathology.NORMAL
        )
        patient = re.search(r"P(\d+)", image.stem)
        side_view = re.search(r"_([LR])_DM_(CC|MLO)", image.stem)
        items.append(
            {
                "image": str(image.resolve()),
                "class": pathology.class_index,
                "pathology": pathology.value,
                "patient_id": f"cdd_cesm:P{patient.group(1) if patient else image.stem}",
                "laterality": side_view.group(1) if side_view else "UNKNOWN",
                "view": side_view.group(2) if side_view else "UNKNOWN",
                "source": "cdd_cesm",
            }
        )
    return split_datalist(items, fractions=(0.6, 0.2, 0.2), seed=seed, patient_key="patient_id")


def phantoms(out: Path, n_images: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Phantom mammograms (DICOM MG), four views per phantom woman."""
    path = write_phantom_dataset(out / "phantoms", n_images=n_images, shape=(512, 416), seed=seed)
    data = json.loads(Path(path).read_text())
    return {f: tag_source(data[f], "phantom", Path(path).parent, KEEP, ("image",)) for f in FOLDS}


def _counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {p.value: 0 for p in Pathology}
    for item in items:
        counts[item["pathology"]] += 1
    return {"images": len(items), "patients": len({i["patient_id"] for i in items}), **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data", help="real data")
    parser.add_argument("--out", type=Path, required=True, help="output folder (not in the repository)")
    parser.add_argument("--phantoms", type=int, default=48, help="number of phantom images")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out: Path = args.out.resolve()
    folds = {
        "mini_mias": mini_mias(args.shared / "mini_mias", out, args.seed),
        "cbis_ddsm": cbis_ddsm(args.shared / "cbis_ddsm", args.seed),
        "cdd_cesm": cdd_cesm(args.shared / "cdd_cesm", args.seed),
        "phantom": phantoms(out, args.phantoms, args.seed),
    }
    merged = {f: [item for source in folds.values() for item in source[f]] for f in FOLDS}
    summary = {s: {f: _counts(v[f]) for f in FOLDS} for s, v in folds.items()}
    summary["all"] = {f: _counts(merged[f]) for f in FOLDS}
    description = (
        "mammo_classification training data: mini-MIAS + CBIS-DDSM + CDD-CESM + phantoms, split by patient"
    )
    write_datalist({"description": description, "counts": summary, **merged}, out / "datalist.json")
    for source, source_folds in folds.items():
        if source_folds["test"]:
            write_datalist(
                {"description": f"{source} test fold", "test": source_folds["test"]},
                out / f"test_{source}.json",
            )
    write_datalist(
        {"description": "test folds of all sources", "test": merged["test"]}, out / "test_all.json"
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
