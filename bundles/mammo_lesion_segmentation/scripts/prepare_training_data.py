"""Build the training datalist of the bundle's weights from the real data beside the project.

Sources (nothing is copied into the repository; generated files go to ``--out``):

- DDSM lesion boxes (``<shared>/ddsm_boxes``): imported with
  :func:`monai_mammo.data.datasets.prepare_dataset` (weak masks: the ellipse inscribed in each box; images
  cached at 512 x 512; split by woman, i.e. DDSM case);
- mini-MIAS (``<shared>/mini_mias``): imported likewise (circle masks from ``Info.txt``, images cached at
  512 x 512, split by woman);
- CDD-CESM (``<shared>/cdd_cesm``): 9 low-energy JPEGs; the colour masks (red malignant, green benign) are
  thresholded into 0/1 PNG masks here; split by patient (``P<number>`` in the file name);
- phantoms, only with ``--phantoms N`` (default 0: real images only):
  :func:`monai_mammo.data.phantom.write_phantom_dataset` (split by phantom woman).

``--sources`` picks the real sources (default: all three). The shipped weights were trained on
``--sources mini_mias cdd_cesm --phantoms 48``; the DDSM-boxes experiment of the model card on the default.
Every split is by patient and the sources share no patient, so the merged folds stay patient-disjoint.
Writes ``<out>/datalist.json`` (training/validation/test of all sources) and ``<out>/test_<source>.json``
(the test fold of each source, for ``evaluate.json``)::

    python bundles/mammo_lesion_segmentation/scripts/prepare_training_data.py --out runs/train_data
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from monai_mammo.bundle.outputs import encode_png
from monai_mammo.data.datalist import split_datalist, tag_source, write_datalist
from monai_mammo.data.datasets import colour_lesion_masks, prepare_dataset
from monai_mammo.data.phantom import write_phantom_dataset
from monai_mammo.io import atomic_write_bytes

REPO = Path(__file__).resolve().parents[3]
FOLDS = ("training", "validation", "test")
KEEP = ("image", "label", "patient_id", "class", "source")
REAL_SOURCES = ("ddsm_boxes", "mini_mias", "cdd_cesm")


def cdd_cesm(root: Path, out: Path, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Threshold the CDD-CESM colour masks into 0/1 PNGs and split the images by patient."""
    items = []
    for image in sorted((root / "images").glob("*.jpg")):
        malignant, benign = colour_lesion_masks(root / "masks" / f"{image.stem}.png")
        mask = (malignant | benign).astype(np.uint8)
        label = out / "cdd_cesm" / "labels" / f"{image.stem}.png"
        atomic_write_bytes(label, encode_png(mask))
        patient = re.search(r"P(\d+)", image.stem)
        items.append(
            {
                "image": str(image.resolve()),
                "label": str(label.resolve()),
                "patient_id": f"cdd_cesm:P{patient.group(1) if patient else image.stem}",
                "class": 2 if malignant.any() else (1 if benign.any() else 0),
                "source": "cdd_cesm",
            }
        )
    return split_datalist(items, fractions=(0.6, 0.2, 0.2), seed=seed, patient_key="patient_id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data", help="real data")
    parser.add_argument("--out", type=Path, required=True, help="output folder (not in the repository)")
    parser.add_argument("--phantoms", type=int, default=0, help="number of phantom images (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sources",
        nargs="+",
        choices=REAL_SOURCES,
        default=list(REAL_SOURCES),
        help="real sources to include (default: all)",
    )
    args = parser.parse_args()
    out: Path = args.out.resolve()
    folds: dict[str, dict[str, list[dict[str, Any]]]] = {}

    for name in (s for s in ("ddsm_boxes", "mini_mias") if s in args.sources):
        datalist = prepare_dataset(
            name,
            args.shared / name,
            out / name / "datalist.json",
            seed=args.seed,
            cache_dir=out / name / "cache",
            size=(512, 512),
            workers=2,
            progress=False,
        )
        data = json.loads(Path(datalist).read_text())
        folds[name] = {f: tag_source(data[f], name, Path(datalist).parent, KEEP) for f in FOLDS}

    if "cdd_cesm" in args.sources:
        folds["cdd_cesm"] = cdd_cesm(args.shared / "cdd_cesm", out, args.seed)

    if args.phantoms:
        phantoms = write_phantom_dataset(
            out / "phantoms", n_images=args.phantoms, shape=(512, 416), seed=args.seed
        )
        data = json.loads(Path(phantoms).read_text())
        folds["phantom"] = {f: tag_source(data[f], "phantom", Path(phantoms).parent, KEEP) for f in FOLDS}

    merged = {f: [item for source in folds.values() for item in source[f]] for f in FOLDS}
    summary = {s: {f: len(v[f]) for f in FOLDS} for s, v in folds.items()}
    description = f"mammo_lesion_segmentation training data: {' + '.join(folds)}, split by patient"
    write_datalist({"description": description, "counts": summary, **merged}, out / "datalist.json")
    for source, source_folds in folds.items():
        test = {"description": f"{source} test fold", "test": source_folds["test"]}
        write_datalist(test, out / f"test_{source}.json")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
