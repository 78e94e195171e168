"""Build the training datalist of the bundle's weights from the real data beside the project.

The sources, masks and patient-level splits are those of
:func:`monai_mammo.data.datasets.training_sources.build_training_folds` (DDSM lesion boxes, mini-MIAS,
CDD-CESM, optional phantoms; the classification bundle's script makes the same folds). ``--sources`` picks the
real sources (default: all three), ``--phantoms N`` adds phantoms (default 0). The shipped weights were
trained on the default (see the model card's "Reproduce"). Writes ``<out>/datalist.json``
(training/validation/test of all sources), ``<out>/test_<source>.json`` and ``<out>/test_all.json`` (test
folds, for ``evaluate.json``)::

    python bundles/mammo_lesion_segmentation/scripts/prepare_training_data.py --out runs/train_data
"""

from __future__ import annotations

from pathlib import Path

from monai_mammo.data.datasets.training_sources import prepare_training_data

if __name__ == "__main__":
    prepare_training_data(
        "mammo_lesion_segmentation",
        __doc__.splitlines()[0],
        Path(__file__).resolve().parents[3].parent / "shared" / "data",
    )
