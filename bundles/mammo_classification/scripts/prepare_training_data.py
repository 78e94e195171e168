"""Build the training datalist of the shipped weights from the real data beside the project.

The classifier is trained on patches cut from each image and its lesion mask (see the model card), so every
item needs a mask: the sources, masks and patient-level splits are those of
:func:`monai_mammo.data.datasets.training_sources.build_training_folds` (DDSM lesion boxes, mini-MIAS,
CDD-CESM, optional phantoms), the same women held out as in ``mammo_lesion_segmentation``. Items have
``image``, ``label`` (lesion mask), ``class`` (0 normal, 1 benign, 2 malignant, -1 unknown pathology: used for
background patches only), ``patient_id``, ``laterality``, ``view``, ``source``.
Writes ``<out>/datalist.json``, ``<out>/test_<source>.json`` and ``<out>/test_all.json`` (test folds, for
``evaluate.json``)::

    B=bundles/mammo_classification
    python $B/scripts/prepare_training_data.py --out $B/runs/train_data
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from monai_mammo.data.datasets.training_sources import (
    REAL_SOURCES,
    build_training_folds,
    write_training_datalists,
)

REPO = Path(__file__).resolve().parents[3]


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
        help="real sources (default: all)",
    )
    args = parser.parse_args()
    out: Path = args.out.resolve()
    folds = build_training_folds(args.shared, out, args.sources, args.phantoms, args.seed)
    print(json.dumps(write_training_datalists(folds, out, "mammo_classification"), indent=2))


if __name__ == "__main__":
    main()
