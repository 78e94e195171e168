"""Build the training datalist of the bundle's weights from the real data beside the project.

The sources, masks and patient-level splits are those of
:func:`monai_mammo.data.datasets.training_sources.build_training_folds` (DDSM lesion boxes, mini-MIAS,
CDD-CESM, optional phantoms; the classification bundle's script makes the same folds). ``--sources`` picks the
real sources (default: all three), ``--phantoms N`` adds phantoms (default 0). The shipped weights were
trained on ``--sources mini_mias cdd_cesm --phantoms 48``; the DDSM-boxes experiments of the model card on the
default. Writes ``<out>/datalist.json`` (training/validation/test of all sources),
``<out>/test_<source>.json`` and ``<out>/test_all.json`` (test folds, for ``evaluate.json``)::

    python bundles/mammo_lesion_segmentation/scripts/prepare_training_data.py --out runs/train_data
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
    print(json.dumps(write_training_datalists(folds, out, "mammo_lesion_segmentation"), indent=2))


if __name__ == "__main__":
    main()
